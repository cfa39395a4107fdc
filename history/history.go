// Package history records the engine's indicator values into the history
// store: on every cycle it moves the engine's clock to now, reads every
// indicator for every live period and writes them as points through the
// store's write policy (store.Writer), which forwards only the values that
// changed plus a periodic full snapshot. It is the engine → store step of
// the flow.
//
// A Backfiller fills the past the recorder never saw (a fresh install, the
// demo, days the server was down) from the records the engine holds, by
// replaying them as of each day's end. Backfilled history has day
// resolution: one point per series per day, at the day's last instant, so
// AsOf in the middle of a backfilled day returns the previous day's end (for
// a day-period series that is an earlier period, i.e. no data; for longer
// periods, a value up to a day behind). Catalog indicators are backfilled
// with the catalog the engine holds now, there being no catalog history in
// the records. Live recording takes over from the start of serve.
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

// Engine is what the recorder reads. The recorder does not move the
// engine's clock: one owner does (app's engine clock), and the recorder
// records the values as of the engine's own now.
type Engine interface {
	Now() int64
	AppendResults(dst []engine.Result, p engine.Period, byDept bool) ([]engine.Result, error)
}

// Writer is where points go: a store.Store, usually behind store.Writer.
type Writer interface {
	Write(ctx context.Context, pts []store.Point) error
}

// Config sets up a Recorder. Zero fields take defaults.
type Config struct {
	// Interval between cycles; default 10s.
	Interval time.Duration
	// Periods recorded; default all five.
	Periods []engine.Period
	// ByDept also records the (region, dept) values; default true through
	// NoDept = false.
	NoDept bool
	// DeptEvery records the (region, dept) values on every DeptEvery-th
	// cycle only (and on the first and the last); default 30, 5 minutes at
	// the default interval. Departments are ~25× the regions' series; reading
	// and diffing them every 10 s held the engine long enough to delay live
	// screens by seconds, and department rankings need no finer history.
	DeptEvery int
	Logger    *slog.Logger
}

// Recorder copies engine values into the history store.
type Recorder struct {
	cfg     Config
	eng     Engine
	w       Writer
	cycles  int             // Record calls so far, for DeptEvery
	results []engine.Result // reused between cycles
}

// New returns a recorder over its dependencies.
func New(cfg Config, eng Engine, w Writer) *Recorder {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Periods == nil {
		cfg.Periods = engine.AllPeriods
	}
	if cfg.DeptEvery <= 0 {
		cfg.DeptEvery = 30
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Recorder{cfg: cfg, eng: eng, w: w}
}

// Record runs one cycle: advance the engine to now and write every value
// (departments on every DeptEvery-th cycle). It returns how many points
// were handed to the writer.
func (r *Recorder) Record(ctx context.Context) (int, error) {
	byDept := !r.cfg.NoDept && r.cycles%r.cfg.DeptEvery == 0
	r.cycles++
	return r.record(ctx, byDept)
}

func (r *Recorder) record(ctx context.Context, byDept bool) (int, error) {
	at := time.Unix(0, r.eng.Now())
	var invalid, total int
	var example error
	catalogDone := false
	// One period at a time: with departments a cycle
	// is ~1.35M values, and holding all five periods' results and points
	// at once took the heap to 2 GB.
	for _, p := range r.cfg.Periods {
		// A cycle is seconds of work with departments: the last one at
		// shutdown must give up when its time is out, not hold the
		// process past its stop grace.
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("history: cycle stopped before %s: %w", p, err)
		}
		var err error
		r.results, err = r.eng.AppendResults(r.results[:0], p, byDept)
		if err != nil {
			return total, fmt.Errorf("history: results for %s: %w", p, err)
		}
		// A fresh slice each period: a store may keep what it is given.
		pts := make([]store.Point, 0, len(r.results))
		for i, res := range r.results {
			if i%(1<<16) == 0 && i > 0 {
				if err := ctx.Err(); err != nil {
					return total, fmt.Errorf("history: cycle stopped in %s: %w", p, err)
				}
			}
			period := p.String()
			if def, ok := indicator.Lookup(res.Indicator); ok && !def.Periodic {
				// The catalog has no period: record it once per cycle.
				if catalogDone {
					continue
				}
				period = ""
			}
			pt, err := toPoint(res, period, at)
			if err != nil {
				// Every department code is storable now; a point the
				// store still refuses (an indicator or region it does not
				// know) must not fail the whole cycle: it is counted and
				// logged, never silently dropped.
				invalid++
				example = err
				continue
			}
			pts = append(pts, pt)
		}
		catalogDone = true
		if err := r.w.Write(ctx, pts); err != nil {
			return total, fmt.Errorf("history: write %d points of %s: %w", len(pts), p, err)
		}
		total += len(pts)
	}
	if invalid > 0 {
		r.cfg.Logger.Warn("history: values not recordable", "count", invalid, "example", example)
	}
	// A department cycle leaves a buffer sized for it; let it go.
	if byDept {
		r.results = nil
	}
	return total, nil
}

// Points turns results of period p into the store's points at instant
// at, as the recorder files them: catalog indicators under
// store.PeriodCatalog; results whose key the store cannot hold are skipped,
// counted in invalid with the first reason in example. For tests and
// tools that fill a store from an engine.
func Points(rs []engine.Result, p engine.Period, at time.Time) (pts []store.Point, invalid int, example error) {
	for _, r := range rs {
		period := p.String()
		if def, ok := indicator.Lookup(r.Indicator); ok && !def.Periodic {
			period = store.PeriodCatalog
		}
		pt, err := toPoint(r, period, at)
		if err != nil {
			invalid++
			if example == nil {
				example = err
			}
			continue
		}
		pts = append(pts, pt)
	}
	return pts, invalid, example
}

// toPoint turns one engine result into a point of the given period's
// series at instant at, or the reason its key cannot be stored.
func toPoint(r engine.Result, period string, at time.Time) (store.Point, error) {
	key := store.SeriesKey{Indicator: r.Indicator, Region: r.Region, Dept: r.Dept, Period: period}
	if err := key.Validate(); err != nil {
		return store.Point{}, err
	}
	if r.Rate {
		return store.Ratio(key, at, r.Numerator, r.Denominator), nil
	}
	return store.Count(key, at, r.Numerator), nil
}

// Run records every Interval until ctx ends, then records one last cycle
// (bounded by FinalTimeout) so that what the screens showed last is in the
// history. A failed cycle is logged and the next one retries: the writer's
// state only moves on success, so nothing is skipped.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		r.cycle(ctx)
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
			defer cancel()
			// The last cycle takes the departments too.
			r.cycles = 0
			r.cycle(final)
			return
		case <-t.C:
		}
	}
}

// finalTimeout bounds the last cycle at shutdown: well inside the stop
// grace of service managers (Kubernetes gives 30 s in all, systemd 90 s),
// with the rest of the shutdown after it.
const finalTimeout = 10 * time.Second

func (r *Recorder) cycle(ctx context.Context) {
	start := time.Now()
	n, err := r.Record(ctx)
	if err != nil {
		r.cfg.Logger.Error("history cycle", "err", err)
		return
	}
	r.cfg.Logger.Debug("history cycle", "points", n, "took", time.Since(start).String())
}
