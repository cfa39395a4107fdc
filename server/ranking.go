package server

import (
	"bytes"
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

// rankRow is one unit of a ranking.
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
// region with package ranking (SPEC.md section 6).
func rank(rs []engine.Result, def indicator.Def, parent string, names *region.Table) []rankRow {
	var in []ranking.Row
	for _, r := range rs {
		if r.Indicator != def.ID || r.Dept != "" {
			continue
		}
		p, ok := region.Code(r.Region).Parent()
		if !ok || string(p) != parent {
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

// handleRanking renders the ranking of one indicator over the children of
// a region as a go-echarts bar chart, every script served by Yiping itself.
// GET /screens/ranking?indicator=on_time_rate&period=month&region=620000
func (s *Server) handleRanking(c *fiber.Ctx) error {
	def, ok := indicator.Lookup(c.Query("indicator", "on_time_rate"))
	if !ok {
		return fiber.NewError(fiber.StatusBadRequest, "未知指标 unknown indicator "+c.Query("indicator"))
	}
	p, err := engine.ParsePeriod(c.Query("period", "month"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	parent, err := region.ParseCode(c.Query("region", "620000"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	rs, err := s.ind.Results(p, false)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	names := region.Default()
	rows := rank(rs, def, string(parent), names)
	parentName, _ := names.Name(parent)

	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{
			PageTitle: "一屏 · " + def.Name + "排名", ChartID: "ranking",
			AssetsHost: assets.GoEChartsHost(), Theme: "dark", Width: "1600px", Height: "800px",
		}),
		charts.WithTitleOpts(opts.Title{Title: parentName + " " + def.Name + "排名", Subtitle: periodNames[p] + " · " + def.NameEN}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
	)
	x := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	for i, r := range rows {
		x[i] = r.Name
		if r.Null {
			// ECharts' notation for a missing value: no bar, not a zero.
			data[i] = opts.BarData{Value: "-"}
			continue
		}
		v := r.Value
		if def.Rate {
			v = math.Round(v*10000) / 100 // percent with two decimals
		}
		data[i] = opts.BarData{Value: v}
	}
	bar.SetXAxis(x).AddSeries(def.Name, data)
	var buf bytes.Buffer
	if err := bar.Render(&buf); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

var periodNames = [engine.NumPeriods]string{"本日", "本周", "本月", "本季度", "本年"}
