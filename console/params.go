package console

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

// paramError is a bad request parameter, told in Chinese and English and
// naming the parameter, so that a caller (or the page) can point at it.
type paramError struct {
	Param string
	ZH    string
	EN    string
}

func (e *paramError) Error() string {
	return fmt.Sprintf("参数 %s：%s / parameter %s: %s", e.Param, e.ZH, e.Param, e.EN)
}

func badParam(param, zh, en string, a ...any) *paramError {
	return &paramError{Param: param, ZH: fmt.Sprintf(zh, a...), EN: fmt.Sprintf(en, a...)}
}

// errorBody is the JSON of every 4xx/5xx answer of the API.
type errorBody struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
}

// fail answers a parameter error with 400 and anything else with 500 (and
// logs it): the API always answers JSON.
func (c *Console) fail(ctx *fiber.Ctx, err error) error {
	var pe *paramError
	if errors.As(err, &pe) {
		return ctx.Status(fiber.StatusBadRequest).JSON(errorBody{Error: pe.Error(), Param: pe.Param})
	}
	c.log.Error("console request failed", "path", ctx.Path(), "err", err)
	return ctx.Status(fiber.StatusInternalServerError).JSON(errorBody{Error: "内部错误 / internal error: " + err.Error()})
}

// compositeID is the pseudo-indicator of the composite score in the page
// and the export (indicator=composite).
const compositeID = "composite"

// view is the state a ranking, composite or export request describes; the
// page keeps the same state in its URL.
type view struct {
	def       indicator.Def // zero when composite
	composite bool
	period    engine.Period
	region    region.Code
	level     region.Level // 0: the children of region
	byDept    bool
	asOf      *time.Time // nil: live
	lang      string     // of the texts and charts: "zh" or "en"
}

// parseLang reads the language of an answer's texts: zh (the default) or
// en.
func parseLang(ctx *fiber.Ctx) (string, error) {
	switch l := ctx.Query("lang", "zh"); l {
	case "zh", "en":
		return l, nil
	default:
		return "", badParam("lang", "%q 无效，应为 zh 或 en", "%q: want zh or en", l)
	}
}

func (c *Console) parseIndicator(ctx *fiber.Ctx, allowComposite bool) (indicator.Def, bool, error) {
	id := ctx.Query("indicator")
	if id == "" {
		return indicator.Def{}, false, badParam("indicator", "缺少指标", "missing")
	}
	if id == compositeID && allowComposite {
		return indicator.Def{}, true, nil
	}
	d, ok := indicator.Lookup(id)
	if !ok {
		return indicator.Def{}, false, badParam("indicator", "未知指标 %q", "unknown indicator %q", id)
	}
	return d, false, nil
}

func parsePeriod(ctx *fiber.Ctx) (engine.Period, error) {
	s := ctx.Query("period", "month")
	p, err := engine.ParsePeriod(s)
	if err != nil {
		return 0, badParam("period", "未知周期 %q，应为 day、week、month、quarter 或 year", "unknown period %q: want day, week, month, quarter or year", s)
	}
	return p, nil
}

// parseRegion reads a region code that the region table knows.
func (c *Console) parseRegion(param, s string) (region.Code, error) {
	// fiber's strings point into fasthttp's request buffer, reused by the
	// next request; a code ends up in cached points and keys, so it must own
	// its bytes (a shared buffer once turned 620000 into 620100 in the cache).
	code, err := region.ParseCode(strings.Clone(s))
	if err != nil {
		return "", badParam(param, "地区代码 %q 应为 6 位或 9 位数字", "region code %q: want 6 or 9 digits", s)
	}
	if _, ok := c.cfg.Regions.Name(code); !ok {
		return "", badParam(param, "未知地区 %s", "unknown region %s", code)
	}
	return code, nil
}

func (c *Console) parseAsOf(ctx *fiber.Ctx) (*time.Time, error) {
	s := ctx.Query("as_of")
	if s == "" {
		return nil, nil
	}
	t, err := c.parseTimeParam("as_of", s)
	if err != nil {
		return nil, err
	}
	// A day that has begun may be asked for (its end is in the future);
	// anything later is not known yet.
	if now := c.cfg.Now(); t.After(now) && periodStart(t, engine.Day, c.loc).After(now) {
		return nil, badParam("as_of", "时间 %q 在未来", "%q is in the future", s)
	}
	return &t, nil
}

// parseTimeParam reads the time parameter param (as_of, from, to) with
// parseAsOf, and says what is wrong in a sentence naming the parameter,
// the accepted forms and the accepted range.
func (c *Console) parseTimeParam(param, s string) (time.Time, error) {
	t, err := parseAsOf(s, c.loc)
	switch {
	case errors.Is(err, errTimeRange):
		return t, badParam(param, "时间 %q 超出范围，应在 "+firstDate+" 至 "+lastDate+" 之间",
			"%q is outside the accepted range "+firstDate+" to "+lastDate, s)
	case err != nil:
		return t, badParam(param, "时间 %q 应为 YYYY-MM-DD 或带时区偏移的 RFC 3339（如 2026-10-09T12:00:00+08:00）",
			"%q: want YYYY-MM-DD or RFC 3339 with an offset (e.g. 2026-10-09T12:00:00+08:00)", s)
	}
	return t, nil
}

var levelNames = map[string]region.Level{"city": region.City, "county": region.County, "township": region.Township}

// parseView reads the parameters shared by /api/ranking, /api/composite and
// the exports.
func (c *Console) parseView(ctx *fiber.Ctx, allowComposite bool) (view, error) {
	var v view
	var err error
	if v.def, v.composite, err = c.parseIndicator(ctx, allowComposite); err != nil {
		return v, err
	}
	return c.parseViewRest(ctx, v)
}

func (c *Console) parseViewRest(ctx *fiber.Ctx, v view) (view, error) {
	var err error
	if v.period, err = parsePeriod(ctx); err != nil {
		return v, err
	}
	if v.region, err = c.parseRegion("region", ctx.Query("region", c.cfg.DefaultRegion)); err != nil {
		return v, err
	}
	switch by := ctx.Query("by"); by {
	case "", "region":
	case "dept":
		v.byDept = true
	default:
		return v, badParam("by", "%q 无效，应为 region 或 dept", "%q: want region or dept", by)
	}
	switch lv := ctx.Query("level"); lv {
	case "", "children":
	default:
		l, ok := levelNames[lv]
		if !ok {
			return v, badParam("level", "%q 无效，应为 children、city、county 或 township", "%q: want children, city, county or township", lv)
		}
		if l <= v.region.Level() {
			return v, badParam("level", "%s 不在 %s 之下", "%s is not below region %s", lv, v.region)
		}
		if v.byDept {
			return v, badParam("level", "按部门排名时不能指定层级", "cannot be combined with by=dept")
		}
		v.level = l
	}
	if v.asOf, err = c.parseAsOf(ctx); err != nil {
		return v, err
	}
	if v.lang, err = parseLang(ctx); err != nil {
		return v, err
	}
	return v, nil
}

// knownParams lists the query parameters of each route; anything else is
// a 400, so that a typo (regoin=…) is not silently ignored.
func checkParams(ctx *fiber.Ctx, allowed ...string) error {
	var bad error
	ctx.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if bad != nil {
			return
		}
		name := string(k)
		for _, a := range allowed {
			if a == name {
				return
			}
		}
		bad = badParam(name, "未知参数，可用：%s", "unknown parameter; known: %s", strings.Join(allowed, ", "))
	})
	return bad
}
