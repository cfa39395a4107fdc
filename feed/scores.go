package feed

import (
	"encoding/json"
	"math"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// ScoreTopic is the topic of the composite score (综合指数) of one region in
// one period, e.g. ScoreTopic("620800", "month").
func ScoreTopic(region, period string) string { return "score:" + region + ":" + period }

// Score is the payload of a score topic: the composite of SPEC.md section 6
// from the region's own numerators and denominators, at the targets of the
// region's level. Score is null when no weighted indicator has a value.
type Score struct {
	Region string   `json:"region"`
	Period string   `json:"period"`
	Score  *float64 `json:"score"`
	Tier   string   `json:"tier"`
	TierEN string   `json:"tier_en"`
	AsOf   string   `json:"as_of"`
}

// WithScores makes the feed publish every region's composite score too,
// judged by targets, whenever it changes.
func (f *Feed) WithScores(targets *scoring.Config) *Feed {
	f.targets = targets
	f.lastScore = make(map[string]float64)
	return f
}

// publishScores publishes the changed composite scores of one period for
// the regions in dirty (those with a changed value). rs are the period's
// results.
func (f *Feed) publishScores(p engine.Period, rs []engine.Result, dirty map[string]bool, asOf string) (int, error) {
	by := map[string][]scoring.Input{}
	for _, r := range rs {
		if r.Dept != "" || !dirty[r.Region] {
			continue
		}
		by[r.Region] = append(by[r.Region], scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
	}
	n := 0
	for reg, in := range by {
		c := f.targets.Composite(region.Code(reg).Level().String(), in)
		key := ScoreTopic(reg, p.String())
		cur := math.NaN() // NaN: no score
		if c.Score != nil {
			cur = *c.Score
		}
		if old, ok := f.lastScore[key]; ok && (old == cur || math.IsNaN(old) && math.IsNaN(cur)) {
			continue
		}
		b, err := json.Marshal(Score{Region: reg, Period: p.String(), Score: c.Score, Tier: c.Tier, TierEN: c.TierEN, AsOf: asOf})
		if err != nil {
			return n, err
		}
		if err := f.pub.Publish(key, b); err != nil {
			return n, err
		}
		f.lastScore[key] = cur
		n++
	}
	return n, nil
}
