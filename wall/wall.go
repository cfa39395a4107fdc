// Package wall serves the wall screens of a command hall: it turns the
// screen definitions of package dashboards into pages whose widgets
// (package widget: tiles, maps, rankings, gauges, trends, a ticket ticker,
// source health) draw their first paint from live.Presenter and then
// paint what the hub pushes over a websocket (static/wall.js and each
// widget type's script, served as one file).
//
// The server decides, the browser paints: every value, its text, its
// status colour and its rank arrive decided, in the payloads of package
// live, so no rule of the server's is repeated in a script. A page holds
// no inline script (charts are options in the page's JSON config, drawn
// by the widgets' scripts), so a Content-Security-Policy of script-src
// 'self' holds.
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
//
// The wall does not register its routes: it exports its handlers and their
// paths (Index, Screen, Playlist, Script, Style) for the one place that
// wires every route of the product.
package wall

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/widget"
)

// The paths of the pages (fiber route syntax). Script and style paths
// carry their content's hash: see (*Wall).ScriptPath.
const (
	IndexPath    = "/screens"
	ScreenPath   = "/screens/:id"
	PlaylistPath = "/playlists/:id"
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
	// Presenter presents every value, score and ranking of the first
	// paint, as the live publishers present what follows: the targets,
	// the region names and the business time zone are its. nil means
	// live.NewPresenter(nil, nil, nil).
	Presenter *live.Presenter
	// Sources lists the collector sources whose health a screen shows.
	Sources func() []string
	// Reports gives the first paint of report widgets: the board of a
	// region's open special reports, as its report topic would carry it
	// now (the app adapts report.Manager.Board). Nil: an empty board,
	// until the hub brings one.
	Reports func(region string) widget.ReportBoard
	// Surges gives the first paint of surge widgets: the hotline
	// categories surging in a region and below, as its surge topic would
	// carry them now (live.SurgePublisher.Board). Nil: an empty board,
	// until the hub brings one.
	Surges func(region string) live.SurgeBoard
	// Orders gives the first paint of orders widgets: the open
	// supervision orders of a region and below, as its orders topic would
	// carry them now (the app builds it from package dispatch). Nil: an
	// empty board, until the hub brings one.
	Orders func(region string) widget.OrderBoard
	// WebSocket is the path of the hub, default "/ws".
	WebSocket string
	// Silence is how long a screen may hear nothing on its websocket
	// (the server publishes the clock every few seconds) before it shows
	// "data delayed"; default 20 s.
	Silence time.Duration
	Logger  *slog.Logger
}

// Wall serves the screens.
type Wall struct {
	cfg   Config
	page  *template.Template
	index *template.Template
	// js is wall.js and every widget type's script, css the style.
	js, css assets.PageFile
}

//go:embed static/wall.js
var wallJS []byte

//go:embed static/wall.css
var wallCSS []byte

//go:embed page.html
var pageHTML string

// New checks cfg and returns a Wall.
func New(cfg Config) (*Wall, error) {
	if cfg.Screens == nil || cfg.Live == nil {
		return nil, errors.New("wall: Screens and Live are required")
	}
	if cfg.Presenter == nil {
		cfg.Presenter = live.NewPresenter(nil, nil, nil)
	}
	if cfg.Sources == nil {
		cfg.Sources = func() []string { return nil }
	}
	if cfg.WebSocket == "" {
		cfg.WebSocket = "/ws"
	}
	if cfg.Silence <= 0 {
		cfg.Silence = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Wall{cfg: cfg, js: assets.NewPageFile("/wall", "wall.js", bundle()), css: assets.NewPageFile("/wall", "wall.css", wallCSS)}
	var err error
	if w.page, err = template.New("page").Parse(pageHTML); err != nil {
		return nil, fmt.Errorf("wall: page template: %w", err)
	}
	if w.index, err = template.New("index").Parse(indexHTML); err != nil {
		return nil, fmt.Errorf("wall: index template: %w", err)
	}
	return w, nil
}

// bundle is the page script: the runtime, then every widget type's
// painter; the runtime starts the page once the document is parsed.
func bundle() []byte {
	var b bytes.Buffer
	b.Write(wallJS)
	for _, k := range widget.Kinds() {
		b.WriteString("\n")
		b.WriteString(k.Script)
	}
	return b.Bytes()
}

// ScriptPath is the path of the page script; it changes with its content,
// so browsers may keep it for ever.
func (w *Wall) ScriptPath() string { return w.js.Path }

// StylePath is the path of the page style, content-hashed likewise.
func (w *Wall) StylePath() string { return w.css.Path }

// Script serves the page script at ScriptPath.
func (w *Wall) Script() http.Handler { return w.js }

// Style serves the page style at StylePath.
func (w *Wall) Style() http.Handler { return w.css }

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
		if _, ok := w.cfg.Presenter.Regions().Name(code); !ok {
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

// Screen serves one screen at ScreenPath: /screens/{id}, with the query
// parameters lang (zh, en), region (another division than the screen's),
// period, and playlist and i when a playlist shows it.
func (w *Wall) Screen() fiber.Handler {
	return func(c *fiber.Ctx) error {
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
}

// Playlist starts a rotation at PlaylistPath with its first screen; each
// screen then moves on to the next itself (the page config's playlist).
func (w *Wall) Playlist() fiber.Handler {
	return func(c *fiber.Ctx) error {
		pl, ok := w.cfg.Screens.Playlist(c.Params("id"))
		if !ok {
			return fiber.NewError(fiber.StatusNotFound, "没有这个轮播 / no such playlist: "+c.Params("id"))
		}
		return c.Redirect(itemURL(pl, 0, c.Query("lang")), fiber.StatusFound)
	}
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

// Index lists the screens and playlists at IndexPath.
func (w *Wall) Index() fiber.Handler {
	return func(c *fiber.Ctx) error {
		lang := "zh"
		if c.Query("lang") == "en" {
			lang = "en"
		}
		type link struct{ Href, Title, File string }
		var data struct {
			Lang, FontCSS, FontFamily, Icon string
			T                               map[string]string
			Screens, Playlists              []link
		}
		data.Lang, data.T = lang, texts[lang]
		data.FontCSS, data.FontFamily, data.Icon = assets.FontCSS(), assets.FontFamily, assets.Icon()
		suffix := ""
		if lang == "en" {
			suffix = "?lang=en"
		}
		for _, s := range w.cfg.Screens.Screens() {
			data.Screens = append(data.Screens, link{"/screens/" + url.PathEscape(s.ID) + suffix, s.Title.In(lang), s.File})
		}
		for _, p := range w.cfg.Screens.Playlists() {
			data.Playlists = append(data.Playlists, link{"/playlists/" + url.PathEscape(p.ID) + suffix, p.Title.In(lang), p.File})
		}
		var buf bytes.Buffer
		if err := w.index.Execute(&buf, data); err != nil {
			return fmt.Errorf("render screen index: %w", err)
		}
		c.Type("html", "utf-8")
		return c.Send(buf.Bytes())
	}
}
