package bulletin

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/yiping-ioc/yiping/calendar"
)

// When a bulletin is issued (all in the business time zone of the
// calendar, the calendar's working days; a period is reported once, after
// it ends, and no period is skipped unless said):
//
//   - daily, at: the 快报 of day D is issued at the time of day on the first
//     working day after D. After a weekend or a holiday the first working
//     day issues the 快报 of every day since the last one (Monday those of
//     Friday, Saturday and Sunday), each a bulletin of its own.
//   - daily, cron: the 快报 of day D is issued at the first instant of the
//     cron schedule (standard five fields, robfig/cron) at or after the end
//     of D: "30 8 * * *" issues every day, "30 8 * * 1-5" on weekdays.
//   - daily, skip_rest_days: days that are not working days get no 快报
//     (their figures are in the 周报).
//   - weekly, workday N: the 周报 of a week (Monday to Sunday) is issued at
//     the time of day on the N-th working day counted from the Monday that
//     follows it, that Monday included. A week with fewer than N working
//     days counts on into the next (the Spring Festival week of 2026 has
//     none: the 周报 of 9–15 and of 16–22 February are both issued on 24
//     February, the first working day after the holiday).
//   - monthly, workday N: the 月报 of a month is issued on the N-th working
//     day counted from the 1st of the next month, the 1st included (the
//     3rd working day of October 2026 is Saturday the 10th, a make-up
//     working day after the National Day holiday).
//   - monthly, before D: the 月报 is issued on the last working day of
//     the next month that is before its D-th day (day < D; "before the
//     20th" is the last working day on or before the 19th); when none of
//     those days is a working day, on the first working day after them.
//
// Issue times never decrease from one period to the next, so a scheduler
// that issues each period in turn after the previous one neither loses
// nor repeats a bulletin, and two periods may share an issue time.

// Run is one issue of a bulletin: the period it reports and when.
type Run struct {
	Bulletin string
	Period   Period
	At       time.Time
}

// RunAt returns when the bulletin for period p is issued, in cal's time
// zone. p must be of b's type.
func (b *Bulletin) RunAt(p Period, cal *calendar.Calendar) time.Time {
	loc := cal.Location()
	end := p.End.In(loc)
	first := dateOf(end) // the first day after the period
	switch {
	case b.Type == Daily && b.cron != nil:
		// The first instant of the schedule at or after the end of the
		// day; Next is strictly after its argument, to the second.
		return b.cron.Next(end.Add(-time.Second)).In(loc)
	case b.Type == Daily:
		return b.at.on(nthWorkdayFrom(cal, first, 1), loc)
	case b.Before > 0:
		y, m, _ := first.Civil()
		for d := calendar.DateOf(y, m, b.Before-1); d >= first; d-- {
			if cal.IsWorkday(d) {
				return b.at.on(d, loc)
			}
		}
		return b.at.on(nthWorkdayFrom(cal, calendar.DateOf(y, m, b.Before), 1), loc)
	}
	return b.at.on(nthWorkdayFrom(cal, first, b.Workday), loc)
}

// reports says whether period p gets a bulletin at all: every period does,
// except the rest days of a daily bulletin with skip_rest_days.
func (b *Bulletin) reports(p Period, cal *calendar.Calendar) bool {
	return !(b.Type == Daily && b.SkipRestDays && !cal.IsWorkday(dateOf(p.Start.In(cal.Location()))))
}

// maxSteps bounds the walks over periods: far more than any gap between
// working days (the longest holiday is 9 days) needs.
const maxSteps = 800

// NextRun returns the first issue of b strictly after t: the earliest
// reported period whose issue time is after t. It is a pure function of
// b, t and the calendar.
func (b *Bulletin) NextRun(t time.Time, cal *calendar.Calendar) (Run, error) {
	loc := cal.Location()
	p := PeriodOf(b.Type, t, loc)
	// An issue comes after its period, sometimes weeks after (the 3rd
	// working day after a holiday): look back for periods still to issue.
	for i := 0; i < maxSteps; i++ {
		q := p.Prev()
		if !b.RunAt(q, cal).After(t) {
			break
		}
		p = q
	}
	for i := 0; i < maxSteps; i++ {
		if at := b.RunAt(p, cal); at.After(t) && b.reports(p, cal) {
			return Run{Bulletin: b.Name, Period: p, At: at}, nil
		}
		p = p.Next()
	}
	return Run{}, fmt.Errorf("bulletin %s: no issue within %d periods after %s", b.Name, maxSteps, t.Format(time.RFC3339))
}

// Following returns the issue after r: the next reported period. Its time
// may equal r's (two periods issued on the same working day), never
// precede it.
func (b *Bulletin) Following(r Run, cal *calendar.Calendar) (Run, error) {
	p := r.Period.Next()
	for i := 0; i < maxSteps; i++ {
		if b.reports(p, cal) {
			return Run{Bulletin: b.Name, Period: p, At: b.RunAt(p, cal)}, nil
		}
		p = p.Next()
	}
	return Run{}, fmt.Errorf("bulletin %s: no reported period within %d after %s", b.Name, maxSteps, r.Period)
}

// LastRun returns the latest issue of b at or before t (ok false when the
// search finds none): what a scheduler starting at t may have missed.
func (b *Bulletin) LastRun(t time.Time, cal *calendar.Calendar) (Run, bool) {
	next, err := b.NextRun(t, cal)
	if err != nil {
		return Run{}, false
	}
	p := next.Period.Prev()
	for i := 0; i < maxSteps; i++ {
		if b.reports(p, cal) {
			return Run{Bulletin: b.Name, Period: p, At: b.RunAt(p, cal)}, true
		}
		p = p.Prev()
	}
	return Run{}, false
}

// nthWorkdayFrom returns the n-th (n ≥ 1) working day counted from d, d
// included; beyond maxSteps days it gives up and returns the last day
// looked at (a calendar without working days is not a real one).
func nthWorkdayFrom(cal *calendar.Calendar, d calendar.Date, n int) calendar.Date {
	for i := 0; i < maxSteps; i++ {
		if cal.IsWorkday(d) {
			if n--; n <= 0 {
				return d
			}
		}
		d++
	}
	return d
}

// dateOf returns the civil date of t in t's location.
func dateOf(t time.Time) calendar.Date {
	y, m, d := t.Date()
	return calendar.DateOf(y, m, d)
}

// clockTime is a time of day, hours and minutes.
type clockTime struct{ hour, min int }

// on returns the time of day on date d in loc. A time that a DST change
// skips is normalised by time.Date (an hour later).
func (c clockTime) on(d calendar.Date, loc *time.Location) time.Time {
	y, m, day := d.Civil()
	return time.Date(y, m, day, c.hour, c.min, 0, 0, loc)
}

func (c clockTime) String() string { return fmt.Sprintf("%02d:%02d", c.hour, c.min) }

// parseCron reads a standard five-field schedule (minute, hour, day of
// month, month, day of week). Its instants are computed in the location
// of the time it is asked about, which RunAt makes the calendar's: the
// business time zone, so CRON_TZ and TZ prefixes are refused.
func parseCron(spec string) (cron.Schedule, error) {
	if t := strings.TrimSpace(spec); strings.HasPrefix(t, "CRON_TZ=") || strings.HasPrefix(t, "TZ=") {
		return nil, fmt.Errorf("a time zone prefix is not allowed: schedules run in the business time zone")
	}
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse(spec)
}
