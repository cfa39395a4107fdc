package wall

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
)

// Composite is the pseudo-indicator id under which pages show the
// composite score (综合指数, 0–100) of a region; its hub topic is
// feed.ScoreTopic.
const Composite = "composite"

// page is what the template draws.
type page struct {
	Lang, Title, RegionName, PeriodLabel string
	Width, Height, Header                int
	EChartsURL, FontCSS, FontFamily      string
	MapScripts                           []string
	JSURL, CSSURL                        string
	T                                    map[string]string
	Widgets                              []*widgetView
	Config                               template.JS
}

type widgetView struct {
	ID, Type, Title string
	Style           template.CSS
	Values          []valueView // tiles: the tiles; charts: the hidden list of what the chart shows
	Lists           []rankList  // ranking: one list per indicator of the carousel
	Chart           template.HTML
	Script          template.HTML
	Sources         []string
	Note            string
	RowStyle        template.CSS // ranking: row height that fits Rows in the widget
}

// valueView is one shown value with its data-* attributes.
type valueView struct {
	Indicator, Region, Period string
	Label, Name               string // what it is (indicator) and whose (region name)
	Value, Num, Den           string // raw, "" when null
	Text                      string // formatted for display
	Status                    string // green/amber/red or ""
	Rank                      int
	Bar                       float64 // 0..100, share of the list's best
}

type rankList struct {
	Indicator, Title string
	Rows             []valueView
}

// jsConfig is the page's contract with static/wall.js.
type jsConfig struct {
	Screen    string                       `json:"screen"`
	Lang      string                       `json:"lang"`
	TZ        string                       `json:"tz"` // business time zone of the clock
	WS        string                       `json:"ws"`
	Width     int                          `json:"width"`
	Height    int                          `json:"height"`
	SilenceMs int64                        `json:"silence_ms"`
	StaleMs   int64                        `json:"stale_ms"`
	Defs      map[string]jsDef             `json:"defs"`
	Rules     map[string]map[string]jsRule `json:"rules"` // level → indicator → rule
	Tiers     []jsTier                     `json:"tiers"`
	Names     map[string]string            `json:"names"`
	Widgets   []jsWidget                   `json:"widgets"`
	Playlist  *jsPlaylist                  `json:"playlist,omitempty"`
	T         map[string]string            `json:"t"`
}

type jsDef struct {
	Name  string `json:"name"`
	Rate  bool   `json:"rate"`
	Lower bool   `json:"lower"`
}

type jsRule struct {
	Target float64 `json:"target"`
	Floor  float64 `json:"floor"`
}

type jsTier struct {
	Name string  `json:"name"`
	Min  float64 `json:"min"`
}

type jsWidget struct {
	ID         string             `json:"id"`
	Type       string             `json:"type"`
	Chart      string             `json:"chart,omitempty"`
	Charts     []string           `json:"charts,omitempty"`
	Region     string             `json:"region,omitempty"`
	Period     string             `json:"period,omitempty"`
	Indicators []string           `json:"indicators,omitempty"`
	Indicator  string             `json:"indicator,omitempty"`
	Level      string             `json:"level,omitempty"` // level of Children, for targets
	Children   []string           `json:"children,omitempty"`
	Map        string             `json:"map,omitempty"`
	Features   map[string]string  `json:"features,omitempty"` // region code → map feature name
	Drill      map[string]jsDrill `json:"drill,omitempty"`
	RotateMs   int64              `json:"rotate_ms,omitempty"`
	Rows       int                `json:"rows,omitempty"`
	Topic      string             `json:"topic,omitempty"`
	Dates      []string           `json:"dates,omitempty"` // trend: the x axis, YYYY-MM-DD
}

type jsDrill struct {
	Map      string            `json:"map"`
	Children []string          `json:"children"`
	Features map[string]string `json:"features"`
}

type jsPlaylist struct {
	Next    string `json:"next"`
	Seconds int    `json:"seconds"`
}

