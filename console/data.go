package console

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store"
)

// unit is what a row is about: a region, or a department within a region.
type unit struct {
	region region.Code
	dept   string
}

// key names one value: an indicator of a unit.
type key struct {
	indicator string
	unit      unit
}

// value is one indicator value of one unit at one instant, as counts.
type value struct {
	num, den int64
	rate     bool
	has      bool // false: no data for this unit at that instant
}

// float returns the value and whether it is defined: no data, and a rate
// with a zero denominator, are null (SPEC.md section 5).
func (v value) float() (float64, bool) {
	switch {
	case !v.has:
		return 0, false
	case !v.rate:
		return float64(v.num), true
	case v.den == 0:
		return 0, false
	}
	return float64(v.num) / float64(v.den), true
}

// instant is when values are read: the live engine (at is its clock), or
// the history store as of at.
type instant struct {
	at   time.Time
	live bool
	// results are the live results when the caller has them already.
	results []engine.Result
}

// values are the values of a snapshot by key.
type values map[key]value

func byDept(units []unit) bool {
	for _, u := range units {
		if u.dept != "" {
			return true
		}
	}
	return false
}

func (c *Console) liveSnapshot(defs []indicator.Def, p engine.Period, units []unit, rs []engine.Result) (values, error) {
	if rs == nil {
		var err error
		if rs, err = c.cfg.Live.Results(p, byDept(units)); err != nil {
			return nil, fmt.Errorf("console: live values: %w", err)
		}
	}
	want := make(map[key]bool, len(units)*len(defs))
	for _, d := range defs {
		for _, u := range units {
			want[key{d.ID, u}] = true
		}
	}
	out := make(values, len(want))
	for i := range rs {
		r := &rs[i]
		k := key{r.Indicator, unit{region.Code(r.Region), r.Dept}}
		if want[k] {
			out[k] = value{num: r.Numerator, den: r.Denominator, rate: r.Rate, has: true}
		}
	}
	return out, nil
}

// storePeriod is the period of an indicator's series in the store: catalog
// indicators have none.
func storePeriod(d indicator.Def, p engine.Period) string {
	if !d.Periodic {
		return store.PeriodCatalog
	}
	return p.String()
}

// cacheMargin is how far in the past an instant must be for its history
// to be final: several recording cycles (10 s) and InfluxDB's visibility
// delay (1 s).
const cacheMargin = 2 * time.Minute

// chunkSize bounds the series of one AsOf call, so that a large ranking
// (1,403 townships) is read by several workers at once.
const chunkSize = 256

// read is one AsOf call: one indicator, some regions × depts, one instant.
type read struct {
	slot    int // which snapshot it fills
	def     indicator.Def
	regions []string
	depts   []string
	at      time.Time
}

// reads splits the history reads of one snapshot into chunks.
func reads(slot int, defs []indicator.Def, units []unit, at time.Time) []read {
	var regions, depts []string
	seenR, seenD := map[region.Code]bool{}, map[string]bool{}
	for _, u := range units {
		if !seenR[u.region] {
			seenR[u.region] = true
			regions = append(regions, string(u.region))
		}
		if !seenD[u.dept] {
			seenD[u.dept] = true
			depts = append(depts, u.dept)
		}
	}
	var out []read
	for _, d := range defs {
		for i := 0; i < len(regions); i += chunkSize {
			out = append(out, read{slot: slot, def: d, regions: regions[i:min(i+chunkSize, len(regions))], depts: depts, at: at})
		}
	}
	return out
}

// historyRead runs one read into dst: the last point of each series at or
// before the instant, unless it belongs to an earlier period.
func (c *Console) historyRead(ctx context.Context, r read, p engine.Period, dst values, mu *sync.Mutex) error {
	sel := store.Selector{Indicator: r.def.ID, Period: storePeriod(r.def, p), Regions: r.regions, Depts: r.depts}
	now := c.cfg.Now()
	// Only instants well before the last recording cycle can be cached.
	cacheable := r.at.Before(now.Add(-cacheMargin))
	var ck cacheKey
	pts, hit := []store.Point(nil), false
	if cacheable {
		ck = keyOf(r, sel.Period)
		pts, hit = c.cache.get(ck, now)
	}
	if !hit {
		var err error
		if pts, err = c.cfg.History.AsOf(ctx, sel, r.at); err != nil {
			return fmt.Errorf("console: history of %s as of %s: %w", r.def.ID, r.at.Format(time.RFC3339), err)
		}
		if cacheable {
			c.cache.put(ck, pts, now)
		}
	}
	start := periodStart(r.at, p, c.loc)
	mu.Lock()
	defer mu.Unlock()
	for i := range pts {
		pt := &pts[i]
		if r.def.Periodic && pt.Time.Before(start) {
			// Recorded in an earlier period: nothing is known of this one.
			continue
		}
		dst[key{r.def.ID, unit{region.Code(pt.Region), pt.Dept}}] = value{
			num: int64(math.Round(pt.Numerator)), den: pt.Denominator, rate: pt.HasDenominator, has: true,
		}
	}
	return nil
}

// readAll fills the snapshots of instants (live or history) with a pool of
// GOMAXPROCS workers over chunked reads: the three snapshots of a ranking
// (now, 环比, 同比) are independent seeks into different parts of the
// history, and running them side by side bounds a request by the machine's
// cores rather than by the sum of the reads.
func (c *Console) readAll(ctx context.Context, defs []indicator.Def, p engine.Period, units []unit, insts []instant) ([]values, error) {
	out := make([]values, len(insts))
	mus := make([]sync.Mutex, len(insts))
	var work []read
	liveSlot := -1
	for i, in := range insts {
		out[i] = make(values, len(units)*len(defs))
		if in.live {
			liveSlot = i
			continue
		}
		work = append(work, reads(i, defs, units, in.at)...)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	jobs := make(chan read)
	workers := min(max(runtime.GOMAXPROCS(0), 2), max(len(work), 1))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				if err := c.historyRead(ctx, r, p, out[r.slot], &mus[r.slot]); err != nil {
					fail(err)
				}
			}
		}()
	}
	if liveSlot >= 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.liveSnapshot(defs, p, units, insts[liveSlot].results)
			if err != nil {
				fail(err)
				return
			}
			out[liveSlot] = v
		}()
	}
feed:
	for _, r := range work {
		select {
		case jobs <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return out, nil
}

// triple is a snapshot with its two comparisons: now (the requested
// instant), the previous period (环比) and the same period last year (同比).
type triple struct {
	now, mom, yoy       values
	nowAt, momAt, yoyAt instant
}

// snapshots reads the three snapshots of a view: the requested instant,
// the previous period (环比) and last year (同比).
func (c *Console) snapshots(ctx context.Context, defs []indicator.Def, p engine.Period, units []unit, now instant) (triple, error) {
	t := triple{nowAt: now}
	base := now.at
	if now.live {
		// The live clock moves every second; comparing with the start of
		// its minute lets the views of one minute share the comparison
		// reads (the history there is hourly or finer, so nothing else
		// changes).
		base = base.Truncate(time.Minute)
	}
	t.momAt = instant{at: previousPeriod(base, p, c.loc)}
	t.yoyAt = instant{at: lastYear(base, p, c.loc)}
	vs, err := c.readAll(ctx, defs, p, units, []instant{t.nowAt, t.momAt, t.yoyAt})
	if err != nil {
		return t, err
	}
	t.now, t.mom, t.yoy = vs[0], vs[1], vs[2]
	return t, nil
}
