// Package benchload generates the benchmark workload shared by the store
// benchmarks and scripts/bench-store: the 14 case, evaluation and hotline
// indicators of 1,403 townships (Gansu has 1,403 township-level units; the
// codes here are synthetic 9-digit codes), written in collection cycles
// every five minutes, and a year of hourly history for a few series.
package benchload

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// Townships is the number of township-level units of Gansu.
const Townships = 1403

// Indicators are 14 indicators of the specification; Counts marks counts.
var Indicators = []string{
	"case_volume", "online_case_rate", "full_online_case_rate", "mobile_case_rate", "on_time_rate",
	"overdue_open", "eval_count", "satisfaction_rate", "bad_review_count", "rectify_on_time_rate",
	"ticket_volume", "direct_rate", "ticket_on_time_rate", "answer_rate",
}

// Counts marks the count indicators (no denominator).
var Counts = map[string]bool{"case_volume": true, "overdue_open": true, "eval_count": true, "bad_review_count": true, "ticket_volume": true}

// Regions returns n synthetic township codes under 14 cities.
func Regions(n int) []string {
	out := make([]string, n)
	for i := range out {
		city, county, town := 1+i%14, 1+(i/14)%9, 1+i/126
		out[i] = fmt.Sprintf("62%02d%02d%03d", city, county, town)
	}
	return out
}

// Cycles generates collection cycles: every cycle holds one point per
// (indicator, region), day period, all departments, at a time 5 minutes
// after the previous cycle; values are random walks (a day's counts grow).
type Cycles struct {
	Regions []string
	Start   time.Time
	Step    time.Duration
	rng     *rand.Rand
	num     []int64
	den     []int64
	n       int
}

// NewCycles starts cycles at start.
func NewCycles(regions []string, start time.Time, seed int64) *Cycles {
	n := len(regions) * len(Indicators)
	return &Cycles{Regions: regions, Start: start, Step: 5 * time.Minute, rng: rand.New(rand.NewSource(seed)),
		num: make([]int64, n), den: make([]int64, n)}
}

// SeriesPerCycle is the number of points in one cycle.
func (c *Cycles) SeriesPerCycle() int { return len(c.Regions) * len(Indicators) }

// Next returns the next cycle's points (reusing buf).
func (c *Cycles) Next(buf []store.Point) []store.Point {
	buf = buf[:0]
	t := c.Start.Add(time.Duration(c.n) * c.Step)
	c.n++
	i := 0
	for _, ind := range Indicators {
		for _, r := range c.Regions {
			k := store.SeriesKey{Indicator: ind, Region: r, Period: store.PeriodDay}
			d := int64(c.rng.Intn(6))
			c.den[i] += d
			c.num[i] += int64(c.rng.Intn(int(d) + 1))
			if Counts[ind] {
				buf = append(buf, store.Count(k, t, c.den[i]))
			} else {
				buf = append(buf, store.Ratio(k, t, c.num[i], c.den[i]))
			}
			i++
		}
	}
	return buf
}

// History returns a year (to end) of hourly points for the series of one
// region and every indicator: the data of a one-year daily trend.
func History(region string, end time.Time, days int, seed int64) [][]store.Point {
	rng := rand.New(rand.NewSource(seed))
	out := make([][]store.Point, len(Indicators))
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	for i, ind := range Indicators {
		k := store.SeriesKey{Indicator: ind, Region: region, Period: store.PeriodDay}
		var num, den int64
		for t := start; t.Before(end); t = t.Add(time.Hour) {
			if t.Hour() == 0 {
				num, den = 0, 0
			}
			d := int64(rng.Intn(20))
			den += d
			num += int64(rng.Intn(int(d) + 1))
			if Counts[ind] {
				out[i] = append(out[i], store.Count(k, t, den))
			} else {
				out[i] = append(out[i], store.Ratio(k, t, num, den))
			}
		}
	}
	return out
}
