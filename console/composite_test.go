package console

import (
	"math"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
)

func fakeConsole(t *testing.T, live *fakeLive, hist *fakeHistory, now time.Time) *fiber.App {
	t.Helper()
	c, err := New(Config{Live: live, History: hist, Regions: region.Default(), Location: now.Location(), Logger: quietLogger(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return mount(c)
}

// TestCompositeFromCounts: a region's values are the engine's sums of
// counts, and its composite is scored from them. Here the province answers
// 1,900 of 2,000 calls (95%) while the mean of its cities' rates is 96.9%,
// and closes 890 of 1,000 cases on time (89%) against a mean of 94.4%; the
// test checks that the two ways give different scores and that the console
// reports the one from the sums.
func TestCompositeFromCounts(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	live := &fakeLive{now: now.UnixNano(), rs: []engine.Result{
		// Province = sum of its two cities (the engine's roll-up).
		rateResult("answer_rate", "620000", 1900, 2000),
		rateResult("answer_rate", "620100", 99, 100),
		rateResult("answer_rate", "620200", 1801, 1900),
		rateResult("on_time_rate", "620000", 890, 1000),
		rateResult("on_time_rate", "620100", 10, 10),
		rateResult("on_time_rate", "620200", 880, 990),
	}}
	app := fakeConsole(t, live, &fakeHistory{}, now)
	var u unitJSON
	getJSON(t, app, "/api/units/620000?period=month", &u)
	part := func(c scoringComposite, id string) (v, s *float64) {
		for _, p := range c.Parts {
			if p.Indicator == id {
				return p.Value, p.Score
			}
		}
		t.Fatalf("no part %s", id)
		return nil, nil
	}
	av, _ := part(u.Composite.Composite, "answer_rate")
	ov, _ := part(u.Composite.Composite, "on_time_rate")
	if av == nil || *av != 0.95 || ov == nil || *ov != 0.89 {
		t.Fatalf("province values %v %v, want the sums 0.95 and 0.89", deref(av), deref(ov))
	}
	// The expected composite, from the sums, with the configured rules.
	cfg := scoring.Default()
	want := cfg.Composite("province", []scoring.Input{
		{Indicator: "answer_rate", Numerator: 1900, Denominator: 2000, Rate: true},
		{Indicator: "on_time_rate", Numerator: 890, Denominator: 1000, Rate: true},
	})
	// Averaging the cities' rates gives other values and another score.
	avg := cfg.Composite("province", []scoring.Input{
		{Indicator: "answer_rate", Numerator: 99*1900 + 1801*100, Denominator: 2 * 100 * 1900, Rate: true},
		{Indicator: "on_time_rate", Numerator: 10*990 + 880*10, Denominator: 2 * 10 * 990, Rate: true},
	})
	if want.Score == nil || avg.Score == nil || math.Abs(*want.Score-*avg.Score) < 1e-6 {
		t.Fatalf("test data does not separate sums from averages: %v vs %v", deref(want.Score), deref(avg.Score))
	}
	if u.Composite.Score == nil || math.Abs(*u.Composite.Score-*want.Score) > 1e-9 {
		t.Errorf("composite %v, want %v from the sums (averaging rates would give %v)", deref(u.Composite.Score), *want.Score, *avg.Score)
	}
	// The composite ranking of the cities scores each from its own counts.
	var cr compositeJSON
	getJSON(t, app, "/api/composite?period=month&region=620000", &cr)
	if cr.Total.Score == nil || math.Abs(*cr.Total.Score-*want.Score) > 1e-9 {
		t.Errorf("composite total %v, want %v", deref(cr.Total.Score), *want.Score)
	}
	if len(cr.Rows) != 14 || cr.Rows[0].Unit != "620100" || cr.Rows[0].Rank == nil || *cr.Rows[0].Rank != 1 {
		t.Errorf("composite rows: %d, first %+v", len(cr.Rows), cr.Rows[0])
	}
	for _, r := range cr.Rows[2:] {
		if r.Rank != nil || r.Score != nil {
			t.Errorf("city %s without data ranked %v score %v", r.Unit, deref2(r.Rank), deref(r.Score))
		}
	}
}

type scoringComposite = scoring.Composite

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func deref2(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestStalePointIsNoData: a point recorded in an earlier period says
// nothing about the period asked for.
func TestStalePointIsNoData(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	k := func(r string) store.SeriesKey {
		return store.SeriesKey{Indicator: "answer_rate", Region: r, Period: "month"}
	}
	hist := &fakeHistory{pts: []store.Point{
		store.Ratio(k("620100"), time.Date(2026, 9, 30, 23, 0, 0, 0, loc), 9, 10), // September: stale for October
		store.Ratio(k("620200"), time.Date(2026, 10, 1, 0, 0, 0, 0, loc), 1, 2),   // October
		store.Ratio(k("620200"), time.Date(2026, 9, 9, 11, 0, 0, 0, loc), 1, 4),   // 环比
	}}
	app := fakeConsole(t, &fakeLive{now: now.UnixNano()}, hist, now)
	var r rankingJSON
	getJSON(t, app, "/api/ranking?indicator=answer_rate&period=month&region=620000&as_of=2026-10-09T12:00:00%2B08:00", &r)
	byUnit := map[string]row{}
	for _, x := range r.Rows {
		byUnit[x.Unit] = x
	}
	if x := byUnit["620100"]; !x.NoData || x.Value != nil || x.Rank != nil {
		t.Errorf("stale September point used for October: %+v", x)
	}
	x := byUnit["620200"]
	if x.Value == nil || *x.Value != 0.5 || x.Rank == nil || *x.Rank != 1 {
		t.Errorf("620200: %+v", x)
	}
	if x.MoM.Value == nil || *x.MoM.Value != 0.25 || x.MoM.Change == nil || *x.MoM.Change != 0.25 {
		t.Errorf("620200 mom: %+v", x.MoM)
	}
	if !x.YoY.NoData || x.YoY.Change != nil {
		t.Errorf("620200 yoy: %+v", x.YoY)
	}
}
