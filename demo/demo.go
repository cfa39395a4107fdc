// Package demo plays a province's government service systems live, so that
// Yiping's screens have something real-looking to show on first run and
// its collectors something to pull from: the 一体化政务服务平台's cases
// and 好差评 ratings, the 12345 hotline's tickets and calls, and the item
// catalog.
//
// The province's regions come from the GB/T 2260 table (package region);
// volumes and rates are calibrated to SPEC.md section 11 (about 7,500
// tickets a day, answer rate 95.5%, ticket satisfaction 85.37%, 93% of items
// online, 86% fully online). Arrivals follow a daily rhythm (peaks 9–11
// and 14–17, quiet nights), fewer on weekends and official holidays
// (package calendar). Three named counties lag on timeliness and
// satisfaction, and now and then one category of tickets surges in one
// county for an hour or two.
//
// Every record's whole lifecycle is decided when it is created, from the
// seed and the simulated minute alone: history is reproducible whatever
// the steps in which time advanced, and a restarted demo plays the same
// records under the same ids. The API shows the part of each lifecycle
// that has happened: a case comes as submitted, then again (same id,
// newer updated_at) accepted, then closed.
//
// The demo serves the HTTP pull API of a platform (Handler) and can push
// changes to an intake (Pusher). It keeps a sliding window of records
// (35 days by default) in compact form and fills it at startup in about a
// second, so indicators are meaningful immediately.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

// Config sets up a Demo. Zero fields take the defaults given.
type Config struct {
	// Province is the GB/T 2260 code of the province played (default
	// "620000", Gansu).
	Province string
	// Seed makes the records; the same seed gives the same records.
	Seed int64
	// Clock is the wall clock (default time.Now). Tests inject a fake.
	Clock func() time.Time
	// Speed is how many simulated seconds pass per wall-clock second
	// (default 1: real time). The engine counts records dated after its
	// own clock only once they are due, so serve keeps 1.
	Speed float64
	// Start is the simulated time at the first reading of Clock (default:
	// that reading).
	Start time.Time
	// History is how much simulated past is generated at startup (default
	// 35 days), so that day, week and month indicators have data at once.
	History time.Duration
	// Retain is how long records are kept (default and minimum: the
	// larger of History and 35 days, which covers every record's
	// lifecycle). Memory is proportional to it: about 2.5 MB a day.
	Retain time.Duration
	// Calendar decides working days and holds the business time zone
	// (default: the official Chinese calendar in Asia/Shanghai).
	Calendar *calendar.Calendar
	// Regions is the division table (default region.Default()).
	Regions *region.Table
	// Lagging lists the county codes that lag; nil means Gansu's 泾川县,
	// 岷县 and 宕昌县, or three counties drawn from the seed elsewhere.
	Lagging []string
	// BadRate is the share of records served deliberately unreadable (a
	// 5-digit region code, a date with slashes, a score of 6), to exercise
	// the bad-row paths. Default 0.
	BadRate float64
	// Step is how often Run advances simulated time (default 1s).
	Step time.Duration
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
}

// DefaultRetain is the default sliding window of records.
const DefaultRetain = 35 * 24 * time.Hour

// Demo is a running simulated province. Its methods are safe for
// concurrent use.
type Demo struct {
	m        *model
	log      *slog.Logger
	clock    func() time.Time
	speed    float64
	step     time.Duration
	wall0    time.Time
	start    time.Time
	retain   int64
	history  time.Duration
	backfill time.Duration

	advMu   sync.Mutex // one advance at a time
	cases   *caseState
	tickets *ticketState
	calls   *callState
	items   *catalog
}

