// Package feed publishes the engine's live values to the hub: every cycle
// it reads each indicator of each period for every region and publishes the
// ones that changed since the last cycle, so wall screens get changes, not
// a stream of repeats. It is the engine → hub step of the flow; the hub
// coalesces and fans out.
package feed

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/scoring"
)

// Engine is what the feed reads.
type Engine interface {
	AppendResults(dst []engine.Result, p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// Publisher is where values go; *hub.Hub implements it.
type Publisher interface {
	Publish(topic string, data json.RawMessage) error
}

// Value is the payload of an indicator topic. Value is null when the rate
// has no denominator (shown "—"), never 0.
type Value struct {
	Indicator   string   `json:"indicator"`
	Region      string   `json:"region"`
	Period      string   `json:"period"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Value       *float64 `json:"value"`
	AsOf        string   `json:"as_of"`
}

// key names a value without building its topic string: most values do not
// change from one second to the next, and the topic is only needed for the
// ones that do.
type key struct {
	indicator, region string
	period            engine.Period
}

type state struct {
	num, den int64
	rate     bool
}

// Feed publishes changed values.
type Feed struct {
	eng      Engine
	pub      Publisher
	interval time.Duration
	log      *slog.Logger
	last     map[key]state
	buf      []engine.Result // reused every cycle
	// targets, when set, also publish composite scores (WithScores).
	targets   *scoring.Config
	lastScore map[string]float64
	// poke asks Run for a cycle now (Notify): new records reach the
	// screens without waiting for the next tick.
	poke chan struct{}
}

// New returns a feed that runs every interval (default 1s).
func New(eng Engine, pub Publisher, interval time.Duration, log *slog.Logger) *Feed {
	if interval <= 0 {
		interval = time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Feed{eng: eng, pub: pub, interval: interval, log: log, last: make(map[key]state), poke: make(chan struct{}, 1)}
}

// Cycle publishes every value that changed since the previous cycle and
// returns how many it published.
func (f *Feed) Cycle() (int, error) {
	asOf := time.Unix(0, f.eng.Now()).Format(time.RFC3339)
	n := 0
	for _, p := range engine.AllPeriods {
		rs, err := f.eng.AppendResults(f.buf[:0], p, false)
		f.buf = rs
		if err != nil {
			return n, err
		}
		var dirty map[string]bool // regions with a changed value: their score may change
		if f.targets != nil {
			dirty = map[string]bool{}
		}
		for _, r := range rs {
			if r.Dept != "" {
				continue
			}
			k := key{r.Indicator, r.Region, p}
			st := state{r.Numerator, r.Denominator, r.Rate}
			if old, ok := f.last[k]; ok && old == st {
				continue
			}
			v := Value{Indicator: r.Indicator, Region: r.Region, Period: p.String(), Numerator: r.Numerator, AsOf: asOf}
			if r.Rate {
				d := r.Denominator
				v.Denominator = &d
			}
			if x, ok := r.Value(); ok {
				v.Value = &x
			}
			b, err := json.Marshal(v)
			if err != nil {
				return n, err
			}
			if err := f.pub.Publish(hub.IndicatorTopic(r.Indicator, r.Region, p.String()), b); err != nil {
				return n, err
			}
			f.last[k] = st
			if dirty != nil {
				dirty[r.Region] = true
			}
			n++
		}
		if len(dirty) > 0 {
			m, err := f.publishScores(p, rs, dirty, asOf)
			n += m
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Notify asks for a cycle soon: call it when records were filed. It never
// blocks; calls during a cycle fold into one more cycle.
func (f *Feed) Notify() {
	select {
	case f.poke <- struct{}{}:
	default:
	}
}

// minGap is the least time between the starts of two cycles that Notify
// asks for: the hub coalesces a topic's changes over 200 ms anyway, so a
// stream of pushes (bulk intake files thousands of batches a second) costs
// at most five cycles a second, while a lone push is published at once.
const minGap = 200 * time.Millisecond

// Run publishes every interval, and after each Notify, until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := f.Cycle()
		if err != nil {
			f.log.Error("feed cycle", "err", err)
		}
		if took := time.Since(start); took > f.interval/2 {
			// Screens lag by this much: worth a line in the log.
			f.log.Warn("feed cycle slow", "took", took.String(), "published", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.poke:
			if wait := minGap - time.Since(start); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}
}
