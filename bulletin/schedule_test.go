package bulletin

import (
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
)

const scheduleYAML = `
bulletins:
  - {name: m3, type: monthly, regions: ["620000"], at: "09:00", workday: 3}
  - {name: m1, type: monthly, regions: ["620000"], at: "09:00", workday: 1}
  - {name: before20, type: monthly, regions: ["620000"], at: "10:00", before: 20}
  - {name: w1, type: weekly, regions: ["620000"], at: "09:00"}
  - {name: w2, type: weekly, regions: ["620000"], at: "09:00", workday: 2}
  - {name: d, type: daily, regions: ["620000"], at: "08:30"}
  - {name: dskip, type: daily, regions: ["620000"], at: "08:30", skip_rest_days: true}
  - {name: dcron, type: daily, regions: ["620000"], cron: "30 8 * * *"}
  - {name: dcronwk, type: daily, regions: ["620000"], cron: "0 17 * * 1-5"}
`

// TestRunAt: when each period is issued, across the holidays of 2026
// (chinese-days): Spring Festival 15–23 February with make-up working
// days on Saturday 14 and 28 February; National Day 1–7 October with
// make-up working days on Sunday 20 September and Saturday 10 October.
func TestRunAt(t *testing.T) {
	loc := shanghai(t)
	cal := calendar.Default(loc)
	cfg := mustParse(t, scheduleYAML)
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	month := func(y int, m time.Month) Period { return PeriodOf(Monthly, at(y, m, 1, 0, 0), loc) }
	week := func(y int, m time.Month, d int) Period { return PeriodOf(Weekly, at(y, m, d, 0, 0), loc) }
	day := func(y int, m time.Month, d int) Period { return PeriodOf(Daily, at(y, m, d, 0, 0), loc) }
	cases := []struct {
		bulletin string
		period   Period
		want     time.Time
	}{
		// September's 月报 on the 3rd working day of October: 8 (Thu),
		// 9 (Fri), 10 (Sat, make-up).
		{"m3", month(2026, 9), at(2026, 10, 10, 9, 0)},
		{"m1", month(2026, 9), at(2026, 10, 8, 9, 0)},
		// An ordinary month: 1, 2 and 5 December 2026 (Tue, Wed, Thu).
		{"m3", month(2026, 11), at(2026, 12, 3, 9, 0)},
		// January's 月报 in February on the 3rd working day: 2, 3, 4.
		{"m3", month(2026, 1), at(2026, 2, 4, 9, 0)},
		// Before the 20th: the last working day on or before 19 October
		// is Monday the 19th.
		{"before20", month(2026, 9), at(2026, 10, 19, 10, 0)},
		// … and in February 2026, 15–19 are Spring Festival holidays: the
		// make-up Saturday the 14th.
		{"before20", month(2026, 1), at(2026, 2, 14, 10, 0)},
		// December 2026's 月报, in January 2027: the 19th is a Tuesday.
		{"before20", month(2026, 12), at(2027, 1, 19, 10, 0)},
		// Weeks: the week of 9–15 February and the Spring Festival week
		// (16–22, no working day) both on the first working day after the
		// holiday, Tuesday 24 February.
		{"w1", week(2026, 2, 9), at(2026, 2, 24, 9, 0)},
		{"w1", week(2026, 2, 16), at(2026, 2, 24, 9, 0)},
		{"w1", week(2026, 2, 23), at(2026, 3, 2, 9, 0)},
		{"w2", week(2026, 2, 16), at(2026, 2, 25, 9, 0)},
		// National Day week: the week of 28 September on Thursday 8 October.
		{"w1", week(2026, 9, 28), at(2026, 10, 8, 9, 0)},
		// The week before: Monday 28 September is a working day.
		{"w1", week(2026, 9, 21), at(2026, 9, 28, 9, 0)},
		// Days: the first working day after the day.
		{"d", day(2026, 9, 30), at(2026, 10, 8, 8, 30)},
		{"d", day(2026, 10, 3), at(2026, 10, 8, 8, 30)},
		{"d", day(2026, 10, 9), at(2026, 10, 10, 8, 30)}, // make-up Saturday
		{"d", day(2026, 9, 19), at(2026, 9, 20, 8, 30)},  // make-up Sunday
		{"d", day(2026, 9, 18), at(2026, 9, 20, 8, 30)},  // Friday → Sunday the 20th
		{"d", day(2026, 9, 24), at(2026, 9, 28, 8, 30)},  // Mid-Autumn 25–27
		// Cron: every day at 08:30, holidays or not; weekdays at 17:00.
		{"dcron", day(2026, 9, 30), at(2026, 10, 1, 8, 30)},
		{"dcron", day(2026, 12, 31), at(2027, 1, 1, 8, 30)},
		{"dcronwk", day(2026, 10, 9), at(2026, 10, 12, 17, 0)},
		{"dcronwk", day(2026, 10, 8), at(2026, 10, 9, 17, 0)},
	}
	for _, c := range cases {
		b, ok := cfg.Lookup(c.bulletin)
		if !ok {
			t.Fatal(c.bulletin)
		}
		if got := b.RunAt(c.period, cal); !got.Equal(c.want) {
			t.Errorf("%s %s: issued %s, want %s", c.bulletin, c.period, got.Format(time.RFC3339), c.want.Format(time.RFC3339))
		}
	}
}

