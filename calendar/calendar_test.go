package calendar

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone tests must not depend on the host's zoneinfo

	"github.com/yiping-ioc/yiping/internal/testkit"
)

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestDefaultData(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	if got := c.Source(); got != "chinese-days@1.5.7" {
		t.Errorf("Source = %q", got)
	}
	first, last := c.Covers()
	if first.String() != "2004-01-01" || last.String() != "2026-12-31" {
		t.Errorf("Covers = %s..%s, want 2004-01-01..2026-12-31", first, last)
	}
	r := defaultRules()
	if len(r.Holidays) != 619 || len(r.Workdays) != 150 {
		t.Errorf("embedded rules: %d holidays, %d workdays; want 619, 150", len(r.Holidays), len(r.Workdays))
	}
	for _, d := range r.Workdays {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			t.Errorf("make-up workday %s is a %v", d, wd)
		}
	}
}

func TestIsWorkday2026(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	tests := []struct {
		date string
		want bool
		why  string
	}{
		{"2026-09-18", true, "Friday"},
		{"2026-09-19", false, "Saturday"},
		{"2026-09-20", true, "Sunday, make-up workday for National Day"},
		{"2026-09-24", true, "Thursday"},
		{"2026-09-25", false, "Friday, Mid-Autumn"},
		{"2026-09-26", false, "Mid-Autumn"},
		{"2026-09-27", false, "Mid-Autumn"},
		{"2026-09-28", true, "Monday"},
		{"2026-09-30", true, "Wednesday"},
		{"2026-10-01", false, "National Day"},
		{"2026-10-05", false, "National Day, Monday"},
		{"2026-10-06", false, "in lieu"},
		{"2026-10-07", false, "in lieu, last day"},
		{"2026-10-08", true, "Thursday after the holiday (chinese-days ends National Day 2026 on 10-07)"},
		{"2026-10-09", true, "Friday"},
		{"2026-10-10", true, "Saturday, make-up workday"},
		{"2026-10-11", false, "Sunday"},
		{"2026-02-14", true, "Saturday, make-up workday for Spring Festival"},
		{"2026-02-23", false, "Monday, Spring Festival"},
		{"2026-01-04", true, "Sunday, make-up workday for New Year"},
		{"2027-10-01", true, "beyond the data: a Friday is a workday"},
		{"1985-05-01", true, "before the data and the tables: a Wednesday"},
		{"2150-06-06", false, "beyond the tables: a Saturday"},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(mustDate(t, tt.date)); got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, want %v (%s)", tt.date, got, tt.want, tt.why)
		}
	}
}

