package widget

import (
	_ "embed"
	"fmt"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/yamlconf"
)

//go:embed map.js
var mapJS string

// Map shows the region's map, each subdivision coloured by its status
// (an indicator against its targets, or the composite score's tier). YAML:
// color_by (live.Composite or an indicator id) or indicator, drill,
// region, period.
type Map struct {
	ColorBy   string // live.Composite, an indicator id, or "" for Indicator
	Indicator string // the colouring when ColorBy is ""
	// Drill lets a click on a city open its county map (province maps;
	// a city map has nothing below it).
	Drill bool
}

// Keys implements Spec.
func (*Map) Keys() []string { return []string{"color_by", "indicator", "drill", "region", "period"} }

// Parse implements Spec.
func (m *Map) Parse(in *Input) {
	cb, hasCB := in.Field("color_by")
	ind, hasInd := in.Field("indicator")
	if !hasCB && !hasInd {
		in.Missing("color_by", "a map needs color_by (composite or an indicator) or indicator")
	}
	if hasCB {
		if s, good := in.Reader().Str(cb, in.Path("color_by")); good {
			if _, known := indicator.Lookup(s); known || s == live.Composite {
				m.ColorBy = s
			} else {
				in.Errorf(cb, "color_by", "unknown indicator %q%s; want composite or an indicator id",
					s, yamlconf.DidYouMean(s, append(indicatorIDs(), live.Composite)))
			}
		}
	}
	if hasInd {
		d, _ := in.IndicatorID(ind, in.Path("indicator"))
		m.Indicator = d.ID
	}
	m.Drill = in.Bool("drill")
}

// Shows implements Spec.
func (m *Map) Shows() []string {
	var ids []string
	if m.ColorBy != "" && m.ColorBy != live.Composite {
		ids = append(ids, m.ColorBy)
	}
	if m.Indicator != "" {
		ids = append(ids, m.Indicator)
	}
	return ids
}

// Colour is what the map is coloured by: an indicator id or live.Composite.
func (m *Map) Colour() string {
	if m.ColorBy != "" {
		return m.ColorBy
	}
	return m.Indicator
}

// Fit implements RegionFitter: Yiping serves the maps of provinces and
// cities.
func (*Map) Fit(c region.Code, _ *region.Table) string {
	if lv := c.Level(); lv != region.Province && lv != region.City {
		return fmt.Sprintf("a map shows a province or a city, not a %s", lv)
	}
	return ""
}

var mapWords = Words{
	"zh": {"nomap": "该地区无下级地图，以列表显示", "back": "返回上级"},
	"en": {"nomap": "No map below this region; shown as a list", "back": "Back"},
}

var mapHTML = mustTemplate("map", `
{{- if .Note}}<div class="note">{{.Note}}</div>{{end}}
{{- if .Chart}}<div class="chart">{{template "chart" .Chart}}</div>
{{- if .Legend}}<ul class="legend">{{range .Legend}}<li class="s-{{.Status}}"><i></i>{{.Text}}</li>{{end}}</ul>{{end}}
<button class="back" type="button" hidden>{{.Back}}</button>{{end}}
{{template "values" .Values}}`)

// mapConfig is what map.js reads.
type mapConfig struct {
	Topic   string       `json:"topic"`   // the ranking of the region's subdivisions
	Ranking live.Ranking `json:"ranking"` // its first paint
	// Chart is nil for a region without a map: its list is shown instead.
	Chart    *Chart            `json:"chart,omitempty"`
	Map      string            `json:"map,omitempty"`      // the registered map's name
	Features map[string]string `json:"features,omitempty"` // region code → the shape's name on the map
	Drill    map[string]drill  `json:"drill,omitempty"`    // subdivision code → its own map
}

// drill is the map a click on a subdivision opens.
type drill struct {
	Map      string            `json:"map"`
	Topic    string            `json:"topic"`
	Features map[string]string `json:"features"`
}

// legendItem is one colour of the map's legend.
type legendItem struct{ Status, Text string }