// featureAliases maps a division's current name to the name its shape has
// in the map files, where they differ (the map data predates a renaming).
var featureAliases = map[string]string{
	"华亭市": "华亭县", // 620881, formerly 620824
}

// values is the live state a page starts from.
type values struct {
	by     map[[3]string]engine.Result // indicator, region, period
	inputs map[[2]string][]scoring.Input
}

func (w *Wall) snapshot(periods map[string]bool) (*values, error) {
	v := &values{by: map[[3]string]engine.Result{}, inputs: map[[2]string][]scoring.Input{}}
	for ps := range periods {
		p, err := engine.ParsePeriod(ps)
		if err != nil {
			return nil, err
		}
		rs, err := w.cfg.Live.Results(p, false)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.Dept != "" {
				continue
			}
			v.by[[3]string{r.Indicator, r.Region, ps}] = r
			k := [2]string{r.Region, ps}
			v.inputs[k] = append(v.inputs[k], scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
		}
	}
	return v, nil
}

// value describes what one element shows.
func (w *Wall) value(vs *values, ind, reg, period, lang string) valueView {
	vv := valueView{Indicator: ind, Region: reg, Period: period, Text: "—"}
	vv.Name, _ = w.cfg.Regions.Name(region.Code(reg))
	level := region.Code(reg).Level().String()
	if ind == Composite {
		vv.Label = texts[lang]["composite"]
		c := w.cfg.Targets.Composite(level, vs.inputs[[2]string{reg, period}])
		if c.Score != nil {
			vv.Value = strconv.FormatFloat(*c.Score, 'g', -1, 64)
			vv.Text = strconv.FormatFloat(*c.Score, 'f', 1, 64)
			vv.Status = tierStatus(*c.Score)
		}
		return vv
	}
	def, _ := indicator.Lookup(ind)
	vv.Label = def.Name
	if lang == "en" {
		vv.Label = def.NameEN
	}
	r, ok := vs.by[[3]string{ind, reg, period}]
	if !ok {
		// No record yet: a count is 0, a rate has no value.
		r = engine.Result{Indicator: ind, Region: reg, Rate: def.Rate}
	}
	vv.Num = strconv.FormatInt(r.Numerator, 10)
	if r.Rate {
		vv.Den = strconv.FormatInt(r.Denominator, 10)
	}
	if x, ok := r.Value(); ok {
		vv.Value = strconv.FormatFloat(x, 'g', -1, 64)
		vv.Text = format(def, x)
		vv.Status = w.cfg.Targets.Status(level, def, x, true).String()
	}
	return vv
}

// tierStatus colours a composite score: 第一等次 green, 第二 and 第三 amber,
// below red.
func tierStatus(score float64) string {
	switch {
	case score >= 90:
		return "green"
	case score >= 60:
		return "amber"
	}
	return "red"
}

