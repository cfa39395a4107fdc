package indicator

import (
	"testing"

	"github.com/yiping-ioc/yiping/record"
)

func levels(b ByLevel) map[string]float64 {
	return map[string]float64{"province": b.Province, "city": b.City, "county": b.County, "township": b.Township, "dept": b.Dept}
}

// Every entry is complete and consistent: the checks a new entry must pass.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range All() {
		if d.ID == "" || d.Name == "" || d.NameEN == "" {
			t.Errorf("%+v: id and both names are required", d)
		}
		if seen[d.ID] {
			t.Errorf("%s: listed twice", d.ID)
		}
		seen[d.ID] = true
		if got, ok := Lookup(d.ID); !ok || got != d {
			t.Errorf("Lookup(%s) = %+v, %v", d.ID, got, ok)
		}
		if d.Source >= record.NumKinds {
			t.Errorf("%s: source %d is not a record kind", d.ID, d.Source)
		}
		if d.Periodic != (d.Source != record.KindItem) {
			t.Errorf("%s: periodic %v; only item catalog indicators have no period", d.ID, d.Periodic)
		}
		volume := !d.Rate && !d.LowerIsBetter
		if d.HasGoal() == volume {
			t.Errorf("%s: has goal %v; every indicator but the volumes has one", d.ID, d.HasGoal())
		}
		if !d.HasGoal() {
			continue
		}
		g := d.Goal
		for level, floor := range levels(g.Floor) {
			lo, hi := floor, g.Target // the direction of SPEC.md section 6
			if d.LowerIsBetter {
				lo, hi = hi, lo
			}
			if lo > hi || min(floor, g.Target) < 0 || d.Rate && max(floor, g.Target) > 1 {
				t.Errorf("%s %s: target %v, floor %v: wrong way round or out of range", d.ID, level, g.Target, floor)
			}
		}
		if d.Rate && g.Weight <= 0 {
			t.Errorf("%s: a rate with weight %v leaves the composite", d.ID, g.Weight)
		}
		if !d.Rate && g.Weight != 0 {
			t.Errorf("%s: a count with weight %v; counts do not compare across units", d.ID, g.Weight)
		}
	}
	if _, ok := Lookup("no_such_indicator"); ok {
		t.Error("Lookup found an unknown id")
	}
}

func TestRateFloor(t *testing.T) {
	tests := []struct {
		floor, township float64
	}{
		{0.75, 0.70},
		{0.79, 0.74}, // exactly: 0.79 − 0.05 is 0.7400000000000001 in floats
		{0.50, 0.45},
		{0.03, 0},
		{0, 0},
	}
	for _, tc := range tests {
		got := rateFloor(tc.floor)
		want := ByLevel{Province: tc.floor, City: tc.floor, County: tc.floor, Township: tc.township, Dept: tc.floor}
		if got != want {
			t.Errorf("rateFloor(%v) = %+v, want %+v", tc.floor, got, want)
		}
	}
}
