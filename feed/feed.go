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
)

// Engine is what the feed reads.
type Engine interface {
	Results(p engine.Period, byDept bool) ([]engine.Result, error)
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
	last     map[string]state
}

// New returns a feed that runs every interval (default 1s).
func New(eng Engine, pub Publisher, interval time.Duration, log *slog.Logger) *Feed {
	if interval <= 0 {
		interval = time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Feed{eng: eng, pub: pub, interval: interval, log: log, last: make(map[string]state)}
}

// Cycle publishes every value that changed since the previous cycle and
// returns how many it published.
func (f *Feed) Cycle() (int, error) {
	asOf := time.Unix(0, f.eng.Now()).Format(time.RFC3339)
	n := 0
	for _, p := range engine.AllPeriods {
		rs, err := f.eng.Results(p, false)
		if err != nil {
			return n, err
		}
		for _, r := range rs {
			topic := hub.IndicatorTopic(r.Indicator, r.Region, p.String())
			st := state{r.Numerator, r.Denominator, r.Rate}
			if old, ok := f.last[topic]; ok && old == st {
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
			if err := f.pub.Publish(topic, b); err != nil {
				return n, err
			}
			f.last[topic] = st
			n++
		}
	}
	return n, nil
}

// Run publishes every interval until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		if _, err := f.Cycle(); err != nil {
			f.log.Error("feed cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
