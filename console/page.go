package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

//go:embed static/page.html static/console.js static/console.css
var static embed.FS

// pageAssets are the page template and its script and style, parsed once.
type pageAssets struct {
	tpl     *template.Template
	js, css []byte
	jsETag  string
	cssETag string
}

func loadPageAssets() (*pageAssets, error) {
	html, err := static.ReadFile("static/page.html")
	if err != nil {
		return nil, fmt.Errorf("console: page template: %w", err)
	}
	tpl, err := template.New("page").Parse(string(html))
	if err != nil {
		return nil, fmt.Errorf("console: page template: %w", err)
	}
	js, _ := static.ReadFile("static/console.js")
	css, _ := static.ReadFile("static/console.css")
	return &pageAssets{tpl: tpl, js: js, css: css, jsETag: etag(js), cssETag: etag(css)}, nil
}

func etag(b []byte) string {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf(`"%x"`, h)
}

func (c *Console) serveStatic(ctx *fiber.Ctx, body []byte, tag, typ string) error {
	ctx.Set(fiber.HeaderETag, tag)
	ctx.Set(fiber.HeaderCacheControl, "no-cache")
	if ctx.Get(fiber.HeaderIfNoneMatch) == tag {
		return ctx.SendStatus(fiber.StatusNotModified)
	}
	ctx.Set(fiber.HeaderContentType, typ)
	return ctx.Send(body)
}

func (c *Console) handleScript(ctx *fiber.Ctx) error {
	return c.serveStatic(ctx, c.page.js, c.page.jsETag, "text/javascript; charset=utf-8")
}

func (c *Console) handleStyle(ctx *fiber.Ctx) error {
	return c.serveStatic(ctx, c.page.css, c.page.cssETag, "text/css; charset=utf-8")
}

// pageState is the whole state of the page, as in its URL.
type pageState struct {
	Indicator string   `json:"indicator"`
	Period    string   `json:"period"`
	AsOf      string   `json:"as_of"`
	Region    string   `json:"region"`
	Level     string   `json:"level"`
	By        string   `json:"by"`
	Compare   []string `json:"compare"`
	Lang      string   `json:"lang"`
}

// pageData is what the page starts from: the same JSON the API answers,
// so the script renders the first view and every later one alike.
type pageData struct {
	State     pageState      `json:"state"`
	Ranking   *rankingJSON   `json:"ranking,omitempty"`
	Composite *compositeJSON `json:"composite,omitempty"`
	Region    regionJSON     `json:"region"`
	Unit      *unitJSON      `json:"unit"`
	Trend     *trendJSON     `json:"trend,omitempty"`
	Compare   []*unitJSON    `json:"compare"`
	Error     string         `json:"error,omitempty"`
}

type option struct {
	Value, Label string
	Selected     bool
}

// handlePage renders the console at the state of its URL. A bad parameter
// does not fail the page: it falls back to the default and says so.
func (c *Console) handlePage(ctx *fiber.Ctx) error {
	st := pageState{
		Indicator: ctx.Query("indicator", "on_time_rate"), Period: ctx.Query("period", "month"),
		AsOf: ctx.Query("as_of"), Region: ctx.Query("region", c.cfg.DefaultRegion), Level: ctx.Query("level"),
		By: ctx.Query("by"), Lang: ctx.Query("lang", "zh"),
	}
	if st.Lang != "en" {
		st.Lang = "zh"
	}
	for _, s := range strings.Split(ctx.Query("compare"), ",") {
		if s != "" && len(st.Compare) < 4 {
			st.Compare = append(st.Compare, s)
		}
	}
	data, err := c.pageData(ctx, &st)
	if err != nil {
		return c.fail(ctx, err)
	}
	blob, err := json.Marshal(data)
	if err != nil {
		return c.fail(ctx, err)
	}
	t := dict[st.Lang]
	bar, line := c.charts(data, st.Lang)
	var inds []option
	for _, d := range indicator.All() {
		label := d.Name
		if st.Lang == "en" {
			label = d.NameEN
		}
		inds = append(inds, option{d.ID, label, d.ID == st.Indicator})
	}
	inds = append(inds, option{compositeID, t["composite"], st.Indicator == compositeID})
	var periods []option
	for _, p := range engine.AllPeriods {
		periods = append(periods, option{p.String(), t["period_"+p.String()], p.String() == st.Period})
	}
	var levels []option
	for _, l := range []string{"", "city", "county", "township"} {
		if l != "" && levelNames[l] <= region.Code(st.Region).Level() {
			continue
		}
		levels = append(levels, option{l, t["level_"+l], l == st.Level})
	}
	bys := []option{{"", t["by_region"], st.By != "dept"}, {"dept", t["by_dept"], st.By == "dept"}}
	dictJSON, _ := json.Marshal(t)
	var buf bytes.Buffer
	err = c.page.tpl.Execute(&buf, map[string]any{
		"Lang": st.Lang, "T": t, "State": st,
		"Indicators": inds, "Periods": periods, "Levels": levels, "Bys": bys,
		"ECharts": assets.ECharts(), "FontCSS": assets.FontCSS(), "FontFamily": template.CSS(assets.FontFamily),
		"BarElement": template.HTML(bar.Element), "BarScript": template.HTML(bar.Script),
		"LineElement": template.HTML(line.Element), "LineScript": template.HTML(line.Script),
		"Data": template.JS(blob), "Dict": template.JS(dictJSON), "Error": data.Error,
		"JS":  "/console/console.js?v=" + strings.Trim(c.page.jsETag, `"`),
		"CSS": "/console/console.css?v=" + strings.Trim(c.page.cssETag, `"`),
	})
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: render page: %w", err))
	}
	ctx.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Send(buf.Bytes())
}

