package report

import (
	"fmt"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
)

// Days selects the days a quiet range applies to.
type Days string

// The day selections; working days are the calendar's (SPEC.md §4).
const (
	AllDays        Days = "all"
	WorkingDays    Days = "working"
	NonWorkingDays Days = "non_working"
)

// QuietHours is a named set of ranges of time, in the business time zone,
// during which notifications are held (not dropped) until the range ends.
type QuietHours struct {
	Name   string
	Ranges []QuietRange
}

// QuietRange is one range: from Start to End minutes after midnight on
// the days Days selects, ending the next day when End ≤ Start ("22:00" to
// "07:00"); the whole day when Whole. The day a range starts on is the one
// Days judges, so "nights on working days" covers Friday night until
// Saturday 07:00.
type QuietRange struct {
	Start, End int // minutes after midnight, 0–1440
	Whole      bool
	Days       Days
}

// String writes the range as the rules file does.
func (r QuietRange) String() string {
	if r.Whole {
		return fmt.Sprintf("all day (%s)", r.Days)
	}
	return fmt.Sprintf("%02d:%02d–%02d:%02d (%s)", r.Start/60, r.Start%60, r.End/60, r.End%60, r.Days)
}

// span is the instance of r that starts on date d, if r applies to d.
func (r QuietRange) span(cal *calendar.Calendar, d calendar.Date) (from, to time.Time, ok bool) {
	switch r.Days {
	case WorkingDays:
		if !cal.IsWorkday(d) {
			return from, to, false
		}
	case NonWorkingDays:
		if cal.IsWorkday(d) {
			return from, to, false
		}
	}
	y, m, day := d.Civil()
	loc := cal.Location()
	if r.Whole {
		return time.Date(y, m, day, 0, 0, 0, 0, loc), time.Date(y, m, day+1, 0, 0, 0, 0, loc), true
	}
	from = time.Date(y, m, day, r.Start/60, r.Start%60, 0, 0, loc)
	endDay := day
	if r.End <= r.Start {
		endDay++
	}
	to = time.Date(y, m, endDay, r.End/60, r.End%60, 0, 0, loc)
	return from, to, to.After(from)
}

// activeUntil reports whether t lies in one of q's ranges and, if so, the
// latest end of the ranges that hold it.
func (q QuietHours) activeUntil(cal *calendar.Calendar, t time.Time) (time.Time, bool) {
	d := cal.DayOf(t.UnixNano())
	var end time.Time
	for _, r := range q.Ranges {
		// A range that started yesterday may still run (22:00–07:00).
		for _, day := range []calendar.Date{d - 1, d} {
			from, to, ok := r.span(cal, day)
			if ok && !t.Before(from) && t.Before(to) && to.After(end) {
				end = to
			}
		}
	}
	return end, !end.IsZero()
}

// quietUntil returns when the quiet time that holds t ends, following
// ranges that join (nights 22:00–07:00 running into a non-working day run
// on to the next working morning), or false when t is not quiet. names are
// the rule's quiet hours; unknown names were refused by Parse.
func quietUntil(cal *calendar.Calendar, all map[string]QuietHours, names []string, t time.Time) (time.Time, bool) {
	if len(names) == 0 {
		return time.Time{}, false
	}
	at, quiet := t, false
	// Joined ranges move the end forward each round; a year of them is
	// more than any configuration makes, and bounds the loop.
	for range 800 {
		moved := false
		for _, n := range names {
			if end, ok := all[n].activeUntil(cal, at); ok && end.After(at) {
				at, moved, quiet = end, true, true
			}
		}
		if !moved {
			break
		}
	}
	return at, quiet
}
