package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/yamlconf"
)

func TestSampleParses(t *testing.T) {
	rs := Default()
	types := map[Type]bool{}
	for _, r := range rs.Rules {
		types[r.Type] = true
		if r.Title.ZH == "" || r.Title.EN == "" {
			t.Errorf("%s: title %+v", r.Name, r.Title)
		}
	}
	for _, ty := range allTypes {
		if !types[Type(ty)] {
			t.Errorf("the sample has no %s rule", ty)
		}
	}
	r, ok := rs.Rule("answer-rate-floor")
	if !ok {
		t.Fatal("no answer-rate-floor")
	}
	// Set on the rule, and taken from defaults.
	if r.Severity != Critical || r.MinCount != 30 || !slices.Equal(r.Quiet, []string{"nights"}) ||
		r.For != 5*time.Minute || r.Repeat != 4*time.Hour || r.Period != engine.Day || r.Level != region.County ||
		r.WorseThan != (Bound{Kind: BoundFloor}) || len(r.Escalate) != 2 || r.Escalate[1] != (Step{2 * time.Hour, region.Province}) ||
		!slices.Equal(r.Receivers["city"], []string{"city-duty"}) {
		t.Errorf("answer-rate-floor = %+v", *r)
	}
	bottom, _ := rs.Rule("composite-bottom-3")
	if bottom.Indicator != Composite || bottom.BottomN != 3 || bottom.Repeat != 0 || len(bottom.Escalate) != 0 {
		t.Errorf("composite-bottom-3 = %+v", *bottom)
	}
	if q := rs.Quiet["nights"]; len(q.Ranges) != 1 || q.Ranges[0] != (QuietRange{Start: 22 * 60, End: 7 * 60, Days: AllDays}) {
		t.Errorf("nights = %+v", q)
	}
	if q := rs.Quiet["non-working-days"]; len(q.Ranges) != 1 || q.Ranges[0] != (QuietRange{Whole: true, Days: NonWorkingDays}) {
		t.Errorf("non-working-days = %+v", q)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "rules: []\n", "rules:\n"} {
		rs, err := Parse("r.yaml", []byte(in))
		if err != nil || len(rs.Rules) != 0 {
			t.Errorf("%q: %v, %+v", in, err, rs)
		}
	}
}

