// Package calendar decides working days and working-day deadlines the way
// SPEC.md section 4 defines them: a working day is Monday to Friday unless
// it is an official holiday, plus every official make-up workday (调休上班)
// on a weekend; a deadline of N working days from an instant t is the start
// of the day after the N-th working day strictly after t's civil date in the
// business time zone (the start day is not counted, as in administrative
// law), and the start of the next day when N is 0 (即办件).
//
// Callers count a case as on time when closed < deadline: closing exactly at
// the returned instant (00:00 of the following day) is late.
//
// The official days come from the npm package chinese-days, embedded as
// cn.json by scripts/gen-calendar.mjs; an administrator adds new years or
// local rules from an ICS or JSON file (LoadFile) through WithRules.
package calendar

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

//go:embed cn.json
var cnJSON []byte

// Rules lists dates that differ from the Monday–Friday week.
type Rules struct {
	// Holidays are official rest days. Those on a weekend change nothing.
	Holidays []Date
	// Workdays are make-up working days (调休上班), usually on a weekend. A
	// date in both lists is a workday.
	Workdays []Date
	// Source says where the rules come from, for display and logs, such as
	// "chinese-days@1.5.7" or a file name.
	Source string
}

// The years rule dates may fall in. The loaders reject dates outside them,
// which keeps the dense tables of a Calendar small.
const (
	MinYear = 1900
	MaxYear = 2199
)

// The dense tables always span at least these years, so that deadlines of
// every realistic record are table lookups.
const (
	tableFirstYear = 1990
	tableLastYear  = 2100
)

// Calendar answers working-day questions for one business time zone. It is
// immutable after construction and safe for concurrent use.
type Calendar struct {
	loc    *time.Location
	source string
	// special maps each rule date to true for a workday, false for a holiday.
	special     map[Date]bool
	first, last Date // Covers

	// Dense tables over the dates [lo, lo+len(cum)-1): cum[i] is the number
	// of working days in [lo, lo+i), and work lists the working days in
	// order, so the n-th working day after d is one index away. Outside the
	// tables there are no rule dates, only weekdays and weekends.
	lo   Date
	cum  []int32
	work []Date

	zone zoneTable
}

// New returns a calendar for the business time zone loc (nil means UTC)
// with the given rules; it does not keep rules' slices. It panics when a
// rule date lies outside the years MinYear..MaxYear, which the loaders of
// this package never return.
func New(loc *time.Location, rules Rules) *Calendar {
	special := make(map[Date]bool, len(rules.Holidays)+len(rules.Workdays))
	for _, d := range rules.Holidays {
		special[d] = false
	}
	for _, d := range rules.Workdays {
		special[d] = true
	}
	return build(loc, rules.Source, special)
}

// Default returns a calendar for loc (nil means UTC) with the official
// holidays and make-up workdays embedded from chinese-days. Each call
// builds new tables (about a millisecond); keep the result.
func Default(loc *time.Location) *Calendar {
	return New(loc, defaultRules())
}

var defaultRules = sync.OnceValue(func() Rules {
	r, err := ParseJSON(bytes.NewReader(cnJSON))
	if err != nil {
		// cn.json is generated and checked by the tests.
		panic("calendar: embedded cn.json: " + err.Error())
	}
	return r
})

// WithRules returns a new calendar with extra's dates overriding c's for
// those dates: an administrator's local rule, or a year published after
// the build. Within extra, a date in both lists is a workday. c is not
// changed.
func (c *Calendar) WithRules(extra Rules) *Calendar {
	special := maps.Clone(c.special)
	for _, d := range extra.Holidays {
		special[d] = false
	}
	for _, d := range extra.Workdays {
		special[d] = true
	}
	source := c.source
	switch {
	case extra.Source == "":
	case source == "":
		source = extra.Source
	default:
		source += " + " + extra.Source
	}
	return build(c.loc, source, special)
}

