// Package wall serves the wall screens of a command hall: it turns the
// screen definitions of package dashboards into pages — tiles, a province
// map, rankings, gauges, trends, a ticket ticker and source health — whose
// charts are composed in Go with go-echarts and whose every value then
// follows the hub over a websocket (static/wall.js).
//
// A page is drawn at its design size (1920×1080 by default) and scaled as a
// whole to the browser's viewport, letterboxed, so the same screen fills a
// 4K panel or a spliced 7680×2160 wall without reflow. Charts render as SVG
// and text stays text, so scaling never blurs, whatever the operating
// system's display scaling.
//
// Every value on a page is an element carrying data-indicator, data-region,
// data-period and data-value (the raw number; empty when null), so people
// and tests can read exactly what a screen shows. Chart widgets keep such a
// list beside the chart (visually hidden).
package wall

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
)

// Live is where a page's first values come from; the websocket brings the
// rest. *engine.Engine implements it.
type Live interface {
	Results(p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// History gives the trend widgets their past. store.Store implements it.
type History interface {
	Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error)
}

// Config holds a Wall's dependencies. Screens and Live are required.
type Config struct {
	Screens *dashboards.Set
	Live    Live
	// History feeds trend widgets; nil draws them from live values only.
	History History
	// Targets colour maps and bars and give the composite score; nil
	// means scoring.Default().
	Targets *scoring.Config
	// Regions names regions; nil means region.Default().
	Regions *region.Table
	// Sources lists the collector sources whose health a screen shows.
	Sources func() []string
	// Location is the business time zone; nil means time.Local.
	Location *time.Location
	// WebSocket is the path of the hub, default "/ws".
	WebSocket string
	// StaleAfter is how long a source may go without a successful run
	// before screens show "data delayed"; default 10 minutes. Push
	// sources are judged by failures only (nobody pushes at night).
	StaleAfter time.Duration
	// Silence is how long a screen may hear nothing on its websocket
	// (the server publishes the clock every few seconds) before it shows
	// "data delayed"; default 20 s.
	Silence time.Duration
	Logger  *slog.Logger
}

// Wall serves the screens.
type Wall struct {
	cfg    Config
	page   *template.Template
	index  *template.Template
	jsURL  string
	cssURL string
}

//go:embed static/wall.js
var wallJS []byte

//go:embed static/wall.css
var wallCSS []byte

//go:embed page.html
var pageHTML string

// Reserved screen ids: their paths are taken by other pages.
var reserved = map[string]bool{"static": true, "ranking": true}

// New checks cfg and returns a Wall.
func New(cfg Config) (*Wall, error) {
	if cfg.Screens == nil || cfg.Live == nil {
		return nil, errors.New("wall: Screens and Live are required")
	}
	for _, s := range cfg.Screens.Screens() {
		if reserved[s.ID] {
			return nil, fmt.Errorf("wall: screen id %q (%s) is reserved for another page", s.ID, s.File)
		}
	}
	if cfg.Targets == nil {
		cfg.Targets = scoring.Default()
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.Sources == nil {
		cfg.Sources = func() []string { return nil }
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.WebSocket == "" {
		cfg.WebSocket = "/ws"
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 10 * time.Minute
	}
	if cfg.Silence <= 0 {
		cfg.Silence = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Wall{cfg: cfg,
		jsURL:  "/screens/static/wall." + hash(wallJS) + ".js",
		cssURL: "/screens/static/wall." + hash(wallCSS) + ".css",
	}
	var err error
	if w.page, err = template.New("page").Funcs(funcs).Parse(pageHTML); err != nil {
		return nil, fmt.Errorf("wall: page template: %w", err)
	}
	if w.index, err = template.New("index").Funcs(funcs).Parse(indexHTML); err != nil {
		return nil, fmt.Errorf("wall: index template: %w", err)
	}
	return w, nil
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

// Routes registers the pages: /screens (the list), /screens/:id, the
// playlists at /playlists/:id and the page script and style.
func (w *Wall) Routes(r fiber.Router) {
	r.Get("/screens", w.handleIndex)
	r.Get(w.jsURL, w.static(wallJS, "text/javascript; charset=utf-8"))
	r.Get(w.cssURL, w.static(wallCSS, "text/css; charset=utf-8"))
	r.Get("/screens/:id", w.handleScreen)
	r.Get("/playlists/:id", w.handlePlaylist)
}

func (w *Wall) static(b []byte, ct string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		return c.Send(b)
	}
}

// request is what a screen URL asks for.
type request struct {
	lang     string
	region   string // override, "" for the screen's
	period   string // override
	playlist *dashboards.Playlist
	item     int
}

func (w *Wall) parseRequest(c *fiber.Ctx) (request, error) {
	q := request{lang: "zh"}
	switch l := c.Query("lang"); l {
	case "", "zh", "zh-CN":
	case "en":
		q.lang = "en"
	default:
		return q, fmt.Errorf("参数 lang：不支持的语言 %q（zh 或 en） / parameter lang: unsupported language %q (zh or en)", l, l)
	}
	if r := c.Query("region"); r != "" {
		code, err := region.ParseCode(r)
		if err != nil {
			return q, fmt.Errorf("参数 region / parameter region: %w", err)
		}
		if _, ok := w.cfg.Regions.Name(code); !ok {
			return q, fmt.Errorf("参数 region：未知行政区划 %s / parameter region: unknown division %s", r, r)
		}
		q.region = string(code)
	}
	if p := c.Query("period"); p != "" {
		if _, err := engine.ParsePeriod(p); err != nil {
			return q, fmt.Errorf("参数 period / parameter period: %w", err)
		}
		q.period = p
	}
	if id := c.Query("playlist"); id != "" {
		pl, ok := w.cfg.Screens.Playlist(id)
		if !ok {
			return q, fmt.Errorf("参数 playlist：没有轮播 %q / parameter playlist: no playlist %q", id, id)
		}
		i, err := strconv.Atoi(c.Query("i", "0"))
		if err != nil || i < 0 || i >= len(pl.Items) {
			return q, fmt.Errorf("参数 i：应为 0..%d / parameter i: want 0..%d", len(pl.Items)-1, len(pl.Items)-1)
		}
		q.playlist, q.item = pl, i
	}
	return q, nil
}

func (w *Wall) handleScreen(c *fiber.Ctx) error {
	sc, ok := w.cfg.Screens.Screen(c.Params("id"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "没有这块屏 / no such screen: "+c.Params("id"))
	}
	q, err := w.parseRequest(c)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	pg, err := w.build(c.UserContext(), sc, q)
	if err != nil {
		w.cfg.Logger.Error("build screen", "screen", sc.ID, "err", err)
		return fiber.NewError(fiber.StatusInternalServerError, "screen "+sc.ID+": "+err.Error())
	}
	var buf bytes.Buffer
	if err := w.page.Execute(&buf, pg); err != nil {
		return fmt.Errorf("render screen %s: %w", sc.ID, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

// handlePlaylist starts a rotation at its first screen; each screen then
// moves on to the next itself (see playlistNext).
func (w *Wall) handlePlaylist(c *fiber.Ctx) error {
	pl, ok := w.cfg.Screens.Playlist(c.Params("id"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "没有这个轮播 / no such playlist: "+c.Params("id"))
	}
	lang := c.Query("lang")
	return c.Redirect(itemURL(pl, 0, lang), fiber.StatusFound)
}

func itemURL(pl *dashboards.Playlist, i int, lang string) string {
	it := pl.Items[i]
	v := url.Values{"playlist": {pl.ID}, "i": {strconv.Itoa(i)}}
	if it.Region != "" {
		v.Set("region", it.Region)
	}
	if lang == "en" {
		v.Set("lang", "en")
	}
	return "/screens/" + url.PathEscape(it.Screen) + "?" + v.Encode()
}

func (w *Wall) handleIndex(c *fiber.Ctx) error {
	lang := "zh"
	if c.Query("lang") == "en" {
		lang = "en"
	}
	type link struct{ Href, Title, File string }
	var data struct {
		Lang, FontCSS, FontFamily string
		T                         map[string]string
		Screens, Playlists        []link
	}
	data.Lang, data.T = lang, texts[lang]
	data.FontCSS, data.FontFamily = fontCSS(), fontFamily
	suffix := ""
	if lang == "en" {
		suffix = "?lang=en"
	}
	for _, s := range w.cfg.Screens.Screens() {
		data.Screens = append(data.Screens, link{"/screens/" + s.ID + suffix, s.Title.In(lang), s.File})
	}
	for _, p := range w.cfg.Screens.Playlists() {
		data.Playlists = append(data.Playlists, link{"/playlists/" + p.ID + suffix, p.Title.In(lang), p.File})
	}
	var buf bytes.Buffer
	if err := w.index.Execute(&buf, data); err != nil {
		return fmt.Errorf("render screen index: %w", err)
	}
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}