func TestDeadlineSpec(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	tests := []struct {
		name  string
		start string
		n     int
		want  string // the deadline, 00:00 in Shanghai
	}{
		{"即办件: N=0 is the next midnight", "2026-03-02T09:15:00+08:00", 0, "2026-03-03T00:00:00+08:00"},
		{"N=0 on a holiday", "2026-10-03T10:00:00+08:00", 0, "2026-10-04T00:00:00+08:00"},
		{"N=0 at 00:00 is still that day", "2026-03-02T00:00:00+08:00", 0, "2026-03-03T00:00:00+08:00"},
		{"negative n counts as 0", "2026-03-02T09:15:00+08:00", -3, "2026-03-03T00:00:00+08:00"},
		{"Friday, N=1 is Monday", "2026-03-06T10:00:00+08:00", 1, "2026-03-10T00:00:00+08:00"},
		{"Thursday, N=1 is Friday", "2026-03-05T10:00:00+08:00", 1, "2026-03-07T00:00:00+08:00"},
		{"accepted on a Saturday: Monday is day 1", "2026-03-07T10:00:00+08:00", 1, "2026-03-10T00:00:00+08:00"},
		{"accepted on a Sunday: Monday is day 1", "2026-03-08T23:00:00+08:00", 1, "2026-03-10T00:00:00+08:00"},
		{"accepted on a holiday: first workday after it is day 1", "2026-10-02T10:00:00+08:00", 1, "2026-10-09T00:00:00+08:00"},
		{"accepted on a holiday, N=3 ends on the make-up Saturday", "2026-10-02T10:00:00+08:00", 3, "2026-10-11T00:00:00+08:00"},
		{"spanning National Day, N=1", "2026-09-29T10:00:00+08:00", 1, "2026-10-01T00:00:00+08:00"},
		{"spanning National Day, N=2", "2026-09-29T10:00:00+08:00", 2, "2026-10-09T00:00:00+08:00"},
		{"spanning National Day, N=3", "2026-09-29T10:00:00+08:00", 3, "2026-10-10T00:00:00+08:00"},
		{"spanning National Day, N=4 is make-up Saturday 10-10", "2026-09-29T10:00:00+08:00", 4, "2026-10-11T00:00:00+08:00"},
		{"spanning National Day, N=5", "2026-09-29T10:00:00+08:00", 5, "2026-10-13T00:00:00+08:00"},
		{"spanning Mid-Autumn and National Day, N=10", "2026-09-18T16:00:00+08:00", 10, "2026-10-10T00:00:00+08:00"},
		{"make-up Sunday 09-20 is day 1", "2026-09-18T10:00:00+08:00", 1, "2026-09-21T00:00:00+08:00"},
		{"accepted Saturday 09-19, make-up Sunday is day 1", "2026-09-19T10:00:00+08:00", 1, "2026-09-21T00:00:00+08:00"},
		{"accepted on the make-up Sunday, it is not counted", "2026-09-20T10:00:00+08:00", 1, "2026-09-22T00:00:00+08:00"},
		{"Mid-Autumn Friday skipped", "2026-09-24T10:00:00+08:00", 1, "2026-09-29T00:00:00+08:00"},
		{"make-up Saturday before Spring Festival", "2026-02-13T10:00:00+08:00", 1, "2026-02-15T00:00:00+08:00"},
		{"across Spring Festival", "2026-02-13T10:00:00+08:00", 2, "2026-02-25T00:00:00+08:00"},
		{"23:59:59.999 is still Thursday", "2026-03-05T23:59:59.999+08:00", 1, "2026-03-07T00:00:00+08:00"},
		{"00:00:00 is already Friday", "2026-03-06T00:00:00+08:00", 1, "2026-03-10T00:00:00+08:00"},
		{"UTC instant on the same Shanghai date", "2026-10-06T01:17:15Z", 1, "2026-10-09T00:00:00+08:00"},
		{"UTC 10-05 17:00 is Shanghai 10-06 01:00", "2026-10-05T17:00:00Z", 0, "2026-10-07T00:00:00+08:00"},
		{"UTC 10-05 15:59:59 is Shanghai 10-05", "2026-10-05T15:59:59Z", 0, "2026-10-06T00:00:00+08:00"},
		{"UTC 09-29 16:00 is Shanghai 09-30", "2026-09-29T16:00:00Z", 1, "2026-10-09T00:00:00+08:00"},
		{"beyond the data: weekends only", "2027-09-30T10:00:00+08:00", 3, "2027-10-06T00:00:00+08:00"},
		{"beyond the tables", "2150-01-02T10:00:00+08:00", 1, "2150-01-06T00:00:00+08:00"},
		{"before the tables", "1980-01-04T10:00:00+08:00", 1, "1980-01-08T00:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := mustTime(t, tt.start)
			want := mustTime(t, tt.want)
			got := c.Deadline(start.UnixNano(), tt.n)
			if got != want.UnixNano() {
				t.Errorf("Deadline(%s, %d) = %s, want %s", tt.start, tt.n,
					time.Unix(0, got).In(c.Location()).Format(time.RFC3339Nano), tt.want)
			}
		})
	}
}

