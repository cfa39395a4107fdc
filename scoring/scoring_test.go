package scoring

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
)

func def(t *testing.T, id string) indicator.Def {
	t.Helper()
	d, ok := indicator.Lookup(id)
	if !ok {
		t.Fatalf("no indicator %s", id)
	}
	return d
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// The example file documents the defaults; it must say exactly what
// Default does, and the defaults must pass the file checks.
func TestDefaultsMatchExampleFile(t *testing.T) {
	c, err := Load("testdata/targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if !reflect.DeepEqual(c, d) {
		for _, l := range d.Levels() {
			for id, r := range d.levels[l] {
				if got, ok := c.Rule(l, id); !ok || got != r {
					t.Errorf("%s %s: file %+v (%v), Default %+v", l, id, got, ok, r)
				}
			}
			for id := range c.levels[l] {
				if _, ok := d.Rule(l, id); !ok {
					t.Errorf("%s %s: in the file, not in Default", l, id)
				}
			}
		}
		t.Errorf("tiers: file %v, Default %v", c.tiers, d.tiers)
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	// Round trip through a file: Parse checks every rule.
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("defaults.yaml", b)
	if err != nil {
		t.Fatalf("defaults do not pass the file checks: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the defaults:\n%s", b)
	}
	for _, l := range c.Levels() {
		for _, d := range indicator.All() {
			r, ok := c.Rule(l, d.ID)
			volume := !d.Rate && !d.LowerIsBetter
			if ok == volume {
				t.Errorf("%s %s: has rule %v, want %v", l, d.ID, ok, !volume)
			}
			if d.Rate && r.Weight <= 0 {
				t.Errorf("%s %s: rate with weight %v", l, d.ID, r.Weight)
			}
		}
	}
	// The figures SPEC.md section 6 names.
	for _, tc := range []struct {
		id     string
		target float64
	}{{"full_online_item_rate", 0.98}, {"answer_rate", 0.95}, {"rectify_on_time_rate", 1}} {
		for _, l := range c.Levels() {
			if r, _ := c.Rule(l, tc.id); r.Target != tc.target {
				t.Errorf("%s %s: target %v, want %v", l, tc.id, r.Target, tc.target)
			}
		}
	}
	if r, _ := c.Rule("township", "answer_rate"); r.Floor != 0.70 {
		t.Errorf("township answer_rate floor %v, want 0.70", r.Floor)
	}
	if got := c.Levels(); !reflect.DeepEqual(got, []string{"province", "city", "county", "township", "dept"}) {
		t.Errorf("Levels() = %v", got)
	}
	if _, ok := c.Rule("default", "answer_rate"); ok {
		t.Error(`"default" is a file section, not a level`)
	}
}

func TestStatus(t *testing.T) {
	c := Default()
	tests := []struct {
		level, id string
		value     float64
		ok        bool
		want      Status
	}{
		{"city", "full_online_item_rate", 98.0 / 100, true, StatusGreen},
		{"city", "full_online_item_rate", 49.0 / 50, true, StatusGreen},
		{"city", "full_online_item_rate", 0.98 - 1e-12, true, StatusGreen}, // float noise
		{"city", "full_online_item_rate", 979.0 / 1000, true, StatusAmber},
		{"city", "full_online_item_rate", 78.0 / 100, true, StatusAmber}, // exactly the floor
		{"city", "full_online_item_rate", 0.7799, true, StatusRed},
		{"city", "full_online_item_rate", 1, true, StatusGreen},
		{"city", "full_online_item_rate", 0, true, StatusRed},
		{"city", "answer_rate", 0.73, true, StatusRed},
		{"township", "answer_rate", 0.73, true, StatusAmber}, // relaxed floor
		{"city", "rectify_on_time_rate", 1, true, StatusGreen},
		{"city", "rectify_on_time_rate", 0.999, true, StatusAmber},
		// Lower is better: green ≤ target, amber ≤ floor, red above.
		{"county", "overdue_open", 0, true, StatusGreen},
		{"county", "overdue_open", 1, true, StatusAmber},
		{"county", "overdue_open", 10, true, StatusAmber},
		{"county", "overdue_open", 11, true, StatusRed},
		{"province", "overdue_open", 11, true, StatusAmber},
		{"township", "bad_review_count", 4, true, StatusRed},
		// No value, no rule, unknown level, NaN.
		{"city", "answer_rate", 0.99, false, StatusNone},
		{"city", "case_volume", 1000, true, StatusNone},
		{"region", "answer_rate", 0.99, true, StatusNone},
		{"city", "answer_rate", math.NaN(), true, StatusNone},
	}
	for _, tc := range tests {
		if got := c.Status(tc.level, def(t, tc.id), tc.value, tc.ok); got != tc.want {
			t.Errorf("Status(%s, %s, %v, %v) = %q, want %q", tc.level, tc.id, tc.value, tc.ok, got, tc.want)
		}
	}
}

func TestScore(t *testing.T) {
	c := mustParse(t, `
levels:
  default:
    answer_rate: {target: 0.95, floor: 0.85}
    overdue_open: {target: 0, floor: 10}
  city:
    rectify_on_time_rate: {target: 1, floor: 1}
    overdue_open: {target: 2, floor: 2}
`)
	tests := []struct {
		level, id string
		value     float64
		ok        bool
		want      float64
		wantOK    bool
	}{
		{"county", "answer_rate", 0.90, true, 50, true},
		{"county", "answer_rate", 0.87, true, 20, true},
		{"county", "answer_rate", 0.95, true, 100, true},
		{"county", "answer_rate", 0.99, true, 100, true}, // clamped at 100
		{"county", "answer_rate", 0.85, true, 0, true},
		{"county", "answer_rate", 0.10, true, 0, true}, // clamped at 0
		// Lower is better, mirrored.
		{"county", "overdue_open", 5, true, 50, true},
		{"county", "overdue_open", 0, true, 100, true},
		{"county", "overdue_open", 10, true, 0, true},
		{"county", "overdue_open", 40, true, 0, true},
		// target == floor: met or not.
		{"city", "rectify_on_time_rate", 1, true, 100, true},
		{"city", "rectify_on_time_rate", 0.999, true, 0, true},
		{"city", "overdue_open", 2, true, 100, true},
		{"city", "overdue_open", 1, true, 100, true},
		{"city", "overdue_open", 3, true, 0, true},
		// Null value, no rule.
		{"county", "answer_rate", 0, false, 0, false},
		{"county", "case_volume", 100, true, 0, false},
	}
	for _, tc := range tests {
		got, ok := c.Score(tc.level, def(t, tc.id), tc.value, tc.ok)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Score(%s, %s, %v, %v) = %v, %v; want %v, %v", tc.level, tc.id, tc.value, tc.ok, got, ok, tc.want, tc.wantOK)
		}
		// Green if and only if the score is 100.
		if st := c.Status(tc.level, def(t, tc.id), tc.value, tc.ok); ok && (st == StatusGreen) != (got == 100) {
			t.Errorf("%s %s %v: status %s with score %v", tc.level, tc.id, tc.value, st, got)
		}
	}
}

func ptr(x float64) *float64 { return &x }

func TestComposite(t *testing.T) {
	c := mustParse(t, `
defaults: false
levels:
  default:
    answer_rate:           {target: 0.95, floor: 0.85, weight: 2}
    rectify_on_time_rate:  {target: 1, floor: 0.9, weight: 2}
    full_online_item_rate: {target: 0.98, floor: 0.88, weight: 1}
    overdue_open:          {target: 0, floor: 10, weight: 0}
`)
	rate := func(id string, n, d int64) Input {
		return Input{Indicator: id, Numerator: n, Denominator: d, Rate: true}
	}
	count := func(id string, n int64) Input { return Input{Indicator: id, Numerator: n} }
	tests := []struct {
		name   string
		in     []Input
		want   *float64
		tier   string
		scores []*float64 // per part
	}{
		{
			name:   "weighted mean",
			in:     []Input{rate("answer_rate", 90, 100), rate("rectify_on_time_rate", 10, 10), rate("full_online_item_rate", 98, 100)},
			want:   ptr(80), // (2·50 + 2·100 + 1·100) / 5
			tier:   "第二等次",
			scores: []*float64{ptr(50), ptr(100), ptr(100)},
		},
		{
			// A null leaves both sums: (2·50 + 1·100)/3 = 66.67, not
			// (2·50 + 2·0 + 1·100)/5 = 40.
			name:   "null left out of both sums",
			in:     []Input{rate("answer_rate", 9, 10), rate("rectify_on_time_rate", 0, 0), rate("full_online_item_rate", 49, 50)},
			want:   ptr(66.666666667),
			tier:   "第三等次",
			scores: []*float64{ptr(50), nil, ptr(100)},
		},
		{
			name:   "all null",
			in:     []Input{rate("answer_rate", 0, 0), rate("rectify_on_time_rate", 0, 0)},
			scores: []*float64{nil, nil},
		},
		{
			name:   "weight 0 only",
			in:     []Input{count("overdue_open", 5)},
			scores: []*float64{ptr(50)},
		},
		{
			name:   "weight 0 does not count",
			in:     []Input{count("overdue_open", 10), rate("answer_rate", 95, 100)},
			want:   ptr(100),
			tier:   "第一等次",
			scores: []*float64{ptr(0), ptr(100)},
		},
		{
			name:   "no rule, unknown indicator",
			in:     []Input{count("case_volume", 7), count("no_such", 1), rate("answer_rate", 85, 100)},
			want:   ptr(0),
			tier:   "第四等次",
			scores: []*float64{nil, nil, ptr(0)},
		},
		{name: "nothing", scores: []*float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Composite("county", tc.in)
			if (got.Score == nil) != (tc.want == nil) || (got.Score != nil && math.Abs(*got.Score-*tc.want) > 1e-6) {
				t.Errorf("score %v, want %v", deref64(got.Score), deref64(tc.want))
			}
			if got.Tier != tc.tier {
				t.Errorf("tier %q, want %q", got.Tier, tc.tier)
			}
			if len(got.Parts) != len(tc.scores) {
				t.Fatalf("%d parts, want %d", len(got.Parts), len(tc.scores))
			}
			for i, p := range got.Parts {
				if p.Indicator != tc.in[i].Indicator {
					t.Errorf("part %d is %s, want %s", i, p.Indicator, tc.in[i].Indicator)
				}
				if !reflect.DeepEqual(p.Score, tc.scores[i]) {
					t.Errorf("part %s: score %v, want %v", p.Indicator, deref64(p.Score), deref64(tc.scores[i]))
				}
				if v, ok := tc.in[i].Value(); ok != (p.Value != nil) || (ok && *p.Value != v) {
					t.Errorf("part %s: value %v, want %v (%v)", p.Indicator, deref64(p.Value), v, ok)
				}
			}
		})
	}
}

