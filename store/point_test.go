package store_test

import (
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/storetest"
)

func TestValueNullIsNotZero(t *testing.T) {
	k := store.SeriesKey{Indicator: "x", Region: "620100"}
	if _, ok := store.Ratio(k, time.Now(), 0, 0).Value(); ok {
		t.Error("0/0 has a value")
	}
	if v, ok := store.Ratio(k, time.Now(), 0, 4).Value(); !ok || v != 0 {
		t.Error("0/4 is not 0")
	}
	if v, ok := store.Ratio(k, time.Now(), 3, 4).Value(); !ok || v != 0.75 {
		t.Error("3/4 is not 0.75")
	}
	if v, ok := store.Count(k, time.Now(), 7).Value(); !ok || v != 7 {
		t.Error("count 7 is not 7")
	}
	if store.Ratio(k, time.Now(), 0, 0).SameValue(store.Count(k, time.Now(), 0)) {
		t.Error("null rate equals count 0")
	}
}

func TestBucketsInBusinessZone(t *testing.T) {
	loc := store.DefaultLocation()
	at := time.Date(2026, 3, 1, 0, 30, 0, 0, loc) // 2026-02-28T16:30Z
	for _, c := range []struct {
		r           store.Rollup
		start, next time.Time
	}{
		{store.RollupHour, time.Date(2026, 3, 1, 0, 0, 0, 0, loc), time.Date(2026, 3, 1, 1, 0, 0, 0, loc)},
		{store.RollupDay, time.Date(2026, 3, 1, 0, 0, 0, 0, loc), time.Date(2026, 3, 2, 0, 0, 0, 0, loc)},
		{store.RollupMonth, time.Date(2026, 3, 1, 0, 0, 0, 0, loc), time.Date(2026, 4, 1, 0, 0, 0, 0, loc)},
	} {
		s, n := store.Bucket(at.UTC(), c.r, loc)
		if !s.Equal(c.start) || !n.Equal(c.next) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", c.r, s, n, c.start, c.next)
		}
	}
	for _, s := range []string{"none", "hour", "day", "month"} {
		r, err := store.ParseRollup(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRollup(%q) = %v, %v", s, r, err)
		}
	}
}

// TestAnyDeptIsValid: a department is whatever a record carried; only the
// indicator, region and period of a key are constrained.
func TestAnyDeptIsValid(t *testing.T) {
	for _, d := range append(storetest.OddDepts(), "", "D01", "公安局") {
		k := store.SeriesKey{Indicator: "on_time_rate", Region: "620702", Dept: d, Period: store.PeriodDay}
		if err := k.Validate(); err != nil {
			t.Errorf("dept %q: %v", d, err)
		}
		sel := store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}, Depts: []string{d, "x"}}
		if err := sel.Validate(); err != nil {
			t.Errorf("selector with dept %q: %v", d, err)
		}
	}
}
