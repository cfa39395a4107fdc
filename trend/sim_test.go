package trend

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/demo"
	"github.com/yiping-ioc/yiping/region"
)

// A simulation replays the demo platform's hotline (package demo: about
// 7,500 tickets a day, and on ~45% of days one category surging in one
// county for 1–2 hours with 4–8 times its usual daily count) into Counts,
// and asks Surges every step of simulated time. The demo's injected
// surges are the ground truth.
type simulation struct {
	seed     int64
	from     time.Time     // first judged day, 00:00
	warmDays int           // days fed before from, never judged
	days     int           // days judged
	step     time.Duration // how often Surges is asked
	configs  []Config
}

// simScore is one configuration's record over a simulation.
type simScore struct {
	cfg      Config
	surges   int             // injected surges in the judged days
	detected int             // of them, found on their own county's series the same day
	delays   []time.Duration // surge start → first alarm on its county series
	// falseAlarms counts series-days that alarmed when no surge of their
	// category had begun in their region, above it or below it.
	falseAlarms int
	// byLevel splits falseAlarms by the region's level.
	byLevel map[region.Level]int
	days    int
	calls   int
	busy    time.Duration // time spent in Surges
}

func (s *simScore) rate() float64 { return float64(s.detected) / float64(max(s.surges, 1)) }

func (s *simScore) perDay() float64 { return float64(s.falseAlarms) / float64(s.days) }

// delay returns the q-quantile of the delays (nearest rank), -1 if none.
func (s *simScore) delay(q float64) time.Duration {
	if len(s.delays) == 0 {
		return -1
	}
	d := slices.Clone(s.delays)
	slices.Sort(d)
	i := int(q*float64(len(d))+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (s *simScore) name() string {
	c := s.cfg.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "%s threshold %g", c.Method, c.Threshold)
	if c.Method == NBCUSUM {
		fmt.Fprintf(&b, " shift %g", c.Shift)
	}
	if c.MinCount != 5 {
		fmt.Fprintf(&b, " min_count %d", c.MinCount)
	}
	if c.DayOnly {
		b.WriteString(" day only")
	}
	if c == (Config{}).withDefaults() {
		b.WriteString(" (default)")
	}
	return b.String()
}

// related reports whether an alarm in region r can be caused by a surge
// in county: r is the county, one of its ancestors or one of its
// townships.
func related(r, county string) bool {
	if r == county {
		return true
	}
	for _, a := range region.Code(county).Ancestors(nil) {
		if string(a) == r {
			return true
		}
	}
	p, ok := region.Code(r).Parent()
	return ok && string(p) == county
}

// run replays the simulation and returns each configuration's score, and
// the counts as they stand at its end.
func (sim simulation) run(tb testing.TB) ([]*simScore, *Counts) {
	tb.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	cal := calendar.Default(loc)
	end := sim.from.AddDate(0, 0, sim.days)
	d, err := demo.New(demo.Config{
		Seed: sim.seed, Clock: func() time.Time { return end }, History: time.Minute,
		Calendar: cal, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	now := sim.from.AddDate(0, 0, -sim.warmDays)
	counts := NewCounts(CountsConfig{Calendar: cal, Clock: func() time.Time { return now }})
	for day := now; day.Before(sim.from); day = day.AddDate(0, 0, 1) {
		now = day.AddDate(0, 0, 1).Add(-time.Nanosecond)
		counts.Add(d.Tickets(day, day.AddDate(0, 0, 1)))
	}

	injected := d.Surges(sim.from, end)
	scores := make([]*simScore, len(sim.configs))
	for i, c := range sim.configs {
		scores[i] = &simScore{cfg: c, surges: len(injected), days: sim.days, byLevel: map[region.Level]int{}}
	}
	type seriesDay struct {
		cfg              int
		category, region string
		day              time.Time
	}
	falseSeen := map[seriesDay]bool{}
	found := map[[2]int]bool{} // (config, surge) → found
	for day := sim.from; day.Before(end); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		tickets := d.Tickets(day, next)
		fed := 0
		var today []demo.Surge
		for _, g := range injected {
			if !g.Start.Before(day) && g.Start.Before(next) {
				today = append(today, g)
			}
		}
		for tau := day.Add(sim.step); !tau.After(next); tau = tau.Add(sim.step) {
			k := fed
			for k < len(tickets) && tickets[k].Received < tau.UnixNano() {
				k++
			}
			now = tau
			if !tau.Before(next) {
				now = next.Add(-time.Nanosecond) // still today
			}
			counts.Add(tickets[fed:k])
			fed = k
			for ci, cfg := range sim.configs {
				began := time.Now()
				alarms := counts.Surges(now, cfg)
				scores[ci].busy += time.Since(began)
				scores[ci].calls++
				for _, a := range alarms {
					explained := false
					for _, g := range today {
						if a.Category != g.Category || !related(a.Region, g.Region) || tau.Before(g.Start) {
							continue
						}
						explained = true
						gi := slices.IndexFunc(injected, func(x demo.Surge) bool { return x.Start.Equal(g.Start) })
						if a.Region == g.Region && !found[[2]int{ci, gi}] {
							found[[2]int{ci, gi}] = true
							scores[ci].detected++
							scores[ci].delays = append(scores[ci].delays, tau.Sub(g.Start))
						}
					}
					k := seriesDay{ci, a.Category, a.Region, day}
					if !explained && !falseSeen[k] {
						falseSeen[k] = true
						scores[ci].falseAlarms++
						scores[ci].byLevel[region.Code(a.Region).Level()]++
					}
				}
			}
		}
	}
	return scores, counts
}

// table formats scores as the markdown table of docs/PERFORMANCE.md.
func table(scores []*simScore) string {
	var b strings.Builder
	b.WriteString("| detector | surges found | delay p50 | delay p90 | false alarms / day (county, township, city, province) | Surges call |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	mins := func(d time.Duration) string {
		if d < 0 {
			return "—"
		}
		return fmt.Sprintf("%.0f min", d.Minutes())
	}
	for _, s := range scores {
		fmt.Fprintf(&b, "| %s | %d/%d (%.0f%%) | %s | %s | %.2f (%d, %d, %d, %d) | %.1f ms |\n", s.name(), s.detected, s.surges,
			100*s.rate(), mins(s.delay(0.5)), mins(s.delay(0.9)), s.perDay(),
			s.byLevel[region.County], s.byLevel[region.Township], s.byLevel[region.City], s.byLevel[region.Province],
			float64(s.busy.Microseconds())/1000/float64(max(s.calls, 1)))
	}
	return b.String()
}