// pageData computes the first view; a bad parameter is replaced by its
// default and reported in Error.
func (c *Console) pageData(fctx *fiber.Ctx, st *pageState) (*pageData, error) {
	ctx := fctx.UserContext()
	data := &pageData{}
	var problems []string
	def, ok := indicator.Lookup(st.Indicator)
	composite := st.Indicator == compositeID
	if !ok && !composite {
		problems = append(problems, badParam("indicator", "未知指标 %q", "unknown indicator %q", st.Indicator).Error())
		st.Indicator, def = "on_time_rate", mustLookup("on_time_rate")
	}
	p, err := engine.ParsePeriod(st.Period)
	if err != nil {
		problems = append(problems, badParam("period", "未知周期 %q", "unknown period %q", st.Period).Error())
		st.Period, p = "month", engine.Month
	}
	code, err := c.parseRegion("region", st.Region)
	if err != nil {
		problems = append(problems, err.Error())
		code = region.Code(c.cfg.DefaultRegion)
		st.Region = string(code)
	}
	v := view{def: def, composite: composite, period: p, region: code}
	switch st.By {
	case "dept":
		v.byDept = true
	case "":
	default:
		problems = append(problems, badParam("by", "%q 无效", "%q: want region or dept", st.By).Error())
		st.By = ""
	}
	if l, ok := levelNames[st.Level]; ok && l > code.Level() && !v.byDept {
		v.level = l
	} else if st.Level != "" {
		if !ok || l <= code.Level() {
			problems = append(problems, badParam("level", "%q 无效", "%q: not a level below the region", st.Level).Error())
		}
		st.Level = ""
	}
	if st.AsOf != "" {
		t, err := parseAsOf(st.AsOf, c.loc)
		if err != nil || t.After(c.cfg.Now().AddDate(0, 0, 1)) {
			problems = append(problems, badParam("as_of", "时间 %q 无效", "invalid time %q", st.AsOf).Error())
			st.AsOf = ""
		} else {
			v.asOf = &t
		}
	}
	if composite {
		if data.Composite, err = c.composite(ctx, v); err != nil {
			return nil, err
		}
	} else if data.Ranking, err = c.ranking(ctx, v); err != nil {
		return nil, err
	}
	data.Region = regionJSON{regionRef: c.ref(code), Ancestors: c.ancestors(code), Children: []regionRef{}}
	for _, k := range c.cfg.Regions.Children(code) {
		data.Region.Children = append(data.Region.Children, c.ref(k))
	}
	if data.Unit, err = c.unitView(ctx, code, "", p, v.asOf); err != nil {
		return nil, err
	}
	if !composite {
		to := c.cfg.Now().In(c.loc)
		if v.asOf != nil {
			to = *v.asOf
		}
		if data.Trend, err = c.trend(ctx, def, code, "", p, periodStart(defaultSpan(p, to, c.loc), p, c.loc), to, "period"); err != nil {
			return nil, err
		}
	}
	var keep []string
	for _, s := range st.Compare {
		u, err := c.compareUnit(ctx, s, p, v.asOf)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		keep = append(keep, s)
		data.Compare = append(data.Compare, u)
	}
	st.Compare = keep
	if st.Compare == nil {
		st.Compare = []string{}
	}
	data.State = *st
	data.Error = strings.Join(problems, "; ")
	return data, nil
}

