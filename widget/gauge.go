package widget

import (
	_ "embed"
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed gauge.js
var gaugeJS string

// maxGauges: four gauges fill a panel; more would be too small to read.
const maxGauges = 4

// Gauge shows 1..4 rates as gauges, each ring in its status colour. YAML:
// indicators (rates only: a count has no 0–100 % scale), region, period.
type Gauge struct {
	Indicators []string
}

// Keys implements Spec.
func (*Gauge) Keys() []string { return []string{"indicators", "region", "period"} }

// Parse implements Spec.
func (g *Gauge) Parse(in *Input) { g.Indicators = in.Indicators(1, maxGauges, true) }

// Shows implements Spec.
func (g *Gauge) Shows() []string { return g.Indicators }

var gaugeHTML = mustTemplate("gauge", `<div class="chart" data-n="{{len .Charts}}">{{range .Charts}}<div class="gauge">{{template "chart" .}}</div>{{end}}</div>{{template "values" .Values}}`)

// gaugeConfig is what gauge.js reads.
type gaugeConfig struct {
	Gauges []gaugeOne `json:"gauges"`
}

type gaugeOne struct {
	Chart Chart      `json:"chart"`
	Topic string     `json:"topic"`
	Name  string     `json:"name"`
	Value live.Value `json:"value"` // the first paint
}

// Render implements Spec.
func (g *Gauge) Render(pg *Page, b Box) (View, error) {
	var cfg gaugeConfig
	data := struct {
		Charts []string
		Values values
	}{}
	for i, ind := range g.Indicators {
		v := pg.Data.Value(ind, b.Region, b.Period)
		name := pg.IndicatorName(ind)
		chart, err := gaugeChart(fmt.Sprintf("%sc%d", b.ID, i), name, v)
		if err != nil {
			return View{}, err
		}
		cfg.Gauges = append(cfg.Gauges, gaugeOne{Chart: chart, Topic: live.IndicatorTopic(ind, b.Region, b.Period), Name: name, Value: v})
		data.Charts = append(data.Charts, chart.ID)
		vv := valueVal(v)
		vv.Name, vv.Label = pg.Name(b.Region), name
		data.Values.Items = append(data.Values.Items, vv)
	}
	html, err := render(gaugeHTML, data)
	return View{HTML: html, Config: cfg}, err
}

// gaugeChart composes one gauge: a ring from 0 to 100 %, the value in the
// middle, the name below.
func gaugeChart(id, name string, v live.Value) (Chart, error) {
	c := charts.NewGauge()
	c.SetGlobalOptions(look(), noLegend())
	var value any = "-"
	if v.Display != nil {
		value = *v.Display
	}
	c.AddSeries(name, []opts.GaugeData{{Name: name, Value: value}})
	chart, err := chartOf(id, c)
	if err != nil {
		return chart, err
	}
	// go-echarts has no options for a gauge's rings and labels.
	s := series0(chart.Option)
	for k, x := range map[string]any{
		"radius": "88%", "startAngle": 220, "endAngle": -40, "min": 0, "max": 100,
		"progress":  map[string]any{"show": true, "width": 12},
		"axisLine":  map[string]any{"lineStyle": map[string]any{"width": 12, "color": []any{[]any{1, "#16325f"}}}},
		"axisTick":  map[string]any{"show": false},
		"splitLine": map[string]any{"show": false},
		"axisLabel": map[string]any{"show": false},
		"pointer":   map[string]any{"show": false},
		"anchor":    map[string]any{"show": false},
		"title":     map[string]any{"offsetCenter": []any{0, "72%"}, "fontSize": 16, "color": textColor},
		// The server's text ("93.45%", "—"), not a format of the number.
		"detail": map[string]any{"offsetCenter": []any{0, "0%"}, "fontSize": 30, "fontWeight": 700, "color": "#ffffff", "formatter": v.Text},
	} {
		s[k] = x
	}
	return chart, nil
}
