package widget

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/yamlconf"
)

// parse reads one widget mapping as the loader does (its type, its keys,
// then its type's own keys) and returns its settings and problems.
func parse(t *testing.T, src string) (Spec, error) {
	t.Helper()
	r := yamlconf.NewReader("w.yaml")
	n := r.Document([]byte(src))
	spec, in, ok := Begin(r, n, n, "widgets[0]")
	if ok {
		spec.Parse(in)
	}
	return spec, r.Err()
}

// TestParse: each type's keys, defaults and messages. The keys the loader
// reads for every type (title, at, region, period) are left to package
// dashboards' tests.
func TestParse(t *testing.T) {
	types := strings.Join(names(Kinds()), ", ")
	for _, tc := range []struct {
		name, yaml string
		want       Spec   // when it parses
		err        string // when it does not
	}{
		// Any type.
		{"not a mapping", "- tiles\n", nil, "w.yaml:1: widgets[0]: want a mapping with type, at and the type's fields"},
		{"no type", "at: [0, 0, 1, 1]\n", nil, "w.yaml:1: widgets[0].type: missing; want one of " + types},
		{"type not a string", "type: [tiles]\n", nil, "w.yaml:1: widgets[0].type: want a string"},
		{"unknown type", "type: tile\n", nil, `w.yaml:1: widgets[0].type: unknown widget type "tile" (did you mean tiles?); want one of ` + types},
		{"key of another type", "type: health\ndays: 3\n", nil, "w.yaml:2: widgets[0].days: not used by a health widget (it takes type, title, at)"},
		{"misspelt key", "type: bar\nindicator: on_time_rate\nrow: 3\n", nil, "w.yaml:3: widgets[0].row: unknown key (did you mean rows?)"},

		// tiles
		{"tiles", "type: tiles\nindicators: [case_volume, on_time_rate]\n", &Tiles{Indicators: []string{"case_volume", "on_time_rate"}}, ""},
		{"tiles without indicators", "type: tiles\n", nil, "w.yaml:1: widgets[0].indicators: missing; a tiles widget takes 1 to 8 indicators"},
		{"tiles not a list", "type: tiles\nindicators: case_volume\n", nil, "w.yaml:2: widgets[0].indicators: want a list of indicator ids"},
		{"nine tiles", "type: tiles\nindicators: [case_volume, online_case_rate, full_online_case_rate, mobile_case_rate, on_time_rate, overdue_open, eval_count, satisfaction_rate, call_volume]\n", nil,
			"w.yaml:2: widgets[0].indicators: 9 indicators; a tiles widget takes 1 to 8"},
		{"tile misspelt", "type: tiles\nindicators: [on_time_rat]\n", nil, `w.yaml:2: widgets[0].indicators[0]: unknown indicator "on_time_rat" (did you mean on_time_rate?)`},
		{"tile twice", "type: tiles\nindicators:\n  - eval_count\n  - eval_count\n", nil, "w.yaml:4: widgets[0].indicators[1]: eval_count is listed twice"},

		// map
		{"map", "type: map\ncolor_by: composite\ndrill: true\n", &Map{ColorBy: "composite", Drill: true}, ""},
		{"map by indicator", "type: map\nindicator: answer_rate\n", &Map{Indicator: "answer_rate"}, ""},
		{"map uncoloured", "type: map\n", nil, "w.yaml:1: widgets[0].color_by: missing; a map needs color_by (composite or an indicator) or indicator"},
		{"map colour misspelt", "type: map\ncolor_by: compsite\n", nil, `w.yaml:2: widgets[0].color_by: unknown indicator "compsite" (did you mean composite?); want composite or an indicator id`},
		{"map indicator unknown", "type: map\nindicator: nope\n", nil, `w.yaml:2: widgets[0].indicator: unknown indicator "nope"`},
		{"map drill", "type: map\ncolor_by: composite\ndrill: yes\n", nil, "w.yaml:3: widgets[0].drill: want true or false"},

		// ranking
		{"ranking defaults", "type: ranking\nindicators: [on_time_rate]\n", &Ranking{Indicators: []string{"on_time_rate"}, Rotate: 8 * time.Second, Rows: 10}, ""},
		{"ranking", "type: ranking\nindicators: [on_time_rate]\nrotate: 1m30s\nrows: 14\n", &Ranking{Indicators: []string{"on_time_rate"}, Rotate: 90 * time.Second, Rows: 14}, ""},
		{"ranking too fast", "type: ranking\nindicators: [on_time_rate]\nrotate: 1500ms\n", nil, "w.yaml:3: widgets[0].rotate: 1500ms is too short; want at least 2s"},
		{"ranking rotate without unit", "type: ranking\nindicators: [on_time_rate]\nrotate: 8\n", nil, `w.yaml:3: widgets[0].rotate: "8" is not a duration; want a form such as 8s, 5m or 1h30m`},
		{"ranking rows", "type: ranking\nindicators: [on_time_rate]\nrows: 0\n", nil, "w.yaml:3: widgets[0].rows: 0 is out of range; want 1 to 100"},

		// bar
		{"bar", "type: bar\nindicator: on_time_rate\n", &Bar{Indicator: "on_time_rate", Rows: 10}, ""},
		{"bar without indicator", "type: bar\nrows: 5\n", nil, "w.yaml:1: widgets[0].indicator: missing; a bar widget shows one indicator"},
		{"bar rows", "type: bar\nindicator: on_time_rate\nrows: many\n", nil, "w.yaml:3: widgets[0].rows: want an integer from 1 to 100"},

		// gauge
		{"gauge", "type: gauge\nindicators: [answer_rate, zero_visit_rate]\n", &Gauge{Indicators: []string{"answer_rate", "zero_visit_rate"}}, ""},
		{"five gauges", "type: gauge\nindicators: [answer_rate, direct_rate, on_time_rate, zero_visit_rate, in_hall_rate]\n", nil,
			"w.yaml:2: widgets[0].indicators: 5 indicators; a gauge widget takes 1 to 4"},
		{"gauge of a count", "type: gauge\nindicators: [case_volume]\n", nil, "w.yaml:2: widgets[0].indicators[0]: case_volume is a count; a gauge shows a rate"},

		// ticker
		{"ticker defaults", "type: ticker\n", &Ticker{Source: "tickets", Rows: 20}, ""},
		{"ticker", "type: ticker\nsource: tickets\nrows: 200\n", &Ticker{Source: "tickets", Rows: 200}, ""},
		{"ticker source", "type: ticker\nsource: calls\n", nil, `w.yaml:2: widgets[0].source: unknown source "calls"; want tickets (12345 hotline tickets)`},
		{"ticker rows", "type: ticker\nrows: 201\n", nil, "w.yaml:2: widgets[0].rows: 201 is out of range; want 1 to 200"},

		// health
		{"health", "type: health\n", &Health{}, ""},
		{"health takes nothing", "type: health\nsources: [a]\n", nil, "w.yaml:2: widgets[0].sources: unknown key (known: type, title, at)"},

		// trend
		{"trend", "type: trend\nindicator: case_volume\n", &Trend{Indicator: "case_volume", Days: 30}, ""},
		{"trend days", "type: trend\nindicator: case_volume\ndays: 1\n", nil, "w.yaml:3: widgets[0].days: 1 is out of range; want 2 to 400"},
		{"trend period", "type: trend\nindicator: case_volume\nperiod: day\n", nil,
			"w.yaml:3: widgets[0].period: not used by a trend widget (it takes type, title, at, indicator, days, region)"},

		// reports
		{"reports defaults", "type: reports\n", &Reports{Rows: 6}, ""},
		{"reports rows", "type: reports\nrows: 50\n", &Reports{Rows: 50}, ""},
		{"reports too many rows", "type: reports\nrows: 51\n", nil, "w.yaml:2: widgets[0].rows: 51 is out of range; want 1 to 50"},
		{"reports of an indicator", "type: reports\nindicator: answer_rate\n", nil,
			"w.yaml:2: widgets[0].indicator: not used by a reports widget (it takes type, title, at, rows, region)"},

		// surge
		{"surge defaults", "type: surge\n", &Surge{Rows: 4}, ""},
		{"surge rows", "type: surge\nrows: 8\nregion: \"620800\"\n", &Surge{Rows: 8}, ""},
		{"surge too many rows", "type: surge\nrows: 9\n", nil, "w.yaml:2: widgets[0].rows: 9 is out of range; want 1 to 8"},
		{"surge rows not a number", "type: surge\nrows: many\n", nil, "w.yaml:2: widgets[0].rows: want an integer from 1 to 8"},
		{"surge of a period", "type: surge\nperiod: day\n", nil,
			"w.yaml:2: widgets[0].period: not used by a surge widget (it takes type, title, at, rows, region)"},

		// orders
		{"orders defaults", "type: orders\n", &Orders{Rows: 6}, ""},
		{"orders rows", "type: orders\nrows: 30\nregion: \"620800\"\n", &Orders{Rows: 30}, ""},
		{"orders too many rows", "type: orders\nrows: 31\n", nil, "w.yaml:2: widgets[0].rows: 31 is out of range; want 1 to 30"},
		{"orders of an indicator", "type: orders\nindicator: answer_rate\n", nil,
			"w.yaml:2: widgets[0].indicator: not used by a orders widget (it takes type, title, at, rows, region)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := parse(t, tc.yaml)
			switch {
			case tc.err != "":
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %v\nwant %s", err, tc.err)
				}
			case err != nil:
				t.Errorf("%v", err)
			case !reflect.DeepEqual(spec, tc.want):
				t.Errorf("got %#v\nwant %#v", spec, tc.want)
			}
		})
	}
}
