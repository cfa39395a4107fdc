package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// newTestEvaluator builds the evaluator of one rules file.
func newTestEvaluator(t *testing.T, yaml string, past Past) *evaluator {
	t.Helper()
	rs := mustParse(t, yaml)
	var ptrs []*Rule
	for i := range rs.Rules {
		ptrs = append(ptrs, &rs.Rules[i])
	}
	return newEvaluator(ptrs, testCalendar(), region.Default(), scoring.Default(), past, "620000", quietLog())
}

// conds lists the true conditions as "region subject: text".
func conds(e *evaluator) []string {
	var out []string
	for _, k := range slices.SortedFunc(maps.Keys(e.cond), func(a, b key) int {
		return strings.Compare(a.region+a.subject, b.region+b.subject)
	}) {
		s := k.region
		if k.subject != "" {
			s += " " + k.subject
		}
		out = append(out, s+": "+e.cond[k].Text)
	}
	return out
}

func run(t *testing.T, e *evaluator, in *fakeInput, now time.Time) []string {
	t.Helper()
	if err := e.run(context.Background(), now, in); err != nil {
		t.Fatal(err)
	}
	return conds(e)
}

// value is one engine value for a table: a rate when den ≥ 0.
type value struct {
	ind, region string
	num, den    int64
}

func threshold(ind, period, scope, worse string, extra string) string {
	return fmt.Sprintf(`
rules:
  - name: r
    title: T
    type: threshold
    indicator: %s
    period: %s
    %s
    worse_than: %s
%s`, ind, period, scope, worse, extra)
}

