package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date without a time zone, counted in days since
// 1970-01-01 (Date 0). Working-day rules are about dates, not instants, and
// an integer makes the per-record arithmetic cheap.
type Date int32

// DateOf returns the date y-m-d. Like time.Date it normalizes out-of-range
// months and days: DateOf(2026, 2, 29) is 2026-03-01.
func DateOf(y int, m time.Month, d int) Date {
	// Fold the month into 1..12 first, carrying whole years.
	mm := int(m) - 1
	y += floorDiv(mm, 12)
	mm = mm - 12*floorDiv(mm, 12) + 1
	return Date(daysFromCivil(int64(y), mm) + int64(d) - 1)
}

// daysFromCivil returns the days since 1970-01-01 of the first of month m
// (1..12) of year y, in the proleptic Gregorian calendar (H. Hinnant's
// days_from_civil).
func daysFromCivil(y int64, m int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := int64(m + 9)
	if m > 2 {
		mp = int64(m - 3)
	}
	doy := (153*mp + 2) / 5
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Civil returns the year, month and day of d.
func (d Date) Civil() (y int, m time.Month, day int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = time.Month(mp + 3)
	} else {
		m = time.Month(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, day
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday(mod(int64(d)+4, 7))
}

// String formats d as "2006-01-02".
func (d Date) String() string {
	y, m, day := d.Civil()
	if y < 0 || y > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
	}
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-',
		byte('0' + day/10), byte('0' + day%10),
	}
	return string(b[:])
}

// ParseDate parses a date written "2006-01-02" (four-digit year, two-digit
// month and day) and rejects dates that do not exist, such as 2026-02-29.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	num := func(part string) int {
		n := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return -1
			}
			n = n*10 + int(part[i]-'0')
		}
		return n
	}
	y, m, d := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 0 || m < 0 || d < 0 {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return 0, fmt.Errorf("date %q: no such day", s)
	}
	return DateOf(y, time.Month(m), d), nil
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return int(DateOf(y, m+1, 1) - DateOf(y, m, 1))
}

// floorDiv and mod round toward negative infinity, which day arithmetic
// around 1970 and before needs.
func floorDiv[T int | int64](a, b T) T {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod[T int | int64](a, b T) T {
	return a - b*floorDiv(a, b)
}