func TestParseForms(t *testing.T) {
	rs := mustParse(t, `
rules:
  - name: a
    title: 标题
    type: threshold
    indicator: bad_review_count
    period: week
    regions: [620800, "620802"]
    worse_than: 10
  - name: b
    title: {zh: 乙}
    type: threshold
    indicator: online_available_rate
    level: city
    worse_than: 0.9
  - name: c
    title: {zh: 丙, en: C}
    type: silent
    after: 15m
    regions: [620000]
`)
	a, b, c := rs.Rules[0], rs.Rules[1], rs.Rules[2]
	if a.Title != (Text{"标题", "标题"}) || a.WorseThan != (Bound{BoundValue, 10}) || !slices.Equal(a.Regions, []string{"620800", "620802"}) || a.Period != engine.Week {
		t.Errorf("a = %+v", a)
	}
	// A catalog indicator needs no period.
	if b.Title.EN != "乙" || b.Period != engine.Day || b.WorseThan.Value != 0.9 {
		t.Errorf("b = %+v", b)
	}
	if c.After != 15*time.Minute || c.Sources != nil || c.Severity != Warning || c.MinCount != 1 || c.Repeat != 4*time.Hour {
		t.Errorf("c = %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "rules:\n  - name: r\n    title: T\n"
	tests := []struct {
		name, in string
		want     []string // substrings of the error, in order
	}{
		{"not a mapping", "- a\n", []string{"r.yaml:1: want a mapping"}},
		{"unknown top key", "rulez: []\n", []string{"r.yaml:1: rulez: unknown key (did you mean rules?)"}},
		{"syntax", "rules: [\n", []string{"r.yaml:1: YAML:"}},
		{"missing type", head, []string{"r.yaml:2: rules[0]: missing type"}},
		{"unknown type", head + "    type: treshold\n", []string{`r.yaml:4: rules[0].type: "treshold" (did you mean threshold?)`}},
		{"key of another type", head + "    type: silent\n    after: 5m\n    points: 3\n",
			[]string{"r.yaml:6: rules[0].points: not a key of a silent rule (rules of type drop have it)"}},
		{"misspelt key", head + "    type: silent\n    afterr: 5m\n",
			[]string{"r.yaml:2: rules[0]: missing after", "r.yaml:5: rules[0].afterr: unknown key (did you mean after?)"}},
		{"unknown indicator", head + "    type: threshold\n    indicator: answer_rat\n    period: day\n    level: county\n    worse_than: floor\n",
			[]string{`r.yaml:5: rules[0].indicator: unknown indicator "answer_rat" (did you mean answer_rate?)`}},
		{"composite only for bottom", head + "    type: threshold\n    indicator: composite\n    period: day\n    level: county\n    worse_than: floor\n",
			[]string{`rules[0].indicator: unknown indicator "composite"`}},
		{"bad period", head + "    type: threshold\n    indicator: answer_rate\n    period: daily\n    level: county\n    worse_than: floor\n",
			[]string{`r.yaml:6: rules[0].period: unknown period "daily"`}},
		{"missing period", head + "    type: drop\n    indicator: online_available_rate\n    level: county\n    points: 3\n",
			[]string{"r.yaml:2: rules[0]: missing period"}},
		{"no scope", head + "    type: threshold\n    indicator: answer_rate\n    period: day\n    worse_than: floor\n",
			[]string{"r.yaml:2: rules[0]: missing level or regions"}},
		{"rate out of range", head + "    type: threshold\n    indicator: answer_rate\n    period: day\n    level: county\n    worse_than: 95\n",
			[]string{"r.yaml:8: rules[0].worse_than: \"95\" is not a rate"}},
		{"percent of a count", head + "    type: threshold\n    indicator: bad_review_count\n    period: day\n    level: county\n    worse_than: 5%\n",
			[]string{"rules[0].worse_than: want floor, target or a number"}},
		{"floor of a volume", head + "    type: threshold\n    indicator: call_volume\n    period: day\n    level: county\n    worse_than: floor\n",
			[]string{"rules[0].worse_than: call_volume has no target or floor"}},
		{"misspelt floor", head + "    type: threshold\n    indicator: answer_rate\n    period: day\n    level: county\n    worse_than: flor\n",
			[]string{"(did you mean floor?)"}},
		{"bad region", head + "    type: overdue\n    regions: [62080]\n    above: 3\n",
			[]string{"r.yaml:5: rules[0].regions[0]: region code \"62080\""}},
		{"bottom of provinces", head + "    type: bottom\n    indicator: answer_rate\n    period: day\n    level: province\n    bottom: 3\n",
			[]string{"rules[0].level: provinces have no parent"}},
		{"escalation order", head + "    type: silent\n    after: 5m\n    escalate: [{after: 1h, to: province}, {after: 2h, to: city}]\n",
			[]string{"rules[0].escalate[1].to: city is not above the step before (province)"}},
		{"escalation times", head + "    type: silent\n    after: 5m\n    escalate: [{after: 1h, to: city}, {after: 1h, to: province}]\n",
			[]string{"rules[0].escalate[1].after: 1h0m0s is not after the step before"}},
		{"escalation level", head + "    type: silent\n    after: 5m\n    escalate: [{after: 1h, to: nation}]\n",
			[]string{`rules[0].escalate[0].to: "nation"`}},
		{"receivers level", head + "    type: silent\n    after: 5m\n    receivers: {contry: [a]}\n",
			[]string{"rules[0].receivers.contry: unknown level (did you mean county?)"}},
		{"unknown quiet", "quiet_hours:\n  nights: [{start: \"22:00\", end: \"07:00\"}]\n" + head + "    type: silent\n    after: 5m\n    quiet: [night]\n",
			[]string{`rules[0].quiet: unknown quiet hours "night" (did you mean nights?)`}},
		{"bad clock", "quiet_hours:\n  nights: [{start: \"25:00\", end: \"07:00\"}]\n",
			[]string{`r.yaml:2: quiet_hours.nights[0].start: "25:00": want a time of day`}},
		{"half a range", "quiet_hours:\n  nights: [{start: \"22:00\"}]\n",
			[]string{"quiet_hours.nights[0]: give both start and end"}},
		{"empty range", "quiet_hours:\n  x: [{start: \"22:00\", end: \"22:00\"}]\n",
			[]string{"quiet_hours.x[0].end: the range is empty"}},
		{"days", "quiet_hours:\n  x: [{days: weekend}]\n", []string{`quiet_hours.x[0].days: "weekend"`}},
		{"duplicate name", head + "    type: silent\n    after: 5m\n  - name: r\n    title: T\n    type: silent\n    after: 5m\n",
			[]string{`r.yaml:6: rules[1].name: duplicate rule name "r" (first on line 2)`}},
		{"bad name", "rules:\n  - name: Bad Name\n    title: T\n    type: silent\n    after: 5m\n",
			[]string{`rules[0].name: "Bad Name": want lower-case`}},
		{"rule key in defaults", "defaults:\n  indicator: answer_rate\n", []string{"r.yaml:2: defaults.indicator: not a default"}},
		{"short repeat", "defaults:\n  repeat: 10s\n", []string{"defaults.repeat: 10s is too short"}},
		{"silent after", head + "    type: silent\n    after: 10s\n", []string{"rules[0].after: 10s is too short"}},
		{"bad pattern", head + "    type: silent\n    after: 5m\n    sources: [\"demo-[\"]\n", []string{`rules[0].sources[0]: bad pattern "demo-["`}},
		{"two silent regions", head + "    type: silent\n    after: 5m\n    regions: [620000, 630000]\n",
			[]string{"rules[0].regions: a silent rule files its report under one region"}},
		{"every problem", head + "    type: drop\n    indicator: x\n    points: 0\n  - name: s\n    title: T\n    type: surge\n    min_score: -1\n",
			[]string{"rules[0]: missing period", `rules[0].indicator: unknown indicator "x"`, "rules[0].points: want more than 0", "rules[1].min_score: -1 is out of range"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tc.in))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error:\n%s\nwant (in order) %q", msg, w)
				}
				at += i + len(w)
			}
			// Every line is one *yamlconf.Error.
			if _, ok := errors.AsType[*yamlconf.Error](err); !ok {
				t.Errorf("error %T is not a yamlconf.Error", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Sample)
	f.Add("rules: [{name: a, title: x, type: bottom, indicator: composite, period: month, level: city, bottom: 2}]")
	f.Add("quiet_hours: {q: [{start: \"23:00\", end: \"01:00\", days: working}]}\nrules: [{name: a, title: x, type: silent, after: 1m, quiet: [q]}]")
	f.Add("defaults: {escalate: [{after: 1m, to: city}], receivers: {county: [a]}}")
	f.Fuzz(func(t *testing.T, in string) {
		// A hang is a bug too: crash with the input that caused it.
		wd := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("SLOW %q", in)) })
		defer wd.Stop()
		rs, err := Parse("f.yaml", []byte(in))
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml") {
					t.Fatalf("error line %q does not name the file", line)
				}
			}
			return
		}
		// What parses is usable: every rule is complete and its quiet
		// hours resolve.
		seen := map[string]bool{}
		for _, r := range rs.Rules {
			if r.Name == "" || seen[r.Name] || !slices.Contains(allTypes, string(r.Type)) || r.Severity == 0 {
				t.Fatalf("bad rule %+v", r)
			}
			seen[r.Name] = true
			for _, q := range r.Quiet {
				if _, ok := rs.Quiet[q]; !ok {
					t.Fatalf("rule %s: quiet %q unknown", r.Name, q)
				}
			}
			for i := 1; i < len(r.Escalate); i++ {
				if r.Escalate[i].After <= r.Escalate[i-1].After {
					t.Fatalf("rule %s: ladder out of order", r.Name)
				}
			}
		}
		for _, q := range rs.Quiet {
			// quietUntil must end for any range.
			quietUntil(testCalendar(), rs.Quiet, []string{q.Name}, t0)
		}
	})
}
