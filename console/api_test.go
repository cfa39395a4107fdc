package console

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/ranking"
)

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./console -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./console -run %s -update to accept); got:\n%s", path, t.Name(), truncate(got))
	}
}

func truncate(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, truncate(b))
	}
	out.WriteByte('\n')
	return out.Bytes()
}

const asOfQ = "as_of=2026-10-09T12:00:00%2B08:00"

// TestGoldenAPI answers from the sample export (engine replay written into
// an embedded store) and compares every answer with its golden file.
func TestGoldenAPI(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	cases := []struct{ name, url string }{
		{"ranking-on_time_rate-province-month.json", "/api/ranking?indicator=on_time_rate&period=month&region=620000&" + asOfQ},
		{"ranking-overdue_open-lanzhou-counties.json", "/api/ranking?indicator=overdue_open&period=month&region=620100&" + asOfQ},
		{"ranking-answer_rate-province-week.json", "/api/ranking?indicator=answer_rate&period=week&region=620000&" + asOfQ},
		{"ranking-case_volume-townships-day.json", "/api/ranking?indicator=case_volume&period=day&region=620100&level=township&" + asOfQ},
		{"ranking-satisfaction-depts.json", "/api/ranking?indicator=satisfaction_rate&period=month&region=620100&by=dept&" + asOfQ},
		{"ranking-catalog-province.json", "/api/ranking?indicator=full_online_item_rate&period=month&region=620000&" + asOfQ},
		{"composite-province-month.json", "/api/composite?period=month&region=620000&" + asOfQ},
		{"unit-lanzhou-month.json", "/api/units/620100?period=month&" + asOfQ},
		{"unit-township-month.json", "/api/units/620102001?period=month&" + asOfQ},
		{"trend-on_time_rate-province-day.json", "/api/trend?indicator=on_time_rate&region=620000&period=day&to=2026-10-09T12:00:00%2B08:00&from=2026-09-25"},
		{"trend-answer_rate-province-month.json", "/api/trend?indicator=answer_rate&region=620000&period=month&to=2026-10-09T12:00:00%2B08:00"},
		{"region-620102.json", "/api/regions/620102"},
		{"targets.json", "/api/targets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, b, hdr := get(t, app, tc.url)
			if code != 200 {
				t.Fatalf("%d %s", code, b)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			golden(t, tc.name, indent(t, b))
		})
	}
}

// TestLiveEqualsHistory: without as_of the values come from the live
// engine; with as_of at the engine's clock, from the store the replay was
// written to. Both must agree row for row.
func TestLiveEqualsHistory(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	for _, q := range []string{
		"indicator=on_time_rate&period=month&region=620000",
		"indicator=answer_15s_rate&period=week&region=620000",
		"indicator=bad_review_count&period=day&region=620100",
		"indicator=satisfaction_rate&period=month&region=620100&by=dept",
		"indicator=zero_visit_rate&period=month&region=620000",
	} {
		var live, hist rankingJSON
		getJSON(t, app, "/api/ranking?"+q, &live)
		getJSON(t, app, "/api/ranking?"+q+"&"+asOfQ, &hist)
		if !live.Live || hist.Live {
			t.Errorf("%s: live flags %v %v", q, live.Live, hist.Live)
		}
		if live.AsOf != hist.AsOf {
			t.Errorf("%s: as_of %s vs %s", q, live.AsOf, hist.AsOf)
		}
		if !reflect.DeepEqual(live.Rows, hist.Rows) || !reflect.DeepEqual(live.Total, hist.Total) {
			t.Errorf("%s: live and history rankings differ", q)
		}
		if len(live.Rows) == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
}

// TestRankingFromCounts checks every ranking answer against the
// definition: values are numerator/denominator, ranks follow from exact
// comparison, nulls last without rank, 环比 change = value − previous.
func TestRankingFromCounts(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	for _, q := range []string{
		"indicator=on_time_rate&region=620000", "indicator=overdue_open&region=620100",
		"indicator=online_case_rate&region=620000&level=county", "indicator=ticket_on_time_rate&region=620000&period=week",
		"indicator=case_volume&region=620000&level=township",
	} {
		var r rankingJSON
		getJSON(t, app, "/api/ranking?"+q+"&"+asOfQ, &r)
		rows := make([]ranking.Row, len(r.Rows))
		for i, x := range r.Rows {
			if x.Numerator != nil {
				rows[i] = ranking.Row{Unit: x.Unit, Numerator: *x.Numerator, Rate: r.Indicator.Rate}
				if x.Denominator != nil {
					rows[i].Denominator = *x.Denominator
				}
			} else {
				rows[i] = ranking.Row{Unit: x.Unit, Missing: true}
			}
			want, ok := rows[i].Value()
			if ok != (x.Value != nil) || (ok && *x.Value != want) {
				t.Errorf("%s: %s value %v, want %v (%v)", q, x.Unit, x.Value, want, ok)
			}
			if x.Value != nil && x.MoM.Value != nil {
				if d := *x.Value - *x.MoM.Value; x.MoM.Change == nil || math.Abs(*x.MoM.Change-d) > 1e-9 {
					t.Errorf("%s: %s mom change %v, want %v", q, x.Unit, x.MoM.Change, d)
				}
			} else if x.MoM.Change != nil {
				t.Errorf("%s: %s mom change %v beside a null", q, x.Unit, *x.MoM.Change)
			}
		}
		ranked := ranking.Rank(append([]ranking.Row(nil), rows...), r.Indicator.LowerIsBetter)
		for i, x := range r.Rows {
			want := ranked[i]
			got := 0
			if x.Rank != nil {
				got = *x.Rank
			}
			if x.Unit != want.Unit || got != want.Rank {
				t.Errorf("%s: row %d = %s rank %d, want %s rank %d", q, i, x.Unit, got, want.Unit, want.Rank)
			}
		}
	}
}

// TestCacheOutlivesRequests: values the console caches must not change
// when later requests reuse fiber's buffers. A ranking of the province, then
// a department ranking of 兰州市, once turned the cached "620000" of the
// first into "620100" and moved the province's composite 环比.
func TestCacheOutlivesRequests(t *testing.T) {
	s := loadSample(t)
	q := "period=month&region=620000&" + asOfQ
	_, fresh := s.console(t)
	_, want, _ := get(t, fresh, "/api/composite?"+q)
	_, warm := s.console(t)
	get(t, warm, "/api/export/ranking.csv?indicator=on_time_rate&period=month&region=620000&"+asOfQ)
	get(t, warm, "/api/export/ranking.csv?indicator=overdue_open&period=month&region=620100&by=dept&"+asOfQ)
	if _, got, _ := get(t, warm, "/api/composite?"+q); string(got) != string(want) {
		t.Error("the composite view differs after other requests went through the cache")
	}
}
