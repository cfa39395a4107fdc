package scoring

import (
	"fmt"
	"math"
	"slices"

	"github.com/yiping-ioc/yiping/indicator"
)

// The levels a rule can apply at. The four region levels are the strings of
// region.Level; "dept" is the level of departments ranked within a region.
const (
	LevelProvince = "province"
	LevelCity     = "city"
	LevelCounty   = "county"
	LevelTownship = "township"
	LevelDept     = "dept"
	// LevelDefault is the section of a targets file that applies to every
	// level before the level's own section. It is not a level of a Config.
	LevelDefault = "default"
)

// levelNames is the fixed order of Levels (top down, departments last).
func levelNames() []string {
	return []string{LevelProvince, LevelCity, LevelCounty, LevelTownship, LevelDept}
}

// eps absorbs float rounding when a value is compared with a target or a
// floor, so that 98/100 meets a target of 0.98 however either was computed.
const eps = 1e-9

// Rule is the target (目标值), floor and composite weight of one indicator at
// one level. Rates are fractions (0.98), counts are numbers of records.
type Rule struct {
	Target float64
	Floor  float64
	// Weight is the indicator's weight in the composite score; 0 means the
	// indicator is shown with its status but left out of the composite.
	Weight float64
}

// Tier is one grade of the composite score (等次), e.g. 第一等次 for a score
// of at least 90. Tiers are held highest first; a score below every Min
// falls into the last tier.
type Tier struct {
	Name   string  `json:"name"`
	NameEN string  `json:"name_en"`
	Min    float64 `json:"min"`
}

// Config holds the rules per level and indicator, and the tiers. A Config
// is never modified after Default or Parse returns it, so one value can be
// shared by every request and screen.
type Config struct {
	levels map[string]map[string]Rule // level → indicator id → rule
	tiers  []Tier                     // descending Min
}

// Rule returns the rule of an indicator at a level. ok is false when the
// level is unknown or the indicator has no rule there (volumes, by
// default): such an indicator has no status and no score.
func (c *Config) Rule(level, indicator string) (Rule, bool) {
	if c == nil {
		return Rule{}, false
	}
	r, ok := c.levels[level][indicator]
	return r, ok
}

// Rules returns a copy of every rule at a level (nil for an unknown level),
// for pages that list the targets.
func (c *Config) Rules(level string) map[string]Rule {
	if c == nil || c.levels[level] == nil {
		return nil
	}
	out := make(map[string]Rule, len(c.levels[level]))
	for id, r := range c.levels[level] {
		out[id] = r
	}
	return out
}

// Levels returns the levels rules are kept for: province, city, county,
// township, dept.
func (c *Config) Levels() []string { return levelNames() }

// Tiers returns a copy of the tiers, highest first.
func (c *Config) Tiers() []Tier {
	if c == nil {
		return nil
	}
	return slices.Clone(c.tiers)
}

// Status is the traffic light of one value against its rule (SPEC.md
// section 6): green at or beyond the target, amber between target and
// floor, red beyond the floor.
type Status int

// The statuses. StatusNone is the zero value: no value, or no rule.
const (
	StatusNone Status = iota
	StatusRed
	StatusAmber
	StatusGreen
)

// String returns "", "red", "amber" or "green": the names the API, CSS
// classes and exports use.
func (s Status) String() string {
	switch s {
	case StatusRed:
		return "red"
	case StatusAmber:
		return "amber"
	case StatusGreen:
		return "green"
	}
	return ""
}

