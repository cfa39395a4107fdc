package console

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store"
)

// countingHistory counts AsOf calls.
type countingHistory struct {
	fakeHistory
	calls atomic.Int64
}

func (h *countingHistory) AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error) {
	h.calls.Add(1)
	return h.fakeHistory.AsOf(ctx, sel, t)
}

// TestCache: reads of past instants are served from the cache until their
// TTL; reads near the present never are; the cache holds at most its
// bound.
func TestCache(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	clock := now
	k := store.SeriesKey{Indicator: "answer_rate", Region: "620100", Period: "month"}
	h := &countingHistory{fakeHistory: fakeHistory{pts: []store.Point{store.Ratio(k, time.Date(2026, 10, 1, 0, 0, 0, 0, loc), 1, 2)}}}
	c, err := New(Config{Live: &fakeLive{now: now.UnixNano()}, History: h, Regions: region.Default(), Location: loc,
		Logger: quietLogger(), Now: func() time.Time { return clock }, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	def := mustLookup("answer_rate")
	v := view{def: def, period: engine.Month, region: "620000"}
	ask := func(at time.Time) int64 {
		before := h.calls.Load()
		v.asOf = &at
		r, err := c.ranking(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rows[0].Unit != "620100" || r.Rows[0].Value == nil || *r.Rows[0].Value != 0.5 {
			t.Fatalf("first row %+v", r.Rows[0])
		}
		return h.calls.Load() - before
	}
	past := now.Add(-time.Hour)
	if n := ask(past); n != 3 {
		t.Fatalf("first ranking made %d reads, want 3", n)
	}
	if n := ask(past); n != 0 {
		t.Errorf("repeated ranking made %d reads, want 0 (cached)", n)
	}
	recent := now.Add(-time.Minute)
	ask(recent)
	if n := ask(recent); n != 1 {
		t.Errorf("repeated ranking at a recent instant made %d reads, want 1 (环比 and 同比 cached, the recent instant never)", n)
	}
	clock = now.Add(2 * time.Minute) // past the TTL
	if n := ask(past); n != 3 {
		t.Errorf("after the TTL: %d reads, want 3", n)
	}

	sc := newSnapCache(10, time.Hour)
	for i := 0; i < 5; i++ {
		sc.put(cacheKey{indicator: "x", at: int64(i)}, make([]store.Point, 4), now)
	}
	if sc.size > 10 || len(sc.entries) != 2 {
		t.Errorf("cache holds %d points in %d entries, want ≤ 10 in 2", sc.size, len(sc.entries))
	}
	if _, ok := sc.get(cacheKey{indicator: "x", at: 4}, now); !ok {
		t.Error("newest entry evicted")
	}
	if _, ok := sc.get(cacheKey{indicator: "x", at: 0}, now); ok {
		t.Error("oldest entry kept")
	}
}
