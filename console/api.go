package console

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// indicatorJSON describes an indicator in answers.
type indicatorJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	NameEN        string `json:"name_en"`
	Rate          bool   `json:"rate"`
	LowerIsBetter bool   `json:"lower_is_better"`
	Periodic      bool   `json:"periodic"`
}

func indicatorOf(d indicator.Def) indicatorJSON {
	return indicatorJSON{d.ID, d.Name, d.NameEN, d.Rate, d.LowerIsBetter, d.Periodic}
}

// ruleJSON is the target, floor and weight of an indicator at a level.
type ruleJSON struct {
	Target     float64 `json:"target"`
	Floor      float64 `json:"floor"`
	Weight     float64 `json:"weight"`
	TargetText string  `json:"target_text"`
	FloorText  string  `json:"floor_text"`
}

func (c *Console) ruleOf(level string, d indicator.Def) *ruleJSON {
	r, ok := c.targets.Rule(level, d.ID)
	if !ok {
		return nil
	}
	return &ruleJSON{Target: r.Target, Floor: r.Floor, Weight: r.Weight,
		TargetText: valueText(&r.Target, d.Rate), FloorText: valueText(&r.Floor, d.Rate)}
}

// targetText shows the target of a rule, or a dash without one.
func targetText(r *ruleJSON) string {
	if r == nil {
		return dash
	}
	return r.TargetText
}

// regionRef names a region.
type regionRef struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
	// HasChildren tells the page whether a click can drill further down.
	HasChildren bool `json:"has_children"`
}

func (c *Console) ref(code region.Code) regionRef {
	name, ok := c.cfg.Regions.Name(code)
	if !ok {
		name = string(code)
	}
	return regionRef{Code: string(code), Name: name, Level: code.Level().String(), HasChildren: len(c.cfg.Regions.Children(code)) > 0}
}

