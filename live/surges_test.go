package live

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/trend"
)

type fakeSurges struct{ s []trend.Surge }

func (f *fakeSurges) Surges(time.Time, trend.Config) []trend.Surge { return f.s }

func TestSurgePublisher(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, loc)
	det := &fakeSurges{s: []trend.Surge{
		{Category: "供水", Region: "620802", Window: trend.Day, Method: trend.NBCUSUM, Count: 42, Expected: 9.46, Score: 30, Since: now.Add(-time.Hour)},
		{Category: "供暖", Region: "620102", Window: trend.Hour, Count: 12, Expected: 2, Score: 14, Since: now},
	}}
	pub := recorder{}
	sp := NewSurgePublisher(SurgePublisherConfig{Detector: det, Publisher: pub, Presenter: NewPresenter(nil, nil, loc), Now: func() time.Time { return now }})
	if err := sp.Cycle(); err != nil {
		t.Fatal(err)
	}
	var b SurgeBoard
	json.Unmarshal(pub[SurgeTopic("620000")], &b)
	if len(b.Rows) != 2 || b.Rows[0].Category != "供水" || b.Rows[0].Text != "崆峒区 供水 42 件（基线 9.5）" ||
		b.Rows[0].Method != "nb_cusum" || b.Rows[0].Expected != 9.5 || b.Rows[0].Excess != 32.5 || b.Rows[1].Region != "620102" {
		t.Errorf("province board = %+v", b)
	}
	if r := b.Rows[0]; r.ExpectedText != "9.5" || r.ExcessText != "+32.5" || r.SinceClock != "09:00" {
		t.Errorf("the row's texts: baseline %q, excess %q, since %q; want 9.5, +32.5, 09:00", r.ExpectedText, r.ExcessText, r.SinceClock)
	}
	json.Unmarshal(pub[SurgeTopic("620800")], &b)
	if len(b.Rows) != 1 || b.Rows[0].Region != "620802" || b.RegionName != "平凉市" {
		t.Errorf("平凉 board = %+v", b)
	}
	if _, ok := pub[SurgeTopic("620821")]; ok {
		t.Error("a county without surges got a board")
	}
	clear(pub)
	sp.Cycle()
	if len(pub) != 0 {
		t.Errorf("an unchanged cycle published %d boards", len(pub))
	}
	det.s = det.s[1:] // 崆峒 calms down
	sp.Cycle()
	json.Unmarshal(pub[SurgeTopic("620802")], &b)
	if _, ok := pub[SurgeTopic("620802")]; !ok || len(b.Rows) != 0 {
		t.Errorf("the calmed county's board = %+v (published %v)", b, ok)
	}
	if _, ok := pub[SurgeTopic("620100")]; ok {
		t.Error("兰州's unchanged board was published again")
	}
	clear(pub)
	sp.Cycle()
	if _, ok := pub[SurgeTopic("620802")]; ok {
		t.Error("an empty board was published twice")
	}
}
