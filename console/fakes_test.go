package console

import (
	"context"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/store"
)

// fakeLive is a live engine with fixed results.
type fakeLive struct {
	now int64
	rs  []engine.Result
}

func (f *fakeLive) Results(p engine.Period, byDept bool) ([]engine.Result, error) {
	var out []engine.Result
	for _, r := range f.rs {
		if r.Dept == "" || byDept {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeLive) Now() int64 { return f.now }

// fakeHistory answers AsOf from a list of points (the last at or before t
// per series) and Series with nothing.
type fakeHistory struct{ pts []store.Point }

func (f *fakeHistory) AsOf(_ context.Context, sel store.Selector, t time.Time) ([]store.Point, error) {
	var out []store.Point
	for _, k := range sel.Keys() {
		var best *store.Point
		for i := range f.pts {
			p := &f.pts[i]
			if p.Key() == k && !p.Time.After(t) && (best == nil || p.Time.After(best.Time)) {
				best = p
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	}
	return out, nil
}

func (f *fakeHistory) Series(context.Context, store.SeriesKey, time.Time, time.Time, store.Rollup) ([]store.Point, error) {
	return nil, nil
}

func rateResult(ind, region string, num, den int64) engine.Result {
	return engine.Result{Indicator: ind, Region: region, Numerator: num, Denominator: den, Rate: true}
}
