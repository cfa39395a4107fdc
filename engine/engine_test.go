package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// ts reads a business-zone wall time "2026-10-09 12:00:00".
func ts(t *testing.T, s string) int64 {
	t.Helper()
	v, err := record.NewParser(shanghai).Time(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newEngine(t *testing.T, now string, periods ...Period) *Engine {
	t.Helper()
	e, err := New(Config{Calendar: calendar.Default(shanghai), Now: ts(t, now), Periods: periods})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// find returns the result for (indicator, region, dept) or fails.
func find(t *testing.T, rs []Result, ind, region, dept string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Indicator == ind && r.Region == region && r.Dept == dept {
			return r
		}
	}
	t.Fatalf("no result for %s %s %q", ind, region, dept)
	return Result{}
}

func results(t *testing.T, e *Engine, p Period, byDept bool) []Result {
	t.Helper()
	rs, err := e.Results(p, byDept)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func acceptedCase(t *testing.T, id, region, accepted string, days int32, closed string) record.Case {
	c := record.Case{ID: id, Region: region, Dept: "D1", Channel: record.ChannelWindow, Status: record.StatusAccepted,
		Submitted: ts(t, accepted), Accepted: ts(t, accepted), Closed: record.Never, PromisedDays: days}
	if closed != "" {
		c.Closed = ts(t, closed)
		c.Status = record.StatusClosed
	}
	return c
}

func TestOnTimeRateCalendarEdges(t *testing.T) {
	tests := []struct {
		name     string
		accepted string
		days     int32
		closed   string
		asOf     string
		// wantDen/wantNum for on_time_rate in the month containing asOf;
		// wantOverdue for overdue_open.
		wantDen, wantNum, wantOverdue int64
	}{
		// 即办件: deadline is the start of the next day.
		{"N=0 closed same day", "2026-09-15 10:00:00", 0, "2026-09-15 23:59:59", "2026-09-30 12:00:00", 1, 1, 0},
		{"N=0 closed at midnight is late", "2026-09-15 10:00:00", 0, "2026-09-16 00:00:00", "2026-09-30 12:00:00", 1, 0, 0},
		{"N=0 open after midnight is overdue", "2026-09-15 10:00:00", 0, "", "2026-09-16 00:00:00", 1, 0, 1},
		{"N=0 open before midnight not settled", "2026-09-15 10:00:00", 0, "", "2026-09-15 23:59:59", 0, 0, 0},
		// Accepted Friday 2026-09-18 with 1 working day: Saturday 09-19 rests,
		// Sunday 09-20 is a make-up workday, so the deadline is 09-21 00:00.
		{"make-up workday counts", "2026-09-18 09:00:00", 1, "2026-09-20 18:00:00", "2026-09-30 12:00:00", 1, 1, 0},
		{"closing exactly at deadline is late", "2026-09-18 09:00:00", 1, "2026-09-21 00:00:00", "2026-09-30 12:00:00", 1, 0, 0},
		// Accepted on National Day (a holiday): the start day is not counted,
		// the holiday runs to 10-07, so 10-08 is working day 1 and the
		// deadline is 10-09 00:00.
		{"accepted on a holiday", "2026-10-02 10:00:00", 1, "2026-10-08 17:00:00", "2026-10-09 18:00:00", 1, 1, 0},
		{"accepted on a holiday, closed the day after", "2026-10-02 10:00:00", 1, "2026-10-09 09:00:00", "2026-10-09 18:00:00", 1, 0, 0},
		{"open across the holiday not yet due", "2026-09-30 10:00:00", 2, "", "2026-10-09 12:00:00", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.asOf, Month)
			e.UpsertCases([]record.Case{acceptedCase(t, "C1", "620802", tc.accepted, tc.days, tc.closed)})
			rs := results(t, e, Month, false)
			ot := find(t, rs, "on_time_rate", "620802", "")
			od := find(t, rs, "overdue_open", "620802", "")
			if ot.Denominator != tc.wantDen || ot.Numerator != tc.wantNum || od.Numerator != tc.wantOverdue {
				t.Errorf("on_time %d/%d overdue %d, want %d/%d overdue %d", ot.Numerator, ot.Denominator, od.Numerator, tc.wantNum, tc.wantDen, tc.wantOverdue)
			}
		})
	}
}

func TestRollupFollowsCodes(t *testing.T) {
	e := newEngine(t, "2026-10-09 12:00:00", Month)
	mk := func(id, region string) record.Case {
		return record.Case{ID: id, Region: region, Channel: record.ChannelOnline, Status: record.StatusSubmitted,
			Submitted: ts(t, "2026-10-08 09:00:00"), Accepted: record.Never, Closed: record.Never}
	}
	e.UpsertCases([]record.Case{mk("a", "620802001"), mk("b", "620802"), mk("c", "620800"), mk("d", "620000"), mk("e", "620100")})
	rs := results(t, e, Month, false)
	want := map[string]int64{"620802001": 1, "620802": 2, "620800": 3, "620000": 5, "620100": 1}
	got := map[string]int64{}
	for _, r := range rs {
		if r.Indicator == "case_volume" {
			got[r.Region] = r.Numerator
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("case_volume by region = %v, want %v", got, want)
	}
}

func TestNullRateAndZeroCountRegions(t *testing.T) {
	e := newEngine(t, "2026-10-09 12:00:00", Month)
	// A September case: its region appears but nothing falls in October.
	e.UpsertCases([]record.Case{{ID: "a", Region: "620802", Channel: record.ChannelWindow, Status: record.StatusSubmitted,
		Submitted: ts(t, "2026-09-08 09:00:00"), Accepted: record.Never, Closed: record.Never}})
	rs := results(t, e, Month, false)
	vol := find(t, rs, "case_volume", "620802", "")
	if v, ok := vol.Value(); !ok || v != 0 || vol.Rate {
		t.Errorf("case_volume = %+v, want count 0", vol)
	}
	rate := find(t, rs, "online_case_rate", "620800", "")
	if _, ok := rate.Value(); ok || rate.Denominator != 0 || !rate.Rate {
		t.Errorf("online_case_rate = %+v, want null rate with denominator 0", rate)
	}
}

func TestUpsertReplacesAndDeadlinePassing(t *testing.T) {
	e := newEngine(t, "2026-09-15 12:00:00")
	c := acceptedCase(t, "C1", "620802", "2026-09-15 10:00:00", 0, "")
	e.UpsertCases([]record.Case{c})
	if od := find(t, results(t, e, Day, false), "overdue_open", "620802", ""); od.Numerator != 0 {
		t.Fatalf("overdue before the deadline: %d", od.Numerator)
	}
	if moved := e.Advance(ts(t, "2026-09-16 00:00:00")); moved != 1 {
		t.Errorf("advance past the deadline moved %d records, want 1", moved)
	}
	rs := results(t, e, Day, false)
	if od := find(t, rs, "overdue_open", "620800", ""); od.Numerator != 1 {
		t.Errorf("overdue after the deadline = %d, want 1", od.Numerator)
	}
	// The open overdue case counts against the day of its deadline.
	if ot := find(t, rs, "on_time_rate", "620802", ""); ot.Denominator != 1 || ot.Numerator != 0 {
		t.Errorf("on_time_rate on the deadline's day = %d/%d, want 0/1", ot.Numerator, ot.Denominator)
	}
	// Closing it later moves it to the period of its close.
	e.Advance(ts(t, "2026-09-17 10:00:00"))
	c.Closed = ts(t, "2026-09-17 09:00:00")
	c.Status = record.StatusClosed
	e.UpsertCases([]record.Case{c})
	rs = results(t, e, Day, false)
	if od := find(t, rs, "overdue_open", "620802", ""); od.Numerator != 0 {
		t.Errorf("overdue after closing = %d, want 0", od.Numerator)
	}
	if ot := find(t, rs, "on_time_rate", "620802", ""); ot.Denominator != 1 || ot.Numerator != 0 {
		t.Errorf("on_time_rate on the close day = %d/%d, want 0/1", ot.Numerator, ot.Denominator)
	}
	if n := e.Len()[record.KindCase]; n != 1 {
		t.Errorf("engine holds %d cases after an upsert of the same id, want 1", n)
	}
	// Withdrawing removes it everywhere.
	c.Status = record.StatusWithdrawn
	e.UpsertCases([]record.Case{c})
	rs = results(t, e, Month, false)
	if v := find(t, rs, "case_volume", "620000", ""); v.Numerator != 0 {
		t.Errorf("withdrawn case still counted: %d", v.Numerator)
	}
}

func TestFutureRecordsDoNotExistYet(t *testing.T) {
	e := newEngine(t, "2026-10-09 12:00:00", Day)
	e.UpsertCalls([]record.Call{{ID: "k", Region: "620100", Offered: ts(t, "2026-10-09 12:00:01"), Answered: true, WaitSeconds: 3}})
	if v := find(t, results(t, e, Day, false), "call_volume", "620100", ""); v.Numerator != 0 {
		t.Fatalf("a call after the clock counted: %d", v.Numerator)
	}
	e.Advance(ts(t, "2026-10-09 12:00:01"))
	rs := results(t, e, Day, false)
	if v := find(t, rs, "answer_15s_rate", "620100", ""); v.Numerator != 1 || v.Denominator != 1 {
		t.Errorf("answer_15s_rate = %d/%d, want 1/1", v.Numerator, v.Denominator)
	}
}

func TestByDept(t *testing.T) {
	e := newEngine(t, "2026-10-09 12:00:00", Month)
	ev := func(id, region, dept string, score int8) record.Evaluation {
		return record.Evaluation{ID: id, Region: region, Dept: dept, Score: score, Channel: record.ChannelOnline,
			Evaluated: ts(t, "2026-10-08 10:00:00"), Rectified: record.Never}
	}
	e.UpsertEvaluations([]record.Evaluation{ev("1", "620802", "D1", 5), ev("2", "620802001", "D1", 1), ev("3", "620100", "", 4)})
	rs := results(t, e, Month, true)
	if r := find(t, rs, "satisfaction_rate", "620000", "D1"); r.Numerator != 1 || r.Denominator != 2 {
		t.Errorf("province D1 satisfaction = %d/%d, want 1/2", r.Numerator, r.Denominator)
	}
	if r := find(t, rs, "eval_count", "620000", ""); r.Numerator != 3 {
		t.Errorf("province eval_count = %d, want 3", r.Numerator)
	}
	for _, r := range rs {
		if r.Region == "620100" && r.Dept != "" {
			t.Errorf("a record without department made a dept row: %+v", r)
		}
	}
}

// TestIncrementalEqualsReplay is the engine's central property: after any
// sequence of upserts and clock moves, the live counters equal a full
// recomputation from the records as of the same instant.
func TestIncrementalEqualsReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := ts(t, "2026-09-01 00:00:00")
	span := int64(70 * 24 * time.Hour)
	when := func() int64 { return start + rng.Int64N(span) }
	maybe := func(base int64) int64 {
		if rng.IntN(4) == 0 {
			return record.Never
		}
		return base + rng.Int64N(int64(12*24*time.Hour))
	}
	regions := []string{"620000", "620100", "620102", "620102001", "620800", "620802", "620802003", "621225"}
	depts := []string{"", "D1", "D2"}
	e := newEngine(t, "2026-09-01 00:00:00")
	clock := start
	for step := 0; step < 400; step++ {
		switch rng.IntN(6) {
		case 0:
			clock += rng.Int64N(int64(3 * 24 * time.Hour))
			e.Advance(clock)
		case 1:
			sub := when()
			acc := maybe(sub)
			c := record.Case{ID: fmt.Sprint("c", rng.IntN(60)), Region: regions[rng.IntN(len(regions))], Dept: depts[rng.IntN(3)],
				Channel: record.Channel(1 + rng.IntN(4)), Status: record.Status(1 + rng.IntN(5)), FullOnline: rng.IntN(2) == 0,
				Submitted: sub, Accepted: acc, Closed: maybe(sub), PromisedDays: int32(rng.IntN(6))}
			e.UpsertCases([]record.Case{c})
		case 2:
			at := when()
			e.UpsertEvaluations([]record.Evaluation{{ID: fmt.Sprint("e", rng.IntN(40)), Region: regions[rng.IntN(len(regions))], Dept: depts[rng.IntN(3)],
				Channel: record.ChannelOnline, Score: int8(1 + rng.IntN(5)), Evaluated: at, Rectified: maybe(at)}})
		case 3:
			at := when()
			e.UpsertTickets([]record.Ticket{{ID: fmt.Sprint("t", rng.IntN(40)), Region: regions[rng.IntN(len(regions))], Unit: depts[rng.IntN(3)],
				Kind: record.TicketKind(1 + rng.IntN(6)), Channel: record.TicketPhone, Received: at, Direct: rng.IntN(3) == 0,
				Assigned: maybe(at), DeadlineDays: int32(rng.IntN(4) - 1), Closed: maybe(at), Callback: record.Callback(rng.IntN(5))}})
		case 4:
			e.UpsertCalls([]record.Call{{ID: fmt.Sprint("k", rng.IntN(40)), Region: regions[rng.IntN(3)], Offered: when(),
				Answered: rng.IntN(5) > 0, WaitSeconds: int32(rng.IntN(30))}})
		case 5:
			for _, p := range AllPeriods {
				live := results(t, e, p, true)
				replay := e.Evaluate(e.Now(), p, true)
				if !reflect.DeepEqual(live, replay) {
					t.Fatalf("step %d period %s: live counters differ from replay\nlive:   %v\nreplay: %v", step, p, firstDiff(live, replay), "")
				}
			}
		}
	}
}

func firstDiff(a, b []Result) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(a), len(b))
}
