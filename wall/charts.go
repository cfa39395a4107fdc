package wall

import (
	"encoding/json"
	"html/template"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/assets"
)

// The charts of a screen are composed here with go-echarts and rendered as
// snippets (the element and the script that draws it); the page brings
// ECharts and the maps from assets, and static/wall.js applies pushed
// values with setOption on the same instances.

const (
	textColor = "#cfe3ff"
	axisColor = "#36557f"
	accent    = "#2fd0ff"
)

// noLegend: a wall chart shows one series, named by its widget title.
var noLegend = charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)})

func initOpts(id string, w, h int) opts.Initialization {
	return opts.Initialization{
		ChartID: id, Width: px(w), Height: px(h),
		// SVG: the stage is scaled as a whole to the wall; vectors stay
		// sharp at any scale, a canvas would be resampled.
		Renderer: "svg", Theme: "dark", BackgroundColor: "transparent",
		AssetsHost: assets.GoEChartsHost(),
	}
}

func px(n int) string { return strconv.Itoa(max(n, 10)) + "px" }

func snippet(el, script string) (template.HTML, template.HTML) {
	// The snippets are go-echarts' own templates over options composed
	// here from server data (names from the region table, numbers).
	return template.HTML(el), template.HTML(script)
}

func mapChart(id, mapName string, w, h int, series string, data []opts.MapData, pieces []opts.Piece) (template.HTML, template.HTML, error) {
	m := charts.NewMap()
	m.RegisterMapType(mapName)
	vm := opts.VisualMap{Type: "continuous", Calculable: opts.Bool(true), Left: "12", Bottom: "12",
		TextStyle: &opts.TextStyle{Color: textColor, FontSize: 14},
		InRange:   &opts.VisualMapInRange{Color: []string{"#1e3a8a", "#2563eb", accent}}}
	if pieces != nil {
		vm = opts.VisualMap{Type: "piecewise", Pieces: pieces, Left: "12", Bottom: "12",
			TextStyle: &opts.TextStyle{Color: textColor, FontSize: 14}}
	} else {
		var hi float64
		for _, d := range data {
			if x, ok := d.Value.(float64); ok && x > hi {
				hi = x
			}
		}
		vm.Max = float32(max(hi*1.2, 1))
	}
	m.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(id, w, h)),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithVisualMapOpts(vm),
		noLegend,
	)
	m.AddSeries(series, data,
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Color: "#e6f1ff", FontSize: 13}),
		charts.WithItemStyleOpts(opts.ItemStyle{BorderColor: "#7dd3fc", BorderWidth: 1}),
		charts.WithEmphasisOpts(opts.Emphasis{Label: &opts.Label{Show: opts.Bool(true), Color: "#ffffff"}, ItemStyle: &opts.ItemStyle{Color: "#f59e0b"}}),
	)
	s := m.RenderSnippet()
	el, sc := snippet(s.Element, s.Script)
	return el, sc, nil
}

func barChart(id string, w, h int, rows []valueView, n int) (template.HTML, template.HTML, error) {
	if n <= 0 || n > len(rows) {
		n = len(rows)
	}
	b := charts.NewBar()
	names := make([]string, n)
	data := make([]opts.BarData, n)
	for i, r := range rows[:n] {
		names[i] = r.Name
		v := display(r)
		if v == nil {
			data[i] = opts.BarData{Value: "-"}
			continue
		}
		data[i] = opts.BarData{Value: v, ItemStyle: &opts.ItemStyle{Color: statusColor(r.Status)}}
	}
	b.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(id, w, h)),
		noLegend,
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "16", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Color: textColor, Interval: "0", Rotate: 40, FontSize: 13}}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 13}, SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: axisColor}}}),
	)
	// Value labels only while they fit above their bars.
	b.SetXAxis(names).AddSeries("value", data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(n <= 10), Position: "top", Color: textColor, FontSize: 12}))
	s := b.RenderSnippet()
	el, sc := snippet(s.Element, s.Script)
	return el, sc, nil
}

func statusColor(s string) string {
	switch s {
	case "green":
		return "#34d399"
	case "amber":
		return "#fbbf24"
	case "red":
		return "#f87171"
	}
	return accent
}

func gaugeChart(id string, w, h int, name string, v valueView) (template.HTML, template.HTML, error) {
	g := charts.NewGauge()
	g.SetGlobalOptions(charts.WithInitializationOpts(initOpts(id, w, h)), noLegend)
	val := display(v)
	if val == nil {
		val = "-"
	}
	g.AddSeries(name, []opts.GaugeData{{Name: name, Value: val}})
	// go-echarts has no options for a gauge's rings and labels; compose
	// them here and apply them right after the chart is drawn.
	style, err := json.Marshal(map[string]any{"series": []any{map[string]any{
		"radius": "88%", "startAngle": 220, "endAngle": -40, "min": 0, "max": 100,
		"progress":  map[string]any{"show": true, "width": 12, "itemStyle": map[string]any{"color": statusColor(v.Status)}},
		"axisLine":  map[string]any{"lineStyle": map[string]any{"width": 12, "color": [][]any{{1, "#16325f"}}}},
		"axisTick":  map[string]any{"show": false},
		"splitLine": map[string]any{"show": false},
		"axisLabel": map[string]any{"show": false},
		"pointer":   map[string]any{"show": false},
		"anchor":    map[string]any{"show": false},
		"title":     map[string]any{"offsetCenter": []any{0, "72%"}, "fontSize": 16, "color": textColor},
		"detail":    map[string]any{"offsetCenter": []any{0, "0%"}, "fontSize": 30, "fontWeight": 700, "color": "#ffffff", "formatter": "{value}%"},
	}}})
	if err != nil {
		return "", "", err
	}
	g.AddJSFuncs("%MY_ECHARTS%.setOption(" + string(style) + ");")
	s := g.RenderSnippet()
	el, sc := snippet(`<div class="gauge">`+s.Element+`</div>`, s.Script)
	return el, sc, nil
}

func lineChart(id string, w, h int, name string, dates []string, pts []any) (template.HTML, template.HTML, error) {
	l := charts.NewLine()
	l.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(id, w, h)),
		noLegend,
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "16", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 12}}),
		charts.WithYAxisOpts(opts.YAxis{AxisLabel: &opts.AxisLabel{Color: textColor, FontSize: 12}, SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: axisColor}}}),
	)
	xs := make([]string, len(dates))
	data := make([]opts.LineData, len(pts))
	for i := range dates {
		xs[i] = dates[i][5:] // MM-DD
		if pts[i] == nil {
			data[i] = opts.LineData{Value: "-"}
		} else {
			data[i] = opts.LineData{Value: pts[i]}
		}
	}
	l.SetXAxis(xs).AddSeries(name, data,
		charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), ConnectNulls: opts.Bool(true)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.2)}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: accent, Width: 2}),
	)
	s := l.RenderSnippet()
	el, sc := snippet(s.Element, s.Script)
	return el, sc, nil
}
