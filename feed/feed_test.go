package feed

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/scoring"
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

func TestFeedPublishesScores(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	eng.UpsertCalls([]record.Call{{ID: "k1", Region: "620802", Offered: now.Add(-time.Hour).UnixNano(), Answered: true, WaitSeconds: 3}})
	pub := recorder{}
	targets := scoring.Default()
	f := New(eng, pub, time.Second, nil).WithScores(targets)
	if _, err := f.Cycle(); err != nil {
		t.Fatal(err)
	}
	var s Score
	if err := json.Unmarshal(pub["score:620802:month"], &s); err != nil {
		t.Fatalf("score topic: %v (%s)", err, pub["score:620802:month"])
	}
	// Every call answered: the county's composite is what scoring says for
	// those inputs, published with its tier.
	rs, _ := eng.Results(engine.Month, false)
	var in []scoring.Input
	for _, r := range rs {
		if r.Region == "620802" {
			in = append(in, scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
		}
	}
	want := targets.Composite("county", in)
	if want.Score == nil || s.Score == nil || *s.Score != *want.Score || s.Tier != want.Tier || s.Tier == "" {
		t.Errorf("score = %+v, want %v %s", s, want.Score, want.Tier)
	}
	clear(pub)
	if n, _ := f.Cycle(); n != 0 {
		t.Errorf("unchanged cycle published %d", n)
	}
	eng.UpsertCalls([]record.Call{{ID: "k2", Region: "620802", Offered: now.Add(-time.Minute).UnixNano(), Answered: false, WaitSeconds: -1}})
	f.Cycle()
	var s2 Score
	json.Unmarshal(pub["score:620802:month"], &s2)
	if s2.Score == nil || *s2.Score >= *s.Score {
		t.Errorf("after an unanswered call the score went %v → %v, want lower", *s.Score, s2.Score)
	}
}
