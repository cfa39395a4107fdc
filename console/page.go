package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

//go:embed static
var static embed.FS

// staticFile is a script or style the pages load.
type staticFile struct {
	body []byte
	etag string
	typ  string
}

// pageAssets are the page templates and the files they load, read once.
type pageAssets struct {
	tpl, chartTpl, ordersTpl *template.Template
	files                    map[string]staticFile // by name under /console/
}

func loadPageAssets() (*pageAssets, error) {
	pa := &pageAssets{files: map[string]staticFile{}}
	var err error
	if pa.tpl, err = template.ParseFS(static, "static/page.html"); err != nil {
		return nil, fmt.Errorf("console: page template: %w", err)
	}
	if pa.chartTpl, err = template.ParseFS(static, "static/ranking-chart.html"); err != nil {
		return nil, fmt.Errorf("console: ranking chart template: %w", err)
	}
	if pa.ordersTpl, err = template.ParseFS(static, "static/orders.html"); err != nil {
		return nil, fmt.Errorf("console: orders template: %w", err)
	}
	for name, typ := range map[string]string{
		"orders.js":        "text/javascript; charset=utf-8",
		"console.js":       "text/javascript; charset=utf-8",
		"console.css":      "text/css; charset=utf-8",
		"ranking-chart.js": "text/javascript; charset=utf-8",
	} {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		pa.files[name] = staticFile{body: b, etag: etag(b), typ: typ}
	}
	return pa, nil
}

// url is the address of a static file, versioned by its content so that
// a new build is never served from a stale cache.
func (pa *pageAssets) url(name string) string {
	return "/console/" + name + "?v=" + strings.Trim(pa.files[name].etag, `"`)
}

func etag(b []byte) string {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf(`"%x"`, h)
}

// handleStatic serves one static file, with its ETag for revalidation.
func (c *Console) handleStatic(name string) fiber.Handler {
	f := c.page.files[name]
	return func(ctx *fiber.Ctx) error {
		ctx.Set(fiber.HeaderETag, f.etag)
		ctx.Set(fiber.HeaderCacheControl, "no-cache")
		if ctx.Get(fiber.HeaderIfNoneMatch) == f.etag {
			return ctx.SendStatus(fiber.StatusNotModified)
		}
		ctx.Set(fiber.HeaderContentType, f.typ)
		return ctx.Send(f.body)
	}
}

// pageState is the whole state of the page, as in its URL.
type pageState struct {
	Indicator string   `json:"indicator"`
	Period    string   `json:"period"`
	AsOf      string   `json:"as_of"`
	Region    string   `json:"region"`
	Level     string   `json:"level"`
	By        string   `json:"by"`
	Compare   []string `json:"compare"`
	Lang      string   `json:"lang"`
}

// stateKeys are the query parameters of the page and of /api/view.
var stateKeys = []string{"indicator", "period", "as_of", "region", "level", "by", "compare", "lang"}

// maxCompare is how many units the compare table holds; ticking one more
// drops the oldest.
const maxCompare = 4

// pageData is the page's whole view: the page starts from it and /api/view
// answers it, so the script paints the first view and every later one
// alike. Every number in it that the page shows comes with its text, and
// every chart as an ECharts option.
type pageData struct {
	State     pageState      `json:"state"`
	Ranking   *rankingJSON   `json:"ranking,omitempty"`
	Composite *compositeJSON `json:"composite,omitempty"`
	Region    regionJSON     `json:"region"`
	Unit      *unitJSON      `json:"unit"`
	Trend     *trendJSON     `json:"trend,omitempty"`
	Compare   []*unitJSON    `json:"compare"`
	Error     string         `json:"error,omitempty"`
	// Levels are the options of the level control (the levels below the
	// region), disabled when ranking departments. AsOfDate is the date
	// control's value ("" for live or an as_of with a clock time).
	Levels         []option `json:"levels"`
	LevelsDisabled bool     `json:"levels_disabled"`
	AsOfDate       string   `json:"as_of_date"`
	Links          links    `json:"links"`
	// Issue links the red rows of the ranking the caller may issue
	// supervision orders to (by compare key) to the issue form.
	Issue map[string]string `json:"issue,omitempty"`
}

// links are the URLs of the view: the page itself (what the address bar
// shows), its exports, and the page in the other language.
type links struct {
	Self string `json:"self"`
	CSV  string `json:"csv"`
	XLSX string `json:"xlsx"`
	Lang string `json:"lang"`
}

type option struct {
	Value    string `json:"value"`
	Label    string `json:"label"`
	Selected bool   `json:"selected"`
}

