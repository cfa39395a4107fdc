package scoring

import (
	"errors"
	"flag"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/yamlconf"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// Every mistake in testdata/bad.yaml is reported at once, each with the
// file, line and key path.
func TestParseErrorsGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("bad.yaml", data)
	if err == nil {
		t.Fatalf("Parse accepted bad.yaml: %+v", c)
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile("testdata/bad.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, rerr := os.ReadFile("testdata/bad.golden")
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got != string(want) {
		t.Errorf("errors differ from testdata/bad.golden (go test -run %s -update to accept):\n%s", t.Name(), diffLines(string(want), got))
	}
	// Each is an *Error with its line.
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != strings.Count(got, "\n") {
		t.Fatalf("not a join of one error per line: %T", err)
	}
	for _, e := range joined.Unwrap() {
		var pe *yamlconf.Error
		if !errors.As(e, &pe) || pe.File != "bad.yaml" || pe.Line == 0 || pe.Path == "" {
			t.Errorf("%q: want an *Error with file, line and path, got %#v", e, e)
		}
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"the example of the brief", "levels:\n  city:\n    answer_rate: {floor: 0.99}\n",
			"targets.yaml:3: levels.city.answer_rate.floor: floor 0.99 is above target 0.95 (higher is better)"},
		{"lower is better", "levels:\n  county:\n    overdue_open:\n      target: 3\n      floor: 1\n",
			"targets.yaml:5: levels.county.overdue_open.floor: floor 1 is below target 3 (lower is better)"},
		{"target below the default floor", "levels: {city: {answer_rate: {target: 0.7}}}",
			"targets.yaml:1: levels.city.answer_rate.target: floor 0.75 is above target 0.7 (higher is better)"},
		{"syntax", "levels:\n  city: {answer_rate: [\n",
			"targets.yaml:2: YAML: did not find expected node content"},
		{"tab", "levels:\n\tcity: {}\n",
			"targets.yaml:2: YAML: found character that cannot start any token"},
		{"not a mapping", "- a\n- b\n",
			"targets.yaml:1: want a mapping with the keys levels and tiers, got a list"},
		{"two documents", "levels: {}\n---\ntiers: []\n",
			"targets.yaml:2: a second YAML document; a file holds one"},
		{"levels a list", "levels: [city]",
			"targets.yaml:1: levels: want a mapping of levels, got a list"},
		{"duplicate level", "levels:\n  city: {}\n  city: {}\n",
			"targets.yaml:3: levels.city: duplicate key (first on line 2)"},
		{"duplicate top key", "tiers: [{name: a, min: 1}]\ntiers: [{name: b, min: 1}]\n",
			"targets.yaml:2: tiers: duplicate key (first on line 1)"},
		{"empty tiers", "tiers: []",
			"targets.yaml:1: tiers: at least one tier is needed"},
		{"tiers equal", "tiers: [{name: a, min: 80}, {name: b, min: 80}]",
			"targets.yaml:1: tiers[1].min: min 80 is not below tiers[0].min 80 (tiers go from the highest down)"},
		{"tiers ascending", "tiers:\n- {name: a, min: 60}\n- {name: b, min: 90}\n",
			"targets.yaml:3: tiers[1].min: min 90 is not below tiers[0].min 60 (tiers go from the highest down)"},
		{"blank tier name", "tiers: [{name: '  ', min: 0}]",
			"targets.yaml:1: tiers[0].name: empty name"},
		{"tier min a string", "tiers: [{name: a, min: '90'}]",
			`targets.yaml:1: tiers[0].min: want a score from 0 to 100, got "90"`},
		{"rate a string", "levels: {city: {answer_rate: {target: '0.9'}}}",
			`targets.yaml:1: levels.city.answer_rate.target: want a number, got "0.9"`},
		{"infinite", "levels: {city: {answer_rate: {weight: .inf}}}",
			`targets.yaml:1: levels.city.answer_rate.weight: ".inf" is not a finite number`},
		{"huge weight", "levels: {city: {answer_rate: {weight: 1e6}}}",
			`targets.yaml:1: levels.city.answer_rate.weight: weight 1e+06 is above 1000`},
		{"null field", "levels: {city: {answer_rate: {target: ~}}}",
			`targets.yaml:1: levels.city.answer_rate.target: want a number, got "~"`},
		{"new rule without floor", "levels: {default: {call_volume: {target: 100}}}",
			"targets.yaml:1: levels.default.call_volume: no rule to merge onto: a new rule needs both target and floor at province, city, county, township, dept"},
		{"deleted then half re-added", "levels: {default: {answer_rate: ~}, city: {answer_rate: {weight: 3}}}",
			"targets.yaml:1: levels.city.answer_rate: no rule to merge onto: a new rule needs both target and floor"},
		{"key a list", "levels: {[a]: {}}",
			"targets.yaml:1: levels: a key must be a plain name, got a list"},
		{"merge key", "levels:\n  city: &c {answer_rate: {floor: 0.8}}\n  county:\n    <<: *c\n",
			`targets.yaml:4: levels.county.<<: unknown indicator`},
		{"defaults a string", "defaults: 'false'",
			`targets.yaml:1: defaults: want true or false, got "false"`},
		{"misspelt level", "levels:\n  conuty: {}\n",
			"targets.yaml:2: levels.conuty: unknown level (did you mean county?)"},
		{"misspelt tier key", "tiers:\n- {name: a, min: 0, nmae_en: A}\n",
			"targets.yaml:2: tiers[0].nmae_en: unknown key (did you mean name_en?)"},
		{"misspelt top key", "\ntires: []\n",
			"targets.yaml:2: tires: unknown key (did you mean tiers?)"},
		{"unclosed list at the end", "levels:\n  city: {answer_rate: {floor: [0.8\n\n\n",
			"targets.yaml:2: YAML: did not find expected ',' or ']'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("targets.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestParseMerge(t *testing.T) {
	c := mustParse(t, `
# comments are fine
levels:
  default:
    answer_rate: {target: 0.97, weight: 3}   # floor kept from the defaults
    in_hall_rate: ~                          # no rule anywhere...
    case_volume: {target: 1000, floor: 500}  # a new rule: weight 1
  township:
    answer_rate: {target: "90%", floor: 80 %}
    in_hall_rate: {target: 0.9, floor: 0.8, weight: 0}  # ...but townships
  dept:
    overdue_open: {floor: 0}
`)
	tests := []struct {
		level, id string
		want      Rule
		ok        bool
	}{
		{"city", "answer_rate", Rule{0.97, 0.75, 3}, true},
		{"province", "answer_rate", Rule{0.97, 0.75, 3}, true},
		{"township", "answer_rate", Rule{0.90, 0.80, 3}, true},
		{"city", "in_hall_rate", Rule{}, false},
		{"township", "in_hall_rate", Rule{0.9, 0.8, 0}, true},
		{"county", "case_volume", Rule{1000, 500, 1}, true},
		{"dept", "overdue_open", Rule{0, 0, 0}, true},
		{"county", "overdue_open", Rule{0, 10, 0}, true}, // default untouched
		{"city", "full_online_item_rate", Rule{0.98, 0.78, 2}, true},
	}
	for _, tc := range tests {
		got, ok := c.Rule(tc.level, tc.id)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Rule(%s, %s) = %+v, %v; want %+v, %v", tc.level, tc.id, got, ok, tc.want, tc.ok)
		}
	}
	if !reflect.DeepEqual(c.Tiers(), Default().Tiers()) {
		t.Errorf("tiers changed without a tiers key: %v", c.Tiers())
	}

	// defaults: false starts empty; tiers replace the defaults.
	c = mustParse(t, `
defaults: false
levels: {city: {answer_rate: {target: 0.9, floor: 0.9}}}
tiers: [{name: 优, name_en: A, min: 85.5}, {name: 良, name_en: B, min: 0}]
`)
	for _, l := range c.Levels() {
		want := 0
		if l == "city" {
			want = 1
		}
		if got := len(c.Rules(l)); got != want {
			t.Errorf("%s: %d rules, want %d", l, got, want)
		}
	}
	if got := c.Tiers(); !reflect.DeepEqual(got, []Tier{{"优", "A", 85.5}, {"良", "B", 0}}) {
		t.Errorf("tiers %v", got)
	}

	// Empty and null documents, anchors.
	for _, src := range []string{"", "# nothing\n", "~", "---\n", "levels:\n", "levels: {city: }"} {
		if c := mustParse(t, src); !reflect.DeepEqual(c, Default()) {
			t.Errorf("%q does not give the defaults", src)
		}
	}
	c = mustParse(t, "levels:\n  city: &r {answer_rate: {floor: 0.5}}\n  county: *r\n")
	if r, _ := c.Rule("county", "answer_rate"); r.Floor != 0.5 {
		t.Errorf("alias: county floor %v", r.Floor)
	}
}

// FuzzParse: no input makes Parse panic; whatever it accepts is a valid
// configuration, and writing it out reads back the same.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/targets.yaml", "testdata/bad.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"levels: {city: {answer_rate: {target: 0.9, floor: 0.8, weight: 2}}}",
		"levels: {default: {answer_rate: ~, overdue_open: {target: 1, floor: 1}}, township: {answer_rate: {target: 50%, floor: 0}}}",
		"defaults: false\nlevels: {dept: {case_volume: {target: 10, floor: 20}}}\ntiers: [{name: x, min: 1}]",
		"tiers: [{name: a, name_en: b, min: 99.5}, {name: c, min: 0}]",
		"levels:\n  city: &a {answer_rate: {floor: 0.1}}\n  county: *a\n",
		"levels: {city: {answer_rate: {target: 1e-300, floor: -0}}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatal("config with an error")
			}
			var pe *yamlconf.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		checkValid(t, c)
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("out.yaml", out)
		if err != nil {
			t.Fatalf("written config does not read back: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%s", out)
		}
	})
}

