package bulletin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
)

// History is what a bulletin reads from the history store (store.Store
// has it): the newest point of each series at or before an instant.
type History interface {
	AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error)
}

// Special is one special report (特别呈报) of a bulletin's period, as the
// bulletin lists it. The app adapts package report's Report to it.
type Special struct {
	Title      string
	Region     string
	RegionName string
	// Severity and State are shown as they come ("严重", "已解除").
	Severity string
	State    string
	// Text says it in a sentence.
	Text    string
	FiredAt time.Time
}

// Specials gives the special reports of a region and the regions below
// it that fired in [from, to).
type Specials interface {
	Specials(ctx context.Context, region string, from, to time.Time) ([]Special, error)
}

// BuilderConfig sets up a Builder. Zero fields take defaults.
type BuilderConfig struct {
	// History is the history store (required).
	History History
	// Regions names regions and lists their children; default
	// region.Default().
	Regions *region.Table
	// Targets grades values; default scoring.Default().
	Targets *scoring.Config
	// Specials lists the period's special reports; nil lists none.
	Specials Specials
	// Location is the business time zone; default store.DefaultLocation().
	Location *time.Location
	// Now stamps GeneratedAt; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Builder builds a bulletin's content from the history store.
type Builder struct {
	cfg BuilderConfig
}

// NewBuilder returns a Builder.
func NewBuilder(cfg BuilderConfig) (*Builder, error) {
	if cfg.History == nil {
		return nil, errors.New("bulletin: BuilderConfig.History is required")
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.Targets == nil {
		cfg.Targets = scoring.Default()
	}
	if cfg.Location == nil {
		cfg.Location = store.DefaultLocation()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Builder{cfg: cfg}, nil
}

// Location returns the business time zone the builder reads periods in.
func (b *Builder) Location() *time.Location { return b.cfg.Location }

// Value is one indicator value of one unit, as counts: exact, the way the
// store holds it.
type Value struct {
	Numerator   int64
	Denominator int64
	Rate        bool
	// Has is false when the store has no value of the period for the unit.
	Has bool
}

// Float returns the value and whether it is defined: no data, and a rate
// with a zero denominator, are null (SPEC.md section 5).
func (v Value) Float() (float64, bool) {
	switch {
	case !v.Has:
		return 0, false
	case !v.Rate:
		return float64(v.Numerator), true
	case v.Denominator == 0:
		return 0, false
	}
	return float64(v.Numerator) / float64(v.Denominator), true
}

// Text shows the value: a percentage with two decimals for a rate, the
// count with thousands separators, "—" for null.
func (v Value) Text() string {
	f, ok := v.Float()
	switch {
	case !ok:
		return dash
	case v.Rate:
		return numtext.Percent(f)
	}
	return numtext.Group(v.Numerator)
}

// Counts shows a rate's numerator and denominator ("1,234 / 1,300"), ""
// for a count or no data.
func (v Value) Counts() string {
	if !v.Has || !v.Rate {
		return ""
	}
	return numtext.Group(v.Numerator) + " / " + numtext.Group(v.Denominator)
}

// Change is a value compared with an earlier one (环比, 同比).
type Change struct {
	Before Value
	// Delta is now − before (a fraction for rates), nil when either is
	// null.
	Delta *float64
	// Text: "+1.20个百分点" for rates, "+3" for counts, "—".
	Text string
	// Tone is better, worse or flat in the indicator's direction.
	Tone string
}

func changeOf(now, before Value, def indicator.Def) Change {
	c := Change{Before: before, Text: dash, Tone: "flat"}
	a, okA := now.Float()
	b, okB := before.Float()
	if !okA || !okB {
		return c
	}
	d := a - b
	c.Delta = &d
	if def.Rate {
		c.Text = numtext.Signed(d*100, 2) + "个百分点"
	} else {
		c.Text = numtext.SignedTrim(d)
	}
	switch {
	case math.Abs(d) < 1e-12:
	case (d > 0) != def.LowerIsBetter:
		c.Tone = "better"
	default:
		c.Tone = "worse"
	}
	return c
}

// Unit is a region a bulletin is about or ranks.
type Unit struct {
	Code string
	Name string
}

// Line is one indicator of one unit in a bulletin: its value, target and
// status, and the changes against the previous period and last year.
type Line struct {
	Unit      Unit
	Indicator indicator.Def
	Value     Value
	// Target is the rule's target at the unit's level; HasTarget false
	// when the indicator has no rule (the volumes).
	Target     float64
	HasTarget  bool
	Status     scoring.Status
	StatusText string
	MoM, YoY   Change
	// Rank is the unit's place in its ranking (0: no rank, a null
	// value); Of is how many units the ranking has.
	Rank, Of int
}

// TargetText shows the target as the value is shown.
func (l Line) TargetText() string {
	if !l.HasTarget {
		return dash
	}
	if l.Indicator.Rate {
		return numtext.Percent(l.Target)
	}
	return numtext.Value(false, l.Target)
}

// RankText is "3/14", or "—" without a rank.
func (l Line) RankText() string {
	if l.Rank == 0 {
		return dash
	}
	return fmt.Sprintf("%d/%d", l.Rank, l.Of)
}

// Ranking is one indicator's ranking of the children of the bulletin's
// region, best first (SPEC.md section 6).
type Ranking struct {
	Indicator indicator.Def
	Level     string
	Target    float64
	HasTarget bool
	Rows      []Line
}

// CompositeRow is one unit's composite score (综合指数) and tier.
type CompositeRow struct {
	Unit     Unit
	Rank, Of int
	Score    *float64
	Tier     string
	MoM, YoY *float64
}

// ScoreText shows the score with two decimals.
func (c CompositeRow) ScoreText() string { return scoreText(c.Score) }

// RankText is "3/14", or "—".
func (c CompositeRow) RankText() string {
	if c.Rank == 0 {
		return dash
	}
	return fmt.Sprintf("%d/%d", c.Rank, c.Of)
}

// MoMText and YoYText show the score's changes.
func (c CompositeRow) MoMText() string { return scoreChangeText(c.MoM) }

// YoYText shows the change of the score against last year.
func (c CompositeRow) YoYText() string { return scoreChangeText(c.YoY) }

// Lag is a lagging unit: below its target, or at the bottom of a ranking.
type Lag struct {
	Line
	// Reason says why: 低于底线, 未达目标值, 排名末3位, joined with "；".
	Reason string
}

// Data is everything a bulletin shows.
type Data struct {
	Bulletin string
	Type     Type
	// Heading is the title without the period (甘肃省政务服务数据月报);
	// Title adds it (甘肃省政务服务数据月报（2026年9月）).
	Heading string
	Title   string
	Region  Unit
	// Level is the level of the ranked children (city, county, …).
	Level    string
	Period   Period
	Prev     Period
	LastYear Period
	// AsOf is the instant the values are read at: the period's last
	// nanosecond. GeneratedAt is when the bulletin was built.
	AsOf        time.Time
	GeneratedAt time.Time
	// Overview is the region's own value of every indicator reported.
	Overview []Line
	// Composite ranks the children by composite score; Total is the
	// region's own.
	Composite []CompositeRow
	Total     CompositeRow
	Rankings  []Ranking
	Lagging   []Lag
	Specials  []Special
	// Keywords are the words the archive searches besides the title:
	// region, units, indicators, special reports.
	Keywords []string
}

// Build builds the bulletin of bl for a region and a period from the
// history store, exactly as of the period's end (Period.AsOf), with the
// previous period and the same period last year as of their ends.
func (b *Builder) Build(ctx context.Context, bl *Bulletin, regionCode string, p Period) (*Data, error) {
	code, err := region.ParseCode(regionCode)
	if err != nil {
		return nil, fmt.Errorf("bulletin %s: %w", bl.Name, err)
	}
	if p.Type != bl.Type {
		return nil, fmt.Errorf("bulletin %s: a %s period for a %s bulletin", bl.Name, p.Type, bl.Type)
	}
	loc := b.cfg.Location
	p = periodFrom(p.Type, p.Start.In(loc))
	self := b.unit(code)
	kids := b.cfg.Regions.Children(code)
	level := ""
	if len(kids) > 0 {
		level = kids[0].Level().String()
	}
	d := &Data{
		Bulletin: bl.Name, Type: bl.Type, Region: self, Level: level,
		Period: p, Prev: p.Prev(), LastYear: p.LastYear(),
		AsOf: p.AsOf(), GeneratedAt: b.cfg.Now().In(loc),
	}
	d.Heading = bl.Title
	if d.Heading == "" {
		d.Heading = self.Name + "政务服务数据" + bl.Type.Name()
	}
	d.Title = d.Heading + "（" + p.Label() + "）"

	// Every indicator shown, and every weighted one for the composite.
	shown := make([]indicator.Def, 0, len(bl.Indicators))
	for _, id := range bl.Indicators {
		def, ok := indicator.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("bulletin %s: unknown indicator %q", bl.Name, id)
		}
		shown = append(shown, def)
	}
	defs := slices.Clone(shown)
	for _, def := range indicator.All() {
		if def.Goal.Weight > 0 && !slices.ContainsFunc(defs, func(x indicator.Def) bool { return x.ID == def.ID }) {
			defs = append(defs, def)
		}
	}
	regions := make([]string, 0, len(kids)+1)
	regions = append(regions, string(code))
	for _, k := range kids {
		regions = append(regions, string(k))
	}
	var snaps [3]values
	for i, q := range []Period{p, d.Prev, d.LastYear} {
		if snaps[i], err = b.read(ctx, defs, bl.Type, regions, q); err != nil {
			return nil, fmt.Errorf("bulletin %s: %w", bl.Name, err)
		}
	}
	now, prev, ly := snaps[0], snaps[1], snaps[2]

	selfLevel := code.Level().String()
	for _, def := range shown {
		d.Overview = append(d.Overview, b.line(self, selfLevel, def, now, prev, ly))
	}
	d.Total = b.compositeRow(self, selfLevel, defs, now, prev, ly)

	units := make([]Unit, len(kids))
	for i, k := range kids {
		units[i] = b.unit(k)
	}
	// Composite ranking of the children.
	if len(units) > 0 {
		rows := make([]CompositeRow, len(units))
		scores := make([]ranking.Score, len(units))
		for i, u := range units {
			rows[i] = b.compositeRow(u, level, defs, now, prev, ly)
			scores[i] = ranking.Score{Unit: u.Code, Null: rows[i].Score == nil}
			if rows[i].Score != nil {
				scores[i].Value = *rows[i].Score
			}
		}
		ranking.RankScores(scores)
		byUnit := map[string]CompositeRow{}
		for _, r := range rows {
			byUnit[r.Unit.Code] = r
		}
		for _, s := range scores {
			r := byUnit[s.Unit]
			r.Rank, r.Of = s.Rank, len(scores)
			d.Composite = append(d.Composite, r)
		}
	}

	// Each indicator's ranking, and who lags.
	for _, def := range shown {
		if len(units) == 0 {
			break
		}
		rk := Ranking{Indicator: def, Level: level}
		if rule, ok := b.cfg.Targets.Rule(level, def.ID); ok {
			rk.Target, rk.HasTarget = rule.Target, true
		}
		rows := make([]ranking.Row, len(units))
		lines := map[string]Line{}
		for i, u := range units {
			l := b.line(u, level, def, now, prev, ly)
			lines[u.Code] = l
			rows[i] = ranking.Row{Unit: u.Code, Name: u.Name, Numerator: l.Value.Numerator,
				Denominator: l.Value.Denominator, Rate: def.Rate, Missing: !l.Value.Has}
		}
		ranking.Rank(rows, def.LowerIsBetter)
		ranked := 0
		for _, r := range rows {
			if r.Rank > 0 {
				ranked++
			}
		}
		for _, r := range rows {
			l := lines[r.Unit]
			l.Rank, l.Of = r.Rank, len(rows)
			rk.Rows = append(rk.Rows, l)
			var why []string
			switch l.Status {
			case scoring.StatusRed:
				why = append(why, "低于底线")
			case scoring.StatusAmber:
				why = append(why, "未达目标值")
			}
			if bl.Bottom > 0 && l.Rank > 0 && l.Rank > ranked-bl.Bottom && ranked > bl.Bottom {
				why = append(why, fmt.Sprintf("排名后%d位", bl.Bottom))
			}
			if len(why) > 0 {
				d.Lagging = append(d.Lagging, Lag{Line: l, Reason: strings.Join(why, "；")})
			}
		}
		d.Rankings = append(d.Rankings, rk)
	}

	if b.cfg.Specials != nil {
		sp, err := b.cfg.Specials.Specials(ctx, string(code), p.Start, p.End)
		if err != nil {
			return nil, fmt.Errorf("bulletin %s: special reports: %w", bl.Name, err)
		}
		slices.SortStableFunc(sp, func(a, b Special) int { return a.FiredAt.Compare(b.FiredAt) })
		d.Specials = sp
	}
	d.Keywords = keywords(d)
	return d, nil
}

// keywords lists the words the archive searches besides the title.
func keywords(d *Data) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(d.Region.Name)
	add(d.Region.Code)
	add(d.Type.Name())
	add(d.Period.Label())
	for _, l := range d.Overview {
		add(l.Indicator.Name)
	}
	for _, l := range d.Lagging {
		add(l.Unit.Name)
	}
	for _, s := range d.Specials {
		add(s.Title)
	}
	return out
}

func (b *Builder) unit(c region.Code) Unit {
	name, ok := b.cfg.Regions.Name(c)
	if !ok {
		name = string(c)
	}
	return Unit{Code: string(c), Name: name}
}

// valueKey names one value of a snapshot.
type valueKey struct{ indicator, region string }

// values are the values of one instant.
type values map[valueKey]Value

// read reads the values of defs for regions as of the end of period q. A
// point recorded before q started belongs to an earlier period: nothing
// is known of q then (the value is absent).
func (b *Builder) read(ctx context.Context, defs []indicator.Def, typ Type, regions []string, q Period) (values, error) {
	out := values{}
	at := q.AsOf()
	for _, def := range defs {
		period := store.PeriodCatalog
		if def.Periodic {
			period = typ.StorePeriod()
		}
		pts, err := b.cfg.History.AsOf(ctx, store.Selector{Indicator: def.ID, Period: period, Regions: regions}, at)
		if err != nil {
			return nil, fmt.Errorf("history of %s as of %s: %w", def.ID, at.Format(time.RFC3339Nano), err)
		}
		for _, pt := range pts {
			if def.Periodic && pt.Time.Before(q.Start) {
				continue
			}
			out[valueKey{def.ID, pt.Region}] = Value{Numerator: int64(math.Round(pt.Numerator)),
				Denominator: pt.Denominator, Rate: pt.HasDenominator, Has: true}
		}
	}
	return out, nil
}

func (b *Builder) line(u Unit, level string, def indicator.Def, now, prev, ly values) Line {
	k := valueKey{def.ID, u.Code}
	v := now[k]
	v.Rate = def.Rate
	l := Line{Unit: u, Indicator: def, Value: v}
	if rule, ok := b.cfg.Targets.Rule(level, def.ID); ok {
		l.Target, l.HasTarget = rule.Target, true
	}
	f, ok := v.Float()
	l.Status = b.cfg.Targets.Status(level, def, f, ok)
	l.StatusText = statusText(l.Status)
	pv, lv := prev[k], ly[k]
	pv.Rate, lv.Rate = def.Rate, def.Rate
	l.MoM = changeOf(v, pv, def)
	l.YoY = changeOf(v, lv, def)
	return l
}

func (b *Builder) composite(u Unit, level string, defs []indicator.Def, vals values) scoring.Composite {
	in := make([]scoring.Input, 0, len(defs))
	for _, def := range defs {
		v, ok := vals[valueKey{def.ID, u.Code}]
		if !ok || !v.Has {
			continue // no data: left out of both sums, like a null
		}
		in = append(in, scoring.Input{Indicator: def.ID, Numerator: v.Numerator, Denominator: v.Denominator, Rate: def.Rate})
	}
	return b.cfg.Targets.Composite(level, in)
}

func (b *Builder) compositeRow(u Unit, level string, defs []indicator.Def, now, prev, ly values) CompositeRow {
	c := b.composite(u, level, defs, now)
	r := CompositeRow{Unit: u, Score: c.Score, Tier: c.Tier}
	diff := func(before *float64) *float64 {
		if c.Score == nil || before == nil {
			return nil
		}
		x := *c.Score - *before
		return &x
	}
	r.MoM = diff(b.composite(u, level, defs, prev).Score)
	r.YoY = diff(b.composite(u, level, defs, ly).Score)
	return r
}
