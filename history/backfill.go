package history

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/store"
)

// ReplayEngine is what the backfiller reads: a replay of the records the
// engine holds as of any past instant, and the engine's clock (which says
// what "today" is).
type ReplayEngine interface {
	Evaluate(at int64, p engine.Period, byDept bool) []engine.Result
	Now() int64
}

// BackfillStore is where backfilled points go and how the backfiller learns
// which days the store already has (a store.Store subset). It writes to the
// store directly, not through store.Writer: the write policy dedups against
// the newest value it forwarded, which says nothing about past days.
type BackfillStore interface {
	Write(ctx context.Context, pts []store.Point) error
	Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error)
}

// Clock is the backfiller's time source for its waits, so tests can drive
// Run without sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// BackfillConfig sets up a Backfiller. Zero fields take defaults.
type BackfillConfig struct {
	// Days is how many days before today are filled; default 35 (what the
	// demo keeps, and more than the 30 days of a wall screen's trend).
	Days int
	// Periods filled for every day; default all five.
	Periods []engine.Period
	// Delay before the first pass; default 2 minutes, so that the first
	// collection brings the platform's backlog in before it is replayed.
	Delay time.Duration
	// Interval between passes; default 6 hours. A pass over days the
	// store has costs one replay and a few store reads.
	Interval time.Duration
	// Ready, when set, is asked before each pass; while it says false the
	// pass waits (polling every ReadyPoll, default 1 minute), because a
	// day written from half a backlog would stay wrong: written days are
	// never rewritten. serve passes "every polled source has succeeded
	// once", i.e. the first full pull is in.
	Ready     func() bool
	ReadyPoll time.Duration
	// MaxWait bounds the wait for Ready (default 30 minutes): a source
	// that never succeeds must not keep the others' history away for good.
	MaxWait time.Duration
	// MinPause is the least pause after each replay; the pause is at least
	// as long as the replay took, so the engine's locks are held at most
	// about half of the time during a pass. Default 50ms.
	MinPause time.Duration
	// Clock drives the waits and measures durations; default the wall clock.
	Clock  Clock
	Logger *slog.Logger
}

// Backfiller fills the history store's missing past from the records the
// engine holds: one point per series per day, at the day's end, for the days
// before the store began (a fresh install, the demo, or days the server was
// down). Without it, trends and 环比/同比 show "—" for weeks although the
// records to compute them are at hand.
//
// Which days the store has is decided by a probe series per period: the
// region-level volume count (case_volume, call_volume, ticket_volume or
// eval_count) with the largest year-to-date count as of yesterday's end,
// which is the top-level region (a province's count is at least any of its
// children's) of the busiest record kind. The live recorder writes every
// series at least hourly (store.Writer's snapshot) and a backfill writes all
// of one (day, period) in one batch, so a day on which either ran has the
// probe; one series per day keeps the check at one store read. A day with any
// point of the probe is left as it is, also when it was recorded live for
// part of the day only: what the screens showed then is kept.
//
// Departments are not backfilled: they are about 25 times the regions'
// series (and the replay with departments costs more too), while the trends
// and comparisons that are empty on a fresh install are the regions'.
type Backfiller struct {
	cfg BackfillConfig
	eng ReplayEngine
	st  BackfillStore
	loc *time.Location
}

