package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"slices"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// key names an alert: one per rule, region and subject (the category of a
// surge, the source of a silent rule; empty otherwise).
type key struct {
	rule, region, subject string
}

// finding is what a true condition says, in the texts reports carry.
type finding struct {
	Indicator string `json:"indicator,omitempty"`
	Period    string `json:"period,omitempty"`
	// Value is the value judged; Threshold the bound or reference it is
	// judged against (the previous period's value for a drop, the rank
	// "12/13" for a bottom rule).
	Value     string `json:"value"`
	Threshold string `json:"threshold"`
	Text      string `json:"text"`
	TextEN    string `json:"text_en"`
}

// ip is an indicator in a period.
type ip struct {
	ind string
	p   engine.Period
}

type counts struct {
	num, den int64
	rate     bool
}

func (c counts) value() (float64, bool) {
	if !c.rate {
		return float64(c.num), true
	}
	if c.den <= 0 {
		return 0, false
	}
	return float64(c.num) / float64(c.den), true
}

// prevCache holds the previous period's values of one period kind, for
// drop rules: fetched once per region and period, dropped when the period
// turns.
type prevCache struct {
	idx int32
	m   map[indRegion]prevVal
}

// indRegion is an indicator of a region.
type indRegion struct{ ind, region string }

type prevVal struct {
	c  counts
	ok bool
}

// track is what reads one indicator in one period.
type track struct {
	watch []*Rule // threshold, drop, overdue
	rank  []*Rule // bottom by this indicator
	vals  map[string]counts
}

// evaluator turns values, health and surges into the set of true
// conditions. It keeps the values it judged, so that an evaluation only
// judges again what changed. It is used under the manager's evaluation
// lock only.
type evaluator struct {
	cal     *calendar.Calendar
	regions *region.Table
	targets *scoring.Config
	past    Past
	log     *slog.Logger
	root    string

	periods []engine.Period
	// track holds, per indicator and period a rule reads, the rules and
	// the values last judged: one map lookup per engine result.
	track     map[ip]*track
	composite map[engine.Period][]*Rule
	silent    []*Rule
	surge     []*Rule
	// orderRules are the orders_overdue rules (orders.go), judged whole
	// every time from the overdue orders.
	orderRules []*Rule
	timed      map[string]bool // the silent and surge rules
	// failed are the periods whose values could not be read in the last
	// run: their conditions are stale.
	failed map[engine.Period]bool

	cond      map[key]finding
	prev      map[engine.Period]*prevCache
	firstSeen map[string]time.Time // sources that never succeeded: since when they are known
}

func newEvaluator(rules []*Rule, cal *calendar.Calendar, regions *region.Table, targets *scoring.Config, past Past, root string, log *slog.Logger) *evaluator {
	e := &evaluator{
		cal: cal, regions: regions, targets: targets, past: past, log: log, root: root,
		track: map[ip]*track{}, composite: map[engine.Period][]*Rule{},
		cond: map[key]finding{}, prev: map[engine.Period]*prevCache{},
		firstSeen: map[string]time.Time{}, timed: map[string]bool{},
		failed: map[engine.Period]bool{},
	}
	addPeriod := func(p engine.Period) {
		if !slices.Contains(e.periods, p) {
			e.periods = append(e.periods, p)
		}
	}
	for _, r := range rules {
		switch r.Type {
		case Threshold, Drop, Overdue:
			tr := e.trackOf(ip{r.Indicator, r.Period})
			tr.watch = append(tr.watch, r)
			addPeriod(r.Period)
		case Bottom:
			if r.Indicator == Composite {
				e.composite[r.Period] = append(e.composite[r.Period], r)
			} else {
				tr := e.trackOf(ip{r.Indicator, r.Period})
				tr.rank = append(tr.rank, r)
			}
			addPeriod(r.Period)
		case Silent:
			e.silent = append(e.silent, r)
			e.timed[r.Name] = true
		case Surge:
			e.surge = append(e.surge, r)
			e.timed[r.Name] = true
		case OrdersOverdue:
			e.orderRules = append(e.orderRules, r)
		}
	}
	slices.Sort(e.periods)
	return e
}

func (e *evaluator) trackOf(k ip) *track {
	tr := e.track[k]
	if tr == nil {
		tr = &track{vals: map[string]counts{}}
		e.track[k] = tr
	}
	return tr
}

