package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
)

// The words of the texts the server sends: screens and messages show them
// as they are.

var (
	periodZH     = [engine.NumPeriods]string{"今日", "本周", "本月", "本季度", "本年"}
	periodEN     = [engine.NumPeriods]string{"today", "this week", "this month", "this quarter", "this year"}
	prevPeriodZH = [engine.NumPeriods]string{"昨日", "上周", "上月", "上季度", "上年"}
	prevPeriodEN = [engine.NumPeriods]string{"yesterday", "last week", "last month", "last quarter", "last year"}
	// unitsZH names the units of a level in a ranking ("13 个县区").
	unitsZH = map[region.Level]string{region.City: "市州", region.County: "县区", region.Township: "乡镇"}
	unitsEN = map[region.Level]string{region.City: "cities", region.County: "counties", region.Township: "townships"}
)

// fmtValue formats an indicator value as the screens do.
func fmtValue(rate bool, x float64) string { return numtext.Value(rate, x) }

// fmtScore formats a composite score with one decimal, as the screens do.
func fmtScore(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', 1, 64) }

// fmtPoints formats a difference: percentage points for a rate.
func fmtPoints(rate bool, d float64) string {
	if rate {
		return strconv.FormatFloat(d*100, 'f', 2, 64)
	}
	return strconv.FormatFloat(d, 'f', -1, 64)
}

// fmtMinutes is a duration in whole minutes, for silent sources.
func fmtMinutes(d time.Duration) string { return strconv.FormatInt(int64(d/time.Minute), 10) }

// fmtClock is an instant as a time of day in the business zone, with the
// date when it is not on now's day.
func fmtClock(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}

// stamp formats an instant for a payload: RFC 3339 in the business zone,
// "" for the zero time.
// shortStamp shows an instant of the business time zone as screens and
// phones show it ("06-01 10:01"); "" for none.
func shortStamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("01-02 15:04")
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

// worseWord is "below" for higher-is-better, "above" for lower-is-better.
func worseWord(lower bool) (zh, en string) {
	if lower {
		return "高于", "above"
	}
	return "低于", "below"
}

// subjectOf prefixes an indicator name with its period: "今日接通率".
func subjectOf(nameZH, nameEN string, p engine.Period, periodic bool) (zh, en string) {
	if !periodic {
		return nameZH, nameEN
	}
	return periodZH[p] + nameZH, fmt.Sprintf("%s %s", nameEN, periodEN[p])
}