// compareUnit reads one unit of the compare list: "region" or
// "region:dept".
func (c *Console) compareUnit(ctx context.Context, s string, p engine.Period, asOf *time.Time) (*unitJSON, error) {
	code, dept, _ := strings.Cut(s, ":")
	rc, err := c.parseRegion("compare", code)
	if err != nil {
		return nil, err
	}
	if err := checkDept(dept); err != nil {
		return nil, err
	}
	return c.unitView(ctx, rc, dept, p, asOf)
}

func mustLookup(id string) indicator.Def {
	d, _ := indicator.Lookup(id)
	return d
}

// Status colours: readable on the dark desk theme and distinct for the
// common red–green colour blindness by lightness as well as hue.
var statusColors = map[string]string{"green": "#22c55e", "amber": "#f59e0b", "red": "#ef4444", "": "#64748b"}

// charts builds the go-echarts ranking bar chart (one colour per status)
// and trend line chart of the first view; the script updates them with
// setOption on every later view.
func (c *Console) charts(d *pageData, lang string) (bar, line render.ChartSnippet) {
	t := dict[lang]
	init := func(id, height string) opts.Initialization {
		return opts.Initialization{ChartID: id, AssetsHost: assets.GoEChartsHost(), Theme: "dark", Width: "100%", Height: height, BackgroundColor: "transparent"}
	}
	b := charts.NewBar()
	b.SetGlobalOptions(
		charts.WithInitializationOpts(init("rankchart", "360px")),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "16", Top: "24", Bottom: "64"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Rotate: 40, Interval: "auto"}}),
	)
	var names []string
	var data []opts.BarData
	name := t["composite"]
	switch {
	case d.Ranking != nil:
		name = d.Ranking.Indicator.Name
		if lang == "en" {
			name = d.Ranking.Indicator.NameEN
		}
		for _, r := range d.Ranking.Rows {
			names = append(names, r.Name)
			bd := opts.BarData{Name: r.Name, Value: "-", ItemStyle: &opts.ItemStyle{Color: statusColors[r.Status.String()]}}
			if r.Value != nil {
				bd.Value = chartValue(*r.Value, d.Ranking.Indicator.Rate)
			}
			data = append(data, bd)
		}
	case d.Composite != nil:
		for _, r := range d.Composite.Rows {
			names = append(names, r.Name)
			bd := opts.BarData{Name: r.Name, Value: "-", ItemStyle: &opts.ItemStyle{Color: tierColor(r.Tier, d.Composite.Tiers)}}
			if r.Score != nil {
				bd.Value = math.Round(*r.Score*100) / 100
			}
			data = append(data, bd)
		}
	}
	b.SetXAxis(names).AddSeries(name, data)
	bar = b.RenderSnippet()

	l := charts.NewLine()
	l.SetGlobalOptions(
		charts.WithInitializationOpts(init("trendchart", "260px")),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "16", Top: "24", Bottom: "32"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
	)
	var xs []string
	var ys []opts.LineData
	if d.Trend != nil {
		for _, p := range d.Trend.Points {
			xs = append(xs, trendLabel(p))
			ld := opts.LineData{Value: "-"}
			if p.Value != nil {
				ld.Value = chartValue(*p.Value, d.Trend.Indicator.Rate)
			}
			ys = append(ys, ld)
		}
	}
	l.SetXAxis(xs).AddSeries(name, ys)
	line = l.RenderSnippet()
	return bar, line
}

// chartValue is what a chart plots: percent with two decimals for rates.
func chartValue(v float64, rate bool) float64 {
	if rate {
		return math.Round(v*10000) / 100
	}
	return v
}

func trendLabel(p trendPoint) string {
	s := p.PeriodStart
	if s == "" {
		s = p.Time
	}
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// tierColor colours a composite bar: the first tier green, the last red,
// the ones between amber.
func tierColor(tier string, tiers []scoring.Tier) string {
	switch {
	case tier == "":
		return statusColors[""]
	case len(tiers) > 0 && tier == tiers[0].Name:
		return statusColors["green"]
	case len(tiers) > 0 && tier == tiers[len(tiers)-1].Name:
		return statusColors["red"]
	}
	return statusColors["amber"]
}
