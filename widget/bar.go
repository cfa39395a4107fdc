package widget

import (
	_ "embed"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

//go:embed bar.js
var barJS string

// Bar is a bar chart ranking the region's subdivisions by one indicator,
// each bar in its status colour. YAML: indicator, rows (default 10,
// 1..100), region, period.
type Bar struct {
	Indicator string
	Rows      int
}

// Keys implements Spec.
func (*Bar) Keys() []string { return []string{"indicator", "rows", "region", "period"} }

// Parse implements Spec.
func (b *Bar) Parse(in *Input) {
	b.Indicator = in.Indicator()
	b.Rows = in.Int("rows", defaultRows, 1, maxRows)
}

// Shows implements Spec.
func (b *Bar) Shows() []string { return []string{b.Indicator} }

// Fit implements RegionFitter.
func (*Bar) Fit(c region.Code, t *region.Table) string { return fitChildren(c, t) }

var barWords = Words{"zh": {"suffix": "排名"}, "en": {"suffix": " ranking"}}

var barHTML = mustTemplate("bar", `<div class="chart">{{template "chart" .Chart}}</div>{{template "values" .Values}}`)

// barConfig is what bar.js reads.
type barConfig struct {
	Chart   Chart        `json:"chart"`
	Topic   string       `json:"topic"`
	Ranking live.Ranking `json:"ranking"` // the first paint
	Rows    int          `json:"rows"`    // bars shown: the best Rows
}

// Render implements Spec.
func (bar *Bar) Render(pg *Page, b Box) (View, error) {
	rk := pg.Data.Ranking(bar.Indicator, b.Region, b.Period)
	n := min(bar.Rows, len(rk.Rows))
	chart, err := barChart(b.ID+"c", rk.Rows[:n])
	if err != nil {
		return View{}, err
	}
	data := struct {
		Chart  string
		Values values
	}{Chart: chart.ID}
	for _, row := range rk.Rows {
		v := rowVal(rk, row)
		v.Label = pg.IndicatorName(bar.Indicator)
		data.Values.Items = append(data.Values.Items, v)
	}
	html, err := render(barHTML, data)
	return View{
		Title:  pg.IndicatorName(bar.Indicator) + barWords.In(pg.Lang)["suffix"],
		HTML:   html,
		Config: barConfig{Chart: chart, Topic: live.RankingTopic(bar.Indicator, b.Region, b.Period), Ranking: rk, Rows: n},
	}, err
}

// barChart composes the bars of the first rows (bar.js paints their
// values and colours).
func barChart(id string, rows []live.RankRow) (Chart, error) {
	c := charts.NewBar()
	names := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	for i, r := range rows {
		names[i] = r.Name
		data[i] = opts.BarData{Value: "-"}
		if r.Display != nil {
			data[i] = opts.BarData{Value: *r.Display}
		}
	}
	c.SetGlobalOptions(look(), noLegend(),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "16", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Color: textColor, Interval: "0", Rotate: 40, FontSize: 13}}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 13}, SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: axisColor}}}),
	)
	// Value labels only while they fit above their bars.
	c.SetXAxis(names).AddSeries("value", data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(len(rows) <= 10), Position: "top", Color: textColor, FontSize: 12}))
	return chartOf(id, c)
}