func TestDeadlineIsExactMidnight(t *testing.T) {
	loc := testkit.Shanghai(t)
	c := Default(loc)
	start := time.Date(2026, 9, 29, 10, 0, 0, 0, loc)
	deadline := c.Deadline(start.UnixNano(), 3)
	want := time.Date(2026, 10, 10, 0, 0, 0, 0, loc)
	if deadline != want.UnixNano() {
		t.Fatalf("deadline %v, want %v", time.Unix(0, deadline), want)
	}
	if _, off := time.Unix(0, deadline).In(loc).Zone(); off != 8*3600 {
		t.Errorf("offset %d", off)
	}
	if c.StartOfDay(mustDate(t, "2026-10-10")) != deadline {
		t.Error("StartOfDay disagrees with Deadline")
	}
	// On time means closed < deadline: the deadline instant itself is late.
	onTime := func(closed int64) bool { return closed < deadline }
	if onTime(deadline) {
		t.Error("closing exactly at the deadline must be late")
	}
	if !onTime(deadline - 1) {
		t.Error("closing 1 ns before the deadline (23:59:59.999999999) is on time")
	}
	if c.DayOf(deadline) != mustDate(t, "2026-10-10") || c.DayOf(deadline-1) != mustDate(t, "2026-10-09") {
		t.Error("DayOf around the deadline")
	}
}

func TestDayOfShanghai(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	tests := []struct{ instant, date string }{
		{"2026-10-06T01:17:15Z", "2026-10-06"},
		{"2026-10-05T17:00:00Z", "2026-10-06"},
		{"2026-10-05T15:59:59.999999999Z", "2026-10-05"},
		{"2026-10-05T16:00:00Z", "2026-10-06"},
		{"1970-01-01T00:00:00Z", "1970-01-01"},
		{"1969-12-31T15:59:59Z", "1969-12-31"},
		{"1969-12-31T16:00:00Z", "1970-01-01"},
		// Shanghai kept DST (+09:00) in the summers of 1986–1991.
		{"1990-07-01T15:30:00Z", "1990-07-02"},
		{"1990-12-01T15:30:00Z", "1990-12-01"},
		{"1988-07-01T15:30:00Z", "1988-07-02"},
	}
	for _, tt := range tests {
		if got := c.DayOf(mustTime(t, tt.instant).UnixNano()); got.String() != tt.date {
			t.Errorf("DayOf(%s) = %s, want %s", tt.instant, got, tt.date)
		}
	}
}

func TestWithRules(t *testing.T) {
	loc := testkit.Shanghai(t)
	base := Default(loc)
	local := base.WithRules(Rules{
		Holidays: []Date{mustDate(t, "2026-03-09"), mustDate(t, "2026-10-10"), mustDate(t, "2027-01-01")},
		Workdays: []Date{mustDate(t, "2026-10-07"), mustDate(t, "2027-02-06")},
		Source:   "local.ics",
	})
	friday := time.Date(2026, 3, 6, 10, 0, 0, 0, loc).UnixNano()
	if got, want := local.Deadline(friday, 1), time.Date(2026, 3, 11, 0, 0, 0, 0, loc).UnixNano(); got != want {
		t.Errorf("local holiday Monday: deadline %v", time.Unix(0, got).In(loc))
	}
	if got, want := base.Deadline(friday, 1), time.Date(2026, 3, 10, 0, 0, 0, 0, loc).UnixNano(); got != want {
		t.Errorf("base changed by WithRules: %v", time.Unix(0, got).In(loc))
	}
	for _, tt := range []struct {
		date       string
		base, with bool
	}{
		{"2026-03-09", true, false},
		{"2026-10-07", false, true}, // a base holiday made a workday
		{"2026-10-10", true, false}, // a base workday made a holiday
		{"2026-10-06", false, false},
		{"2027-01-01", true, false},
		{"2027-02-06", false, true},
	} {
		d := mustDate(t, tt.date)
		if base.IsWorkday(d) != tt.base || local.IsWorkday(d) != tt.with {
			t.Errorf("%s: base %v with rules %v; want %v %v", tt.date, base.IsWorkday(d), local.IsWorkday(d), tt.base, tt.with)
		}
	}
	if got := local.Source(); got != "chinese-days@1.5.7 + local.ics" {
		t.Errorf("Source = %q", got)
	}
	if _, last := local.Covers(); last.String() != "2027-12-31" {
		t.Errorf("Covers last = %s", last)
	}
	if local.Location() != loc {
		t.Error("Location lost")
	}
	// Within one Rules a date in both lists is a workday.
	both := New(time.UTC, Rules{Holidays: []Date{mustDate(t, "2030-01-07")}, Workdays: []Date{mustDate(t, "2030-01-07")}})
	if !both.IsWorkday(mustDate(t, "2030-01-07")) {
		t.Error("workdays must take precedence within one Rules")
	}
}

