package trend

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The golden files come from scripts/gen-trend-golden.R (R 4.2.2,
// surveillance 1.20.3); CI has no R, so the tests read them only.

// readCSV reads a golden file as rows of named fields.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

// num parses R's numbers: NA is NaN, Inf and -Inf are infinities.
func num(t *testing.T, s string) float64 {
	t.Helper()
	switch s {
	case "NA", "NaN":
		return math.NaN()
	case "Inf":
		return math.Inf(1)
	case "-Inf":
		return math.Inf(-1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// near reports whether got matches R's want within 1e-9 (relative above
// 1): R sums in long double, Go in double, which differs in the last bits
// for non-integer data only. NaN matches NaN (R's NA), infinities match
// themselves.
func (d *deviation) near(got, want float64) bool {
	d.note(got, want)
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(got) && math.IsNaN(want) || got == want
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// deviation tracks the largest relative difference from R seen by near,
// for the test log.
type deviation struct{ max float64 }

func (d *deviation) note(got, want float64) {
	if !math.IsNaN(want) && !math.IsInf(want, 0) {
		d.max = math.Max(d.max, math.Abs(got-want)/math.Max(1, math.Abs(want)))
	}
}

type goldenSeries struct {
	y     []float64
	types []uint8
}

func readSeries(t *testing.T) map[string]*goldenSeries {
	t.Helper()
	out := map[string]*goldenSeries{}
	for _, row := range readCSV(t, "series.csv") {
		s := out[row["name"]]
		if s == nil {
			s = &goldenSeries{}
			out[row["name"]] = s
		}
		if n := int(num(t, row["t"])); n != len(s.y)+1 {
			t.Fatalf("series %s: t = %d after %d values", row["name"], n, len(s.y))
		}
		s.y = append(s.y, num(t, row["value"]))
		s.types = append(s.types, uint8(num(t, row["group"])))
	}
	return out
}

// TestEARSGolden holds earsC (C1, C2, C3, several min_sigma and alpha) to
// surveillance's outputs on every point of five series: weekly, sparse,
// large, all-but-zero and non-integer (partial-day) counts.
func TestEARSGolden(t *testing.T) {
	series := readSeries(t)
	methods := map[string]Method{"C1": EARSC1, "C2": EARSC2, "C3": EARSC3}
	rows := readCSV(t, "ears.csv")
	if len(rows) < 1000 {
		t.Fatalf("ears.csv has %d rows", len(rows))
	}
	alarms := map[string]int{}
	var dev deviation
	defer func() { t.Logf("largest relative difference from R: %.3g", dev.max) }()
	for _, row := range rows {
		s := series[row["series"]]
		n := int(num(t, row["t"]))
		m := methods[row["method"]]
		got, ok := earsC(m, s.y[:n], 7, num(t, row["z"]), num(t, row["min_sigma"]))
		if !ok {
			t.Fatalf("%v: earsC refused %d points", row, n)
		}
		wantAlarm := row["alarm"] == "1"
		for _, f := range []struct {
			name string
			got  float64
		}{{"expected", got.Expected}, {"spread", got.Spread}, {"score", got.Score}, {"upper", got.Upper}} {
			if !dev.near(f.got, num(t, row[f.name])) {
				t.Fatalf("%v: %s = %v, R says %s", row, f.name, f.got, row[f.name])
			}
		}
		if got.Alarm != wantAlarm {
			t.Fatalf("%v: alarm = %v, R says %s", row, got.Alarm, row["alarm"])
		}
		if wantAlarm {
			alarms[row["method"]]++
		}
	}
	// The goldens must exercise alarms of every method, not only quiet days.
	for m := range methods {
		if alarms[m] == 0 {
			t.Errorf("no %s alarm in the goldens", m)
		}
	}
}

// TestEARSShort checks that a series too short for the method is refused,
// as earsC stops with "The vector of observed is too short!".
func TestEARSShort(t *testing.T) {
	tests := []struct {
		m    Method
		n    int
		want bool
	}{
		{EARSC1, 7, false}, {EARSC1, 8, true},
		{EARSC2, 9, false}, {EARSC2, 10, true},
		{EARSC3, 11, false}, {EARSC3, 12, true},
		{NBCUSUM, 30, false},
	}
	for _, tt := range tests {
		if _, ok := earsC(tt.m, make([]float64, tt.n), 7, 3, 1); ok != tt.want {
			t.Errorf("%s on %d points: ok = %v, want %v", tt.m, tt.n, ok, tt.want)
		}
	}
}

// TestNBCUSUMGolden holds the day-type baseline (mu0 and alpha, against
// the same formulas written in plain R) and the CUSUM (value, cases and
// alarms, against surveillance's glrnb with a known kappa, which resets
// after each alarm) to the goldens.
func TestNBCUSUMGolden(t *testing.T) {
	series := readSeries(t)
	type key struct{ series, start, weeks, pseudo, floor, ms, shift, h string }
	groups := map[key][]map[string]string{}
	var order []key
	for _, row := range readCSV(t, "nbcusum.csv") {
		k := key{row["series"], row["run_start"], row["weeks"], row["pseudo"], row["alpha_floor"], row["min_sigma"], row["shift"], row["h"]}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], row)
	}
	if len(order) < 5 {
		t.Fatalf("nbcusum.csv has %d cases", len(order))
	}
	alarms := 0
	var dev deviation
	defer func() { t.Logf("largest relative difference from R: %.3g", dev.max) }()
	for _, k := range order {
		rows := groups[k]
		s := series[k.series]
		start, weeks := int(num(t, k.start))-1, int(num(t, k.weeks))
		base := s.y[start-7*weeks : start]
		b := fitNB(base, s.types[start-7*weeks:start], num(t, k.pseudo), num(t, k.floor))
		ms := num(t, k.ms)
		var x, mu0 []float64
		for i := range rows {
			mu := b.mean[s.types[start+i]]
			if ms > 0 {
				mu = math.Max(mu, muFloor(ms, b.alpha))
			}
			x = append(x, s.y[start+i])
			mu0 = append(mu0, mu)
		}
		got := nbCUSUM(x, mu0, b.alpha, math.Log(num(t, k.shift)), num(t, k.h), nil)
		for i, row := range rows {
			if !dev.near(b.alpha, num(t, row["alpha"])) || !dev.near(mu0[i], num(t, row["mu0"])) || x[i] != num(t, row["observed"]) {
				t.Fatalf("%+v day %d: alpha %v mu0 %v x %v, R says %s %s %s", k, i+1, b.alpha, mu0[i], x[i], row["alpha"], row["mu0"], row["observed"])
			}
			if !dev.near(got[i].Score, num(t, row["value"])) || !dev.near(got[i].Upper, num(t, row["cases"])) || got[i].Alarm != (row["alarm"] == "1") {
				t.Fatalf("%+v day %d: %+v, R says value %s cases %s alarm %s", k, i+1, got[i], row["value"], row["cases"], row["alarm"])
			}
			if got[i].Alarm {
				alarms++
			}
		}
	}
	if alarms < 3 {
		t.Errorf("only %d alarms in the NB goldens", alarms)
	}
}