// NewBackfiller returns a backfiller over its dependencies; loc is the
// business time zone that says where days begin (nil: store.DefaultLocation).
func NewBackfiller(cfg BackfillConfig, eng ReplayEngine, st BackfillStore, loc *time.Location) *Backfiller {
	if cfg.Days <= 0 {
		cfg.Days = 35
	}
	if cfg.Periods == nil {
		cfg.Periods = engine.AllPeriods
	}
	if cfg.Delay <= 0 {
		cfg.Delay = 2 * time.Minute
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 6 * time.Hour
	}
	if cfg.ReadyPoll <= 0 {
		cfg.ReadyPoll = time.Minute
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Minute
	}
	if cfg.MinPause <= 0 {
		cfg.MinPause = 50 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if loc == nil {
		loc = store.DefaultLocation()
	}
	return &Backfiller{cfg: cfg, eng: eng, st: st, loc: loc}
}

// Run waits Delay (and for Ready), runs a pass, and repeats every Interval
// until ctx ends. A failed pass is logged; the next one resumes where it
// stopped, since every finished (day, period) is in the store.
func (b *Backfiller) Run(ctx context.Context) {
	if !b.sleep(ctx, b.cfg.Delay) {
		return
	}
	for {
		if !b.waitReady(ctx) {
			return
		}
		if _, err := b.Backfill(ctx); err != nil && ctx.Err() == nil {
			b.cfg.Logger.Error("backfill pass", "err", err)
		}
		if !b.sleep(ctx, b.cfg.Interval) {
			return
		}
	}
}

// waitReady polls Ready until it says true or MaxWait has passed; it
// reports false when ctx ended.
func (b *Backfiller) waitReady(ctx context.Context) bool {
	if b.cfg.Ready == nil || b.cfg.Ready() {
		return true
	}
	b.cfg.Logger.Info("backfill waits for the first collection of every source")
	for waited := time.Duration(0); ; waited += b.cfg.ReadyPoll {
		if waited >= b.cfg.MaxWait {
			b.cfg.Logger.Warn("backfill: sources still not collected, filling from the records at hand", "waited", waited.String())
			return true
		}
		if !b.sleep(ctx, b.cfg.ReadyPoll) {
			return false
		}
		if b.cfg.Ready() {
			return true
		}
	}
}

// sleep waits d on the clock; false when ctx ended first.
func (b *Backfiller) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-b.cfg.Clock.After(d):
		return true
	}
}

// passStats counts what a pass did, for its log line.
type passStats struct {
	points, written, present, empty int
}

// Backfill runs one pass now: for each of the Days days before today
// (newest first) and each period, unless the store has the probe series on
// that day, it replays the records as of the day's end and writes every
// region-level value at that instant. It returns how many points it wrote;
// on a cancelled ctx it stops between replays and returns ctx's error with
// the points written so far (all of them in whole (day, period) batches).
func (b *Backfiller) Backfill(ctx context.Context) (int, error) {
	start := b.cfg.Clock.Now()
	today := time.Unix(0, b.eng.Now()).In(b.loc)
	y, m, d := today.Date()
	yesterdayEnd := endOfDay(time.Date(y, m, d-1, 0, 0, 0, 0, b.loc))

	// The survey: yesterday's year to date, to choose the probe. It is
	// also the (yesterday, year) replay, reused below.
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	survey := b.evaluate(ctx, yesterdayEnd, engine.Year)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	probe, ok := chooseProbe(survey)
	if !ok {
		b.cfg.Logger.Info("backfill: no records before today, nothing to fill")
		return 0, nil
	}
	var st passStats
	for i := 1; i <= b.cfg.Days; i++ {
		dayStart := time.Date(y, m, d-i, 0, 0, 0, 0, b.loc)
		dayEnd := endOfDay(dayStart)
		dayTook := b.cfg.Clock.Now()
		evaluated, catalogDone := false, false
		for _, p := range b.cfg.Periods {
			probe.Period = p.String()
			has, err := b.st.Series(ctx, probe, dayStart, dayEnd, store.RollupDay)
			if err != nil {
				return st.points, fmt.Errorf("history: backfill: probe %s on %s: %w", probe, dayStart.Format(time.DateOnly), err)
			}
			if len(has) > 0 {
				st.present++
				continue
			}
			if err := ctx.Err(); err != nil {
				return st.points, err
			}
			var rs []engine.Result
			if i == 1 && p == engine.Year && survey != nil {
				rs, survey = survey, nil
			} else {
				rs = b.evaluate(ctx, dayEnd, p)
			}
			if err := ctx.Err(); err != nil {
				return st.points, err
			}
			evaluated = true
			pts, invalid, example := points(rs, p, dayEnd, !catalogDone)
			if pts == nil {
				// Nothing falls in this period up to that day: the records
				// do not reach back so far. A 0 there would draw a false
				// zero on the trend; no point is what the live recorder
				// would have left too.
				st.empty++
				continue
			}
			if invalid > 0 {
				b.cfg.Logger.Warn("backfill: values not recordable", "count", invalid, "example", example)
			}
			if err := b.st.Write(ctx, pts); err != nil {
				return st.points, fmt.Errorf("history: backfill %s %s: write %d points: %w", dayStart.Format(time.DateOnly), p, len(pts), err)
			}
			catalogDone = true
			st.points += len(pts)
			st.written++
		}
		if evaluated {
			b.cfg.Logger.Info("backfill progress", "day", dayStart.Format(time.DateOnly), "days_done", i, "days_total", b.cfg.Days,
				"points", st.points, "took", b.cfg.Clock.Now().Sub(dayTook).Round(time.Millisecond).String())
		}
	}
	if f, ok := b.st.(interface{ Flush(context.Context) error }); ok && st.points > 0 {
		if err := f.Flush(ctx); err != nil {
			return st.points, fmt.Errorf("history: backfill: flush: %w", err)
		}
	}
	b.cfg.Logger.Info("backfill pass", "points", st.points, "written", st.written, "present", st.present, "empty", st.empty,
		"probe", probe.Indicator+"@"+probe.Region, "took", b.cfg.Clock.Now().Sub(start).Round(time.Millisecond).String())
	return st.points, nil
}