func TestNewEdges(t *testing.T) {
	c := New(nil, Rules{})
	if c.Location() != time.UTC {
		t.Error("nil location must mean UTC")
	}
	if first, last := c.Covers(); first <= last {
		t.Errorf("no rules: Covers = %s..%s, want first > last", first, last)
	}
	// Rules far from the default table span widen it.
	early := New(time.UTC, Rules{Holidays: []Date{mustDate(t, "1901-01-02")}, Workdays: []Date{mustDate(t, "2190-01-01")}})
	if early.IsWorkday(mustDate(t, "1901-01-02")) || !early.IsWorkday(mustDate(t, "2190-01-01")) {
		t.Error("rules outside 1990..2100 ignored")
	}
	start := time.Date(1901, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	if got := early.Deadline(start, 1); got != time.Date(1901, 1, 4, 0, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("1901: %v", time.Unix(0, got).UTC())
	}
	defer func() {
		if recover() == nil {
			t.Error("New must panic on a rule date outside MinYear..MaxYear")
		}
	}()
	New(time.UTC, Rules{Holidays: []Date{DateOf(2300, 1, 1)}})
}

func TestDeadlineSaturates(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	if got := c.Deadline(now, math.MaxInt); got != math.MaxInt64 {
		t.Errorf("huge n: %d", got)
	}
	if got := c.Deadline(now, 100_000); got != math.MaxInt64 {
		t.Errorf("n past 2262: %d", got)
	}
	if got := c.Deadline(math.MaxInt64, 1); got != math.MaxInt64 {
		t.Errorf("start at the end of time: %d", got)
	}
	if got := c.Deadline(math.MinInt64, 0); got == math.MinInt64 || got > 0 {
		t.Errorf("start at the beginning of time: %d", got)
	}
	if c.StartOfDay(math.MaxInt32) != math.MaxInt64 || c.StartOfDay(math.MinInt32) != math.MinInt64 {
		t.Error("StartOfDay must saturate")
	}
}

// naive is the SPEC's definition, day by day, with the time package.
type naive struct {
	loc     *time.Location
	special map[Date]bool
}

func (nv naive) isWorkday(d Date) bool {
	if w, ok := nv.special[d]; ok {
		return w
	}
	y, m, day := d.Civil()
	wd := time.Date(y, m, day, 12, 0, 0, 0, time.UTC).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func (nv naive) deadline(start int64, n int) int64 {
	y, m, day := time.Unix(0, start).In(nv.loc).Date()
	d := DateOf(y, m, day)
	for k := 0; k < n; {
		d++
		if nv.isWorkday(d) {
			k++
		}
	}
	y, m, day = (d + 1).Civil()
	return time.Date(y, m, day, 0, 0, 0, 0, nv.loc).UnixNano()
}

func TestDeadlineAgainstNaive(t *testing.T) {
	rules := defaultRules()
	special := map[Date]bool{}
	for _, d := range rules.Holidays {
		special[d] = false
	}
	for _, d := range rules.Workdays {
		special[d] = true
	}
	rng := rand.New(rand.NewPCG(7, 11))
	// Zones whose midnights all exist in these years, where time.Date is a
	// fair oracle; zones with skipped midnights are in TestStartOfDayZones.
	for _, name := range []string{"Asia/Shanghai", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		c := New(loc, rules)
		nv := naive{loc, special}
		spans := []struct{ from, to int }{{2003, 2028}, {1975, 1992}, {2095, 2106}, {2240, 2250}}
		for i := range 20000 {
			span := spans[i%len(spans)]
			if name != "Asia/Shanghai" && i%3 != 0 {
				continue
			}
			lo := time.Date(span.from, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
			hi := time.Date(span.to, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
			start := lo + rng.Int64N(hi-lo)
			if i%5 == 0 { // near midnight
				y, m, d := time.Unix(0, start).In(loc).Date()
				start = time.Date(y, m, d, 0, 0, 0, 0, loc).UnixNano() + rng.Int64N(2e9) - 1e9
			}
			n := rng.IntN(31)
			if got, want := c.Deadline(start, n), nv.deadline(start, n); got != want {
				t.Fatalf("%s: Deadline(%s, %d) = %s, want %s", name, time.Unix(0, start).In(loc).Format(time.RFC3339Nano), n,
					time.Unix(0, got).In(loc).Format(time.RFC3339), time.Unix(0, want).In(loc).Format(time.RFC3339))
			}
			y, m, d := time.Unix(0, start).In(loc).Date()
			if got := c.DayOf(start); got != DateOf(y, m, d) {
				t.Fatalf("%s: DayOf(%d) = %s, want %d-%d-%d", name, start, got, y, m, d)
			}
		}
	}
}

func TestIsWorkdayAgainstNaive(t *testing.T) {
	rules := defaultRules()
	nv := naive{time.UTC, map[Date]bool{}}
	for _, d := range rules.Holidays {
		nv.special[d] = false
	}
	for _, d := range rules.Workdays {
		nv.special[d] = true
	}
	c := New(time.UTC, rules)
	for d := DateOf(1960, 1, 1); d < DateOf(2120, 1, 1); d++ {
		if c.IsWorkday(d) != nv.isWorkday(d) {
			t.Fatalf("IsWorkday(%s) = %v", d, c.IsWorkday(d))
		}
	}
}

// firstInstantOfDay finds by search the first instant whose civil date in
// loc is d or later, the definition StartOfDay documents.
func firstInstantOfDay(loc *time.Location, d Date) int64 {
	dayOf := func(sec int64) Date {
		y, m, day := time.Unix(sec, 0).In(loc).Date()
		return DateOf(y, m, day)
	}
	// Scan minutes from surely before the day, then seconds.
	sec := int64(d)*secondsPerDay - 30*3600
	for dayOf(sec+60) < d {
		sec += 60
	}
	for dayOf(sec) < d {
		sec++
	}
	return sec * nanosPerSec
}

func TestStartOfDayZones(t *testing.T) {
	tests := []struct {
		zone string
		from string
		days int
	}{
		{"America/Sao_Paulo", "2018-10-30", 10}, // DST began at 00:00 on 2018-11-04: 00:00 skipped
		{"America/Sao_Paulo", "2019-02-14", 6},  // DST ended at 00:00 on 2019-02-17: 23:00 repeated
		{"America/Havana", "2024-03-08", 4},     // DST begins at 00:00
		{"America/Havana", "2024-11-01", 6},     // DST ends at 01:00 back to 00:00: midnight repeated
		{"Asia/Beirut", "2024-03-29", 4},        // DST begins at 00:00
		{"Asia/Beirut", "2024-10-25", 4},        // DST ends at 00:00
		{"Pacific/Apia", "2011-12-28", 5},       // 2011-12-30 skipped entirely
		{"America/Santiago", "2024-09-05", 5},   // DST begins at 24:00
		{"Asia/Shanghai", "1986-05-01", 6},      // DST began 1986-05-04 at 02:00
		{"Asia/Shanghai", "1991-09-12", 5},      // last DST end
		{"Europe/London", "1995-03-24", 4},
		{"Europe/Berlin", "2026-10-23", 4},
		{"Asia/Kathmandu", "1985-12-30", 4}, // +05:30 → +05:45 on 1986-01-01
		{"Europe/Berlin", "2040-12-29", 5},  // ZoneBounds ends 2040 a day early
		{"Australia/Sydney", "2040-12-29", 5},
		{"Europe/Berlin", "2132-12-29", 5}, // beyond the dense tables
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		// With the dense tables (covering the date) and without (a
		// calendar whose zone table is forced out of the way).
		c := New(loc, Rules{})
		far := New(loc, Rules{})
		far.zone = newZoneTable(loc, 0, 0)
		from := mustDate(t, tt.from)
		for d := from; d < from+Date(tt.days); d++ {
			want := firstInstantOfDay(loc, d)
			for _, cal := range []*Calendar{c, far} {
				got := cal.StartOfDay(d)
				if got != want {
					t.Errorf("%s StartOfDay(%s) = %s, want %s", tt.zone, d,
						time.Unix(0, got).In(loc).Format(time.RFC3339), time.Unix(0, want).In(loc).Format(time.RFC3339))
				}
				if cal.DayOf(got) < d || (cal.DayOf(got-1) >= d && got != want) {
					t.Errorf("%s: DayOf around StartOfDay(%s)", tt.zone, d)
				}
			}
		}
	}
}

func TestFixedZones(t *testing.T) {
	for _, off := range []int{0, 8 * 3600, -11 * 3600, 14 * 3600, 5*3600 + 45*60, 40 * 3600, -40 * 3600} {
		loc := time.FixedZone("x", off)
		c := New(loc, Rules{})
		for _, tm := range []time.Time{time.Date(2026, 10, 6, 1, 17, 15, 0, loc), time.Date(1900, 1, 1, 0, 0, 0, 0, loc), time.Date(2200, 1, 1, 23, 59, 59, 0, loc)} {
			d := c.DayOf(tm.UnixNano())
			y, m, day := tm.Date()
			if d != DateOf(y, m, day) {
				t.Errorf("offset %d: DayOf(%v) = %s", off, tm, d)
			}
			if got, want := c.StartOfDay(d), time.Date(y, m, day, 0, 0, 0, 0, loc).UnixNano(); got != want {
				t.Errorf("offset %d: StartOfDay(%s) = %d, want %d", off, d, got, want)
			}
		}
	}
}

func TestDeadlineAllocs(t *testing.T) {
	c := Default(testkit.Shanghai(t))
	start := time.Date(2026, 9, 29, 10, 0, 0, 0, time.UTC).UnixNano()
	if a := testing.AllocsPerRun(1000, func() { c.Deadline(start, 5) }); a != 0 {
		t.Errorf("Deadline allocates %v", a)
	}
	if a := testing.AllocsPerRun(1000, func() { c.DayOf(start) }); a != 0 {
		t.Errorf("DayOf allocates %v", a)
	}
}

func TestLoadErrorsMentionPath(t *testing.T) {
	_, err := LoadFile("testdata/nope.ics")
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.ics") {
		t.Errorf("missing file: %v", err)
	}
	_, err = LoadFile("testdata/rules.txt")
	if err == nil || !strings.Contains(err.Error(), "rules.txt: unknown extension") {
		t.Errorf("unknown extension: %v", err)
	}
}

func BenchmarkDeadline(b *testing.B) {
	c := Default(testkit.Shanghai(b))
	rng := rand.New(rand.NewPCG(1, 1))
	lo := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	starts := make([]int64, 4096)
	for i := range starts {
		starts[i] = lo + rng.Int64N(3*365*24*int64(time.Hour))
	}
	b.ReportAllocs()
	var sink int64
	for i := 0; b.Loop(); i++ {
		sink += c.Deadline(starts[i&4095], i%21)
	}
	_ = sink
}

func BenchmarkDeadlineBerlin(b *testing.B) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	c := Default(loc)
	rng := rand.New(rand.NewPCG(1, 1))
	lo := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	starts := make([]int64, 4096)
	for i := range starts {
		starts[i] = lo + rng.Int64N(3*365*24*int64(time.Hour))
	}
	b.ReportAllocs()
	var sink int64
	for i := 0; b.Loop(); i++ {
		sink += c.Deadline(starts[i&4095], i%21)
	}
	_ = sink
}

func BenchmarkDayOf(b *testing.B) {
	c := Default(testkit.Shanghai(b))
	start := time.Date(2026, 9, 29, 10, 0, 0, 0, time.UTC).UnixNano()
	b.ReportAllocs()
	var sink Date
	for i := 0; b.Loop(); i++ {
		sink += c.DayOf(start + int64(i&0xfffff)*int64(time.Minute))
	}
	_ = sink
}

func BenchmarkDayOfTimePackage(b *testing.B) {
	loc := testkit.Shanghai(b)
	start := time.Date(2026, 9, 29, 10, 0, 0, 0, time.UTC).UnixNano()
	b.ReportAllocs()
	var sink int
	for i := 0; b.Loop(); i++ {
		_, _, d := time.Unix(0, start+int64(i&0xfffff)*int64(time.Minute)).In(loc).Date()
		sink += d
	}
	_ = sink
}

func BenchmarkDefault(b *testing.B) {
	loc := testkit.Shanghai(b)
	b.ReportAllocs()
	for b.Loop() {
		Default(loc)
	}
}
