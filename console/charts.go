package console

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/scoring"
)

// The console's charts are composed here, once, with go-echarts, and
// shipped as ECharts options (JSON) in the answers: the page only hands
// them to echarts.setOption. They are marshalled by encoding/json, which
// escapes <, > and &, so no data (a department code can hold any text) can
// end the <script type="application/json"> element they travel in.

// statusColor is the colour of a status: readable on the dark desk theme
// and distinct for the common red–green colour blindness by lightness as
// well as hue. The page's CSS uses the same four.
func statusColor(s scoring.Status) string {
	switch s {
	case scoring.StatusGreen:
		return "#22c55e"
	case scoring.StatusAmber:
		return "#f59e0b"
	case scoring.StatusRed:
		return "#ef4444"
	}
	return "#64748b"
}

// targetColor draws the target line.
const targetColor = "#38bdf8"

// maxBars is how many bars fit the chart panel; a longer ranking gets a
// zoom slider showing the first maxBars.
const maxBars = 40

// chartValue is what a chart plots: percent with two decimals for rates,
// and ECharts' "-" (no bar, no point) for null.
func chartValue(v *float64, rate bool) any {
	switch {
	case v == nil:
		return "-"
	case rate:
		return math.Round(*v*10000) / 100
	}
	return *v
}

// axisFormat labels the value axis: rates are plotted in percent.
func axisFormat(rate bool) string {
	if rate {
		return "{value}%"
	}
	return "{value}"
}

func indicatorName(ind indicatorJSON, lang string) string {
	if lang == "en" {
		return ind.NameEN
	}
	return ind.Name
}

// targetLine marks the target on a series, when there is one.
func targetLine(target *float64, rate bool, lang string) []charts.SeriesOpts {
	if target == nil {
		return nil
	}
	return []charts.SeriesOpts{
		charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: dict[lang]["target"], YAxis: chartValue(target, rate)}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
			Symbol:    []string{"none"},
			LineStyle: &opts.LineStyle{Color: targetColor},
			Label:     &opts.Label{Formatter: dict[lang]["target"], Position: "insideEndTop"},
		}),
	}
}

// common are the options every console chart shares: the dark theme's
// palette (the page initialises the chart with its data-theme, "dark"; a
// theme other than go-echarts' default "white" keeps the palette out of
// the option) on the panel's own background, an axis tooltip, no legend
// (one series).
func common(grid opts.Grid, rate bool) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{Theme: "dark", BackgroundColor: "transparent"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(grid),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Formatter: types.FuncStr(axisFormat(rate))}}),
	}
}

// optionJSON turns a composed chart into its ECharts option. The font is the
// page's own (canvas text does not inherit CSS).
func optionJSON(base *charts.BaseConfiguration) (json.RawMessage, error) {
	o := base.JSON()
	o["textStyle"] = map[string]string{"fontFamily": assets.FontFamily}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("console: chart option: %w", err)
	}
	return b, nil
}

// bar composes a ranking bar chart: one bar per unit, best first, each in
// its status or tier colour.
func bar(series string, names []string, data []opts.BarData, rate bool, target *float64, lang string) (json.RawMessage, error) {
	b := charts.NewBar()
	b.SetGlobalOptions(common(opts.Grid{Left: "56", Right: "16", Top: "24", Bottom: "64"}, rate)...)
	b.SetGlobalOptions(charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Rotate: 40, Interval: "auto"}}))
	if n := len(names); n > maxBars {
		b.SetGlobalOptions(charts.WithDataZoomOpts(
			opts.DataZoom{Type: "slider", End: 100 * maxBars / float32(n)},
			opts.DataZoom{Type: "inside"},
		))
	}
	b.SetXAxis(names).AddSeries(series, data, targetLine(target, rate, lang)...)
	b.Validate()
	return optionJSON(&b.BaseConfiguration)
}

// rankingChart is the bar chart of an indicator's ranking, coloured by
// status, with the target line.
func (c *Console) rankingChart(r *rankingJSON, lang string) (json.RawMessage, error) {
	rate := r.Indicator.Rate
	names := make([]string, len(r.Rows))
	data := make([]opts.BarData, len(r.Rows))
	for i, x := range r.Rows {
		names[i] = x.Name
		data[i] = opts.BarData{Name: x.Name, Value: chartValue(x.Value, rate), ItemStyle: &opts.ItemStyle{Color: statusColor(x.Status)}}
	}
	var target *float64
	if r.Rule != nil {
		target = &r.Rule.Target
	}
	return bar(indicatorName(r.Indicator, lang), names, data, rate, target, lang)
}

// compositeChart is the bar chart of a composite ranking, coloured by
// tier.
func (c *Console) compositeChart(r *compositeJSON, lang string) (json.RawMessage, error) {
	names := make([]string, len(r.Rows))
	data := make([]opts.BarData, len(r.Rows))
	for i, x := range r.Rows {
		names[i] = x.Name
		var score *float64
		if x.Score != nil {
			score = ptr(math.Round(*x.Score*100) / 100)
		}
		data[i] = opts.BarData{Name: x.Name, Value: chartValue(score, false), ItemStyle: &opts.ItemStyle{Color: statusColor(x.TierStatus)}}
	}
	return bar(dict[lang]["composite"], names, data, false, nil, lang)
}

// trendChart is the line chart of a trend, with the target line.
func (c *Console) trendChart(t *trendJSON, lang string) (json.RawMessage, error) {
	rate := t.Indicator.Rate
	xs := make([]string, len(t.Points))
	ys := make([]opts.LineData, len(t.Points))
	for i, p := range t.Points {
		xs[i] = trendLabel(p)
		ys[i] = opts.LineData{Value: chartValue(p.Value, rate)}
	}
	var target *float64
	if t.Rule != nil {
		target = &t.Rule.Target
	}
	l := charts.NewLine()
	l.SetGlobalOptions(common(opts.Grid{Left: "56", Right: "16", Top: "24", Bottom: "32"}, rate)...)
	l.SetXAxis(xs).AddSeries(indicatorName(t.Indicator, lang), ys, targetLine(target, rate, lang)...)
	l.Validate()
	return optionJSON(&l.BaseConfiguration)
}

// trendLabel names a trend point on the time axis: its period's (or
// bucket's) first day.
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
