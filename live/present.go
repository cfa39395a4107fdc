package live

import (
	"math"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// The payloads of the topics. The server decides everything a screen
// shows: the number, its text, its colour against the target of the
// region's level, the rank. A page paints them and computes nothing.

// Value is the payload of an indicator topic and the first paint of every
// value a page shows.
type Value struct {
	Indicator   string   `json:"indicator"`
	Region      string   `json:"region"`
	Period      string   `json:"period"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"` // null for a count
	Value       *float64 `json:"value"`       // null when a rate has no denominator ("—"), never 0
	// Display is the value in chart units: percent with two decimals for
	// a rate, the count otherwise; null when Value is.
	Display *float64 `json:"display"`
	// Text is the value as shown: "93.45%", "1,234", "—".
	Text string `json:"text"`
	// Status is green, amber or red against the target and floor of the
	// region's level, "" when there is no value or no rule.
	Status string `json:"status"`
	AsOf   string `json:"as_of"` // RFC 3339 in the business time zone
	Date   string `json:"date"`  // the business date of AsOf, YYYY-MM-DD
}

// Score is the payload of a score topic: the composite of SPEC.md section 6
// from the region's own numerators and denominators, at the targets of the
// region's level. Score is null when no weighted indicator has a value.
type Score struct {
	Region  string   `json:"region"`
	Period  string   `json:"period"`
	Score   *float64 `json:"score"`
	Display *float64 `json:"display"` // the score with two decimals
	Text    string   `json:"text"`    // "87.3", "—"
	Tier    string   `json:"tier"`
	TierEN  string   `json:"tier_en"`
	// Status colours the tier: the first tier green, the last red, those
	// between amber.
	Status string `json:"status"`
	AsOf   string `json:"as_of"`
	Date   string `json:"date"`
}

// Ranking is the payload of a ranking topic: the children of Region
// ranked by Indicator (or Composite), SPEC.md section 6, exact from
// numerators and denominators.
type Ranking struct {
	Indicator string    `json:"indicator"`
	Region    string    `json:"region"`
	Period    string    `json:"period"`
	Rows      []RankRow `json:"rows"` // best first, nulls last
	AsOf      string    `json:"as_of"`
}

// RankRow is one unit of a Ranking.
type RankRow struct {
	Region  string   `json:"region"`
	Name    string   `json:"name"`
	Rank    int      `json:"rank"` // 0: no value, no rank
	Value   *float64 `json:"value"`
	Display *float64 `json:"display"`
	Text    string   `json:"text"`
	Status  string   `json:"status"`
	// Bar is the row's share of the largest |value| of the list, 0–100,
	// one decimal: the length of its bar.
	Bar float64 `json:"bar"`
}

// Presenter turns the engine's results into payloads. It holds no state
// beyond its configuration and is safe for concurrent use.
type Presenter struct {
	targets *scoring.Config
	regions *region.Table
	loc     *time.Location
}

// NewPresenter returns a presenter judging values by targets (nil:
// scoring.Default()), naming regions from regions (nil: region.Default())
// and dating in loc (nil: time.Local).
func NewPresenter(targets *scoring.Config, regions *region.Table, loc *time.Location) *Presenter {
	if targets == nil {
		targets = scoring.Default()
	}
	if regions == nil {
		regions = region.Default()
	}
	if loc == nil {
		loc = time.Local
	}
	return &Presenter{targets: targets, regions: regions, loc: loc}
}

// Targets returns the targets the presenter judges by.
func (p *Presenter) Targets() *scoring.Config { return p.targets }

// Regions returns the region table the presenter names from.
func (p *Presenter) Regions() *region.Table { return p.regions }

// Location returns the business time zone.
func (p *Presenter) Location() *time.Location { return p.loc }

// Stamp is an instant as the payloads carry it: RFC 3339 in the business
// time zone and its date.
type Stamp struct{ AsOf, Date string }

// Stamp formats the engine instant now (Unix nanoseconds).
func (p *Presenter) Stamp(now int64) Stamp {
	t := time.Unix(0, now).In(p.loc)
	return Stamp{t.Format(time.RFC3339), t.Format("2006-01-02")}
}

// Value presents one result of one period. A result of an indicator the
// catalog does not know is presented without status.
func (p *Presenter) Value(r engine.Result, period string, at Stamp) Value {
	v := Value{Indicator: r.Indicator, Region: r.Region, Period: period, Numerator: r.Numerator, Text: "—", AsOf: at.AsOf, Date: at.Date}
	if r.Rate {
		d := r.Denominator
		v.Denominator = &d
	}
	x, ok := r.Value()
	if !ok {
		return v
	}
	def, known := indicator.Lookup(r.Indicator)
	if !known {
		def = indicator.Def{ID: r.Indicator, Rate: r.Rate}
	}
	v.Value = &x
	d := numtext.Display(def.Rate, x)
	v.Display = &d
	v.Text = numtext.Value(def.Rate, x)
	if r.Dept == "" {
		v.Status = p.targets.Status(region.Code(r.Region).Level().String(), def, x, true).String()
	} else {
		v.Status = p.targets.Status(scoring.LevelDept, def, x, true).String()
	}
	return v
}

// Empty presents an indicator that has no result yet: a count is 0, a rate
// has no value.
func (p *Presenter) Empty(ind, reg, period string, at Stamp) Value {
	def, _ := indicator.Lookup(ind)
	return p.Value(engine.Result{Indicator: ind, Region: reg, Rate: def.Rate}, period, at)
}

// Score presents the composite of region reg from its results in one
// period.
func (p *Presenter) Score(reg, period string, in []scoring.Input, at Stamp) Score {
	c := p.targets.Composite(region.Code(reg).Level().String(), in)
	s := Score{Region: reg, Period: period, Score: c.Score, Text: "—", Tier: c.Tier, TierEN: c.TierEN, AsOf: at.AsOf, Date: at.Date}
	if c.Score != nil {
		d := math.Round(*c.Score*100) / 100
		s.Display = &d
		s.Text = strconv.FormatFloat(*c.Score, 'f', 1, 64)
		s.Status = p.TierStatus(*c.Score)
	}
	return s
}

// TierStatus colours a composite score by its tier: the first tier green,
// the last red, those between amber (with the default tiers: ≥ 90 green,
// ≥ 60 amber, below red).
func (p *Presenter) TierStatus(score float64) string {
	tiers := p.targets.Tiers()
	i := len(tiers) - 1
	for j, t := range tiers {
		if score >= t.Min-1e-9 {
			i = j
			break
		}
	}
	switch {
	case i <= 0:
		return scoring.StatusGreen.String()
	case i == len(tiers)-1:
		return scoring.StatusRed.String()
	}
	return scoring.StatusAmber.String()
}

// Rank presents the ranking of the children of parent by indicator ind
// (not Composite: see RankScores) from the period's results; children
// without a result are listed without a value.
func (p *Presenter) Rank(ind, parent, period string, results map[string]engine.Result, at Stamp) Ranking {
	def, _ := indicator.Lookup(ind)
	out := Ranking{Indicator: ind, Region: parent, Period: period, AsOf: at.AsOf}
	kids := p.regions.Children(region.Code(parent))
	rows := make([]ranking.Row, 0, len(kids))
	for _, k := range kids {
		r, ok := results[string(k)]
		if !ok {
			r = engine.Result{Indicator: ind, Region: string(k), Rate: def.Rate}
		}
		rows = append(rows, ranking.Row{Unit: string(k), Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
	}
	for _, r := range ranking.Rank(rows, def.LowerIsBetter) {
		res := engine.Result{Indicator: ind, Region: r.Unit, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate}
		v := p.Value(res, period, at)
		out.Rows = append(out.Rows, RankRow{Region: r.Unit, Name: p.name(r.Unit), Rank: r.Rank, Value: v.Value, Display: v.Display, Text: v.Text, Status: v.Status})
	}
	bars(out.Rows)
	return out
}

// RankScores presents the ranking of the children of parent by their
// composite scores.
func (p *Presenter) RankScores(parent, period string, scores map[string]Score, at Stamp) Ranking {
	out := Ranking{Indicator: Composite, Region: parent, Period: period, AsOf: at.AsOf}
	kids := p.regions.Children(region.Code(parent))
	in := make([]ranking.Score, 0, len(kids))
	for _, k := range kids {
		s, ok := scores[string(k)]
		if ok && s.Score != nil {
			in = append(in, ranking.Score{Unit: string(k), Value: *s.Score})
		} else {
			in = append(in, ranking.Score{Unit: string(k), Null: true})
		}
	}
	for _, r := range ranking.RankScores(in) {
		s := scores[r.Unit]
		out.Rows = append(out.Rows, RankRow{Region: r.Unit, Name: p.name(r.Unit), Rank: r.Rank, Value: s.Score, Display: s.Display, Text: cmpOr(s.Text, "—"), Status: s.Status})
	}
	bars(out.Rows)
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// bars sets each row's bar length: its share of the list's largest
// |value|.
func bars(rows []RankRow) {
	best := 0.0
	for _, r := range rows {
		if r.Value != nil {
			best = math.Max(best, math.Abs(*r.Value))
		}
	}
	if best == 0 {
		return
	}
	for i := range rows {
		if v := rows[i].Value; v != nil {
			rows[i].Bar = math.Round(math.Abs(*v)/best*1000) / 10
		}
	}
}

func (p *Presenter) name(code string) string {
	if n, ok := p.regions.Name(region.Code(code)); ok {
		return n
	}
	return code
}