// MarshalText writes the status by name, so JSON shows "green", not 3.
func (s Status) MarshalText() ([]byte, error) {
	if s < StatusNone || s > StatusGreen {
		return nil, fmt.Errorf("scoring: invalid status %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a name written by MarshalText.
func (s *Status) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*s = StatusNone
	case "red":
		*s = StatusRed
	case "amber":
		*s = StatusAmber
	case "green":
		*s = StatusGreen
	default:
		return fmt.Errorf("scoring: unknown status %q (want red, amber, green or empty)", b)
	}
	return nil
}

// Status grades a value against the rule of def at level. Higher-is-better:
// green ≥ target, amber ≥ floor, red below; lower-is-better mirrored. No
// value (ok false, or NaN) or no rule gives StatusNone.
func (c *Config) Status(level string, def indicator.Def, value float64, ok bool) Status {
	r, has := c.Rule(level, def.ID)
	if !ok || !has || math.IsNaN(value) {
		return StatusNone
	}
	switch {
	case meets(value, r.Target, def.LowerIsBetter):
		return StatusGreen
	case meets(value, r.Floor, def.LowerIsBetter):
		return StatusAmber
	}
	return StatusRed
}

// meets reports whether value reaches bound in the indicator's direction,
// with a tolerance for float rounding.
func meets(value, bound float64, lowerIsBetter bool) bool {
	tol := eps * math.Max(1, math.Abs(bound))
	if lowerIsBetter {
		return value <= bound+tol
	}
	return value >= bound-tol
}

// Score is the indicator score of SPEC.md section 6, from 0 to 100:
// clamp((value − floor)/(target − floor), 0, 1)×100, or for lower-is-better
// clamp((floor − value)/(floor − target), 0, 1)×100. When target equals
// floor the score is 100 if the target is met, else 0. ok is false when
// there is no value or no rule. Scores are rounded to 1e-9 so that 50 shows
// as 50, not 49.99999999999995.
func (c *Config) Score(level string, def indicator.Def, value float64, ok bool) (float64, bool) {
	r, has := c.Rule(level, def.ID)
	if !ok || !has || math.IsNaN(value) {
		return 0, false
	}
	return score(r, def.LowerIsBetter, value), true
}

func score(r Rule, lowerIsBetter bool, value float64) float64 {
	if meets(value, r.Target, lowerIsBetter) {
		return 100
	}
	if r.Target == r.Floor {
		return 0
	}
	var f float64
	if lowerIsBetter {
		f = (r.Floor - value) / (r.Floor - r.Target)
	} else {
		f = (value - r.Floor) / (r.Target - r.Floor)
	}
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return round9(math.Min(f, 1) * 100)
}

func round9(x float64) float64 {
	r := math.Round(x*1e9) / 1e9
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return x
	}
	return r
}

// Input is one indicator value of one unit, in the shape of engine.Result:
// the value is Numerator/Denominator for a rate (null when the denominator
// is 0) and Numerator for a count. Callers sum numerators and denominators
// over units; rates are never averaged.
type Input struct {
	Indicator   string
	Numerator   int64
	Denominator int64
	Rate        bool
}

// Value returns the input's value, and false when it is null.
func (in Input) Value() (float64, bool) {
	if !in.Rate {
		return float64(in.Numerator), true
	}
	if in.Denominator <= 0 {
		return 0, false
	}
	return float64(in.Numerator) / float64(in.Denominator), true
}

// Part is one indicator's share of a composite: its value, score (nil when
// null or without a rule), weight and status.
type Part struct {
	Indicator string   `json:"indicator"`
	Value     *float64 `json:"value"`
	Score     *float64 `json:"score"`
	Weight    float64  `json:"weight"`
	Status    Status   `json:"status"`
}

// Composite is the composite score (综合指数) of one unit with its parts
// and tier. Score is nil, and Tier empty, when no weighted indicator has a
// value.
type Composite struct {
	Score  *float64 `json:"score"`
	Tier   string   `json:"tier"`
	TierEN string   `json:"tier_en"`
	Parts  []Part   `json:"parts"`
}

// Composite scores one unit at level: Σ w·score / Σ w over the weighted
// indicators that have a value (SPEC.md section 6), so a null value leaves
// both sums rather than counting as 0. Parts follow the order of values;
// an indicator unknown to the catalog or without a rule gets a part with
// its value only.
func (c *Config) Composite(level string, values []Input) Composite {
	out := Composite{Parts: make([]Part, 0, len(values))}
	var sum, wsum float64
	for _, in := range values {
		p := Part{Indicator: in.Indicator}
		v, ok := in.Value()
		if ok {
			p.Value = &v
		}
		def, known := indicator.Lookup(in.Indicator)
		if r, has := c.Rule(level, in.Indicator); known && has {
			p.Weight = r.Weight
			p.Status = c.Status(level, def, v, ok)
			if s, ok := c.Score(level, def, v, ok); ok {
				p.Score = &s
				if r.Weight > 0 {
					sum += r.Weight * s
					wsum += r.Weight
				}
			}
		}
		out.Parts = append(out.Parts, p)
	}
	if wsum > 0 {
		s := round9(sum / wsum)
		out.Score = &s
		t := c.TierOf(s)
		out.Tier, out.TierEN = t.Name, t.NameEN
	}
	return out
}

// TierOf returns the first tier whose Min the score reaches (with a
// tolerance for float rounding, so 89.9999999999 is 第一等次 at 90), or the
// last tier when it reaches none.
func (c *Config) TierOf(score float64) Tier {
	if c == nil || len(c.tiers) == 0 {
		return Tier{}
	}
	for _, t := range c.tiers {
		if score >= t.Min-eps*math.Max(1, math.Abs(t.Min)) {
			return t
		}
	}
	return c.tiers[len(c.tiers)-1]
}
