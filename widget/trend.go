package widget

import (
	_ "embed"
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed trend.js
var trendJS string

// Limits of a trend's history.
const (
	defaultDays      = 30
	minDays, maxDays = 2, 400
)

// Trend is one indicator's daily history up to today, whose value follows
// the indicator's day topic. YAML: indicator, days (default 30, 2..400),
// region.
type Trend struct {
	Indicator string
	Days      int
}

// Keys implements Spec.
func (*Trend) Keys() []string { return []string{"indicator", "days", "region"} }

// Parse implements Spec.
func (t *Trend) Parse(in *Input) {
	t.Indicator = in.Indicator()
	t.Days = in.Int("days", defaultDays, minDays, maxDays)
}

// Shows implements Spec.
func (t *Trend) Shows() []string { return []string{t.Indicator} }

var trendWords = Words{"zh": {"suffix": "趋势（近%d日）"}, "en": {"suffix": " trend (%d days)"}}

var trendHTML = mustTemplate("trend", `<div class="chart">{{template "chart" .Chart}}</div>{{template "values" .Values}}`)

// trendConfig is what trend.js reads.
type trendConfig struct {
	Chart Chart    `json:"chart"`
	Topic string   `json:"topic"` // today's value
	Dates []string `json:"dates"` // the x axis, YYYY-MM-DD
}

// Render implements Spec. The history ends with today, whose value is the
// live one (the store may not have it yet).
func (t *Trend) Render(pg *Page, b Box) (View, error) {
	s := pg.Data.Series(t.Indicator, b.Region, t.Days)
	today := pg.Data.Value(t.Indicator, b.Region, "day")
	if n := len(s.Dates); n > 0 && s.Dates[n-1] == today.Date {
		s.Points[n-1] = today.Display
	}
	chart, err := lineChart(b.ID+"c", pg.IndicatorName(t.Indicator), s)
	if err != nil {
		return View{}, err
	}
	tv := valueVal(today)
	tv.Name, tv.Label = pg.Name(b.Region), pg.IndicatorName(t.Indicator)
	html, err := render(trendHTML, struct {
		Chart  string
		Values values
	}{chart.ID, values{Items: []val{tv}}})
	return View{
		Title:  pg.IndicatorName(t.Indicator) + fmt.Sprintf(trendWords.In(pg.Lang)["suffix"], t.Days),
		HTML:   html,
		Config: trendConfig{Chart: chart, Topic: live.IndicatorTopic(t.Indicator, b.Region, "day"), Dates: s.Dates},
	}, err
}

// lineChart composes the history: x labels MM-DD, nulls bridged.
func lineChart(id, name string, s Series) (Chart, error) {
	c := charts.NewLine()
	c.SetGlobalOptions(look(), noLegend(),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "16", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 12}}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 12}, SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: axisColor}}}),
	)
	xs := make([]string, len(s.Dates))
	data := make([]opts.LineData, len(s.Dates))
	for i, d := range s.Dates {
		xs[i] = d[5:] // MM-DD
		data[i] = opts.LineData{Value: "-"}
		if p := s.Points[i]; p != nil {
			data[i] = opts.LineData{Value: *p}
		}
	}
	c.SetXAxis(xs).AddSeries(name, data,
		charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), ConnectNulls: opts.Bool(true)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.2)}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: accent, Width: 2}),
	)
	return chartOf(id, c)
}