func checkValid(t *testing.T, c *Config) {
	t.Helper()
	for _, l := range c.Levels() {
		for id, r := range c.Rules(l) {
			d, ok := indicator.Lookup(id)
			if !ok {
				t.Fatalf("%s: rule for unknown indicator %q", l, id)
			}
			for _, x := range []float64{r.Target, r.Floor, r.Weight} {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					t.Fatalf("%s %s: bad number in %+v", l, id, r)
				}
			}
			if d.Rate && (r.Target > 1 || r.Floor > 1) {
				t.Fatalf("%s %s: rate above 1 in %+v", l, id, r)
			}
			if (!d.LowerIsBetter && r.Floor > r.Target) || (d.LowerIsBetter && r.Floor < r.Target) {
				t.Fatalf("%s %s: floor and target the wrong way in %+v", l, id, r)
			}
			// Scores stay within 0–100 for any value.
			for _, v := range []float64{-1, 0, r.Floor, r.Target, 0.5, 1, 1e9} {
				if s, _ := c.Score(l, d, v, true); s < 0 || s > 100 || math.IsNaN(s) {
					t.Fatalf("%s %s: score %v for %v", l, id, s, v)
				}
			}
		}
	}
	tiers := c.Tiers()
	if len(tiers) == 0 {
		t.Fatal("no tiers")
	}
	for i, tr := range tiers {
		if strings.TrimSpace(tr.Name) == "" || (i > 0 && tr.Min >= tiers[i-1].Min) {
			t.Fatalf("bad tiers %v", tiers)
		}
	}
}