// evaluate replays the records as of at for period p (region level), then
// pauses at least as long as the replay took: the replay holds each record
// kind's lock while it scans, and the live flow must get its turn.
func (b *Backfiller) evaluate(ctx context.Context, at time.Time, p engine.Period) []engine.Result {
	t0 := b.cfg.Clock.Now()
	rs := b.eng.Evaluate(at.UnixNano(), p, false)
	b.sleep(ctx, max(b.cfg.MinPause, b.cfg.Clock.Now().Sub(t0)))
	return rs
}

// chooseProbe picks the region-level volume count (case_volume,
// call_volume, ticket_volume or eval_count) with the largest value: the
// top-level region of the busiest record kind. ok is false when every
// count is 0.
func chooseProbe(rs []engine.Result) (store.SeriesKey, bool) {
	var best engine.Result
	for _, r := range rs {
		if r.Dept != store.AllDepts || r.Numerator <= best.Numerator || !store.ValidRegion(r.Region) {
			continue
		}
		switch r.Indicator {
		case "case_volume", "call_volume", "ticket_volume", "eval_count":
			best = r
		}
	}
	if best.Numerator == 0 {
		return store.SeriesKey{}, false
	}
	return store.SeriesKey{Indicator: best.Indicator, Region: best.Region}, true
}

// points turns one replay into points at instant at, as Recorder.record
// does: region-level rows only, catalog indicators with period "" (when
// withCatalog), keys the store cannot hold counted and skipped. It returns
// nil when no periodic value has a count: nothing happened in the period.
func points(rs []engine.Result, p engine.Period, at time.Time, withCatalog bool) (pts []store.Point, invalid int, example error) {
	active := false
	for _, r := range rs {
		if r.Dept != store.AllDepts {
			continue
		}
		period := p.String()
		if def, ok := indicator.Lookup(r.Indicator); ok && !def.Periodic {
			if !withCatalog {
				continue
			}
			period = store.PeriodCatalog
		} else if r.Numerator != 0 || r.Denominator != 0 {
			active = true
		}
		pt, err := toPoint(r, period, at)
		if err != nil {
			invalid++
			example = err
			continue
		}
		pts = append(pts, pt)
	}
	if !active {
		return nil, 0, nil
	}
	return pts, invalid, example
}

// endOfDay returns the last instant of the day starting at dayStart: the
// next midnight minus 1ns, so the point belongs to its own day's bucket and
// to every period that contains the day.
func endOfDay(dayStart time.Time) time.Time {
	y, m, d := dayStart.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, dayStart.Location()).Add(-time.Nanosecond)
}
