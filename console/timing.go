package console

import (
	"errors"
	"fmt"
	"time"

	"github.com/yiping-ioc/yiping/engine"
)

// The dates a time parameter may fall on, in the business time zone: no
// platform data is older than 2000, and every store holds instants before
// 2200 (store.MaxTime). Within them zone rules are modern, so no instant
// is shown with a local mean time offset such as +08:05.
const (
	firstDate = "2000-01-01"
	lastDate  = "2199-12-31"
)

// errTimeRange is parseAsOf's error for a time outside firstDate–lastDate.
var errTimeRange = errors.New("time outside " + firstDate + " to " + lastDate)

// parseAsOf reads an as_of value: YYYY-MM-DD is the end of that day in loc
// (its last nanosecond, so a day's values are complete), otherwise RFC 3339
// with an offset. "YYYY-MM-DD HH:MM:SS" (SPEC.md section 3's local form)
// is read in loc. A time outside firstDate–lastDate is errTimeRange.
func parseAsOf(s string, loc *time.Location) (time.Time, error) {
	t, err := parseTime(s, loc)
	if err != nil {
		return t, err
	}
	if t.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, loc)) || !t.Before(time.Date(2200, 1, 1, 0, 0, 0, 0, loc)) {
		return time.Time{}, errTimeRange
	}
	return t, nil
}

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if len(s) == len("2006-01-02") {
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339: %w", err)
		}
		return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond), nil
	}
	if len(s) == len("2006-01-02 15:04:05") && s[10] == ' ' {
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339: %w", err)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339 with an offset: %w", err)
	}
	return t.In(loc), nil
}

// periodStart returns the start of the period of kind p containing t, in
// loc (weeks start on Monday, SPEC.md section 4).
func periodStart(t time.Time, p engine.Period, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch p {
	case engine.Day:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case engine.Week:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case engine.Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case engine.Quarter:
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(y, time.January, 1, 0, 0, 0, 0, loc)
}

// addMonthsClamped moves t by n months keeping the clock time; a day the
// target month lacks becomes its last day (31 March − 1 month = 28
// February), so the result stays in the target month.
func addMonthsClamped(t time.Time, n int, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, loc).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// previousPeriod returns the instant of the previous period that
// corresponds to t (环比).
func previousPeriod(t time.Time, p engine.Period, loc *time.Location) time.Time {
	t = t.In(loc)
	switch p {
	case engine.Day:
		return t.AddDate(0, 0, -1)
	case engine.Week:
		return t.AddDate(0, 0, -7)
	case engine.Month:
		return addMonthsClamped(t, -1, loc)
	case engine.Quarter:
		return addMonthsClamped(t, -3, loc)
	}
	return addMonthsClamped(t, -12, loc)
}

// lastYear returns the instant one year before t (同比); for weeks 52
// weeks before, so that the week and the weekday stay aligned.
func lastYear(t time.Time, p engine.Period, loc *time.Location) time.Time {
	if p == engine.Week {
		return t.In(loc).AddDate(0, 0, -364)
	}
	return addMonthsClamped(t, -12, loc)
}