// TestNextRun walks the issues from an instant (a fake clock's now): the
// first is the earliest period issued after it, then Following gives each
// next one in order, two periods sharing a time when a holiday delays one.
func TestNextRun(t *testing.T) {
	loc := shanghai(t)
	cal := calendar.Default(loc)
	cfg := mustParse(t, scheduleYAML)
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	type want struct {
		period string
		at     time.Time
	}
	cases := []struct {
		bulletin string
		now      time.Time
		want     []want
	}{
		// On 5 October September's 月报 is still to come (10 October).
		{"m3", at(2026, 10, 5, 12, 0), []want{
			{"2026-09", at(2026, 10, 10, 9, 0)}, {"2026-10", at(2026, 11, 4, 9, 0)}, {"2026-11", at(2026, 12, 3, 9, 0)}}},
		// At the very instant of an issue it is past: strictly after.
		{"m3", at(2026, 10, 10, 9, 0), []want{{"2026-10", at(2026, 11, 4, 9, 0)}}},
		{"m3", at(2026, 10, 10, 8, 59), []want{{"2026-09", at(2026, 10, 10, 9, 0)}}},
		// Spring Festival: two 周报 on 24 February, in period order.
		{"w1", at(2026, 2, 13, 12, 0), []want{
			{"W2026-02-09", at(2026, 2, 24, 9, 0)},
			{"W2026-02-16", at(2026, 2, 24, 9, 0)},
			{"W2026-02-23", at(2026, 3, 2, 9, 0)}}},
		// Rest days skipped: after 30 September the next 快报 is of 8
		// October (Friday 9th), then of 9 October (Saturday 10th, make-up),
		// and the 10th's is issued on Monday the 12th.
		{"dskip", at(2026, 10, 1, 0, 0), []want{
			{"2026-09-30", at(2026, 10, 8, 8, 30)}, {"2026-10-08", at(2026, 10, 9, 8, 30)},
			{"2026-10-09", at(2026, 10, 10, 8, 30)}, {"2026-10-10", at(2026, 10, 12, 8, 30)}, {"2026-10-12", at(2026, 10, 13, 8, 30)}}},
		// Without skipping, the holiday days are all issued on the 8th.
		{"d", at(2026, 10, 7, 23, 0), []want{
			{"2026-09-30", at(2026, 10, 8, 8, 30)}, {"2026-10-01", at(2026, 10, 8, 8, 30)}}},
		{"dcron", at(2026, 10, 1, 8, 30), []want{{"2026-10-01", at(2026, 10, 2, 8, 30)}}},
	}
	for _, c := range cases {
		b, _ := cfg.Lookup(c.bulletin)
		r, err := b.NextRun(c.now, cal)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if i > 0 {
				if r, err = b.Following(r, cal); err != nil {
					t.Fatal(err)
				}
			}
			if r.Period.Key() != w.period || !r.At.Equal(w.at) || r.Bulletin != c.bulletin {
				t.Errorf("%s from %s, run %d: %s at %s, want %s at %s", c.bulletin, c.now.Format(time.RFC3339), i,
					r.Period.Key(), r.At.Format(time.RFC3339), w.period, w.at.Format(time.RFC3339))
			}
		}
	}
}