// New builds the province and generates its history up to the simulated
// start (Config.History of it), which takes about a second for 35 days.
func New(cfg Config) (*Demo, error) {
	if cfg.Province == "" {
		cfg.Province = "620000"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.Speed < 0 {
		return nil, fmt.Errorf("demo: speed %v is negative", cfg.Speed)
	}
	if cfg.History == 0 {
		cfg.History = DefaultRetain
	}
	if cfg.History < 0 {
		return nil, fmt.Errorf("demo: history %v is negative", cfg.History)
	}
	cfg.Retain = max(cfg.Retain, cfg.History, DefaultRetain)
	if cfg.Calendar == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			// No zoneinfo on the machine: China has had no DST since 1991.
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Calendar = calendar.Default(loc)
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.BadRate < 0 || cfg.BadRate > 1 {
		return nil, fmt.Errorf("demo: bad rate %v is not within [0, 1]", cfg.BadRate)
	}
	if cfg.Step <= 0 {
		cfg.Step = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	wall0 := cfg.Clock()
	if cfg.Start.IsZero() {
		cfg.Start = wall0
	}
	m, err := newModel(&cfg)
	if err != nil {
		return nil, err
	}
	d := &Demo{
		m: m, log: cfg.Logger.With("component", "demo"), clock: cfg.Clock, speed: cfg.Speed, step: cfg.Step,
		wall0: wall0, start: cfg.Start, retain: int64(cfg.Retain / time.Second), history: cfg.History,
	}
	began := time.Now()
	from := (cfg.Start.Unix() - int64(cfg.History/time.Second)) / minute
	d.items = newCatalog(m, from*minute)
	d.items.next, d.items.h = from, from*minute
	d.cases = &caseState{m: m, cat: d.items, next: from}
	d.tickets = &ticketState{m: m, next: from}
	d.calls = &callState{m: m, next: from}
	d.cases.h, d.tickets.h, d.calls.h = from*minute, from*minute, from*minute
	d.advanceTo(cfg.Start.Unix())
	d.backfill = time.Since(began)
	st := d.Stats()
	d.log.Info("demo platform ready", "province", cfg.Province, "now", st.Now.Format(time.RFC3339),
		"history", cfg.History.String(), "backfill", d.backfill.Round(time.Millisecond).String(),
		"cases", st.Records[record.KindCase], "evaluations", st.Records[record.KindEvaluation],
		"tickets", st.Records[record.KindTicket], "calls", st.Records[record.KindCall],
		"items", st.Records[record.KindItem], "lagging", d.Lagging())
	return d, nil
}

// simNow is the simulated instant of the wall clock's reading.
func (d *Demo) simNow() time.Time {
	el := d.clock().Sub(d.wall0)
	return d.start.Add(time.Duration(float64(el) * d.speed))
}

// Advance generates the records up to the simulated present. Run calls it
// every Step; call it directly to drive a Demo without Run.
func (d *Demo) Advance() { d.advanceTo(d.simNow().Unix()) }

// advanceTo makes every kind complete up to the minute containing t. The
// kinds are independent and advance in parallel.
func (d *Demo) advanceTo(t int64) {
	d.advMu.Lock()
	defer d.advMu.Unlock()
	h := t / minute * minute
	var wg sync.WaitGroup
	wg.Go(func() { d.cases.advance(h, d.retain) })
	wg.Go(func() { d.tickets.advance(h, d.retain) })
	wg.Go(func() { d.calls.advance(h, d.retain) })
	wg.Go(func() { d.items.advance(h) })
	wg.Wait()
}

// Run advances simulated time every Step until ctx is done, then returns
// nil: stopping is the normal end of a demo.
func (d *Demo) Run(ctx context.Context) error {
	t := time.NewTicker(d.step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			d.Advance()
		}
	}
}

// Now returns the simulated instant up to which records exist: every
// change before it is served, none after it. It moves by whole minutes.
func (d *Demo) Now() time.Time {
	d.cases.mu.RLock()
	defer d.cases.mu.RUnlock()
	return time.Unix(d.cases.h, 0).In(d.m.loc)
}

// Lagging returns the codes of the lagging counties.
func (d *Demo) Lagging() []string {
	out := make([]string, len(d.m.lagging))
	for i, idx := range d.m.lagging {
		out[i] = d.m.regions[idx].code
	}
	return out
}

// Surges returns the hotline surges that start in [from, to).
func (d *Demo) Surges(from, to time.Time) []Surge {
	var out []Surge
	for day := d.m.dayOf(from.Unix()) - 1; d.m.dayStart(day) < to.Unix(); day++ {
		s, ok := d.m.surgeOn(day)
		if !ok || s.start < from.Unix() || s.start >= to.Unix() {
			continue
		}
		out = append(out, Surge{
			Region: d.m.regions[d.m.counties[s.county].idx].code, Category: categories[s.category],
			Start: time.Unix(s.start, 0).In(d.m.loc), End: time.Unix(s.end, 0).In(d.m.loc), Tickets: s.tickets,
		})
	}
	return out
}

// Stats describes a Demo's state.
type Stats struct {
	// Now is the simulated present (see Demo.Now).
	Now time.Time
	// Backfill is how long New took to generate the history.
	Backfill time.Duration
	// Records counts the records of each kind in the window, by
	// record.Kind (each counted once, in its newest version).
	Records [record.NumKinds]int
}

// Stats returns counts of what the demo holds.
func (d *Demo) Stats() Stats {
	st := Stats{Now: d.Now(), Backfill: d.backfill}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		s := d.series(k)
		unlock := s.rlock()
		n := 0
		for _, e := range s.keys() {
			if at, ok := s.latest(e.seq); ok && at == e.at {
				n++
			}
		}
		unlock()
		st.Records[k] = n
	}
	return st
}

// series returns the API view of a kind.
func (d *Demo) series(k record.Kind) series {
	switch k {
	case record.KindCase:
		return caseSeries{d.cases}
	case record.KindEvaluation:
		return evalSeries{d.cases}
	case record.KindTicket:
		return ticketSeries{d.tickets}
	case record.KindCall:
		return callSeries{d.calls}
	}
	return d.items
}

// Department is one bureau or unit that the demo's records name by code.
type Department struct {
	Code string // as in dept_code and unit_code
	Name string
}

// Departments lists the departments and units the demo uses, for screens
// that show names beside codes.
func Departments() []Department {
	out := make([]Department, 0, len(departments)+len(utilityUnits))
	for _, d := range departments {
		out = append(out, Department{d.code, d.name})
	}
	for _, d := range utilityUnits {
		out = append(out, Department{d.code, d.name})
	}
	return out
}