func build(loc *time.Location, source string, special map[Date]bool) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{loc: loc, source: source, special: special, first: 0, last: -1}
	lo, hi := DateOf(tableFirstYear, 1, 1), DateOf(tableLastYear+1, 1, 1)
	if len(special) > 0 {
		dates := slices.Sorted(maps.Keys(special))
		first, last := dates[0], dates[len(dates)-1]
		for _, d := range []Date{first, last} {
			if y, _, _ := d.Civil(); y < MinYear || y > MaxYear {
				panic(fmt.Sprintf("calendar: rule date %s outside the years %d..%d", d, MinYear, MaxYear))
			}
		}
		fy, _, _ := first.Civil()
		ly, _, _ := last.Civil()
		c.first, c.last = DateOf(fy, 1, 1), DateOf(ly, 12, 31)
		lo, hi = min(lo, first), max(hi, last+1)
	}

	c.lo = lo
	c.cum = make([]int32, hi-lo+1)
	c.work = make([]Date, 0, (hi-lo)*5/7+2)
	for d := lo; d < hi; d++ {
		n := c.cum[d-lo]
		if c.ruleWorkday(d) {
			c.work = append(c.work, d)
			n++
		}
		c.cum[d-lo+1] = n
	}
	// A day or two of margin covers the instants of the first and last
	// dates in every zone.
	c.zone = newZoneTable(loc, (int64(lo)-2)*secondsPerDay, (int64(hi)+2)*secondsPerDay)
	return c
}

// ruleWorkday decides a date from the rules, without the tables.
func (c *Calendar) ruleWorkday(d Date) bool {
	if w, ok := c.special[d]; ok {
		return w
	}
	return isWeekday(int64(d))
}

// Location returns the business time zone the calendar maps instants in.
func (c *Calendar) Location() *time.Location {
	return c.loc
}

// Source describes where the calendar's rules come from.
func (c *Calendar) Source() string {
	return c.source
}

// Covers returns the first and last day of the span of years that have
// rule dates, so that callers can warn when a deadline falls beyond the
// published arrangements (beyond it only weekends are rest days). With no
// rules it returns first > last.
func (c *Calendar) Covers() (first, last Date) {
	return c.first, c.last
}

// IsWorkday reports whether d is a working day: Monday to Friday and not a
// holiday, or a make-up workday.
func (c *Calendar) IsWorkday(d Date) bool {
	if i := int64(d) - int64(c.lo); i >= 0 && i < int64(len(c.cum)-1) {
		return c.cum[i+1] != c.cum[i]
	}
	return isWeekday(int64(d))
}

// Deadline returns, in unix nanoseconds, the deadline of n working days
// from the instant start: with d the civil date of start in c's location,
// the start of the day after the n-th working day strictly after d, or the
// start of the day after d when n is 0 (n < 0 counts as 0). A case is on
// time when it closes strictly before the deadline.
//
// It runs once per record, so it is table lookups for dates in the tables
// (1990–2100 at least) and closed-form weekday arithmetic beyond them; it
// does not allocate. A deadline after 2262 saturates to math.MaxInt64.
func (c *Calendar) Deadline(startUnixNano int64, n int) int64 {
	d := c.DayOf(startUnixNano)
	w := int64(d)
	if n > 0 {
		w = c.nthWorkdayAfter(int64(d), min(int64(n), maxDays))
	}
	return c.startOfDay(w + 1)
}

// nthWorkdayAfter returns the n-th (n ≥ 1) working day strictly after d.
func (c *Calendar) nthWorkdayAfter(d, n int64) int64 {
	lo, hi := int64(c.lo), int64(c.lo)+int64(len(c.cum)-1)
	next := d + 1
	if next > hi {
		return nthWeekdayAfter(d, n)
	}
	var k int64 // index in c.work of the n-th working day on or after next
	if next >= lo {
		k = int64(c.cum[next-lo]) + n - 1
	} else {
		// Before the tables only weekdays work.
		before := weekdaysBefore(lo) - weekdaysBefore(next)
		if n <= before {
			return nthWeekdayAfter(d, n)
		}
		k = n - before - 1
	}
	if k < int64(len(c.work)) {
		return int64(c.work[k])
	}
	return nthWeekdayAfter(hi-1, k-int64(len(c.work))+1)
}

// weekdayEpoch is a Monday, 1970-01-05, the origin of the weekday counts.
const weekdayEpoch = 4

// maxDays keeps weekday arithmetic far from int64 overflow; anything
// beyond is past the int64-nanosecond range anyway.
const maxDays = 1 << 40

func isWeekday(d int64) bool {
	return mod(d-weekdayEpoch, 7) < 5
}

// weekdaysBefore returns the number of Mondays to Fridays in
// [weekdayEpoch, d), negative for d before it.
func weekdaysBefore(d int64) int64 {
	x := d - weekdayEpoch
	w := floorDiv(x, 7)
	return 5*w + min(x-7*w, 5)
}

// nthWeekdayAfter returns the n-th (n ≥ 1) Monday to Friday strictly
// after d, ignoring holidays.
func nthWeekdayAfter(d, n int64) int64 {
	k := weekdaysBefore(d+1) + n - 1 // that weekday has k weekdays before it
	return weekdayEpoch + 7*floorDiv(k, 5) + mod(k, 5)
}
