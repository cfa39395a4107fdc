package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/region"
)

// The ranking chart is a bare screen: one go-echarts bar chart of one
// indicator's live values over the children of a region, no table, no
// controls. It reads only the live engine (no history, no comparisons),
// so it is also the named peer of the console's page benchmark.

// rankRow is one unit of the ranking chart.
type rankRow struct {
	Region      string
	Name        string
	Rank        int // 0 for a null value: nulls come last without a rank
	Numerator   int64
	Denominator int64
	Value       float64
	Null        bool
}

// rank orders the live values of one indicator over the children of a
// region with package ranking (SPEC.md section 6). Only regions with live
// values appear.
func rank(rs []engine.Result, def indicator.Def, parent region.Code, names *region.Table) []rankRow {
	var in []ranking.Row
	for _, r := range rs {
		if r.Indicator != def.ID || r.Dept != "" {
			continue
		}
		p, ok := region.Code(r.Region).Parent()
		if !ok || p != parent {
			continue
		}
		name, _ := names.Name(region.Code(r.Region))
		if name == "" {
			name = r.Region
		}
		in = append(in, ranking.Row{Unit: r.Region, Name: name, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
	}
	out := ranking.Rank(in, def.LowerIsBetter)
	rows := make([]rankRow, len(out))
	for i, r := range out {
		v, ok := r.Value()
		rows[i] = rankRow{Region: r.Unit, Name: r.Name, Rank: r.Rank, Numerator: r.Numerator, Denominator: r.Denominator, Value: v, Null: !ok}
	}
	return rows
}

// handleRankingChart renders the ranking chart page:
// GET /console/ranking-chart?indicator=on_time_rate&period=month&region=620000.
// Like the console page it holds no inline script: the chart's option is a
// JSON script element, painted by ranking-chart.js.
func (c *Console) handleRankingChart(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "indicator", "period", "region"); err != nil {
		return c.fail(ctx, err)
	}
	id := ctx.Query("indicator", "on_time_rate")
	def, ok := indicator.Lookup(id)
	if !ok {
		return c.fail(ctx, badParam("indicator", "未知指标 %q", "unknown indicator %q", id))
	}
	p, err := parsePeriod(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	parent, err := c.parseRegion("region", ctx.Query("region", c.cfg.DefaultRegion))
	if err != nil {
		return c.fail(ctx, err)
	}
	rs, err := c.cfg.Live.Results(p, false)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: live values: %w", err))
	}
	rows := rank(rs, def, parent, c.cfg.Regions)
	parentName, _ := c.cfg.Regions.Name(parent)

	b := charts.NewBar()
	b.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Theme: "dark"}), // the page's data-theme
		charts.WithTitleOpts(opts.Title{Title: parentName + " " + def.Name + "排名", Subtitle: dict["zh"]["period_"+p.String()] + " · " + def.NameEN}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
	)
	x := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	for i, r := range rows {
		x[i] = r.Name
		if r.Null {
			data[i] = opts.BarData{Value: "-"} // ECharts' missing value: no bar, not a zero
			continue
		}
		v := r.Value
		if def.Rate {
			v = math.Round(v*10000) / 100 // percent with two decimals
		}
		data[i] = opts.BarData{Value: v}
	}
	b.SetXAxis(x).AddSeries(def.Name, data)
	b.Validate()
	blob, err := json.Marshal(b.JSON()) // escapes <, > and &: safe in a script element
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: ranking chart: %w", err))
	}
	var buf bytes.Buffer
	err = c.page.chartTpl.Execute(&buf, map[string]any{
		"Title": "一屏 · " + def.Name + "排名", "Icon": assets.Icon(), "ECharts": assets.ECharts(),
		"Option": jsonScript(blob), "JS": c.page.url("ranking-chart.js"),
	})
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: render ranking chart: %w", err))
	}
	ctx.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	return ctx.Send(buf.Bytes())
}
