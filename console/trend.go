package console

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store"
)

// trendPoint is one point of a trend.
type trendPoint struct {
	Time string `json:"time"`
	// PeriodStart is the start of the period the value belongs to (rollup
	// "period"), or of the hour, day or month bucket.
	PeriodStart string `json:"period_start,omitempty"`
	numbers
}

// trendJSON is the answer of /api/trend.
type trendJSON struct {
	Indicator indicatorJSON `json:"indicator"`
	Region    regionRef     `json:"region"`
	Dept      string        `json:"dept,omitempty"`
	Period    string        `json:"period"`
	Rollup    string        `json:"rollup"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Rule      *ruleJSON     `json:"rule"`
	Points    []trendPoint  `json:"points"`
	// Chart is the ECharts option of the trend's line chart (only in the
	// answers of /api/trend and /api/view).
	Chart json.RawMessage `json:"chart,omitempty"`
}

// defaultSpan is how far back a trend reaches by default: about a dozen
// periods.
func defaultSpan(p engine.Period, to time.Time, loc *time.Location) time.Time {
	switch p {
	case engine.Day:
		return to.AddDate(0, 0, -30)
	case engine.Week:
		return to.AddDate(0, 0, -7*12)
	case engine.Month:
		return addMonthsClamped(to, -12, loc)
	case engine.Quarter:
		return addMonthsClamped(to, -24, loc)
	}
	return addMonthsClamped(to, -60, loc)
}

// maxFine bounds the range of a trend read point by point or hour by hour.
const maxFine = 93 * 24 * time.Hour

func (c *Console) handleTrend(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "indicator", "region", "dept", "period", "from", "to", "rollup", "lang"); err != nil {
		return c.fail(ctx, err)
	}
	def, _, err := c.parseIndicator(ctx, false)
	if err != nil {
		return c.fail(ctx, err)
	}
	code, err := c.parseRegion("region", ctx.Query("region", c.cfg.DefaultRegion))
	if err != nil {
		return c.fail(ctx, err)
	}
	dept := strings.Clone(ctx.Query("dept")) // outlives the request (see parseRegion)
	if err := checkDept(dept); err != nil {
		return c.fail(ctx, err)
	}
	p, err := parsePeriod(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	lang, err := parseLang(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	to := c.cfg.Now().In(c.loc)
	if s := ctx.Query("to"); s != "" {
		if to, err = c.parseTimeParam("to", s); err != nil {
			return c.fail(ctx, err)
		}
	}
	from := periodStart(defaultSpan(p, to, c.loc), p, c.loc)
	if s := ctx.Query("from"); s != "" {
		if from, err = c.parseTimeParam("from", s); err != nil {
			return c.fail(ctx, err)
		}
		// A date means the whole day.
		if len(s) == len("2006-01-02") {
			from = periodStart(from, engine.Day, c.loc)
		}
	}
	if from.After(to) {
		return c.fail(ctx, badParam("from", "起点晚于终点", "from is after to"))
	}
	rollupName := ctx.Query("rollup", "period")
	out, err := c.trend(ctx.UserContext(), def, code, dept, p, from, to, rollupName)
	if err != nil {
		return c.fail(ctx, err)
	}
	if out.Chart, err = c.trendChart(out, lang); err != nil {
		return c.fail(ctx, err)
	}
	return ctx.JSON(out)
}

// trend reads one series; rollup "period" keeps the last point of each
// period of kind p (its final value, or the value so far for the current
// one).
func (c *Console) trend(ctx context.Context, def indicator.Def, code region.Code, dept string, p engine.Period, from, to time.Time, rollupName string) (*trendJSON, error) {
	var rollup store.Rollup
	var err error
	byPeriod := rollupName == "period"
	if byPeriod {
		rollup = store.RollupDay
	} else if rollup, err = store.ParseRollup(rollupName); err != nil || rollupName == "" {
		return nil, badParam("rollup", "%q 无效，应为 period、none、hour、day 或 month", "%q: want period, none, hour, day or month", rollupName)
	}
	if (rollup == store.RollupNone || rollup == store.RollupHour) && to.Sub(from) > maxFine {
		return nil, badParam("rollup", "%s 粒度的区间最长 93 天", "a %s trend spans at most 93 days", rollupName)
	}
	key := store.SeriesKey{Indicator: def.ID, Region: string(code), Dept: dept, Period: storePeriod(def, p)}
	pts, err := c.cfg.History.Series(ctx, key, from, to, rollup)
	if err != nil {
		return nil, fmt.Errorf("console: trend of %s: %w", key, err)
	}
	level := code.Level().String()
	if dept != "" {
		level = "dept"
	}
	out := &trendJSON{
		Indicator: indicatorOf(def), Region: c.ref(code), Dept: dept, Period: p.String(), Rollup: rollupName,
		From: c.stamp(from), To: c.stamp(to), Rule: c.ruleOf(level, def), Points: []trendPoint{},
	}
	for i := range pts {
		pt := &pts[i]
		var start time.Time
		switch {
		case byPeriod && def.Periodic:
			start = periodStart(pt.Time, p, c.loc)
			// Keep the last point of each period: its final value (or the
			// value so far, for the current one).
			if n := len(out.Points); n > 0 && out.Points[n-1].PeriodStart == c.stamp(start) {
				out.Points = out.Points[:n-1]
			}
		case byPeriod:
			start, _ = store.Bucket(pt.Time, store.RollupDay, c.loc)
		default:
			start, _ = store.Bucket(pt.Time, rollup, c.loc)
		}
		v := value{has: true, num: int64(math.Round(pt.Numerator)), den: pt.Denominator, rate: pt.HasDenominator}
		tp := trendPoint{Time: c.stamp(pt.Time), numbers: numbersOf(v)}
		if rollup != store.RollupNone {
			tp.PeriodStart = c.stamp(start)
		}
		out.Points = append(out.Points, tp)
	}
	return out, nil
}