// readState reads the page's state from its query. The strings are
// copied: they outlive the request's buffers (see parseRegion).
func readState(ctx *fiber.Ctx, defaultRegion string) pageState {
	q := func(k, def string) string { return strings.Clone(ctx.Query(k, def)) }
	st := pageState{
		Indicator: q("indicator", "on_time_rate"), Period: q("period", "month"), AsOf: q("as_of", ""),
		Region: q("region", defaultRegion), Level: q("level", ""), By: q("by", ""), Lang: q("lang", "zh"),
		Compare: []string{},
	}
	if st.Lang != "en" {
		st.Lang = "zh"
	}
	for _, s := range strings.Split(q("compare", ""), ",") {
		if s != "" {
			st.Compare = append(st.Compare, s)
		}
	}
	st.Compare = st.Compare[max(0, len(st.Compare)-maxCompare):]
	return st
}

// handlePage renders the console at the state of its URL. A bad parameter
// does not fail the page: it falls back to the default and says so.
//
// The page holds no inline script (CSP script-src 'self'): its data and
// words travel as <script type="application/json"> elements, encoded by
// encoding/json (which escapes <, > and &, so that no value can close the
// element), and its code comes from console.js.
func (c *Console) handlePage(ctx *fiber.Ctx) error {
	st := readState(ctx, c.cfg.DefaultRegion)
	data, err := c.pageData(ctx.UserContext(), &st)
	if err != nil {
		return c.fail(ctx, err)
	}
	blob, err := json.Marshal(data)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: page data: %w", err))
	}
	t := dict[st.Lang]
	dictJSON, err := json.Marshal(t)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: page words: %w", err))
	}
	var inds []option
	for _, d := range indicator.All() {
		label := d.Name
		if st.Lang == "en" {
			label = d.NameEN
		}
		inds = append(inds, option{d.ID, label, d.ID == st.Indicator})
	}
	inds = append(inds, option{compositeID, t["composite"], st.Indicator == compositeID})
	var periods []option
	for _, p := range engine.AllPeriods {
		periods = append(periods, option{p.String(), t["period_"+p.String()], p.String() == st.Period})
	}
	bys := []option{{"", t["by_region"], st.By != "dept"}, {"dept", t["by_dept"], st.By == "dept"}}
	var buf bytes.Buffer
	err = c.page.tpl.Execute(&buf, map[string]any{
		"Lang": st.Lang, "T": t, "State": st, "View": data,
		"Indicators": inds, "Periods": periods, "Bys": bys,
		"ECharts": assets.ECharts(), "FontCSS": assets.FontCSS(), "FontFamily": template.CSS(assets.FontFamily),
		"Icon": assets.Icon(), "SessionAPI": c.cfg.SessionAPI,
		"Data": jsonScript(blob), "Dict": jsonScript(dictJSON),
		"JS": c.page.url("console.js"), "CSS": c.page.url("console.css"),
	})
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: render page: %w", err))
	}
	ctx.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Send(buf.Bytes())
}

// handleView answers the page's whole view as JSON: what the page fetches
// when it navigates. Like the page, it falls back from a bad value and
// says so in error; an unknown parameter is a 400.
func (c *Console) handleView(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, stateKeys...); err != nil {
		return c.fail(ctx, err)
	}
	st := readState(ctx, c.cfg.DefaultRegion)
	data, err := c.pageData(ctx.UserContext(), &st)
	if err != nil {
		return c.fail(ctx, err)
	}
	return ctx.JSON(data)
}

