package trend

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
)

// sinceStep is the resolution of Surge.Since: Surges walks back from now
// in steps of it while the series still alarmed.
const sinceStep = 10

// Surges returns the series surging at now, highest score first. Two
// windows are judged, each against the same window of the past days:
// today so far (00:00 to now's minute), and unless cfg.DayOnly the last
// 60 minutes (from 00:00 in the first hour of a day). Each series is
// judged on the days before today that have data (see covered) and
// today, so EARS's 7 days are the 7 days with data before today; a series
// without enough of them for the method (EARS: 8 to 12 days, the NB
// CUSUM: a week of baseline before its 7-day run) is not judged.
// cfg should have passed Validate; an unknown method finds nothing.
func (c *Counts) Surges(now time.Time, cfg Config) []Surge {
	cfg = cfg.withDefaults()
	today := c.cal.DayOf(now.UnixNano())
	sod := c.cal.StartOfDay(today)
	end := int(min(max((now.UnixNano()-sod)/minuteNanos, 0), minutesPerDay-1))

	c.mu.RLock()
	defer c.mu.RUnlock()
	days := append(c.covered(today), today)
	j := judge{cfg: cfg, kappa: math.Log(cfg.Shift), types: make([]uint8, len(days)), ages: make([]int, len(days)),
		tickets: make([]*dayTickets, len(days)), vals: make([]float64, len(days))}
	for i, d := range days {
		if !c.cal.IsWorkday(d) {
			j.types[i] = restday
		}
		j.ages[i] = int(today - d)
	}
	sinceOf := func(m int) time.Time { return time.Unix(0, sod+int64(m)*minuteNanos).In(now.Location()) }

	var out []Surge
	for k, s := range c.series {
		i, ok := s.find(today)
		if !ok {
			continue // nothing today: nothing surges
		}
		t := &s.days[i]
		dayN, hourN := t.count(0, end), t.count(hourStart(end), end)
		dayOK, hourOK := dayN >= cfg.MinCount, !cfg.DayOnly && hourN >= cfg.MinCount
		if !dayOK && !hourOK {
			continue
		}
		j.load(s, days)
		var best *Surge
		for _, w := range []Window{Day, Hour} {
			if w == Day && !dayOK || w == Hour && !hourOK {
				continue
			}
			r, ok := j.eval(w, end)
			if !ok || !r.Alarm {
				continue
			}
			since := sinceOf(j.since(w, end))
			if best != nil && r.Score <= best.Score {
				best.Since = minTime(best.Since, since)
				continue
			}
			n := dayN
			if w == Hour {
				n = hourN
			}
			if best != nil {
				since = minTime(best.Since, since)
			}
			best = &Surge{Window: w, Count: n, Expected: r.Expected, Upper: r.Upper, Score: r.Score, Since: since}
		}
		if best != nil {
			best.Category, best.Region, best.Method = c.cats[k.cat], c.regs[k.reg].code, cfg.Method
			out = append(out, *best)
		}
	}
	slices.SortFunc(out, func(a, b Surge) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Region, b.Region))
	})
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// hourStart is where the hourly window ending at minute end starts: an
// hour before, but not before midnight, so that every window lies in one
// day of every series.
func hourStart(end int) int { return max(end-60, 0) }

// judge runs one Surges call's detector over series, reusing its buffers.
type judge struct {
	cfg     Config
	kappa   float64
	types   []uint8 // per day judged (the covered days, then today): working or rest day
	ages    []int   // days before today
	tickets []*dayTickets
	vals    []float64
	nb      []result
	mu0     []float64
	none    dayTickets // a day without tickets in the series
}

// load points tickets at the series' days judged.
func (j *judge) load(s *series, days []calendar.Date) {
	k := 0
	for i, d := range days {
		for k < len(s.days) && s.days[k].day < d {
			k++
		}
		if k < len(s.days) && s.days[k].day == d {
			j.tickets[i] = &s.days[k]
		} else {
			j.tickets[i] = &j.none
		}
	}
}

// eval judges the window w ending at minute end on every day loaded.
func (j *judge) eval(w Window, end int) (result, bool) {
	lo := 0
	if w == Hour {
		lo = hourStart(end)
	}
	for i, t := range j.tickets {
		j.vals[i] = float64(t.count(lo, end))
	}
	return j.detect()
}

// since walks back from minute end in sinceStep minutes while the series
// alarmed in the window w ending there, and returns the earliest end at
// which it did.
func (j *judge) since(w Window, end int) int {
	today := j.tickets[len(j.tickets)-1]
	for m := end - sinceStep; m > 0; m -= sinceStep {
		lo := 0
		if w == Hour {
			lo = hourStart(m)
		}
		if today.count(lo, m) < j.cfg.MinCount {
			break
		}
		if r, ok := j.eval(w, m); !ok || !r.Alarm {
			break
		}
		end = m
	}
	return end
}

// detect runs the method on vals, whose last value is today.
func (j *judge) detect() (result, bool) {
	cfg := j.cfg
	if cfg.Method != NBCUSUM {
		return earsC(cfg.Method, j.vals, earsBaseline, cfg.Threshold, cfg.MinSigma)
	}
	// The run is the last runDays days, the baseline the weeks before.
	runFrom, baseFrom := len(j.ages), len(j.ages)
	for i := len(j.ages) - 1; i >= 0; i-- {
		switch a := j.ages[i]; {
		case a < runDays:
			runFrom = i
		case a < runDays+7*cfg.BaselineWeeks:
			baseFrom = i
		}
	}
	if runFrom-baseFrom < 7 {
		return result{}, false // less than a week of baseline
	}
	b := fitNB(j.vals[baseFrom:runFrom], j.types[baseFrom:runFrom], pseudoDays, cfg.MinDispersion)
	floor := muFloor(cfg.MinSigma, b.alpha)
	j.mu0 = j.mu0[:0]
	for _, t := range j.types[runFrom:] {
		j.mu0 = append(j.mu0, math.Max(b.mean[t], floor))
	}
	j.nb = nbCUSUM(j.vals[runFrom:], j.mu0, b.alpha, j.kappa, cfg.Threshold, j.nb[:0])
	return j.nb[len(j.nb)-1], true
}