func deref64(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCompositeJSON(t *testing.T) {
	c := Default()
	got := c.Composite("city", []Input{
		{Indicator: "answer_rate", Numerator: 90, Denominator: 100, Rate: true},
		{Indicator: "rectify_on_time_rate", Rate: true},
		{Indicator: "overdue_open", Numerator: 40},
		{Indicator: "call_volume", Numerator: 1174},
	})
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"score":75,"tier":"第二等次","tier_en":"Tier 2","parts":[` +
		`{"indicator":"answer_rate","value":0.9,"score":75,"weight":2,"status":"amber"},` +
		`{"indicator":"rectify_on_time_rate","value":null,"score":null,"weight":2,"status":""},` +
		`{"indicator":"overdue_open","value":40,"score":0,"weight":0,"status":"red"},` +
		`{"indicator":"call_volume","value":1174,"score":null,"weight":0,"status":""}]}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back Composite
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, got) {
		t.Errorf("JSON round trip: %+v, want %+v", back, got)
	}
}

func TestTierBoundaries(t *testing.T) {
	// Score = value × 100, so the composite of one rate hits every boundary.
	c := mustParse(t, `
defaults: false
levels: {default: {answer_rate: {target: 1, floor: 0}}}
`)
	tests := []struct {
		num, den int64
		want     string
	}{
		{100, 100, "第一等次"},
		{90, 100, "第一等次"}, // 0.9 × 100 is 90.00000000000001 before rounding
		{9, 10, "第一等次"},
		{899, 1000, "第二等次"},
		{75, 100, "第二等次"},
		{3, 4, "第二等次"},
		{7499, 10000, "第三等次"},
		{60, 100, "第三等次"},
		{3, 5, "第三等次"},
		{599, 1000, "第四等次"},
		{0, 100, "第四等次"},
	}
	for _, tc := range tests {
		got := c.Composite("city", []Input{{Indicator: "answer_rate", Numerator: tc.num, Denominator: tc.den, Rate: true}})
		if got.Tier != tc.want {
			t.Errorf("%d/%d: score %v tier %q, want %q", tc.num, tc.den, deref64(got.Score), got.Tier, tc.want)
		}
	}
	for _, tc := range []struct {
		score float64
		want  string
	}{{90, "Tier 1"}, {90 - 1e-10, "Tier 1"}, {89.99, "Tier 2"}, {75, "Tier 2"}, {74.99, "Tier 3"}, {60, "Tier 3"}, {59.99, "Tier 4"}, {0, "Tier 4"}, {-5, "Tier 4"}} {
		if got := c.TierOf(tc.score).NameEN; got != tc.want {
			t.Errorf("TierOf(%v) = %s, want %s", tc.score, got, tc.want)
		}
	}
	// A file's lowest tier takes every score below the others.
	c = mustParse(t, "tiers: [{name: 优秀, min: 80}, {name: 合格, min: 50}]")
	if got := c.TierOf(10); got.Name != "合格" || got.NameEN != "合格" {
		t.Errorf("TierOf(10) = %+v, want 合格 (name_en defaults to name)", got)
	}
}

