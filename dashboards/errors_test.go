package dashboards

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yiping-ioc/yiping/widget"
)

var update = flag.Bool("update", false, "rewrite testdata/errors.golden")

// TestErrors loads each directory under testdata/bad as a set and compares
// the errors, exactly, with testdata/errors.golden.
func TestErrors(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, c := range cases {
		set, err := LoadDir(filepath.Join("testdata", "bad", c.Name()))
		got.WriteString("== " + c.Name() + "\n")
		if err == nil {
			t.Errorf("%s: loaded %d screens, want errors", c.Name(), len(set.Screens()))
			continue
		}
		got.WriteString(strings.ReplaceAll(err.Error(), filepath.Join("testdata", "bad", c.Name())+string(filepath.Separator), ""))
		got.WriteString("\n")
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("errors differ from %s (go test -update to rewrite):\n%s", golden, diffLines(string(want), got.String()))
	}
}

// diffLines lists the lines only in want (-) and only in got (+).
func diffLines(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestErrorTable checks single messages where the reason is the point.
func TestErrorTable(t *testing.T) {
	types := typeList()
	const head = "kind: screen\nid: s\ntitle: 屏\nregion: \"620000\"\nwidgets:\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"the brief's example",
			head + "  - type: health\n    at: [0, 100, 10, 10]\n  - type: health\n    at: [0, 200, 10, 10]\n  - type: tiles\n    at: [0, 300, 10, 10]\n    indicators: [case_volume, answer_rat]\n",
			`s.yaml:12: widgets[2].indicators[1]: unknown indicator "answer_rat" (did you mean answer_rate?)`},
		{"unknown top-level key",
			"kind: screen\nid: s\ntitel: 屏\n",
			"s.yaml:1: title: missing; want {zh: ..., en: ...}\n" +
				"s.yaml:1: region: missing; want a GB/T 2260 code such as 620000\n" +
				"s.yaml:1: widgets: missing; a screen needs at least one widget\n" +
				"s.yaml:3: titel: unknown key (did you mean title?)"},
		{"key of another widget type",
			head + "  - type: tiles\n    at: [0, 100, 10, 10]\n    indicators: [case_volume]\n    rotate: 8s\n",
			"s.yaml:9: widgets[0].rotate: not used by a tiles widget (it takes type, title, at, indicators, region, period)"},
		{"unknown key listed with the known ones",
			head + "  - type: health\n    at: [0, 100, 10, 10]\n    colour: red\n",
			"s.yaml:8: widgets[0].colour: unknown key (known: type, title, at)"},
		{"missing kind",
			"id: s\n",
			"s.yaml:1: kind: missing; want kind: screen or kind: playlist"},
		{"unknown kind",
			"kind: scren\nid: s\n",
			`s.yaml:1: kind: unknown kind "scren" (did you mean screen?); want screen or playlist`},
		{"bad id",
			strings.Replace(head, "id: s", "id: Over View", 1) + "  - type: health\n    at: [0, 100, 10, 10]\n",
			`s.yaml:2: id: "Over View": want 1 to 64 of a-z, 0-9 and -`},
		{"unknown widget type",
			head + "  - type: gauges\n    at: [0, 100, 10, 10]\n",
			`s.yaml:6: widgets[0].type: unknown widget type "gauges" (did you mean gauge?); want one of ` + types},
		{"missing widget type",
			head + "  - at: [0, 100, 10, 10]\n",
			"s.yaml:6: widgets[0].type: missing; want one of " + types},
		{"too many tiles",
			head + "  - type: tiles\n    at: [0, 100, 10, 10]\n    indicators: [case_volume, online_case_rate, full_online_case_rate, mobile_case_rate, on_time_rate, overdue_open, eval_count, satisfaction_rate, call_volume]\n",
			"s.yaml:8: widgets[0].indicators: 9 indicators; a tiles widget takes 1 to 8"},
		{"tiles without indicators",
			head + "  - type: tiles\n    at: [0, 100, 10, 10]\n",
			"s.yaml:6: widgets[0].indicators: missing; a tiles widget takes 1 to 8 indicators"},
		{"indicator listed twice",
			head + "  - type: tiles\n    at: [0, 100, 10, 10]\n    indicators:\n      - case_volume\n      - case_volume\n",
			"s.yaml:10: widgets[0].indicators[1]: case_volume is listed twice"},
		{"map without colouring",
			head + "  - type: map\n    at: [0, 100, 10, 10]\n",
			"s.yaml:6: widgets[0].color_by: missing; a map needs color_by (composite or an indicator) or indicator"},
		{"map colour misspelt",
			head + "  - type: map\n    at: [0, 100, 10, 10]\n    color_by: compsite\n",
			`s.yaml:8: widgets[0].color_by: unknown indicator "compsite" (did you mean composite?); want composite or an indicator id`},
		{"drill not a bool",
			head + "  - type: map\n    at: [0, 100, 10, 10]\n    color_by: composite\n    drill: yes\n",
			"s.yaml:9: widgets[0].drill: want true or false"},
		{"bar without indicator",
			head + "  - type: bar\n    at: [0, 100, 10, 10]\n",
			"s.yaml:6: widgets[0].indicator: missing; a bar widget shows one indicator"},
		{"trend days out of range",
			head + "  - type: trend\n    at: [0, 100, 10, 10]\n    indicator: case_volume\n    days: 1\n",
			"s.yaml:9: widgets[0].days: 1 is out of range; want 2 to 400"},
		{"five gauges",
			head + "  - type: gauge\n    at: [0, 100, 10, 10]\n    indicators: [answer_rate, direct_rate, on_time_rate, zero_visit_rate, in_hall_rate]\n",
			"s.yaml:8: widgets[0].indicators: 5 indicators; a gauge widget takes 1 to 4"},
		{"gauge of a count",
			head + "  - type: gauge\n    at: [0, 100, 10, 10]\n    indicators: [case_volume]\n",
			"s.yaml:8: widgets[0].indicators[0]: case_volume is a count; a gauge shows a rate"},
		{"ticker source",
			head + "  - type: ticker\n    at: [0, 100, 10, 10]\n    source: calls\n",
			`s.yaml:8: widgets[0].source: unknown source "calls"; want tickets (12345 hotline tickets)`},
		{"region code malformed",
			strings.Replace(head, `"620000"`, `"62000"`, 1) + "  - type: health\n    at: [0, 100, 10, 10]\n",
			`s.yaml:4: region: region code "62000": want 6 or 9 digits`},
		{"region not in the table",
			strings.Replace(head, `"620000"`, "629900", 1) + "  - type: health\n    at: [0, 100, 10, 10]\n",
			"s.yaml:4: region: unknown region 629900 (not in the GB/T 2260 table)"},
		{"widget region",
			head + "  - type: trend\n    at: [0, 100, 10, 10]\n    indicator: case_volume\n    region: 990000\n",
			"s.yaml:9: widgets[0].region: unknown region 990000 (not in the GB/T 2260 table)"},
		{"map of a county",
			head + "  - type: map\n    at: [0, 100, 10, 10]\n    color_by: composite\n    region: \"620102\"\n",
			"s.yaml:9: widgets[0].region: map cannot show 620102: a map shows a province or a city, not a county"},
		{"ranking of a township",
			strings.Replace(head, `"620000"`, `"620102001"`, 1) + "  - type: ranking\n    at: [0, 100, 10, 10]\n    indicators: [on_time_rate]\n",
			"s.yaml:6: widgets[0]: ranking cannot show the screen's region 620102001: it has no subdivisions to rank"},
		{"period",
			strings.Replace(head, "widgets:", "period: monthly\nwidgets:", 1) + "  - type: health\n    at: [0, 100, 10, 10]\n",
			`s.yaml:5: period: unknown period "monthly": want day, week, month, quarter or year`},
		{"rotate too short",
			head + "  - type: ranking\n    at: [0, 100, 10, 10]\n    indicators: [on_time_rate]\n    rotate: 1500ms\n",
			"s.yaml:9: widgets[0].rotate: 1500ms is too short; want at least 2s"},
		{"rotate without unit",
			head + "  - type: ranking\n    at: [0, 100, 10, 10]\n    indicators: [on_time_rate]\n    rotate: 8\n",
			`s.yaml:9: widgets[0].rotate: "8" is not a duration; want a form such as 8s, 5m or 1h30m`},
		{"rect outside the canvas",
			head + "  - type: health\n    at: [1800, 100, 200, 10]\n",
			"s.yaml:7: widgets[0].at: reaches 2000, 110, outside the 1920×1080 canvas"},
		{"rect of no size",
			head + "  - type: health\n    at: [0, 100, 0, 10]\n",
			"s.yaml:7: widgets[0].at: width and height must be positive, got 0×10"},
		{"rect in the header",
			head + "  - type: health\n    at: [0, 40, 10, 10]\n",
			"s.yaml:7: widgets[0].at: y 40 is inside the 90-pixel header band kept for the title, clock and status"},
		{"rect shape",
			head + "  - type: health\n    at: [0, 100, 10]\n",
			"s.yaml:7: widgets[0].at: want [x, y, w, h]: 4 integers in design pixels"},
		{"no header and a small canvas",
			strings.Replace(head, "widgets:", "width: 800\nheight: 600\nheader: 0\nwidgets:", 1) + "  - type: health\n    at: [0, 0, 800, 601]\n",
			"s.yaml:10: widgets[0].at: reaches 800, 601, outside the 800×600 canvas"},
		{"overlap",
			head + "  - type: map\n    at: [0, 100, 500, 500]\n    color_by: composite\n  - type: health\n    at: [500, 100, 100, 100]\n  - type: ticker\n    at: [400, 550, 200, 100]\n",
			"s.yaml:12: widgets[2].at: ticker overlaps widgets[0] (map, line 7)"},
		{"duplicate key",
			head + "  - type: health\n    at: [0, 100, 10, 10]\n    at: [0, 200, 10, 10]\n",
			"s.yaml:8: widgets[0].at: duplicate key (first on line 7)"},
		{"title without Chinese",
			strings.Replace(head, "title: 屏", "title: {en: Screen}", 1) + "  - type: health\n    at: [0, 100, 10, 10]\n",
			"s.yaml:3: title.zh: missing; UI text is Chinese first"},
		{"no widgets",
			head + "  []\n",
			"s.yaml:6: widgets: want a list of 1 to 64 widgets"},
		{"YAML syntax: unclosed flow sequence",
			"kind: screen\nid: [s\n",
			"s.yaml:2: YAML: did not find expected ',' or ']'"},
		{"YAML syntax: a list item inside a mapping",
			"kind: screen\nid: s\n- x\n",
			"s.yaml:3: YAML: did not find expected key"},
		{"YAML syntax: scanner error",
			"kind: screen\nid: s\n  bad: x\n",
			"s.yaml:3: YAML: mapping values are not allowed in this context"},
		{"YAML: unknown alias",
			"kind: screen\nid: *x\n",
			"s.yaml: YAML: unknown anchor 'x' referenced"},
		{"two documents",
			head + "  - type: health\n    at: [0, 100, 10, 10]\n---\nkind: screen\n",
			"s.yaml:8: a second YAML document; a file holds one"},
		{"empty file",
			"# nothing\n",
			"s.yaml: empty file; want a YAML mapping with kind: screen or kind: playlist"},
		{"not a mapping",
			"- kind: screen\n",
			"s.yaml:1: want a YAML mapping with kind: screen or kind: playlist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFS(fstest.MapFS{"s.yaml": {Data: []byte(tc.yaml)}})
			if err == nil {
				t.Fatalf("loaded, want\n%s", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}

// typeList is the list of widget types as messages give it.
func typeList() string {
	var names []string
	for _, k := range widget.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}
