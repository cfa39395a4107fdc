package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// Engine is what the feed reads.
type Engine interface {
	AppendResults(dst []engine.Result, p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// Publisher is where payloads go; *hub.Hub implements it. Publish must not
// keep data after it returns (the hub copies it): the feed reuses its
// buffer.
type Publisher interface {
	Publish(topic string, data json.RawMessage) error
}

// FeedConfig sets up a Feed. Engine, Publisher and Presenter are required.
type FeedConfig struct {
	Engine    Engine
	Publisher Publisher
	Presenter *Presenter
	// Interval is how often a cycle runs without being asked; default 1s.
	Interval time.Duration
	// Changed, when set, is told after every cycle that published
	// something (special-report rules are judged on changes, not on a
	// slow poll). It must not block.
	Changed func()
	Logger  *slog.Logger
}

// valueKey names a value without building its topic string: most values
// do not change from one second to the next, and the topic is only needed
// for the ones that do.
type valueKey struct {
	indicator, region string
	period            engine.Period
}

type counts struct {
	num, den int64
	rate     bool
}

type rankKey struct {
	indicator, parent string // indicator may be Composite
}

// Feed publishes the engine's changed values, the composite scores of the
// regions whose values changed and the rankings those changes reorder.
type Feed struct {
	cfg   FeedConfig
	last  map[valueKey]counts
	score map[valueKey]Score // indicator field unused: region and period
	buf   []engine.Result    // reused every cycle
	enc   []byte             // reused: the hub copies what it is given
	// poke asks Run for a cycle now (Notify): new records reach the
	// screens without waiting for the next tick.
	poke chan struct{}
}

// NewFeed returns a feed.
func NewFeed(cfg FeedConfig) *Feed {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Feed{cfg: cfg, last: map[valueKey]counts{}, score: map[valueKey]Score{}, poke: make(chan struct{}, 1)}
}

// Cycle publishes every value that changed since the previous cycle, the
// scores and rankings they touch, and returns how many payloads it
// published.
func (f *Feed) Cycle() (int, error) {
	at := f.cfg.Presenter.Stamp(f.cfg.Engine.Now())
	n := 0
	for _, p := range engine.AllPeriods {
		rs, err := f.cfg.Engine.AppendResults(f.buf[:0], p, false)
		f.buf = rs
		if err != nil {
			return n, err
		}
		m, err := f.period(p, rs, at)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// period publishes one period's changes.
func (f *Feed) period(p engine.Period, rs []engine.Result, at Stamp) (int, error) {
	ps := p.String()
	n := 0
	dirty := map[string]bool{}  // regions with a changed value: their score may change
	ranks := map[rankKey]bool{} // rankings a changed value may reorder
	for _, r := range rs {
		if r.Dept != "" {
			continue
		}
		k := valueKey{r.Indicator, r.Region, p}
		c := counts{r.Numerator, r.Denominator, r.Rate}
		if old, ok := f.last[k]; ok && old == c {
			continue
		}
		f.enc = f.cfg.Presenter.Value(r, ps, at).AppendJSON(f.enc[:0])
		if err := f.cfg.Publisher.Publish(IndicatorTopic(r.Indicator, r.Region, ps), f.enc); err != nil {
			return n, err
		}
		f.last[k] = c
		dirty[r.Region] = true
		if parent, ok := region.Code(r.Region).Parent(); ok {
			ranks[rankKey{r.Indicator, string(parent)}] = true
		}
		n++
	}
	if len(dirty) == 0 {
		return n, nil
	}
	// Scores of the regions whose values changed.
	inputs := map[string][]scoring.Input{}
	for _, r := range rs {
		if r.Dept == "" && dirty[r.Region] {
			inputs[r.Region] = append(inputs[r.Region], scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
		}
	}
	for reg, in := range inputs {
		s := f.cfg.Presenter.Score(reg, ps, in, at)
		k := valueKey{region: reg, period: p}
		if old, ok := f.score[k]; ok && sameScore(old.Score, s.Score) {
			continue
		}
		if err := f.publish(ScoreTopic(reg, ps), s); err != nil {
			return n, err
		}
		f.score[k] = s
		if parent, ok := region.Code(reg).Parent(); ok {
			ranks[rankKey{Composite, string(parent)}] = true
		}
		n++
	}
	// Rankings the changes reorder, built from the period's results.
	var by map[string]map[string]engine.Result // indicator → region → result
	for k := range ranks {
		var payload Ranking
		if k.indicator == Composite {
			scores := map[string]Score{}
			for _, c := range f.cfg.Presenter.Regions().Children(region.Code(k.parent)) {
				if s, ok := f.score[valueKey{region: string(c), period: p}]; ok {
					scores[string(c)] = s
				}
			}
			payload = f.cfg.Presenter.RankScores(k.parent, ps, scores, at)
		} else {
			if by == nil {
				by = index(rs, ranks)
			}
			payload = f.cfg.Presenter.Rank(k.indicator, k.parent, ps, by[k.indicator], at)
		}
		f.enc = payload.AppendJSON(f.enc[:0])
		if err := f.cfg.Publisher.Publish(RankingTopic(k.indicator, k.parent, ps), f.enc); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// index groups the results of the indicators being ranked by indicator
// and region.
func index(rs []engine.Result, ranks map[rankKey]bool) map[string]map[string]engine.Result {
	want := map[string]bool{}
	for k := range ranks {
		want[k.indicator] = true
	}
	by := map[string]map[string]engine.Result{}
	for _, r := range rs {
		if r.Dept != "" || !want[r.Indicator] {
			continue
		}
		m := by[r.Indicator]
		if m == nil {
			m = map[string]engine.Result{}
			by[r.Indicator] = m
		}
		m[r.Region] = r
	}
	return by
}

func sameScore(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (f *Feed) publish(topic string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return f.cfg.Publisher.Publish(topic, b)
}

// Forget drops what the feed knows it published, so its next cycle
// publishes every value, score and ranking again. A node that becomes a
// cluster's leader calls it before Run: its hub holds what the previous
// leader sent, which may lack the last messages. Not while Run runs.
func (f *Feed) Forget() {
	clear(f.last)
	clear(f.score)
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
	t := time.NewTicker(f.cfg.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := f.Cycle()
		if err != nil {
			f.cfg.Logger.Error("feed cycle", "err", err)
		}
		if n > 0 && f.cfg.Changed != nil {
			f.cfg.Changed()
		}
		if took := time.Since(start); took > f.cfg.Interval/2 {
			// Screens lag by this much: worth a line in the log.
			f.cfg.Logger.Warn("feed cycle slow", "took", took.String(), "published", n)
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