// TestIssueTimesMonotonic: over ten years of every bulletin, issue times
// never decrease from one period to the next, every issue comes after its
// period, and NextRun from just before an issue finds it again.
func TestIssueTimesMonotonic(t *testing.T) {
	loc := shanghai(t)
	cal := calendar.Default(loc)
	cfg := mustParse(t, scheduleYAML)
	for _, b := range cfg.Bulletins {
		r, err := b.NextRun(time.Date(2020, 1, 1, 0, 0, 0, 0, loc), cal)
		if err != nil {
			t.Fatal(err)
		}
		for r.Period.Start.Year() < 2030 {
			if r.At.Before(r.Period.End) {
				t.Fatalf("%s %s issued at %s, before its end", b.Name, r.Period, r.At)
			}
			first, err := b.NextRun(r.At.Add(-time.Nanosecond), cal)
			if err != nil {
				t.Fatal(err)
			}
			if !first.At.Equal(r.At) || first.Period.Start.After(r.Period.Start) {
				t.Fatalf("%s: NextRun just before %s gives %s %s", b.Name, r.Period, first.Period, first.At)
			}
			next, err := b.Following(r, cal)
			if err != nil {
				t.Fatal(err)
			}
			if next.At.Before(r.At) {
				t.Fatalf("%s: %s at %s, then %s at %s", b.Name, r.Period, r.At, next.Period, next.At)
			}
			r = next
		}
	}
}

func TestPeriods(t *testing.T) {
	loc := shanghai(t)
	at := time.Date(2026, 10, 1, 3, 0, 0, 0, loc) // Thursday
	cases := []struct {
		p                      Period
		key, label, prev, last string
	}{
		{PeriodOf(Daily, at, loc), "2026-10-01", "2026年10月1日", "2026-09-30", "2025-10-01"},
		{PeriodOf(Weekly, at, loc), "W2026-09-28", "2026年9月28日—10月4日", "W2026-09-21", "W2025-09-29"},
		{PeriodOf(Monthly, at, loc), "2026-10", "2026年10月", "2026-09", "2025-10"},
		{PeriodOf(Daily, time.Date(2028, 2, 29, 12, 0, 0, 0, loc), loc), "2028-02-29", "2028年2月29日", "2028-02-28", "2027-02-28"},
		{PeriodOf(Weekly, time.Date(2026, 12, 31, 12, 0, 0, 0, loc), loc), "W2026-12-28", "2026年12月28日—2027年1月3日", "W2026-12-21", "W2025-12-29"},
	}
	for _, c := range cases {
		if c.p.Key() != c.key || c.p.Label() != c.label || c.p.Prev().Key() != c.prev || c.p.LastYear().Key() != c.last {
			t.Errorf("%s: key %s label %s prev %s last year %s; want %s %s %s %s", c.p, c.p.Key(), c.p.Label(),
				c.p.Prev().Key(), c.p.LastYear().Key(), c.key, c.label, c.prev, c.last)
		}
		if !c.p.Contains(c.p.AsOf()) || c.p.Contains(c.p.End) {
			t.Errorf("%s: AsOf %s outside", c.p, c.p.AsOf())
		}
	}
}