// vals returns the values last judged of an indicator in a period.
func (e *evaluator) vals(k ip) map[string]counts {
	if tr := e.track[k]; tr != nil {
		return tr.vals
	}
	return nil
}

// run brings cond up to date with the input at now. A period whose values
// cannot be read keeps its conditions as they were.
func (e *evaluator) run(ctx context.Context, now time.Time, in Input) error {
	var errs []error
	clear(e.failed)
	for _, p := range e.periods {
		rs, err := in.Results(ctx, p)
		if err != nil {
			e.failed[p] = true
			errs = append(errs, fmt.Errorf("report: values of %s: %w", p, err))
			continue
		}
		e.values(ctx, now, p, rs)
	}
	// Health and surges are judged whole every time: they are few, and
	// time alone changes them.
	for k := range e.cond {
		if e.timed[k.rule] {
			delete(e.cond, k)
		}
	}
	e.sources(now, in.Health())
	e.surges(now, in.Surges(now))
	if err := e.orders(ctx, now, in); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// values judges the changed values of one period.
func (e *evaluator) values(ctx context.Context, now time.Time, p engine.Period, rs []engine.Result) {
	comp := e.composite[p]
	dirty := map[*Rule]map[string]bool{} // bottom rule → parents to rank again
	markParent := func(r *Rule, code string) {
		c := region.Code(code)
		if c.Level() != r.Level {
			return
		}
		parent, ok := c.Parent()
		if !ok {
			return
		}
		if dirty[r] == nil {
			dirty[r] = map[string]bool{}
		}
		dirty[r][string(parent)] = true
	}
	for i := range rs {
		res := &rs[i]
		if res.Dept != "" {
			continue
		}
		k := ip{res.Indicator, p}
		tr := e.track[k]
		if tr == nil {
			if len(comp) == 0 {
				continue
			}
			// A composite ranks by every indicator of the period.
			tr = e.trackOf(k)
		}
		c := counts{res.Numerator, res.Denominator, res.Rate}
		if old, ok := tr.vals[res.Region]; ok && old == c {
			continue
		}
		tr.vals[res.Region] = c
		for _, r := range tr.watch {
			if inScope(r, res.Region) {
				e.judge(ctx, now, r, res.Region, c)
			}
		}
		for _, r := range tr.rank {
			markParent(r, res.Region)
		}
		for _, r := range comp {
			markParent(r, res.Region)
		}
	}
	for r, parents := range dirty {
		for parent := range parents {
			e.bottom(r, parent)
		}
	}
}

// set records a condition as true (f) or false (nil).
func (e *evaluator) set(k key, f *finding) {
	if f == nil {
		delete(e.cond, k)
		return
	}
	e.cond[k] = *f
}

// judge evaluates a threshold, drop or overdue rule for one region.
func (e *evaluator) judge(ctx context.Context, now time.Time, r *Rule, code string, c counts) {
	k := key{r.Name, code, ""}
	def, _ := indicator.Lookup(r.Indicator)
	switch r.Type {
	case Threshold:
		e.set(k, e.threshold(r, def, code, c))
	case Overdue:
		var f *finding
		if c.num > r.Above {
			f = &finding{Indicator: r.Indicator, Period: r.Period.String(),
				Value: fmtValue(false, float64(c.num)), Threshold: fmtValue(false, float64(r.Above)),
				Text:   fmt.Sprintf("超期未办结 %s 件，超过 %s 件", fmtValue(false, float64(c.num)), fmtValue(false, float64(r.Above))),
				TextEN: fmt.Sprintf("%s open overdue cases, above %s", fmtValue(false, float64(c.num)), fmtValue(false, float64(r.Above)))}
		}
		e.set(k, f)
	case Drop:
		prev, ok, err := e.previous(ctx, now, r, code)
		if err != nil {
			// Unknown: leave the condition as it was and try again at
			// the next change.
			e.log.Warn("report: previous value", "rule", r.Name, "region", code, "err", err)
			return
		}
		var f *finding
		if ok {
			f = e.drop(r, def, c, prev)
		}
		e.set(k, f)
	}
}

// judged reports whether a value can be judged: not null, and a rate with
// at least MinCount in its denominator.
func judged(r *Rule, c counts) (float64, bool) {
	v, ok := c.value()
	if !ok || (c.rate && c.den < r.MinCount) {
		return 0, false
	}
	return v, true
}

func (e *evaluator) threshold(r *Rule, def indicator.Def, code string, c counts) *finding {
	v, ok := judged(r, c)
	if !ok {
		return nil
	}
	level := region.Code(code).Level().String()
	var bound float64
	var hold bool
	var boundZH, boundEN string
	switch r.WorseThan.Kind {
	case BoundFloor, BoundTarget:
		rule, has := e.targets.Rule(level, def.ID)
		if !has {
			return nil
		}
		// The screens' colour decides, so a red value is a report.
		st := e.targets.Status(level, def, v, true)
		if r.WorseThan.Kind == BoundFloor {
			hold, bound, boundZH, boundEN = st == scoring.StatusRed, rule.Floor, "底线", "the floor"
		} else {
			hold, bound, boundZH, boundEN = st == scoring.StatusRed || st == scoring.StatusAmber, rule.Target, "目标", "the target"
		}
	default:
		bound = r.WorseThan.Value
		hold, boundZH, boundEN = worse(v, bound, def.LowerIsBetter), "阈值", "the threshold"
	}
	if !hold {
		return nil
	}
	subjZH, subjEN := subjectOf(def.Name, def.NameEN, r.Period, def.Periodic)
	wZH, wEN := worseWord(def.LowerIsBetter)
	vs, bs := fmtValue(def.Rate, v), fmtValue(def.Rate, bound)
	return &finding{Indicator: def.ID, Period: r.Period.String(), Value: vs, Threshold: bs,
		Text:   fmt.Sprintf("%s %s，%s%s %s", subjZH, vs, wZH, boundZH, bs),
		TextEN: fmt.Sprintf("%s %s, %s %s of %s", subjEN, vs, wEN, boundEN, bs)}
}

// worse reports whether v is beyond bound in the bad direction, with the
// tolerance package scoring uses, so 98/100 is not worse than 0.98.
func worse(v, bound float64, lower bool) bool {
	tol := 1e-9 * math.Max(1, math.Abs(bound))
	if lower {
		return v > bound+tol
	}
	return v < bound-tol
}

func (e *evaluator) drop(r *Rule, def indicator.Def, c, prev counts) *finding {
	v, ok := judged(r, c)
	pv, pok := judged(r, prev)
	if !ok || !pok {
		return nil
	}
	d := pv - v
	if def.LowerIsBetter {
		d = v - pv
	}
	pts := d
	if def.Rate {
		pts = d * 100
	}
	if pts <= r.Points+1e-9 {
		return nil
	}
	subjZH, subjEN := subjectOf(def.Name, def.NameEN, r.Period, true)
	vs, ps := fmtValue(def.Rate, v), fmtValue(def.Rate, pv)
	dirZH, dirEN, unitZH, unitEN := "下降", "down", "", ""
	if def.LowerIsBetter {
		dirZH, dirEN = "上升", "up"
	}
	if def.Rate {
		unitZH, unitEN = " 个百分点", " points"
	}
	return &finding{Indicator: def.ID, Period: r.Period.String(), Value: vs, Threshold: ps,
		Text: fmt.Sprintf("%s %s，较%s %s %s %s%s", subjZH, vs, prevPeriodZH[r.Period], ps, dirZH, fmtPoints(def.Rate, d), unitZH),
		TextEN: fmt.Sprintf("%s %s, %s %s%s from %s %s", subjEN, vs, dirEN, fmtPoints(def.Rate, d), unitEN,
			ps, prevPeriodEN[r.Period])}
}

// previous returns the value of the period before now's, from Past, once
// per region and period.
func (e *evaluator) previous(ctx context.Context, now time.Time, r *Rule, code string) (counts, bool, error) {
	if e.past == nil {
		return counts{}, false, nil
	}
	day := e.cal.DayOf(now.UnixNano())
	idx := r.Period.Index(day)
	pc := e.prev[r.Period]
	if pc == nil || pc.idx != idx {
		pc = &prevCache{idx: idx, m: map[indRegion]prevVal{}}
		e.prev[r.Period] = pc
	}
	k := indRegion{r.Indicator, code}
	if v, ok := pc.m[k]; ok {
		return v.c, v.ok, nil
	}
	// The last instant of the previous period.
	end := time.Unix(0, e.cal.StartOfDay(r.Period.Start(idx))).Add(-time.Nanosecond)
	num, den, ok, err := e.past.AsOf(ctx, r.Indicator, code, r.Period.String(), end)
	if err != nil {
		return counts{}, false, err
	}
	def, _ := indicator.Lookup(r.Indicator)
	v := prevVal{counts{num, den, def.Rate}, ok}
	pc.m[k] = v
	return v.c, v.ok, nil
}

// bottom ranks the units of one parent for a bottom rule and sets the
// condition of each: in the bottom N, ties included (a unit is in when
// fewer than N ranked units are worse). A ranking of N units or fewer
// reports no one: every unit would be "in the bottom".
func (e *evaluator) bottom(r *Rule, parent string) {
	units := e.units(r, parent)
	type pos struct {
		rank, of int
		value    string
	}
	in := map[string]pos{}
	var nameZH, nameEN string
	if r.Indicator == Composite {
		nameZH, nameEN = "综合指数", "Composite score"
		rows := make([]ranking.Score, 0, len(units))
		vals := map[string]float64{}
		for _, u := range units {
			comp := e.targets.Composite(region.Code(u).Level().String(), e.inputs(r.Period, u))
			s := ranking.Score{Unit: u, Null: comp.Score == nil}
			if comp.Score != nil {
				s.Value = *comp.Score
				vals[u] = s.Value
			}
			rows = append(rows, s)
		}
		ranking.RankScores(rows)
		ranked := 0
		for _, s := range rows {
			if s.Rank > 0 {
				ranked++
			}
		}
		for i, s := range rows {
			if s.Rank == 0 || ranked <= r.BottomN {
				continue
			}
			j := i
			for j+1 < len(rows) && rows[j+1].Rank == s.Rank {
				j++
			}
			if ranked-(j+1) < r.BottomN {
				in[s.Unit] = pos{s.Rank, ranked, fmtScore(vals[s.Unit])}
			}
		}
	} else {
		def, _ := indicator.Lookup(r.Indicator)
		nameZH, nameEN = def.Name, def.NameEN
		m := e.vals(ip{r.Indicator, r.Period})
		rows := make([]ranking.Row, 0, len(units))
		for _, u := range units {
			c := m[u]
			_, ok := judged(r, c)
			rows = append(rows, ranking.Row{Unit: u, Numerator: c.num, Denominator: c.den, Rate: c.rate, Missing: !ok})
		}
		ranking.Rank(rows, def.LowerIsBetter)
		ranked := 0
		for _, row := range rows {
			if !row.Null() {
				ranked++
			}
		}
		for i, row := range rows {
			if row.Null() || ranked <= r.BottomN {
				continue
			}
			j := i
			for j+1 < len(rows) && !rows[j+1].Null() && ranking.Compare(rows[j+1], row) == 0 {
				j++
			}
			if ranked-(j+1) < r.BottomN {
				v, _ := row.Value()
				in[row.Unit] = pos{row.Rank, ranked, fmtValue(def.Rate, v)}
			}
		}
	}
	pname := e.name(parent)
	for _, u := range units {
		k := key{r.Name, u, ""}
		p, ok := in[u]
		if !ok {
			e.set(k, nil)
			continue
		}
		subjZH, subjEN := subjectOf(nameZH, nameEN, r.Period, true)
		e.set(k, &finding{Indicator: r.Indicator, Period: r.Period.String(), Value: p.value,
			Threshold: fmt.Sprintf("%d/%d", p.rank, p.of),
			Text: fmt.Sprintf("%s %s，在%s %d 个%s中排第 %d（倒数 %d 名之内）", subjZH, p.value, pname, p.of,
				unitsZH[r.Level], p.rank, r.BottomN),
			TextEN: fmt.Sprintf("%s %s, rank %d of %d %s of %s (bottom %d)", subjEN, p.value, p.rank, p.of,
				unitsEN[r.Level], pname, r.BottomN)})
	}
}

// units lists the regions of the rule's level under parent that have
// values, in the rule's scope.
func (e *evaluator) units(r *Rule, parent string) []string {
	seen := map[string]bool{}
	collect := func(m map[string]counts) {
		for code := range m {
			c := region.Code(code)
			if c.Level() != r.Level || seen[code] || !inScope(r, code) {
				continue
			}
			if p, ok := c.Parent(); ok && string(p) == parent {
				seen[code] = true
			}
		}
	}
	if r.Indicator == Composite {
		for k, tr := range e.track {
			if k.p == r.Period {
				collect(tr.vals)
			}
		}
	} else {
		collect(e.vals(ip{r.Indicator, r.Period}))
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// inputs gathers a unit's values of a period for its composite score.
func (e *evaluator) inputs(p engine.Period, unit string) []scoring.Input {
	var in []scoring.Input
	for _, d := range indicator.All() {
		if c, ok := e.vals(ip{d.ID, p})[unit]; ok {
			in = append(in, scoring.Input{Indicator: d.ID, Numerator: c.num, Denominator: c.den, Rate: c.rate})
		}
	}
	return in
}

func (e *evaluator) name(code string) string {
	if e.regions != nil {
		if n, ok := e.regions.Name(region.Code(code)); ok {
			return n
		}
	}
	return code
}

// sources judges the silent rules: every source a rule names, from its
// last success (or, when it never succeeded, from when it was first seen).
func (e *evaluator) sources(now time.Time, hs []collectors.Health) {
	for _, r := range e.silent {
		where := e.root
		if len(r.Regions) > 0 {
			where = r.Regions[0]
		}
		for _, h := range hs {
			if !matchSource(r.Sources, h.Source) {
				continue
			}
			last := h.LastSuccess
			since := last
			if since.IsZero() {
				if _, ok := e.firstSeen[h.Source]; !ok {
					e.firstSeen[h.Source] = now
				}
				since = e.firstSeen[h.Source]
			}
			lag := now.Sub(since)
			if lag < r.After {
				continue
			}
			f := finding{Value: fmtMinutes(lag) + "m", Threshold: fmtMinutes(r.After) + "m"}
			if last.IsZero() {
				f.Text = fmt.Sprintf("数据源 %s 已 %s 分钟没有成功采集（启动以来从未成功）", h.Source, fmtMinutes(lag))
				f.TextEN = fmt.Sprintf("Source %s: no successful run for %s min (none since start)", h.Source, fmtMinutes(lag))
			} else {
				at := fmtClock(last, now, e.cal.Location())
				f.Text = fmt.Sprintf("数据源 %s 已 %s 分钟没有成功采集（上次成功 %s）", h.Source, fmtMinutes(lag), at)
				f.TextEN = fmt.Sprintf("Source %s: no successful run for %s min (last at %s)", h.Source, fmtMinutes(lag), at)
			}
			e.cond[key{r.Name, where, h.Source}] = f
		}
	}
}

func matchSource(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// surges judges the surge rules against the detector's current surges.
func (e *evaluator) surges(now time.Time, ss []SurgeFinding) {
	for _, r := range e.surge {
		for _, s := range ss {
			if _, err := region.ParseCode(s.Region); err != nil || !inScope(r, s.Region) || s.Score < r.MinScore {
				continue
			}
			if len(r.Categories) > 0 && !slices.Contains(r.Categories, s.Category) {
				continue
			}
			since := ""
			if !s.Since.IsZero() {
				since = fmtClock(s.Since, now, e.cal.Location())
			}
			exp := strconvF1(s.Expected)
			f := finding{Value: fmtValue(false, float64(s.Count)), Threshold: exp,
				Text: fmt.Sprintf("「%s」工单 %s 件，预期 %s 件（评分 %s，自 %s 起）", s.Category,
					fmtValue(false, float64(s.Count)), exp, strconvF1(s.Score), since),
				TextEN: fmt.Sprintf("Tickets of %s: %s, expected %s (score %s, since %s)", s.Category,
					fmtValue(false, float64(s.Count)), exp, strconvF1(s.Score), since)}
			e.cond[key{r.Name, s.Region, s.Category}] = f
		}
	}
}

func strconvF1(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.1f", x)
}

// inScope reports whether a region is of the rule's level (if it has one)
// and at or below one of its regions (if it lists any).
func inScope(r *Rule, code string) bool {
	c := region.Code(code)
	if r.Level != 0 && c.Level() != r.Level {
		return false
	}
	if len(r.Regions) == 0 {
		return true
	}
	for _, want := range r.Regions {
		if under(code, want) {
			return true
		}
	}
	return false
}

// under reports whether code is anc or lies below it.
func under(code, anc string) bool {
	if code == anc {
		return true
	}
	var buf [4]region.Code
	return slices.Contains(region.Code(code).Ancestors(buf[:0]), region.Code(anc))
}