// pageData computes a view; a bad parameter is replaced by its default
// and reported in Error.
func (c *Console) pageData(ctx context.Context, st *pageState) (*pageData, error) {
	data := &pageData{Compare: []*unitJSON{}}
	var problems []string
	def, ok := indicator.Lookup(st.Indicator)
	composite := st.Indicator == compositeID
	if !ok && !composite {
		problems = append(problems, badParam("indicator", "未知指标 %q", "unknown indicator %q", st.Indicator).Error())
		st.Indicator, def = "on_time_rate", mustLookup("on_time_rate")
	}
	p, err := engine.ParsePeriod(st.Period)
	if err != nil {
		problems = append(problems, badParam("period", "未知周期 %q", "unknown period %q", st.Period).Error())
		st.Period, p = "month", engine.Month
	}
	code, err := c.parseRegion("region", st.Region)
	if err != nil {
		problems = append(problems, err.Error())
		code = region.Code(c.cfg.DefaultRegion)
		st.Region = string(code)
	}
	v := view{def: def, composite: composite, period: p, region: code, lang: st.Lang}
	switch st.By {
	case "dept":
		v.byDept = true
	case "":
	default:
		problems = append(problems, badParam("by", "%q 无效", "%q: want region or dept", st.By).Error())
		st.By = ""
	}
	if l, ok := levelNames[st.Level]; ok && l > code.Level() && !v.byDept {
		v.level = l
	} else if st.Level != "" {
		if !ok || l <= code.Level() {
			problems = append(problems, badParam("level", "%q 无效", "%q: not a level below the region", st.Level).Error())
		}
		st.Level = ""
	}
	if st.AsOf != "" {
		t, err := c.parseTimeParam("as_of", st.AsOf)
		if err == nil && t.After(c.cfg.Now().AddDate(0, 0, 1)) {
			err = badParam("as_of", "时间 %q 在未来", "%q is in the future", st.AsOf)
		}
		if err != nil {
			problems = append(problems, err.Error())
			st.AsOf = ""
		} else {
			v.asOf = &t
		}
	}
	if composite {
		if data.Composite, err = c.composite(ctx, v); err != nil {
			return nil, err
		}
		if data.Composite.Chart, err = c.compositeChart(data.Composite, st.Lang); err != nil {
			return nil, err
		}
	} else {
		if data.Ranking, err = c.ranking(ctx, v); err != nil {
			return nil, err
		}
		if data.Ranking.Chart, err = c.rankingChart(data.Ranking, st.Lang); err != nil {
			return nil, err
		}
	}
	data.Region = regionJSON{regionRef: c.ref(code), Ancestors: c.ancestors(code), Children: []regionRef{}}
	for _, k := range c.cfg.Regions.Children(code) {
		data.Region.Children = append(data.Region.Children, c.ref(k))
	}
	if data.Unit, err = c.unitView(ctx, code, "", p, v.asOf, st.Lang); err != nil {
		return nil, err
	}
	if !composite {
		to := c.cfg.Now().In(c.loc)
		if v.asOf != nil {
			to = *v.asOf
		}
		if data.Trend, err = c.trend(ctx, def, code, "", p, periodStart(defaultSpan(p, to, c.loc), p, c.loc), to, "period"); err != nil {
			return nil, err
		}
		if data.Trend.Chart, err = c.trendChart(data.Trend, st.Lang); err != nil {
			return nil, err
		}
	}
	keep := []string{}
	for _, s := range st.Compare {
		u, err := c.compareUnit(ctx, s, p, v.asOf, st.Lang)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		keep = append(keep, s)
		data.Compare = append(data.Compare, u)
	}
	st.Compare = keep
	data.State = *st
	data.Error = strings.Join(problems, "; ")
	data.Levels = c.levelOptions(code, st.Level, st.Lang)
	data.LevelsDisabled = v.byDept
	if len(st.AsOf) == len("2006-01-02") {
		data.AsOfDate = st.AsOf
	}
	data.Links = linksOf(*st)
	data.Issue = c.issueLinks(ctx, data.Ranking, *st)
	return data, nil
}

// levelOptions are the choices of units to rank below a region: its
// direct subordinates, or every unit of one level below it.
func (c *Console) levelOptions(code region.Code, selected, lang string) []option {
	t := dict[lang]
	var out []option
	for _, l := range []string{"", "city", "county", "township"} {
		if l != "" && levelNames[l] <= code.Level() {
			continue
		}
		out = append(out, option{l, t["level_"+l], l == selected})
	}
	return out
}

// linksOf builds the URLs of a view; empty parameters are left out.
func linksOf(st pageState) links {
	q := func(lang string, keys ...string) string {
		all := map[string]string{
			"indicator": st.Indicator, "period": st.Period, "as_of": st.AsOf, "region": st.Region,
			"level": st.Level, "by": st.By, "compare": strings.Join(st.Compare, ","), "lang": lang,
		}
		vs := url.Values{}
		for _, k := range keys {
			if all[k] != "" {
				vs.Set(k, all[k])
			}
		}
		return vs.Encode()
	}
	lang, other := "", "en"
	if st.Lang == "en" {
		lang, other = "en", ""
	}
	view := []string{"indicator", "period", "region", "level", "by", "as_of"}
	return links{
		Self: "/console?" + q(lang, stateKeys...),
		CSV:  "/api/export/ranking.csv?" + q("", view...),
		XLSX: "/api/export/ranking.xlsx?" + q("", view...),
		Lang: "/console?" + q(other, stateKeys...),
	}
}

// compareUnit reads one unit of the compare list: "region" or
// "region:dept".
func (c *Console) compareUnit(ctx context.Context, s string, p engine.Period, asOf *time.Time, lang string) (*unitJSON, error) {
	code, dept, _ := strings.Cut(s, ":")
	rc, err := c.parseRegion("compare", code)
	if err != nil {
		return nil, err
	}
	if err := checkDept(dept); err != nil {
		return nil, err
	}
	return c.unitView(ctx, rc, dept, p, asOf, lang)
}

// jsonScript marks the output of encoding/json as the content of a
// <script type="application/json"> element. It is safe there because
// json.Marshal escapes <, > and & (and U+2028, U+2029): no value, however
// hostile (a department code "</script><script>…"), can end the element.
// Everything else must go through html/template's own escaping.
func jsonScript(b []byte) template.JS { return template.JS(b) }

func mustLookup(id string) indicator.Def {
	d, _ := indicator.Lookup(id)
	return d
}
