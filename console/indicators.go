package console

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

// /api/indicators lists live values as they are (engine.Result's JSON, as
// compute prints them), for scripts and other systems. An answer is
// bounded: one region (or, with below=true, the region and every region
// below it), optionally one indicator, at most limit results; a client
// walks the rest with the cursor each page hands out as next. A province's
// yearly values by department ran to 31 MB in a single answer before.

// Page sizes of /api/indicators.
const (
	defaultLimit = 1000
	maxLimit     = 10000
)

// resultAppender is the live engine's read into a caller's slice, unsorted
// (engine.Engine has it). With it, /api/indicators keeps only the results
// it answers before it sorts them, instead of sorting every result of
// every region.
type resultAppender interface {
	AppendResults(dst []engine.Result, p engine.Period, byDept bool) ([]engine.Result, error)
}

// resultKey is a result's place in the order of every list of results
// (SPEC.md section 7: indicator, region, dept); a cursor holds the last
// key of a page.
type resultKey struct{ indicator, region, dept string }

func keyOfResult(r *engine.Result) resultKey { return resultKey{r.Indicator, r.Region, r.Dept} }

func (a resultKey) compare(b resultKey) int {
	return cmp.Or(strings.Compare(a.indicator, b.indicator), strings.Compare(a.region, b.region), strings.Compare(a.dept, b.dept))
}

// encodeCursor makes a key opaque: base64url of a JSON array, so that a
// department code may hold any text.
func encodeCursor(k resultKey) string {
	b, _ := json.Marshal([3]string{k.indicator, k.region, k.dept}) // strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (resultKey, error) {
	bad := badParam("cursor", "游标 %q 无效，请使用上一页答复中的 next", "invalid cursor %q: pass the next of the previous page", s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return resultKey{}, bad
	}
	var k [3]string
	if err := json.Unmarshal(b, &k); err != nil {
		return resultKey{}, bad
	}
	return resultKey{k[0], k[1], k[2]}, nil
}

// within reports whether code is root or, with below, a region under it.
func within(code, root region.Code, below bool) bool {
	if code == root {
		return true
	}
	if !below {
		return false
	}
	for p, ok := code.Parent(); ok; p, ok = p.Parent() {
		if p == root {
			return true
		}
	}
	return false
}

// indicatorsQuery is a parsed /api/indicators request.
type indicatorsQuery struct {
	period    engine.Period
	indicator string // "": every indicator
	region    region.Code
	below     bool
	byDept    bool
	limit     int
	after     *resultKey // nil: from the start
}

func (c *Console) parseIndicatorsQuery(ctx *fiber.Ctx) (indicatorsQuery, error) {
	var q indicatorsQuery
	var err error
	if err = checkParams(ctx, "period", "indicator", "region", "below", "by", "limit", "cursor"); err != nil {
		return q, err
	}
	if q.period, err = parsePeriod(ctx); err != nil {
		return q, err
	}
	if id := ctx.Query("indicator"); id != "" {
		if _, ok := indicator.Lookup(id); !ok {
			return q, badParam("indicator", "未知指标 %q", "unknown indicator %q", id)
		}
		q.indicator = strings.Clone(id)
	}
	switch by := ctx.Query("by"); by {
	case "", "region":
	case "dept":
		if ctx.Query("region") == "" {
			return q, badParam("by", "按部门列出时须指定 region", "by=dept needs an explicit region")
		}
		q.byDept = true
	default:
		return q, badParam("by", "%q 无效，应为 region 或 dept", "%q: want region or dept", by)
	}
	// Any well-formed code: the engine may know regions newer than the
	// region table.
	s := ctx.Query("region", c.cfg.DefaultRegion)
	if q.region, err = region.ParseCode(strings.Clone(s)); err != nil {
		return q, badParam("region", "地区代码 %q 应为 6 位或 9 位数字", "region code %q: want 6 or 9 digits", s)
	}
	switch b := ctx.Query("below"); b {
	case "", "false":
	case "true":
		q.below = true
	default:
		return q, badParam("below", "%q 无效，应为 true 或 false", "%q: want true or false", b)
	}
	q.limit = defaultLimit
	if s := ctx.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return q, badParam("limit", "%q 无效，应为 1 至 10000 的整数", "%q: want a whole number from 1 to 10000", s)
		}
		q.limit = n
	}
	if s := ctx.Query("cursor"); s != "" {
		k, err := decodeCursor(s)
		if err != nil {
			return q, err
		}
		q.after = &k
	}
	return q, nil
}

// liveResults reads the live results a query keeps, sorted.
func (c *Console) liveResults(q indicatorsQuery) ([]engine.Result, error) {
	var rs []engine.Result
	var err error
	if a, ok := c.cfg.Live.(resultAppender); ok {
		rs, err = a.AppendResults(nil, q.period, q.byDept)
	} else {
		rs, err = c.cfg.Live.Results(q.period, q.byDept)
	}
	if err != nil {
		// The engine's one error: the period is not kept live.
		return nil, badParam("period", "周期 %s 未实时计算", "period %s is not kept live", q.period)
	}
	var keep []engine.Result // not rs[:0]: a Live may hand out a slice it keeps
	for i := range rs {
		r := &rs[i]
		if (q.indicator != "" && r.Indicator != q.indicator) || !within(region.Code(r.Region), q.region, q.below) {
			continue
		}
		if q.after != nil && keyOfResult(r).compare(*q.after) <= 0 {
			continue
		}
		keep = append(keep, *r)
	}
	slices.SortFunc(keep, func(a, b engine.Result) int { return keyOfResult(&a).compare(keyOfResult(&b)) })
	return keep, nil
}

// handleIndicators answers
//
//	{"as_of": "…", "period": "month", "region": "620000", "below": false,
//	 "results": [engine.Result JSON …], "next": "cursor" | null}
//
// results in the order indicator, region, dept. Every page is read live:
// a walk sees each page as of its own instant, and the cursor (a position
// in that order) makes it skip or repeat no result that exists throughout.
func (c *Console) handleIndicators(ctx *fiber.Ctx) error {
	q, err := c.parseIndicatorsQuery(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	rs, err := c.liveResults(q)
	if err != nil {
		return c.fail(ctx, err)
	}
	page, next := rs, ""
	if len(rs) > q.limit {
		page = rs[:q.limit]
		next = encodeCursor(keyOfResult(&page[len(page)-1]))
	}
	asOf := time.Unix(0, c.cfg.Live.Now()).In(c.loc).Format(time.RFC3339)
	buf := make([]byte, 0, 160+len(page)*128)
	buf = append(buf, `{"as_of":`...)
	buf = strconv.AppendQuote(buf, asOf) // digits, dashes, colons: a JSON string as is
	buf = append(buf, `,"period":"`+q.period.String()+`","region":"`+string(q.region)+`","below":`...)
	buf = strconv.AppendBool(buf, q.below)
	buf = append(buf, `,"results":[`...)
	for i := range page {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = page[i].AppendJSON(buf)
	}
	buf = append(buf, `],"next":`...)
	if next == "" {
		buf = append(buf, "null"...)
	} else {
		buf = strconv.AppendQuote(buf, next) // base64url: a JSON string as is
	}
	buf = append(buf, '}')
	ctx.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return ctx.Send(buf)
}