func format(def indicator.Def, x float64) string {
	if def.Rate {
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	}
	return groupThousands(int64(math.Round(x)))
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// display is a value in chart units: percent for rates, the count
// otherwise, the score for the composite; nil when null.
func display(vv valueView) any {
	if vv.Value == "" {
		return nil
	}
	x, _ := strconv.ParseFloat(vv.Value, 64)
	if def, ok := indicator.Lookup(vv.Indicator); ok && def.Rate {
		return math.Round(x*10000) / 100
	}
	return math.Round(x*100) / 100
}

func (w *Wall) children(code string) []string {
	cs := w.cfg.Regions.Children(region.Code(code))
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

// build composes the page of screen sc for request q.
func (w *Wall) build(ctx context.Context, sc *dashboards.Screen, q request) (*page, error) {
	lang := q.lang
	regionOf := func(wd dashboards.Widget) string {
		if wd.Region != "" {
			return wd.Region
		}
		if q.region != "" {
			return q.region
		}
		return sc.Region
	}
	periodOf := func(wd dashboards.Widget) string {
		if wd.Period != "" {
			return wd.Period
		}
		if q.period != "" {
			return q.period
		}
		return sc.Period
	}
	screenRegion := sc.Region
	if q.region != "" {
		screenRegion = q.region
	}
	screenPeriod := sc.Period
	if q.period != "" {
		screenPeriod = q.period
	}
	periods := map[string]bool{}
	for _, wd := range sc.Widgets {
		periods[periodOf(wd)] = true
	}
	vs, err := w.snapshot(periods)
	if err != nil {
		return nil, err
	}
	pg := &page{
		Lang: lang, Title: sc.Title.In(lang), Width: sc.Width, Height: sc.Height, Header: sc.Header,
		EChartsURL: assets.ECharts(), FontCSS: fontCSS(), FontFamily: fontFamily,
		JSURL: w.jsURL, CSSURL: w.cssURL, T: texts[lang],
		PeriodLabel: texts[lang]["period."+screenPeriod],
	}
	pg.RegionName, _ = w.cfg.Regions.Name(region.Code(screenRegion))
	cfg := jsConfig{
		Screen: sc.ID, Lang: lang, TZ: w.cfg.Location.String(), WS: w.cfg.WebSocket, Width: sc.Width, Height: sc.Height,
		SilenceMs: w.cfg.Silence.Milliseconds(), StaleMs: w.cfg.StaleAfter.Milliseconds(),
		Defs: map[string]jsDef{}, Rules: map[string]map[string]jsRule{}, Names: map[string]string{}, T: texts[lang],
	}
	for _, d := range indicator.All() {
		name := d.Name
		if lang == "en" {
			name = d.NameEN
		}
		cfg.Defs[d.ID] = jsDef{name, d.Rate, d.LowerIsBetter}
	}
	cfg.Defs[Composite] = jsDef{Name: texts[lang]["composite"]}
	for _, lv := range w.cfg.Targets.Levels() {
		m := map[string]jsRule{}
		for id, r := range w.cfg.Targets.Rules(lv) {
			m[id] = jsRule{r.Target, r.Floor}
		}
		cfg.Rules[lv] = m
	}
	for _, t := range w.cfg.Targets.Tiers() {
		name := t.Name
		if lang == "en" {
			name = t.NameEN
		}
		cfg.Tiers = append(cfg.Tiers, jsTier{name, t.Min})
	}
	name := func(code string) string {
		n, _ := w.cfg.Regions.Name(region.Code(code))
		cfg.Names[code] = n
		return n
	}
	name(screenRegion)
	mapScripts := map[string]bool{}
	for i, wd := range sc.Widgets {
		reg, per := regionOf(wd), periodOf(wd)
		name(reg)
		wv := &widgetView{ID: fmt.Sprintf("w%d", i), Type: wd.Type, Title: wd.Title.In(lang),
			Style: template.CSS(fmt.Sprintf("left:%dpx;top:%dpx;width:%dpx;height:%dpx", wd.At.X, wd.At.Y, wd.At.W, wd.At.H))}
		jw := jsWidget{ID: wv.ID, Type: wd.Type, Region: reg, Period: per}
		kids := w.children(reg)
		for _, k := range kids {
			name(k)
		}
		chartH := wd.At.H - 44 // the widget's title bar
		switch wd.Type {
		case dashboards.TypeTiles:
			for _, ind := range wd.Indicators {
				wv.Values = append(wv.Values, w.value(vs, ind, reg, per, lang))
			}
			jw.Indicators = wd.Indicators
		case dashboards.TypeMap:
			ind := wd.ColorBy
			if ind == "" || ind == dashboards.ColorComposite {
				if wd.ColorBy == dashboards.ColorComposite {
					ind = Composite
				} else {
					ind = wd.Indicator
				}
			}
			if wv.Title == "" {
				wv.Title = cfg.Defs[ind].Name
			}
			jw.Indicator, jw.Children = ind, kids
			if len(kids) > 0 {
				jw.Level = region.Code(kids[0]).Level().String()
			}
			mapName, ok := assets.MapName(cfg.Names[reg])
			if !ok {
				wv.Note = texts[lang]["nomap"]
				for _, k := range kids {
					wv.Values = append(wv.Values, w.value(vs, ind, k, per, lang))
				}
				jw.Type = "list"
				break
			}
			src, _ := assets.MapScript(cfg.Names[reg])
			mapScripts[src] = true
			jw.Map, jw.Features = mapName, map[string]string{}
			var data []opts.MapData
			for _, k := range kids {
				vv := w.value(vs, ind, k, per, lang)
				wv.Values = append(wv.Values, vv)
				f := feature(vv.Name)
				jw.Features[k] = f
				data = append(data, opts.MapData{Name: f, Value: display(vv)})
			}
			if wd.Drill {
				jw.Drill = map[string]jsDrill{}
				for _, k := range kids {
					cm, ok := assets.MapName(cfg.Names[k])
					if !ok {
						continue
					}
					s, _ := assets.MapScript(cfg.Names[k])
					mapScripts[s] = true
					d := jsDrill{Map: cm, Features: map[string]string{}}
					for _, cc := range w.children(k) {
						n := name(cc)
						d.Children = append(d.Children, cc)
						d.Features[cc] = feature(n)
					}
					jw.Drill[k] = d
				}
			}
			jw.Chart = wv.ID + "c"
			el, script, err := mapChart(jw.Chart, mapName, wd.At.W, chartH, cfg.Defs[ind].Name, data, w.pieces(ind, jw.Level))
			if err != nil {
				return nil, err
			}
			wv.Chart, wv.Script = el, script
		case dashboards.TypeRanking:
			jw.Indicators, jw.Children, jw.Rows = wd.Indicators, kids, wd.Rows
			jw.RotateMs = wd.Rotate.Milliseconds()
			for _, ind := range wd.Indicators {
				l := rankList{Indicator: ind, Title: cfg.Defs[ind].Name}
				for _, k := range kids {
					l.Rows = append(l.Rows, w.value(vs, ind, k, per, lang))
				}
				rankRows(l.Rows, cfg.Defs[ind].Lower)
				wv.Lists = append(wv.Lists, l)
			}
			if wv.Title == "" {
				wv.Title = texts[lang]["ranking"]
			}
			rows := min(wd.Rows, len(kids))
			if rows > 0 {
				h := min(44, max(20, (wd.At.H-44-40-8)/rows))
				wv.RowStyle = template.CSS(fmt.Sprintf("--row-h:%dpx", h))
			}
		case dashboards.TypeBar:
			ind := wd.Indicator
			jw.Indicator, jw.Children, jw.Rows = ind, kids, wd.Rows
			if len(kids) > 0 {
				jw.Level = region.Code(kids[0]).Level().String()
			}
			for _, k := range kids {
				wv.Values = append(wv.Values, w.value(vs, ind, k, per, lang))
			}
			rankRows(wv.Values, cfg.Defs[ind].Lower)
			if wv.Title == "" {
				wv.Title = cfg.Defs[ind].Name + texts[lang]["rank_suffix"]
			}
			jw.Chart = wv.ID + "c"
			el, script, err := barChart(jw.Chart, wd.At.W, chartH, wv.Values, wd.Rows)
			if err != nil {
				return nil, err
			}
			wv.Chart, wv.Script = el, script
		case dashboards.TypeGauge:
			jw.Indicators = wd.Indicators
			var els, scripts strings.Builder
			// Two gauges a row: four side by side would be too small to read.
			cols := min(2, len(wd.Indicators))
			rowsN := (len(wd.Indicators) + cols - 1) / cols
			gw, gh := (wd.At.W-28)/cols, chartH/rowsN
			for j, ind := range wd.Indicators {
				vv := w.value(vs, ind, reg, per, lang)
				wv.Values = append(wv.Values, vv)
				id := fmt.Sprintf("%sc%d", wv.ID, j)
				jw.Charts = append(jw.Charts, id)
				el, script, err := gaugeChart(id, gw, gh, cfg.Defs[ind].Name, vv)
				if err != nil {
					return nil, err
				}
				els.WriteString(string(el))
				scripts.WriteString(string(script))
			}
			wv.Chart, wv.Script = template.HTML(els.String()), template.HTML(scripts.String())
		case dashboards.TypeTrend:
			ind := wd.Indicator
			jw.Indicator, jw.Period = ind, "day"
			dates, pts := w.trend(ctx, ind, reg, wd.Days)
			jw.Dates = dates
			today := w.value(vs, ind, reg, "day", lang)
			periods["day"] = true
			wv.Values = append(wv.Values, today)
			if wv.Title == "" {
				wv.Title = cfg.Defs[ind].Name + texts[lang]["trend_suffix"]
			}
			jw.Chart = wv.ID + "c"
			el, script, err := lineChart(jw.Chart, wd.At.W, chartH, cfg.Defs[ind].Name, dates, pts)
			if err != nil {
				return nil, err
			}
			wv.Chart, wv.Script = el, script
		case dashboards.TypeTicker:
			jw.Topic, jw.Rows = tickerTopic, wd.Rows
			if wv.Title == "" {
				wv.Title = texts[lang]["ticker"]
			}
		case dashboards.TypeHealth:
			wv.Sources = w.cfg.Sources()
			if wv.Title == "" {
				wv.Title = texts[lang]["health"]
			}
		}
		pg.Widgets = append(pg.Widgets, wv)
		cfg.Widgets = append(cfg.Widgets, jw)
	}
	for s := range mapScripts {
		pg.MapScripts = append(pg.MapScripts, s)
	}
	sort.Strings(pg.MapScripts)
	if q.playlist != nil {
		next := (q.item + 1) % len(q.playlist.Items)
		cfg.Playlist = &jsPlaylist{Next: itemURL(q.playlist, next, lang), Seconds: q.playlist.Items[q.item].Seconds}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("page config: %w", err)
	}
	// In a <script type="application/json"> only "</" could end the
	// element early; JSON allows "<\/".
	pg.Config = template.JS(strings.ReplaceAll(string(b), "</", `<\/`))
	return pg, nil
}

func feature(name string) string {
	if f, ok := featureAliases[name]; ok {
		return f
	}
	return name
}

// rankRows sorts rows best first and ranks them with package ranking
// (SPEC.md section 6), exactly from numerators and denominators; composite
// scores rank by ranking.RankScores.
func rankRows(rows []valueView, lower bool) {
	byUnit := make(map[string]valueView, len(rows))
	for _, r := range rows {
		byUnit[r.Region] = r
	}
	var order []string
	ranks := map[string]int{}
	if len(rows) > 0 && rows[0].Indicator == Composite {
		in := make([]ranking.Score, len(rows))
		for i, r := range rows {
			x, err := strconv.ParseFloat(r.Value, 64)
			in[i] = ranking.Score{Unit: r.Region, Value: x, Null: err != nil}
		}
		for _, s := range ranking.RankScores(in) {
			order, ranks[s.Unit] = append(order, s.Unit), s.Rank
		}
	} else {
		in := make([]ranking.Row, len(rows))
		for i, r := range rows {
			n, _ := strconv.ParseInt(r.Num, 10, 64)
			d, _ := strconv.ParseInt(r.Den, 10, 64)
			in[i] = ranking.Row{Unit: r.Region, Numerator: n, Denominator: d, Rate: r.Den != "", Missing: r.Value == ""}
		}
		for _, s := range ranking.Rank(in, lower) {
			order, ranks[s.Unit] = append(order, s.Unit), s.Rank
		}
	}
	best := 0.0
	for i, u := range order {
		rows[i] = byUnit[u]
		rows[i].Rank = ranks[u]
		if x, err := strconv.ParseFloat(rows[i].Value, 64); err == nil {
			best = math.Max(best, math.Abs(x))
		}
	}
	for i := range rows {
		x, err := strconv.ParseFloat(rows[i].Value, 64)
		if err != nil || best == 0 {
			continue
		}
		rows[i].Bar = math.Round(math.Abs(x)/best*1000) / 10
	}
}

// trend reads the last days of the indicator's daily series.
func (w *Wall) trend(ctx context.Context, ind, reg string, days int) ([]string, []any) {
	now := time.Unix(0, w.cfg.Live.Now()).In(w.cfg.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, w.cfg.Location)
	from := today.AddDate(0, 0, -(days - 1))
	dates := make([]string, days)
	pts := make([]any, days)
	idx := map[string]int{}
	for i := range dates {
		dates[i] = from.AddDate(0, 0, i).Format("2006-01-02")
		idx[dates[i]] = i
	}
	if w.cfg.History == nil {
		return dates, pts
	}
	def, _ := indicator.Lookup(ind)
	ps, err := w.cfg.History.Series(ctx, store.SeriesKey{Indicator: ind, Region: reg, Dept: store.AllDepts, Period: "day"}, from, now, store.RollupDay)
	if err != nil {
		w.cfg.Logger.Warn("trend history", "indicator", ind, "region", reg, "err", err)
		return dates, pts
	}
	for _, p := range ps {
		i, ok := idx[p.Time.In(w.cfg.Location).Format("2006-01-02")]
		if !ok {
			continue
		}
		switch {
		case !def.Rate:
			pts[i] = p.Numerator
		case p.Denominator > 0:
			pts[i] = math.Round(p.Numerator/float64(p.Denominator)*10000) / 100
		}
	}
	return dates, pts
}

// pieces colours a map: by target status for an indicator with a rule at
// the children's level, by tier for the composite; nil for a plain scale.
func (w *Wall) pieces(ind, level string) []opts.Piece {
	green, amber, red := "#34d399", "#fbbf24", "#f87171"
	if ind == Composite {
		// Each tier in two shades of its colour, split at the middle of
		// its band: units of one tier still differ on the map, and the
		// tier boundaries stay boundaries.
		shades := [][2]string{{"#10b981", "#6ee7b7"}, {"#0891b2", "#22d3ee"}, {"#d97706", "#fbbf24"}, {"#dc2626", "#f87171"}}
		tiers := w.cfg.Targets.Tiers()
		var ps []opts.Piece
		for i, t := range tiers {
			lo, hi := t.Min, 100.0
			if i > 0 {
				hi = tiers[i-1].Min
			}
			if i == len(tiers)-1 && lo == 0 {
				lo = max(hi-30, 0) // the lowest band is open below: split 15 points under its top
			}
			mid := float32((lo + hi) / 2)
			sh := shades[min(i, len(shades)-1)]
			upper := opts.Piece{Min: mid, Color: sh[1]}
			if i > 0 {
				upper.Max = float32(hi)
			}
			lower := opts.Piece{Max: mid, Color: sh[0]}
			if i < len(tiers)-1 || t.Min > 0 {
				lower.Min = float32(t.Min)
			}
			ps = append(ps, upper, lower)
		}
		return ps
	}
	def, ok := indicator.Lookup(ind)
	r, ok2 := w.cfg.Targets.Rule(level, ind)
	if !ok || !ok2 {
		return nil
	}
	t, f := r.Target, r.Floor
	if def.Rate {
		t, f = t*100, f*100
	}
	if def.LowerIsBetter {
		return []opts.Piece{
			{Max: float32(t), Color: green},
			{Min: float32(t), Max: float32(f), Color: amber},
			{Min: float32(f), Color: red},
		}
	}
	return []opts.Piece{
		{Min: float32(t), Color: green},
		{Min: float32(f), Max: float32(t), Color: amber},
		{Max: float32(f), Color: red},
	}
}
