package bulletin

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

// The charts are composed here with go-echarts and shipped to the page as
// ECharts options (JSON in an escaped data attribute); bulletin.js hands
// them to ECharts with the SVG renderer. Every option has animation off,
// so the first frame is the final one and can be printed.

// targetColor draws the target line.
const targetColor = "#0369a1"

// chartValue is what a chart plots: percent with two decimals for rates
// (the tables beside show the exact counts), ECharts' "-" for null.
func chartValue(v Value) any {
	f, ok := v.Float()
	switch {
	case !ok:
		return "-"
	case v.Rate:
		return math.Round(f*10000) / 100
	}
	return f
}

// optionJSON turns a composed chart into its ECharts option, with the
// animation off and the page's font (SVG text is laid out by ECharts,
// which does not read CSS).
func optionJSON(base *charts.BaseConfiguration) (string, error) {
	o := base.JSON()
	o["animation"] = false
	o["textStyle"] = map[string]any{"fontFamily": assets.FontFamily, "fontSize": 11}
	delete(o, "toolbox")
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("bulletin: chart option: %w", err)
	}
	return string(b), nil
}

// barChart composes a bar chart over units: one bar per unit in the
// ranking's order, coloured, with a value label and the target line.
func barChart(series string, names []string, data []opts.BarData, rate bool, target *float64) (string, error) {
	b := charts.NewBar()
	b.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Renderer: "svg", BackgroundColor: "#ffffff"}),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(false)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "52", Right: "16", Top: "28", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Interval: "0", Rotate: rotation(len(names)), FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Formatter: types.FuncStr(axisLabelFormat(rate))}}),
	)
	var so []charts.SeriesOpts
	so = append(so, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top", FontSize: 9, Formatter: barLabelFormat(rate)}))
	if target != nil {
		v := *target
		if rate {
			v = math.Round(v*10000) / 100
		}
		so = append(so,
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "目标值", YAxis: v}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
				Symbol:    []string{"none"},
				LineStyle: &opts.LineStyle{Color: targetColor, Type: "dashed"},
				Label:     &opts.Label{Formatter: "目标值", Position: "insideEndTop"},
			}),
		)
	}
	b.SetXAxis(names).AddSeries(series, data, so...)
	b.Validate()
	return optionJSON(&b.BaseConfiguration)
}

// rotation tilts the unit names when many share the axis.
func rotation(n int) float64 {
	if n > 8 {
		return 40
	}
	return 0
}

// axisLabelFormat labels the value axis: rates are plotted in percent.
func axisLabelFormat(rate bool) string {
	if rate {
		return "{value}%"
	}
	return "{value}"
}

// barLabelFormat labels a bar with its value.
func barLabelFormat(rate bool) string {
	if rate {
		return "{c}%"
	}
	return "{c}"
}

// rankingChart is the bar chart of one indicator's ranking, coloured by
// status, with the target line.
func rankingChart(rk Ranking) (string, error) {
	names := make([]string, len(rk.Rows))
	data := make([]opts.BarData, len(rk.Rows))
	for i, r := range rk.Rows {
		names[i] = r.Unit.Name
		data[i] = opts.BarData{Name: r.Unit.Name, Value: chartValue(r.Value), ItemStyle: &opts.ItemStyle{Color: statusColor(r.Status)}}
	}
	var target *float64
	if rk.HasTarget {
		target = &rk.Target
	}
	return barChart(rk.Indicator.Name, names, data, rk.Indicator.Rate, target)
}

// compositeChart is the bar chart of the composite scores, coloured by
// tier (the first tier green, the last red).
func compositeChart(rows []CompositeRow, tiers []scoring.Tier) (string, error) {
	names := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	for i, r := range rows {
		names[i] = r.Unit.Name
		var v any = "-"
		if r.Score != nil {
			v = math.Round(*r.Score*100) / 100
		}
		data[i] = opts.BarData{Name: r.Unit.Name, Value: v, ItemStyle: &opts.ItemStyle{Color: statusColor(tierStatus(r.Tier, tiers))}}
	}
	return barChart("综合指数", names, data, false, nil)
}

// tierStatus colours a tier: the first green, the last red, the others
// amber.
func tierStatus(tier string, tiers []scoring.Tier) scoring.Status {
	for i, t := range tiers {
		if t.Name != tier {
			continue
		}
		switch i {
		case 0:
			return scoring.StatusGreen
		case len(tiers) - 1:
			return scoring.StatusRed
		}
		return scoring.StatusAmber
	}
	return scoring.StatusNone
}
