package engine

import (
	"fmt"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
)

// Period is a reporting period kind of SPEC.md section 4, in the business
// time zone.
type Period uint8

// The period kinds; weeks start on Monday.
const (
	Day Period = iota
	Week
	Month
	Quarter
	Year
	NumPeriods
)

var periodNames = [NumPeriods]string{"day", "week", "month", "quarter", "year"}

// AllPeriods lists every period kind.
var AllPeriods = []Period{Day, Week, Month, Quarter, Year}

func (p Period) String() string {
	if p < NumPeriods {
		return periodNames[p]
	}
	return fmt.Sprintf("period(%d)", uint8(p))
}

// ParsePeriod reads "day", "week", "month", "quarter" or "year".
func ParsePeriod(s string) (Period, error) {
	for i, n := range periodNames {
		if n == s {
			return Period(i), nil
		}
	}
	return 0, fmt.Errorf("unknown period %q: want day, week, month, quarter or year", s)
}

// Index numbers the periods of kind p so that consecutive periods have
// consecutive indexes; it returns the index of the period containing d.
func (p Period) Index(d calendar.Date) int32 {
	switch p {
	case Day:
		return int32(d)
	case Week:
		// 1970-01-01 was a Thursday; shifting by 3 makes Monday the first day.
		return floorDiv(int32(d)+3, 7)
	}
	y, m, _ := d.Civil()
	return periodIndexOfMonth(p, y, m)
}

func periodIndexOfMonth(p Period, y int, m time.Month) int32 {
	switch p {
	case Month:
		return int32(y*12 + int(m) - 1)
	case Quarter:
		return int32(y*4 + (int(m)-1)/3)
	default:
		return int32(y)
	}
}

// Start returns the first date of the period of kind p with index i.
func (p Period) Start(i int32) calendar.Date {
	switch p {
	case Day:
		return calendar.Date(i)
	case Week:
		return calendar.Date(i*7 - 3)
	case Month:
		return calendar.DateOf(int(i/12), time.Month(i%12+1), 1)
	case Quarter:
		return calendar.DateOf(int(i/4), time.Month(i%4*3+1), 1)
	default:
		return calendar.DateOf(int(i), time.January, 1)
	}
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