// numbers is a value as counts: value, numerator, denominator. Numerator
// and denominator are null when there is no data; the denominator is null
// for counts, and the value is null for a rate over 0 (SPEC.md section 5).
type numbers struct {
	Value       *float64 `json:"value"`
	Numerator   *int64   `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	NoData      bool     `json:"no_data,omitempty"`
}

func numbersOf(v value) numbers {
	if !v.has {
		return numbers{NoData: true}
	}
	n := numbers{Numerator: ptr(v.num)}
	if v.rate {
		n.Denominator = ptr(v.den)
	}
	if f, ok := v.float(); ok {
		n.Value = &f
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// numberTexts are the value, numerator and denominator as the page shows
// them (a dash for null).
type numberTexts struct {
	ValueText       string `json:"value_text"`
	NumeratorText   string `json:"numerator_text"`
	DenominatorText string `json:"denominator_text"`
}

func textsOf(n numbers, rate bool) numberTexts {
	return numberTexts{valueText(n.Value, rate), countText(n.Numerator), countText(n.Denominator)}
}

// change is a comparison (环比 or 同比): the earlier value and the change
// to the current one, in the indicator's unit (a fraction for rates).
type change struct {
	numbers
	Change *float64 `json:"change"`
	// Text is the change as shown, ValueText the earlier value as shown,
	// Tone whether the change is good news (better, worse or flat).
	Text      string `json:"text"`
	ValueText string `json:"value_text"`
	Tone      string `json:"tone"`
}

// roundChange removes float noise from a difference of two ratios
// (0.955 − 0.9 = 0.05500000000000005): changes are shown to at most a
// hundredth of a percentage point, 12 decimals are plenty.
func roundChange(x float64) float64 { return math.Round(x*1e12) / 1e12 }

func changeOf(now, before value, def indicator.Def, lang string) change {
	ch := change{numbers: numbersOf(before)}
	a, okA := now.float()
	b, okB := before.float()
	if okA && okB {
		ch.Change = ptr(roundChange(a - b))
	}
	ch.Text = changeText(ch.Change, def.Rate, lang)
	ch.ValueText = valueText(ch.Value, def.Rate)
	ch.Tone = toneOf(ch.Change, def.LowerIsBetter)
	return ch
}

// unitRow is who a row of a ranking is, and its place.
type unitRow struct {
	// Rank is null for a null value (no rank, SPEC.md section 6).
	Rank     *int   `json:"rank"`
	RankText string `json:"rank_text"`
	Unit     string `json:"unit"`
	Region   string `json:"region"`
	Dept     string `json:"dept,omitempty"`
	Name     string `json:"name"`
	Level    string `json:"level"`
	// Key names the unit in the page's compare list: "region" or
	// "region:dept".
	Key string `json:"key"`
}

func (c *Console) unitRowOf(u unit, level string) unitRow {
	return unitRow{RankText: dash, Unit: unitCode(u), Region: string(u.region), Dept: u.dept, Name: c.unitName(u), Level: level, Key: compareKey(u)}
}

// setRank gives the row its rank; 0 is no rank.
func (r *unitRow) setRank(rank int) {
	if rank > 0 {
		r.Rank = ptr(rank)
	}
	r.RankText = rankText(r.Rank)
}

// compareKey is the inverse of compareUnit's parsing.
func compareKey(u unit) string {
	if u.dept != "" {
		return string(u.region) + ":" + u.dept
	}
	return string(u.region)
}

// row is one unit of a ranking.
type row struct {
	unitRow
	numbers
	numberTexts
	Status      scoring.Status `json:"status"`
	StatusText  string         `json:"status_text"`
	MoM         change         `json:"mom"`
	YoY         change         `json:"yoy"`
	HasChildren bool           `json:"has_children"`
}

// rankingJSON is the answer of /api/ranking.
type rankingJSON struct {
	Indicator indicatorJSON `json:"indicator"`
	Period    string        `json:"period"`
	AsOf      string        `json:"as_of"`
	Live      bool          `json:"live"`
	MoMAsOf   string        `json:"mom_as_of"`
	YoYAsOf   string        `json:"yoy_as_of"`
	Region    regionRef     `json:"region"`
	// Level is the level of the ranked units: city, county, township or dept.
	Level string    `json:"level"`
	By    string    `json:"by"`
	Rule  *ruleJSON `json:"rule"`
	// Total is the region itself (the sum of the counts below it).
	Total row   `json:"total"`
	Rows  []row `json:"rows"`
	// AsOfText is as_of as the page shows it; Chart is the ECharts option
	// of the ranking's bar chart (only in the answers of /api/ranking and
	// /api/view).
	AsOfText string          `json:"as_of_text"`
	Chart    json.RawMessage `json:"chart,omitempty"`
}

func (c *Console) stamp(t time.Time) string { return t.In(c.loc).Format(time.RFC3339Nano) }

// now returns the instant a view reads.
func (c *Console) now(asOf *time.Time) instant {
	if asOf == nil {
		return instant{at: time.Unix(0, c.cfg.Live.Now()).In(c.loc), live: true}
	}
	return instant{at: *asOf}
}

// unitsAndResults returns the units a view ranks, and the scoring level of their
// rows. Regions come from the region table (plus, live, regions the
// engine knows that are newer than the table); departments from the live
// engine (the history store does not list them).
//
// It also returns the live results by department it read (nil for
// regions), so that a live view does not compute them twice.
func (c *Console) unitsAndResults(v view) ([]unit, string, []engine.Result, error) {
	if v.byDept {
		rs, err := c.cfg.Live.Results(v.period, true)
		if err != nil {
			return nil, "", nil, fmt.Errorf("console: departments: %w", err)
		}
		seen := map[string]bool{}
		var us []unit
		for i := range rs {
			if rs[i].Region == string(v.region) && rs[i].Dept != "" && !seen[rs[i].Dept] {
				seen[rs[i].Dept] = true
				us = append(us, unit{v.region, rs[i].Dept})
			}
		}
		slices.SortFunc(us, func(a, b unit) int { return strings.Compare(a.dept, b.dept) })
		return us, scoring.LevelDept, rs, nil
	}
	level := v.level
	if level == 0 {
		level = v.region.Level() + 1
		if kids := c.cfg.Regions.Children(v.region); len(kids) > 0 {
			level = kids[0].Level() // a city without counties has townships below it
		}
	}
	var us []unit
	var walk func(code region.Code)
	walk = func(code region.Code) {
		for _, k := range c.cfg.Regions.Children(code) {
			if v.level == 0 || k.Level() == level {
				us = append(us, unit{region: k})
				continue
			}
			if k.Level() < level {
				walk(k)
			}
		}
	}
	walk(v.region)
	return us, level.String(), nil, nil
}

// unitsWithLive adds the regions of live results below v.region at the
// ranked level that the table does not know.
func (c *Console) addLiveRegions(v view, us []unit, level string, rs []engine.Result) []unit {
	seen := make(map[region.Code]bool, len(us))
	for _, u := range us {
		seen[u.region] = true
	}
	var extra []unit
	var anc []region.Code
	for i := range rs {
		code := region.Code(rs[i].Region)
		if seen[code] || code.Level().String() != level {
			continue
		}
		if v.level == 0 {
			if p, ok := code.Parent(); !ok || p != v.region {
				continue
			}
		} else if anc = code.Ancestors(anc[:0]); !slices.Contains(anc, v.region) {
			continue
		}
		seen[code] = true
		extra = append(extra, unit{region: code})
	}
	slices.SortFunc(extra, func(a, b unit) int { return strings.Compare(string(a.region), string(b.region)) })
	return append(us, extra...)
}

func (c *Console) unitName(u unit) string {
	if u.dept != "" {
		return u.dept
	}
	name, ok := c.cfg.Regions.Name(u.region)
	if !ok {
		return string(u.region)
	}
	return name
}

func (c *Console) rowOf(u unit, level string, def indicator.Def, t *triple, lang string) row {
	k := key{def.ID, u}
	now := t.now[k]
	f, ok := now.float()
	r := row{
		unitRow: c.unitRowOf(u, level),
		numbers: numbersOf(now),
		Status:  c.targets.Status(level, def, f, ok),
		MoM:     changeOf(now, t.mom[k], def, lang),
		YoY:     changeOf(now, t.yoy[k], def, lang),
	}
	r.numberTexts = textsOf(r.numbers, def.Rate)
	r.StatusText = statusText(r.Status, lang)
	if u.dept == "" {
		r.HasChildren = len(c.cfg.Regions.Children(u.region)) > 0
	}
	return r
}

// levelOf is the scoring level of a unit: its region's level, or "dept".
func levelOf(u unit) string {
	if u.dept != "" {
		return scoring.LevelDept
	}
	return u.region.Level().String()
}

func unitCode(u unit) string {
	if u.dept != "" {
		return u.dept
	}
	return string(u.region)
}

// viewUnits returns the units a view ranks, their level and the instant it reads, with
// the live results attached when the view is live (read once per request).
func (c *Console) viewUnits(v view) ([]unit, string, instant, error) {
	us, level, deptResults, err := c.unitsAndResults(v)
	if err != nil {
		return nil, "", instant{}, err
	}
	inst := c.now(v.asOf)
	if inst.live && v.byDept {
		inst.results = deptResults
	}
	if inst.live && !v.byDept {
		rs, err := c.cfg.Live.Results(v.period, false)
		if err != nil {
			return nil, "", instant{}, fmt.Errorf("console: live values: %w", err)
		}
		us = c.addLiveRegions(v, us, level, rs)
		inst.results = rs
	}
	return us, level, inst, nil
}

// ranking computes the ranking of one indicator (SPEC.md section 6).
func (c *Console) ranking(ctx context.Context, v view) (*rankingJSON, error) {
	us, level, inst, err := c.viewUnits(v)
	if err != nil {
		return nil, err
	}
	self := unit{region: v.region}
	all := append(slices.Clip(us), self)
	t, err := c.snapshots(ctx, []indicator.Def{v.def}, v.period, all, inst)
	if err != nil {
		return nil, err
	}
	rows := make([]ranking.Row, len(us))
	for i, u := range us {
		val := t.now[key{v.def.ID, u}]
		rows[i] = ranking.Row{Unit: unitCode(u), Numerator: val.num, Denominator: val.den, Rate: v.def.Rate, Missing: !val.has}
	}
	byCode := make(map[string]unit, len(us))
	for _, u := range us {
		byCode[unitCode(u)] = u
	}
	ranking.Rank(rows, v.def.LowerIsBetter)
	out := &rankingJSON{
		Indicator: indicatorOf(v.def), Period: v.period.String(),
		AsOf: c.stamp(t.nowAt.at), Live: inst.live, MoMAsOf: c.stamp(t.momAt.at), YoYAsOf: c.stamp(t.yoyAt.at),
		Region: c.ref(v.region), Level: level, Rule: c.ruleOf(level, v.def),
		Total:    c.rowOf(self, v.region.Level().String(), v.def, &t, v.lang),
		Rows:     make([]row, len(rows)),
		AsOfText: stampText(t.nowAt.at, c.loc),
	}
	if v.byDept {
		out.By = "dept"
	}
	for i, rr := range rows {
		u := byCode[rr.Unit]
		out.Rows[i] = c.rowOf(u, levelOf(u), v.def, &t, v.lang)
		out.Rows[i].setRank(rr.Rank)
	}
	return out, nil
}

func (c *Console) handleRanking(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "indicator", "period", "region", "level", "by", "as_of", "lang"); err != nil {
		return c.fail(ctx, err)
	}
	v, err := c.parseView(ctx, false)
	if err != nil {
		return c.fail(ctx, err)
	}
	out, err := c.ranking(ctx.UserContext(), v)
	if err != nil {
		return c.fail(ctx, err)
	}
	if out.Chart, err = c.rankingChart(out, v.lang); err != nil {
		return c.fail(ctx, err)
	}
	return ctx.JSON(out)
}

// scoreChange compares two composite scores.
type scoreChange struct {
	Score  *float64 `json:"score"`
	Change *float64 `json:"change"`
	// Text, ValueText and Tone as in change.
	Text      string `json:"text"`
	ValueText string `json:"value_text"`
	Tone      string `json:"tone"`
}

func scoreChangeOf(now, before *float64, lang string) scoreChange {
	sc := scoreChange{Score: before}
	if now != nil && before != nil {
		sc.Change = ptr(roundChange(*now - *before))
	}
	sc.Text = changeText(sc.Change, false, lang)
	sc.ValueText = scoreText(before)
	sc.Tone = toneOf(sc.Change, false)
	return sc
}

// compositeView is a composite score with its texts and the colour of
// its tier.
type compositeView struct {
	scoring.Composite
	ScoreText  string         `json:"score_text"`
	TierText   string         `json:"tier_text"`
	TierStatus scoring.Status `json:"tier_status"`
}

func (c *Console) compositeViewOf(s scoring.Composite, lang string) compositeView {
	return compositeView{Composite: s, ScoreText: scoreText(s.Score), TierText: tierText(s, lang),
		TierStatus: tierStatus(s.Tier, c.targets.Tiers())}
}

// compositeRow is one unit of a composite ranking.
type compositeRow struct {
	unitRow
	compositeView
	MoM         scoreChange `json:"mom"`
	YoY         scoreChange `json:"yoy"`
	HasChildren bool        `json:"has_children"`
}

// compositeJSON is the answer of /api/composite.
type compositeJSON struct {
	Period  string             `json:"period"`
	AsOf    string             `json:"as_of"`
	Live    bool               `json:"live"`
	MoMAsOf string             `json:"mom_as_of"`
	YoYAsOf string             `json:"yoy_as_of"`
	Region  regionRef          `json:"region"`
	Level   string             `json:"level"`
	By      string             `json:"by"`
	Tiers   []scoring.Tier     `json:"tiers"`
	Weights map[string]float64 `json:"weights"`
	Total   compositeRow       `json:"total"`
	Rows    []compositeRow     `json:"rows"`
	// AsOfText and Chart as in rankingJSON.
	AsOfText string          `json:"as_of_text"`
	Chart    json.RawMessage `json:"chart,omitempty"`
}

// compositeOf scores one unit from its counts at one instant.
func (c *Console) compositeOf(level string, u unit, vals values) scoring.Composite {
	in := make([]scoring.Input, 0, len(indicator.All()))
	for _, d := range indicator.All() {
		v, ok := vals[key{d.ID, u}]
		if !ok || !v.has {
			continue // no data: left out of both sums, like a null
		}
		in = append(in, scoring.Input{Indicator: d.ID, Numerator: v.num, Denominator: v.den, Rate: v.rate})
	}
	return c.targets.Composite(level, in)
}

func (c *Console) compositeRowOf(u unit, level string, t *triple, lang string) compositeRow {
	now := c.compositeOf(level, u, t.now)
	r := compositeRow{
		unitRow:       c.unitRowOf(u, level),
		compositeView: c.compositeViewOf(now, lang),
		MoM:           scoreChangeOf(now.Score, c.compositeOf(level, u, t.mom).Score, lang),
		YoY:           scoreChangeOf(now.Score, c.compositeOf(level, u, t.yoy).Score, lang),
	}
	if u.dept == "" {
		r.HasChildren = len(c.cfg.Regions.Children(u.region)) > 0
	}
	return r
}

// composite ranks the units of a view by composite score.
func (c *Console) composite(ctx context.Context, v view) (*compositeJSON, error) {
	us, level, inst, err := c.viewUnits(v)
	if err != nil {
		return nil, err
	}
	self := unit{region: v.region}
	t, err := c.snapshots(ctx, indicator.All(), v.period, append(slices.Clip(us), self), inst)
	if err != nil {
		return nil, err
	}
	out := &compositeJSON{
		Period: v.period.String(), AsOf: c.stamp(t.nowAt.at), Live: inst.live,
		MoMAsOf: c.stamp(t.momAt.at), YoYAsOf: c.stamp(t.yoyAt.at),
		Region: c.ref(v.region), Level: level, Tiers: c.targets.Tiers(), Weights: map[string]float64{},
		Total:    c.compositeRowOf(self, v.region.Level().String(), &t, v.lang),
		AsOfText: stampText(t.nowAt.at, c.loc),
	}
	if v.byDept {
		out.By = "dept"
	}
	for _, d := range indicator.All() {
		if r, ok := c.targets.Rule(level, d.ID); ok && r.Weight > 0 {
			out.Weights[d.ID] = r.Weight
		}
	}
	rows := make([]compositeRow, len(us))
	scores := make([]ranking.Score, len(us))
	for i, u := range us {
		rows[i] = c.compositeRowOf(u, levelOf(u), &t, v.lang)
		scores[i] = ranking.Score{Unit: rows[i].Unit, Null: rows[i].Score == nil}
		if rows[i].Score != nil {
			scores[i].Value = *rows[i].Score
		}
	}
	byUnit := make(map[string]compositeRow, len(rows))
	for _, r := range rows {
		byUnit[r.Unit] = r
	}
	ranking.RankScores(scores)
	out.Rows = make([]compositeRow, len(scores))
	for i, s := range scores {
		out.Rows[i] = byUnit[s.Unit]
		out.Rows[i].setRank(s.Rank)
	}
	return out, nil
}

func (c *Console) handleComposite(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "period", "region", "level", "by", "as_of", "lang"); err != nil {
		return c.fail(ctx, err)
	}
	v, err := c.parseViewRest(ctx, view{composite: true})
	if err != nil {
		return c.fail(ctx, err)
	}
	out, err := c.composite(ctx.UserContext(), v)
	if err != nil {
		return c.fail(ctx, err)
	}
	if out.Chart, err = c.compositeChart(out, v.lang); err != nil {
		return c.fail(ctx, err)
	}
	return ctx.JSON(out)
}

// unitIndicator is one indicator of one unit.
type unitIndicator struct {
	Indicator indicatorJSON `json:"indicator"`
	numbers
	numberTexts
	Status     scoring.Status `json:"status"`
	StatusText string         `json:"status_text"`
	Rule       *ruleJSON      `json:"rule"`
	TargetText string         `json:"target_text"`
	MoM        change         `json:"mom"`
	YoY        change         `json:"yoy"`
}

// unitJSON is the answer of /api/units/{region}.
type unitJSON struct {
	Unit         regionRef       `json:"unit"`
	Dept         string          `json:"dept,omitempty"`
	Level        string          `json:"level"`
	Ancestors    []regionRef     `json:"ancestors"`
	Period       string          `json:"period"`
	AsOf         string          `json:"as_of"`
	Live         bool            `json:"live"`
	MoMAsOf      string          `json:"mom_as_of"`
	YoYAsOf      string          `json:"yoy_as_of"`
	Indicators   []unitIndicator `json:"indicators"`
	Composite    compositeView   `json:"composite"`
	CompositeMoM scoreChange     `json:"composite_mom"`
	CompositeYoY scoreChange     `json:"composite_yoy"`
	AsOfText     string          `json:"as_of_text"`
}

func (c *Console) unitView(ctx context.Context, code region.Code, dept string, p engine.Period, asOf *time.Time, lang string) (*unitJSON, error) {
	u := unit{code, dept}
	level := code.Level().String()
	if dept != "" {
		level = scoring.LevelDept
	}
	t, err := c.snapshots(ctx, indicator.All(), p, []unit{u}, c.now(asOf))
	if err != nil {
		return nil, err
	}
	out := &unitJSON{
		Unit: c.ref(code), Dept: dept, Level: level, Ancestors: c.ancestors(code),
		Period: p.String(), AsOf: c.stamp(t.nowAt.at), Live: t.nowAt.live,
		MoMAsOf: c.stamp(t.momAt.at), YoYAsOf: c.stamp(t.yoyAt.at), AsOfText: stampText(t.nowAt.at, c.loc),
	}
	for _, d := range indicator.All() {
		k := key{d.ID, u}
		now := t.now[k]
		f, ok := now.float()
		ui := unitIndicator{
			Indicator: indicatorOf(d), numbers: numbersOf(now),
			Status: c.targets.Status(level, d, f, ok), Rule: c.ruleOf(level, d),
			MoM: changeOf(now, t.mom[k], d, lang), YoY: changeOf(now, t.yoy[k], d, lang),
		}
		ui.numberTexts = textsOf(ui.numbers, d.Rate)
		ui.StatusText = statusText(ui.Status, lang)
		ui.TargetText = targetText(ui.Rule)
		out.Indicators = append(out.Indicators, ui)
	}
	now := c.compositeOf(level, u, t.now)
	out.Composite = c.compositeViewOf(now, lang)
	out.CompositeMoM = scoreChangeOf(now.Score, c.compositeOf(level, u, t.mom).Score, lang)
	out.CompositeYoY = scoreChangeOf(now.Score, c.compositeOf(level, u, t.yoy).Score, lang)
	return out, nil
}

func (c *Console) handleUnit(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "period", "dept", "as_of", "lang"); err != nil {
		return c.fail(ctx, err)
	}
	code, err := c.parseRegion("region", ctx.Params("region"))
	if err != nil {
		return c.fail(ctx, err)
	}
	p, err := parsePeriod(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	dept := strings.Clone(ctx.Query("dept")) // outlives the request (see parseRegion)
	if err := checkDept(dept); err != nil {
		return c.fail(ctx, err)
	}
	asOf, err := c.parseAsOf(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	lang, err := parseLang(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	out, err := c.unitView(ctx.UserContext(), code, dept, p, asOf, lang)
	if err != nil {
		return c.fail(ctx, err)
	}
	return ctx.JSON(out)
}

// checkDept rejects department codes no store can hold (see
// store.SeriesKey.Validate).
func checkDept(d string) error {
	if len(d) > 64 || d == "-" || strings.TrimSpace(d) != d || strings.ContainsAny(d, "\"'\\$\x7f\uFFFD") {
		return badParam("dept", "部门代码 %q 无效", "invalid department code %q", d)
	}
	for _, r := range d {
		if r < 0x20 {
			return badParam("dept", "部门代码 %q 无效", "invalid department code %q", d)
		}
	}
	return nil
}

// ancestors returns the ancestors of code, the province first (the
// breadcrumb).
func (c *Console) ancestors(code region.Code) []regionRef {
	anc := code.Ancestors(nil)
	out := make([]regionRef, 0, len(anc))
	for i := len(anc) - 1; i >= 0; i-- {
		out = append(out, c.ref(anc[i]))
	}
	return out
}

// regionJSON is the answer of /api/regions/{code}.
type regionJSON struct {
	regionRef
	Ancestors []regionRef `json:"ancestors"`
	Children  []regionRef `json:"children"`
}

func (c *Console) handleRegion(ctx *fiber.Ctx) error {
	if err := checkParams(ctx); err != nil {
		return c.fail(ctx, err)
	}
	code, err := c.parseRegion("code", ctx.Params("code"))
	if err != nil {
		return c.fail(ctx, err)
	}
	out := regionJSON{regionRef: c.ref(code), Ancestors: c.ancestors(code), Children: []regionRef{}}
	for _, k := range c.cfg.Regions.Children(code) {
		out.Children = append(out.Children, c.ref(k))
	}
	return ctx.JSON(out)
}

// indicatorRules is one indicator with its rule at every level.
type indicatorRules struct {
	indicatorJSON
	Rules map[string]ruleJSON `json:"rules"`
}

func (c *Console) handleTargets(ctx *fiber.Ctx) error {
	if err := checkParams(ctx); err != nil {
		return c.fail(ctx, err)
	}
	out := struct {
		Indicators []indicatorRules `json:"indicators"`
		Tiers      []scoring.Tier   `json:"tiers"`
	}{Tiers: c.targets.Tiers()}
	for _, d := range indicator.All() {
		ir := indicatorRules{indicatorJSON: indicatorOf(d), Rules: map[string]ruleJSON{}}
		for _, l := range c.targets.Levels() {
			if r := c.ruleOf(l, d); r != nil {
				ir.Rules[l] = *r
			}
		}
		out.Indicators = append(out.Indicators, ir)
	}
	return ctx.JSON(out)
}