// Render implements Spec.
func (m *Map) Render(pg *Page, b Box) (View, error) {
	ind := m.Colour()
	rk := pg.Data.Ranking(ind, b.Region, b.Period)
	words := mapWords.In(pg.Lang)
	cfg := mapConfig{Topic: live.RankingTopic(ind, b.Region, b.Period), Ranking: rk}
	data := struct {
		Note, Back, Chart string
		Legend            []legendItem
		Values            values
	}{Back: words["back"]}
	for _, row := range rk.Rows {
		v := rowVal(rk, row)
		v.Label = pg.IndicatorName(ind)
		data.Values.Items = append(data.Values.Items, v)
	}
	view := View{Title: pg.IndicatorName(ind)}
	mapName, ok := assets.MapName(pg.Name(b.Region))
	if !ok {
		data.Note, data.Values.Visible = words["nomap"], true
		html, err := render(mapHTML, data)
		view.HTML, view.Config = html, cfg
		return view, err
	}
	script, _ := assets.MapScript(pg.Name(b.Region))
	pg.Require(script)
	cfg.Map, cfg.Features = mapName, features(pg, pg.Children(b.Region))
	if m.Drill {
		cfg.Drill = map[string]drill{}
		for _, k := range pg.Children(b.Region) {
			name, ok := assets.MapName(pg.Name(k))
			if !ok {
				continue
			}
			s, _ := assets.MapScript(pg.Name(k))
			pg.Require(s)
			cfg.Drill[k] = drill{Map: name, Topic: live.RankingTopic(ind, k, b.Period), Features: features(pg, pg.Children(k))}
		}
	}
	data.Legend = legend(pg, ind, childLevel(pg, b.Region))
	chart, err := mapChart(b.ID+"c", mapName, pg.IndicatorName(ind), rk, cfg.Features, data.Legend == nil)
	if err != nil {
		return View{}, err
	}
	cfg.Chart, data.Chart = &chart, chart.ID
	html, err := render(mapHTML, data)
	view.HTML, view.Config = html, cfg
	return view, err
}

// features names the shapes of regions on their map.
func features(pg *Page, codes []string) map[string]string {
	out := make(map[string]string, len(codes))
	for _, c := range codes {
		out[c] = feature(pg.Name(c))
	}
	return out
}

// feature is the name of a division's shape in the map files: its name,
// except where the map data predates a renaming.
func feature(name string) string {
	switch name {
	case "华亭市": // 620881, formerly 华亭县 620824
		return "华亭县"
	}
	return name
}

// childLevel is the level of a region's subdivisions, whose targets
// colour the map.
func childLevel(pg *Page, reg string) string {
	if kids := pg.Children(reg); len(kids) > 0 {
		return region.Code(kids[0]).Level().String()
	}
	return ""
}

// legend explains the map's colours from the targets the server judges
// by: the composite's tiers, or an indicator's target and floor at the
// subdivisions' level; nil for an indicator without a rule there, which
// the map shows on a plain scale.
func legend(pg *Page, ind, level string) []legendItem {
	words := common.In(pg.Lang)
	targets := pg.Presenter.Targets()
	if ind == live.Composite {
		tiers := targets.Tiers()
		out := make([]legendItem, len(tiers))
		for i, t := range tiers {
			name := t.Name
			if pg.Lang == "en" {
				name = t.NameEN
			}
			text := name
			if i < len(tiers)-1 {
				text = fmt.Sprintf("%s ≥ %g", name, t.Min)
			}
			out[i] = legendItem{pg.Presenter.TierStatus(t.Min), text}
		}
		return out
	}
	def, _ := indicator.Lookup(ind)
	r, ok := targets.Rule(level, ind)
	if !ok {
		return nil
	}
	t, f := numtext.Value(def.Rate, r.Target), numtext.Value(def.Rate, r.Floor)
	ge, lt, lo, hi := "≥", "<", f, t
	if def.LowerIsBetter {
		ge, lt, lo, hi = "≤", ">", t, f
	}
	return []legendItem{
		{"green", fmt.Sprintf("%s %s %s", words["status.green"], ge, t)},
		{"amber", fmt.Sprintf("%s %s–%s", words["status.amber"], lo, hi)},
		{"red", fmt.Sprintf("%s %s %s", words["status.red"], lt, f)},
	}
}

// mapChart composes the map. Without status colours (an indicator with no
// rule) the values are painted on a continuous scale up to 1.2 × the
// largest first value.
func mapChart(id, mapName, series string, rk live.Ranking, feats map[string]string, scale bool) (Chart, error) {
	c := charts.NewMap()
	c.RegisterMapType(mapName)
	global := []charts.GlobalOpts{look(), noLegend(),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"})}
	data := make([]opts.MapData, 0, len(rk.Rows))
	hi := 0.0
	for _, row := range rk.Rows {
		d := opts.MapData{Name: feats[row.Region]}
		if row.Display != nil {
			d.Value = *row.Display
			hi = max(hi, *row.Display)
		}
		data = append(data, d)
	}
	if scale {
		global = append(global, charts.WithVisualMapOpts(opts.VisualMap{Type: "continuous", Calculable: opts.Bool(true),
			Left: "12", Bottom: "12", Max: float32(max(hi*1.2, 1)),
			TextStyle: &opts.TextStyle{Color: textColor, FontSize: 14},
			InRange:   &opts.VisualMapInRange{Color: []string{"#1e3a8a", "#2563eb", accent}}}))
	}
	c.SetGlobalOptions(global...)
	c.AddSeries(series, data,
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Color: "#e6f1ff", FontSize: 13}),
		charts.WithItemStyleOpts(opts.ItemStyle{BorderColor: "#7dd3fc", BorderWidth: 1}),
		charts.WithEmphasisOpts(opts.Emphasis{Label: &opts.Label{Show: opts.Bool(true), Color: "#ffffff"}, ItemStyle: &opts.ItemStyle{Color: "#f59e0b"}}),
	)
	return chartOf(id, c)
}