func TestThreshold(t *testing.T) {
	const county = "level: county"
	tests := []struct {
		name  string
		rules string
		vals  []value
		want  []string
	}{
		{"below the floor", threshold("answer_rate", "day", county, "floor", ""),
			[]value{{"answer_rate", "620802", 70, 100}, {"answer_rate", "620821", 80, 100}},
			[]string{"620802: 今日接通率 70.00%，低于底线 75.00%"}},
		{"below the target", threshold("answer_rate", "day", county, "target", ""),
			[]value{{"answer_rate", "620802", 94, 100}, {"answer_rate", "620821", 95, 100}},
			[]string{"620802: 今日接通率 94.00%，低于目标 95.00%"}},
		{"a number, at it is not below", threshold("answer_rate", "day", county, `"90%"`, ""),
			[]value{{"answer_rate", "620802", 89, 100}, {"answer_rate", "620821", 9, 10}},
			[]string{"620802: 今日接通率 89.00%，低于阈值 90.00%"}},
		{"too few to judge", threshold("answer_rate", "day", county, "floor", "    min_count: 20"),
			[]value{{"answer_rate", "620802", 1, 19}, {"answer_rate", "620821", 1, 20}},
			[]string{"620821: 今日接通率 5.00%，低于底线 75.00%"}},
		{"null is not judged", threshold("answer_rate", "day", county, "floor", ""),
			[]value{{"answer_rate", "620802", 0, 0}}, nil},
		{"lower is better", threshold("bad_review_count", "month", county, "10", ""),
			[]value{{"bad_review_count", "620802", 11, -1}, {"bad_review_count", "620821", 10, -1}},
			[]string{"620802: 本月差评数 11，高于阈值 10"}},
		{"lower is better, floor of the level", threshold("bad_review_count", "month", "level: city", "floor", ""),
			[]value{{"bad_review_count", "620800", 31, -1}, {"bad_review_count", "620100", 30, -1}},
			[]string{"620800: 本月差评数 31，高于底线 30"}},
		{"level", threshold("answer_rate", "day", county, "floor", ""),
			[]value{{"answer_rate", "620800", 1, 100}, {"answer_rate", "620802001", 1, 100}}, nil},
		{"regions and below", threshold("answer_rate", "day", "regions: [620800]", "floor", ""),
			[]value{{"answer_rate", "620802", 1, 100}, {"answer_rate", "620800", 1, 100}, {"answer_rate", "620102", 1, 100}},
			[]string{"620800: 今日接通率 1.00%，低于底线 75.00%", "620802: 今日接通率 1.00%，低于底线 75.00%"}},
		{"level within regions", threshold("answer_rate", "day", "level: county\n    regions: [620800]", "floor", ""),
			[]value{{"answer_rate", "620802", 1, 100}, {"answer_rate", "620800", 1, 100}},
			[]string{"620802: 今日接通率 1.00%，低于底线 75.00%"}},
		{"catalog indicator has no period", threshold("online_available_rate", "day", county, "target", ""),
			[]value{{"online_available_rate", "620802", 9, 10}},
			[]string{"620802: 网上可办率 90.00%，低于目标 100.00%"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEvaluator(t, tc.rules, nil)
			in := newInput()
			p, _ := engine.ParsePeriod(strings.Fields(tc.rules[strings.Index(tc.rules, "period:"):])[1])
			for _, v := range tc.vals {
				in.set(v.ind, v.region, p, v.num, v.den)
			}
			if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestThresholdTexts(t *testing.T) {
	e := newTestEvaluator(t, threshold("answer_rate", "day", "level: county", "floor", ""), nil)
	in := newInput()
	in.set("answer_rate", "620802", engine.Day, 70, 100)
	run(t, e, in, t0)
	f := e.cond[key{"r", "620802", ""}]
	want := finding{Indicator: "answer_rate", Period: "day", Value: "70.00%", Threshold: "75.00%",
		Text: "今日接通率 70.00%，低于底线 75.00%", TextEN: "Answer rate today 70.00%, below the floor of 75.00%"}
	if f != want {
		t.Errorf("finding %+v\nwant %+v", f, want)
	}
}

// TestOnlyChangesJudged shows the evaluation is driven by changes: a value
// judged once is not judged again until it changes.
func TestOnlyChangesJudged(t *testing.T) {
	e := newTestEvaluator(t, threshold("answer_rate", "day", "level: county", "floor", ""), nil)
	in := newInput()
	in.set("answer_rate", "620802", engine.Day, 70, 100)
	in.set("call_volume", "620802", engine.Day, 100, -1) // no rule reads it: not kept
	run(t, e, in, t0)
	delete(e.cond, key{"r", "620802", ""}) // what a new judgement would restore
	if got := run(t, e, in, t0.Add(time.Second)); len(got) != 0 {
		t.Errorf("an unchanged value was judged again: %q", got)
	}
	in.set("answer_rate", "620802", engine.Day, 71, 101)
	if got := run(t, e, in, t0.Add(2*time.Second)); len(got) != 1 {
		t.Errorf("a changed value was not judged: %q", got)
	}
	if len(e.track) != 1 || len(e.track[ip{"answer_rate", engine.Day}].vals) != 1 {
		t.Errorf("kept values of %d indicators, want 1", len(e.track))
	}
}

func TestDrop(t *testing.T) {
	rules := func(ind string) string {
		return fmt.Sprintf(`
rules:
  - name: r
    title: T
    type: drop
    indicator: %s
    period: month
    level: city
    points: 5
`, ind)
	}
	tests := []struct {
		name      string
		ind       string
		prev, cur [2]int64
		hasPrev   bool
		want      []string
	}{
		{"more than the points", "satisfaction_rate", [2]int64{96, 100}, [2]int64{90, 100}, true,
			[]string{"620800: 本月好差评满意率 90.00%，较上月 96.00% 下降 6.00 个百分点"}},
		{"exactly the points", "satisfaction_rate", [2]int64{96, 100}, [2]int64{91, 100}, true, nil},
		{"a rise", "satisfaction_rate", [2]int64{90, 100}, [2]int64{99, 100}, true, nil},
		{"no previous value", "satisfaction_rate", [2]int64{}, [2]int64{10, 100}, false, nil},
		{"previous null", "satisfaction_rate", [2]int64{0, 0}, [2]int64{10, 100}, true, nil},
		{"lower is better rises", "bad_review_count", [2]int64{3, 0}, [2]int64{9, 0}, true,
			[]string{"620800: 本月差评数 9，较上月 3 上升 6"}},
		{"lower is better falls", "bad_review_count", [2]int64{9, 0}, [2]int64{3, 0}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			past := &fakePast{vals: map[string][2]int64{}}
			if tc.hasPrev {
				past.vals[tc.ind+"|620800|month"] = tc.prev
			}
			e := newTestEvaluator(t, rules(tc.ind), past)
			in := newInput()
			in.set(tc.ind, "620800", engine.Month, tc.cur[0], tc.cur[1])
			in.set(tc.ind, "620802", engine.Month, tc.cur[0], tc.cur[1]) // a county: out of scope
			if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			// The last instant of May, in the business time zone.
			wantAt := time.Date(2026, 6, 1, 0, 0, 0, 0, cst).Add(-time.Nanosecond)
			if len(past.asked) != 1 || !past.asked[0].Equal(wantAt) {
				t.Errorf("asked the past at %v, want once at %v", past.asked, wantAt)
			}
			// A new value in the same month asks no more.
			in.set(tc.ind, "620800", engine.Month, tc.cur[0]+1, tc.cur[1]+1)
			run(t, e, in, t0.Add(time.Minute))
			if len(past.asked) != 1 {
				t.Errorf("asked the past %d times in one month", len(past.asked))
			}
		})
	}
}

func bottomRules(ind string, n int, extra string) string {
	return fmt.Sprintf(`
rules:
  - name: r
    title: T
    type: bottom
    indicator: %s
    period: month
    level: county
    bottom: %d
%s`, ind, n, extra)
}

// pingliang are the seven counties of 平凉市 (620800).
var pingliang = []string{"620802", "620821", "620822", "620823", "620825", "620826", "620881"}

func TestBottom(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		ind   string
		nums  []int64 // per county of pingliang, of 100 (a count when den < 0)
		den   int64
		want  []string
	}{
		{"the two worst", bottomRules("on_time_rate", 2, ""), "on_time_rate",
			[]int64{90, 80, 95, 70, 99, 85, 97}, 100,
			[]string{"620821: 本月按时办结率 80.00%，在平凉市 7 个县区中排第 6（倒数 2 名之内）",
				"620823: 本月按时办结率 70.00%，在平凉市 7 个县区中排第 7（倒数 2 名之内）"}},
		{"ties at the edge are in", bottomRules("on_time_rate", 1, ""), "on_time_rate",
			[]int64{90, 70, 95, 70, 99, 85, 97}, 100,
			[]string{"620821: 本月按时办结率 70.00%，在平凉市 7 个县区中排第 6（倒数 1 名之内）",
				"620823: 本月按时办结率 70.00%，在平凉市 7 个县区中排第 6（倒数 1 名之内）"}},
		{"nulls are not ranked", bottomRules("on_time_rate", 1, ""), "on_time_rate",
			[]int64{90, 0, 95, 70, 99, 85, 97}, 100,
			[]string{"620823: 本月按时办结率 70.00%，在平凉市 6 个县区中排第 6（倒数 1 名之内）"}},
		{"lower is better", bottomRules("overdue_open", 1, ""), "overdue_open",
			[]int64{1, 2, 3, 40, 5, 6, 7}, -1,
			[]string{"620823: 本月超期未办结件数 40，在平凉市 7 个县区中排第 7（倒数 1 名之内）"}},
		{"too few ranked", bottomRules("on_time_rate", 7, ""), "on_time_rate",
			[]int64{90, 80, 95, 70, 99, 85, 97}, 100, nil},
		{"in scope only", bottomRules("on_time_rate", 1, "    regions: [620802, 620821, 620822]"), "on_time_rate",
			[]int64{90, 80, 95, 70, 99, 85, 97}, 100,
			[]string{"620821: 本月按时办结率 80.00%，在平凉市 3 个县区中排第 3（倒数 1 名之内）"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEvaluator(t, tc.rules, nil)
			in := newInput()
			for i, c := range pingliang {
				den := tc.den
				if tc.nums[i] == 0 {
					den = 0
				}
				in.set(tc.ind, c, engine.Month, tc.nums[i], den)
			}
			in.set(tc.ind, "620800", engine.Month, 1, 1) // the city itself is not a unit
			if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestBottomFollowsOthers: a unit leaves the bottom when another falls
// below it, though its own value did not change.
func TestBottomFollowsOthers(t *testing.T) {
	e := newTestEvaluator(t, bottomRules("on_time_rate", 1, ""), nil)
	in := newInput()
	for i, c := range pingliang {
		in.set("on_time_rate", c, engine.Month, int64(90+i), 100)
	}
	if got := run(t, e, in, t0); len(got) != 1 || !strings.HasPrefix(got[0], "620802:") {
		t.Fatalf("got %q", got)
	}
	in.set("on_time_rate", "620881", engine.Month, 50, 100)
	if got := run(t, e, in, t0.Add(time.Minute)); len(got) != 1 || !strings.HasPrefix(got[0], "620881:") {
		t.Fatalf("after 620881 fell: %q", got)
	}
}

func TestBottomComposite(t *testing.T) {
	e := newTestEvaluator(t, bottomRules("composite", 1, ""), nil)
	in := newInput()
	for i, c := range pingliang {
		in.set("answer_rate", c, engine.Month, int64(90+i), 100)
		in.set("on_time_rate", c, engine.Month, int64(90+i), 100)
	}
	in.set("on_time_rate", "620825", engine.Month, 10, 100) // far below the floor
	got := run(t, e, in, t0)
	if len(got) != 1 || !strings.HasPrefix(got[0], "620825: 本月综合指数 ") || !strings.Contains(got[0], "排第 7") {
		t.Errorf("got %q", got)
	}
}

func TestOverdue(t *testing.T) {
	e := newTestEvaluator(t, `
rules:
  - name: r
    title: T
    type: overdue
    level: county
    above: 50
`, nil)
	in := newInput()
	in.set("overdue_open", "620802", engine.Day, 51, -1)
	in.set("overdue_open", "620821", engine.Day, 50, -1)
	in.set("overdue_open", "620800", engine.Day, 101, -1)
	want := []string{"620802: 超期未办结 51 件，超过 50 件"}
	if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSilent(t *testing.T) {
	e := newTestEvaluator(t, `
rules:
  - name: r
    title: T
    type: silent
    sources: ["demo-*"]
    after: 10m
`, nil)
	in := newInput()
	in.health = []collectors.Health{
		{Source: "demo-cases", LastSuccess: t0.Add(-11 * time.Minute)},
		{Source: "demo-calls", LastSuccess: t0.Add(-5 * time.Minute)},
		{Source: "platform", LastSuccess: t0.Add(-time.Hour)}, // not named
		{Source: "demo-items"}, // never succeeded
	}
	want := []string{"620000 demo-cases: 数据源 demo-cases 已 11 分钟没有成功采集（上次成功 09:49）"}
	if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Ten minutes after it was first seen, the source that never
	// succeeded is silent too; the others came back.
	in.health[0].LastSuccess = t0.Add(9 * time.Minute)
	in.health[1].LastSuccess = t0.Add(9 * time.Minute)
	want = []string{"620000 demo-items: 数据源 demo-items 已 10 分钟没有成功采集（启动以来从未成功）"}
	if got := run(t, e, in, t0.Add(10*time.Minute)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestSurge(t *testing.T) {
	e := newTestEvaluator(t, `
rules:
  - name: r
    title: T
    type: surge
    level: county
    min_score: 2
    categories: [供水, 供暖]
`, nil)
	in := newInput()
	since := t0.Add(-time.Hour)
	in.surges = []SurgeFinding{
		{Category: "供水", Region: "620802", Count: 42, Expected: 8, Score: 5.1, Since: since},
		{Category: "供暖", Region: "620802", Count: 12, Expected: 4, Score: 2.5, Since: since},
		{Category: "供水", Region: "620821", Count: 9, Expected: 8, Score: 1.2, Since: since}, // below min_score
		{Category: "噪音", Region: "620821", Count: 90, Expected: 8, Score: 9, Since: since},  // not named
		{Category: "供水", Region: "620800", Count: 90, Expected: 8, Score: 9, Since: since},  // a city
		{Category: "供水", Region: "bad", Count: 90, Expected: 8, Score: 9, Since: since},
	}
	want := []string{
		"620802 供暖: 「供暖」工单 12 件，预期 4.0 件（评分 2.5，自 09:00 起）",
		"620802 供水: 「供水」工单 42 件，预期 8.0 件（评分 5.1，自 09:00 起）",
	}
	if got := run(t, e, in, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	in.surges = nil
	if got := run(t, e, in, t0.Add(time.Minute)); len(got) != 0 {
		t.Errorf("surges gone, still %q", got)
	}
}

func TestQuietUntil(t *testing.T) {
	rs := mustParse(t, `
quiet_hours:
  nights: [{start: "22:00", end: "07:00"}]
  weekends: [{days: non_working}]
  working-nights: [{start: "22:00", end: "07:00", days: working}]
  lunch: [{start: "12:00", end: "13:30", days: working}]
  evening: [{start: "20:00", end: "24:00"}]
`)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		names []string
		t     string
		want  string // "" not quiet
	}{
		{[]string{"nights"}, "2026-06-01 10:00", ""},
		{[]string{"nights"}, "2026-06-01 22:00", "2026-06-02 07:00"},
		{[]string{"nights"}, "2026-06-02 03:00", "2026-06-02 07:00"},
		{[]string{"nights"}, "2026-06-02 07:00", ""},
		// Friday night runs into the weekend and on to Monday morning.
		{[]string{"nights", "weekends"}, "2026-06-05 23:00", "2026-06-08 07:00"},
		{[]string{"weekends"}, "2026-06-06 12:00", "2026-06-08 00:00"},
		// 2026-05-09 is a Saturday and a make-up workday.
		{[]string{"weekends"}, "2026-05-09 12:00", ""},
		// The Dragon Boat holiday, Friday 19 to Sunday 21 June.
		{[]string{"nights", "weekends"}, "2026-06-18 23:00", "2026-06-22 07:00"},
		// The day a range starts on decides.
		{[]string{"working-nights"}, "2026-06-06 03:00", "2026-06-06 07:00"},
		{[]string{"working-nights"}, "2026-06-06 23:00", ""},
		{[]string{"lunch"}, "2026-06-01 12:30", "2026-06-01 13:30"},
		{[]string{"lunch"}, "2026-06-06 12:30", ""},
		{[]string{"evening"}, "2026-06-01 21:00", "2026-06-02 00:00"},
		{nil, "2026-06-01 23:00", ""},
	}
	for _, tc := range tests {
		end, quiet := quietUntil(testCalendar(), rs.Quiet, tc.names, at(tc.t))
		got := ""
		if quiet {
			got = end.In(cst).Format("2006-01-02 15:04")
		}
		if got != tc.want {
			t.Errorf("%v at %s: quiet until %q, want %q", tc.names, tc.t, got, tc.want)
		}
	}
}