func TestStatusText(t *testing.T) {
	for _, s := range []Status{StatusNone, StatusRed, StatusAmber, StatusGreen} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%q: back %v, %v", b, back, err)
		}
	}
	if got := []string{StatusNone.String(), StatusRed.String(), StatusAmber.String(), StatusGreen.String()}; !reflect.DeepEqual(got, []string{"", "red", "amber", "green"}) {
		t.Errorf("names %q", got)
	}
	if _, err := Status(9).MarshalText(); err == nil {
		t.Error("Status(9) marshalled")
	}
	var s Status
	if err := s.UnmarshalText([]byte("blue")); err == nil {
		t.Error(`"blue" accepted`)
	}
}

// A zero or nil Config has no rules and no tiers, and does not panic.
func TestZeroConfig(t *testing.T) {
	for _, c := range []*Config{nil, {}} {
		if _, ok := c.Rule("city", "answer_rate"); ok {
			t.Error("rule in an empty config")
		}
		if got := c.Composite("city", []Input{{Indicator: "answer_rate", Numerator: 1, Denominator: 1, Rate: true}}); got.Score != nil {
			t.Error("composite score in an empty config")
		}
		if got := c.TierOf(95); got != (Tier{}) {
			t.Errorf("TierOf in an empty config = %+v", got)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load("testdata/missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
}
