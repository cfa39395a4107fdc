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
	// CachePoints bounds the cache of history reads for past instants
	// (about 100 bytes a point); 0 means 500,000 points, negative turns
	// the cache off. CacheTTL bounds an entry's age (default 10 minutes):
	// the most a late write into the past stays unseen.
	CachePoints int
	CacheTTL    time.Duration
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

// Routes registers the API (under /api/), the OpenAPI document and the
// page (/console) on r.
func (c *Console) Routes(r fiber.Router) {
	r.Get("/api/openapi.json", c.handleOpenAPI)
	r.Get("/api/targets", c.handleTargets)
	r.Get("/api/ranking", c.handleRanking)
	r.Get("/api/composite", c.handleComposite)
	r.Get("/api/units/:region", c.handleUnit)
	r.Get("/api/trend", c.handleTrend)
	r.Get("/api/regions/:code", c.handleRegion)
	r.Get("/api/export/ranking.csv", c.handleExportCSV)
	r.Get("/api/export/ranking.xlsx", c.handleExportXLSX)
	r.Get("/console", c.handlePage)
	r.Get("/console/console.js", c.handleScript)
	r.Get("/console/console.css", c.handleStyle)
}
