package console

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
)

// Live is the live KPI engine: the current values of every indicator.
type Live interface {
	Results(p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// History is the part of the indicator history store the console reads:
// values as of an instant (rankings, 环比, 同比) and series (trends).
type History interface {
	AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error)
	Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error)
}

// Config holds the console's dependencies. Live, History and Regions are
// required.
type Config struct {
	Live    Live
	History History
	Regions *region.Table
	// Targets are the targets, floors and weights per region level; nil
	// means scoring.Default().
	Targets *scoring.Config
	// Location is the business time zone (as_of dates, period bounds);
	// nil means store.DefaultLocation() (Asia/Shanghai).
	Location *time.Location
	Logger   *slog.Logger
	// Now is the wall clock, used to reject an as_of in the future;
	// nil means time.Now.
	Now func() time.Time
	// DefaultRegion is the region the page opens at; default "620000"
	// (Gansu).
	DefaultRegion string
	// SessionAPI is the path that says who is signed in (the page shows
	// the name and a sign-out button); "" shows nobody.
	SessionAPI string
	// CachePoints bounds the cache of history reads for past instants
	// (about 100 bytes a point); 0 means 500,000 points, negative turns
	// the cache off. CacheTTL bounds an entry's age (default 10 minutes):
	// the most a late write into the past stays unseen.
	CachePoints int
	CacheTTL    time.Duration
	// CanIssue tells whether the caller of a request (its context) may
	// issue supervision orders to a unit of region: the ranking's red
	// rows then link to the orders page's issue form. Nil: never.
	CanIssue func(ctx context.Context, region string) bool
	// Report looks up a special report for the issue form
	// (/console/orders?issue=1&report=<id>) as the caller of a request
	// (its context) may see it: ErrNoReport when there is no such report
	// or it lies outside the caller's scope. Nil: the form cannot be
	// filled from a report (400).
	Report func(ctx context.Context, id string) (ReportFacts, error)
}

// Console serves the analyst's API and page. Create it with New.
type Console struct {
	cfg     Config
	log     *slog.Logger
	targets *scoring.Config
	loc     *time.Location
	page    *pageAssets
	cache   *snapCache // nil: off
}

// New checks the dependencies and builds a console.
func New(cfg Config) (*Console, error) {
	if cfg.Live == nil || cfg.History == nil || cfg.Regions == nil {
		return nil, errors.New("console: Live, History and Regions are required")
	}
	if cfg.Targets == nil {
		cfg.Targets = scoring.Default()
	}
	if cfg.Location == nil {
		cfg.Location = store.DefaultLocation()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "620000"
	}
	if _, err := region.ParseCode(cfg.DefaultRegion); err != nil {
		return nil, errors.New("console: DefaultRegion: " + err.Error())
	}
	pa, err := loadPageAssets()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, log: cfg.Logger, targets: cfg.Targets, loc: cfg.Location, page: pa}
	if cfg.CachePoints == 0 {
		cfg.CachePoints = 500_000
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Minute
	}
	if cfg.CachePoints > 0 {
		c.cache = newSnapCache(cfg.CachePoints, cfg.CacheTTL)
	}
	return c, nil
}

// Route is one endpoint of the console. The application registers every
// route of the product in one place (app.Add(r.Method, r.Path, r.Handler)).
type Route struct {
	Method  string
	Path    string // in fiber's syntax: /api/units/:region
	Handler fiber.Handler
	// Regions are the request parameters that name the regions an answer
	// covers, for a scope check. A query parameter that is absent means
	// Config.DefaultRegion; the pages (/console, /api/view) fall back to
	// it from a bad value too.
	Regions []RegionParam
}

// RegionParam is a request parameter that holds a region code.
type RegionParam struct {
	In   string // "query" or "path"
	Name string
	// List: a comma-separated list of "region" or "region:dept" (the
	// page's compare list).
	List bool
}

// Routes returns the console's routes: the API (under /api/), its OpenAPI
// description, and the pages under /console with their scripts and style.
// Every route is documented in openapi.json (a test checks it).
func (c *Console) Routes() []Route {
	get := func(path string, h fiber.Handler, regions ...RegionParam) Route {
		return Route{Method: fiber.MethodGet, Path: path, Handler: h, Regions: regions}
	}
	query := RegionParam{In: "query", Name: "region"}
	compare := RegionParam{In: "query", Name: "compare", List: true}
	return []Route{
		get("/api/openapi.json", c.handleOpenAPI),
		get("/api/targets", c.handleTargets),
		get("/api/ranking", c.handleRanking, query),
		get("/api/composite", c.handleComposite, query),
		get("/api/units/:region", c.handleUnit, RegionParam{In: "path", Name: "region"}),
		get("/api/trend", c.handleTrend, query),
		get("/api/regions/:code", c.handleRegion, RegionParam{In: "path", Name: "code"}),
		get("/api/indicators", c.handleIndicators, query),
		get("/api/view", c.handleView, query, compare),
		get("/api/export/ranking.csv", c.handleExportCSV, query),
		get("/api/export/ranking.xlsx", c.handleExportXLSX, query),
		get("/console", c.handlePage, query, compare),
		get("/console/ranking-chart", c.handleRankingChart, query),
		get("/console/console.js", c.handleStatic("console.js")),
		get("/console/console.css", c.handleStatic("console.css")),
		get("/console/ranking-chart.js", c.handleStatic("ranking-chart.js")),
		get(OrdersPath, c.handleOrders, query),
		get("/console/orders.js", c.handleStatic("orders.js")),
	}
}
