package widget

import (
	"encoding/json"
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The charts of a screen are composed here with go-echarts and shipped as
// data: a Chart in the widget's Config, which the widget's script draws
// (wall.chart: echarts.init with the SVG renderer, then setOption). No
// script is generated, so pages need no inline script, and no option holds
// a JS function: what needs code (painting by status) is in the scripts.

const (
	textColor = "#cfe3ff"
	axisColor = "#36557f"
	accent    = "#2fd0ff"
)

// Chart is one chart of a widget: its element's id and its ECharts option.
type Chart struct {
	ID     string         `json:"id"`
	Option map[string]any `json:"option"`
}

// optioner is what the go-echarts charts have in common.
type optioner interface {
	Validate()
	JSON() map[string]any
}

// chartOf returns c's option as plain JSON values, so that a type can
// add what go-echarts has no option for.
func chartOf(id string, c optioner) (Chart, error) {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		return Chart{}, fmt.Errorf("chart %s: %w", id, err)
	}
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		return Chart{}, fmt.Errorf("chart %s: %w", id, err)
	}
	return Chart{ID: id, Option: o}, nil
}

// look is the initialisation every chart shares: dark, transparent (the
// widget's panel is the background).
func look() charts.GlobalOpts {
	return charts.WithInitializationOpts(opts.Initialization{Theme: "dark", BackgroundColor: "transparent"})
}

// noLegend: a wall chart shows one series, named by its widget's title.
func noLegend() charts.GlobalOpts {
	return charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)})
}

// series0 returns the first series of an option, to add to it.
func series0(o map[string]any) map[string]any {
	if s, ok := o["series"].([]any); ok && len(s) > 0 {
		if m, ok := s[0].(map[string]any); ok {
			return m
		}
	}
	return map[string]any{}
}
