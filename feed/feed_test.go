package feed

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/record"
)

// recorder is a fake hub.
type recorder map[string]json.RawMessage

func (r recorder) Publish(topic string, data json.RawMessage) error {
	r[topic] = data
	return nil
}

func TestFeedPublishesOnlyChanges(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	eng.UpsertCalls([]record.Call{{ID: "k1", Region: "620802", Offered: now.Add(-time.Hour).UnixNano(), Answered: false, WaitSeconds: -1}})
	pub := recorder{}
	f := New(eng, pub, time.Second, nil)
	n, err := f.Cycle()
	if err != nil {
		t.Fatal(err)
	}
	// 3 call indicators × 3 regions × 5 periods.
	if n != 45 || len(pub) != 45 {
		t.Fatalf("first cycle published %d (%d topics), want 45", n, len(pub))
	}
	var v Value
	json.Unmarshal(pub["ind:answer_rate:620800:day"], &v)
	if v.Numerator != 0 || v.Denominator == nil || *v.Denominator != 1 || v.Value == nil || *v.Value != 0 {
		t.Errorf("answer_rate day 620800 = %+v", v)
	}
	if n, _ := f.Cycle(); n != 0 {
		t.Errorf("an unchanged cycle published %d values", n)
	}
	eng.UpsertCalls([]record.Call{{ID: "k2", Region: "620802", Offered: now.Add(-time.Minute).UnixNano(), Answered: true, WaitSeconds: 3}})
	clear(pub)
	if n, _ := f.Cycle(); n != 45 {
		t.Errorf("after one answered call published %d values, want 45", n)
	}
	json.Unmarshal(pub["ind:answer_rate:620000:month"], &v)
	if v.Numerator != 1 || *v.Denominator != 2 || *v.Value != 0.5 {
		t.Errorf("answer_rate month 620000 = %+v, want 1/2", v)
	}
}
