package bulletin

import (
	"fmt"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// Type is the kind of a bulletin: the daily 快报, the weekly 周报 or the
// monthly 月报. It is also the kind of the period a bulletin reports.
type Type string

// The bulletin types.
const (
	Daily   Type = "daily"
	Weekly  Type = "weekly"
	Monthly Type = "monthly"
)

// Types lists the bulletin types in the order of their periods' length.
func Types() []Type { return []Type{Daily, Weekly, Monthly} }

// Valid reports whether t is one of the bulletin types.
func (t Type) Valid() bool { return t == Daily || t == Weekly || t == Monthly }

// Name is the type's Chinese name: 快报, 周报, 月报.
func (t Type) Name() string {
	switch t {
	case Daily:
		return "快报"
	case Weekly:
		return "周报"
	case Monthly:
		return "月报"
	}
	return string(t)
}

// StorePeriod is the period of the history series a bulletin of this type
// reads: day, week or month.
func (t Type) StorePeriod() string {
	switch t {
	case Daily:
		return store.PeriodDay
	case Weekly:
		return store.PeriodWeek
	}
	return store.PeriodMonth
}

// Period is one reporting period in the business time zone: [Start, End),
// a day, a week from Monday (SPEC.md section 4) or a month. Start and End
// are midnights in the zone's location.
type Period struct {
	Type  Type
	Start time.Time
	End   time.Time
}

// PeriodOf returns the period of type typ that contains t, in loc.
func PeriodOf(typ Type, t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	y, m, d := t.Date()
	var start time.Time
	switch typ {
	case Daily:
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
	case Weekly:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	default:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
	return periodFrom(typ, start)
}

// periodFrom returns the period of type typ that starts at start, a
// midnight of the period's first day.
func periodFrom(typ Type, start time.Time) Period {
	y, m, d := start.Date()
	loc := start.Location()
	var end time.Time
	switch typ {
	case Daily:
		end = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case Weekly:
		end = time.Date(y, m, d+7, 0, 0, 0, 0, loc)
	default:
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	}
	return Period{Type: typ, Start: start, End: end}
}

// Next returns the period that follows p.
func (p Period) Next() Period { return periodFrom(p.Type, p.End) }

// Prev returns the period before p: the comparison of 环比.
func (p Period) Prev() Period {
	y, m, d := p.Start.Date()
	loc := p.Start.Location()
	switch p.Type {
	case Daily:
		return periodFrom(p.Type, time.Date(y, m, d-1, 0, 0, 0, 0, loc))
	case Weekly:
		return periodFrom(p.Type, time.Date(y, m, d-7, 0, 0, 0, 0, loc))
	}
	return periodFrom(p.Type, time.Date(y, m-1, 1, 0, 0, 0, 0, loc))
}

// LastYear returns the same period a year before p, the comparison of 同比:
// the same month; the week 52 weeks before (so that weeks stay Monday to
// Sunday, as the console compares them); the same date, 29 February
// comparing with 28 February.
func (p Period) LastYear() Period {
	y, m, d := p.Start.Date()
	loc := p.Start.Location()
	switch p.Type {
	case Daily:
		if m == time.February && d == 29 {
			d = 28
		}
		return periodFrom(p.Type, time.Date(y-1, m, d, 0, 0, 0, 0, loc))
	case Weekly:
		return periodFrom(p.Type, time.Date(y, m, d-364, 0, 0, 0, 0, loc))
	}
	return periodFrom(p.Type, time.Date(y-1, m, 1, 0, 0, 0, 0, loc))
}

// AsOf is the instant the period's values are read at: the last
// nanosecond before End, so that the values are those of the whole period
// and not yet of the next one.
func (p Period) AsOf() time.Time { return p.End.Add(-time.Nanosecond) }

// Contains reports whether t lies in [Start, End).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Key names the period in file names and archive queries: 2026-09-30 for a
// day, 2026-09-28 (its Monday) prefixed with W for a week (W2026-09-28),
// 2026-09 for a month.
func (p Period) Key() string {
	switch p.Type {
	case Daily:
		return p.Start.Format("2006-01-02")
	case Weekly:
		return "W" + p.Start.Format("2006-01-02")
	}
	return p.Start.Format("2006-01")
}

// Label names the period in Chinese as a bulletin's title does:
// 2026年9月30日, 2026年9月28日—10月4日, 2026年9月.
func (p Period) Label() string {
	switch p.Type {
	case Daily:
		return p.Start.Format("2006年1月2日")
	case Weekly:
		last := p.End.AddDate(0, 0, -1)
		if last.Year() != p.Start.Year() {
			return p.Start.Format("2006年1月2日") + "—" + last.Format("2006年1月2日")
		}
		return p.Start.Format("2006年1月2日") + "—" + last.Format("1月2日")
	}
	return p.Start.Format("2006年1月")
}

// Range writes the period's days for the title block: 2026年9月1日—2026年9月30日.
func (p Period) Range() string {
	last := p.End.AddDate(0, 0, -1)
	if p.Type == Daily {
		return p.Start.Format("2006年1月2日")
	}
	return p.Start.Format("2006年1月2日") + "—" + last.Format("2006年1月2日")
}

// String is the type and key, for logs: monthly 2026-09.
func (p Period) String() string { return fmt.Sprintf("%s %s", p.Type, p.Key()) }
