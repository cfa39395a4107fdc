package wall

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/widget"
)

// page is what page.html draws.
type page struct {
	Lang, Title, RegionName, PeriodLabel string
	Width, Height, Header                int
	EChartsURL, FontCSS, Icon            string
	MapScripts                           []string
	JSURL, CSSURL                        string
	T                                    map[string]string
	Widgets                              []section
	// Config is the page's contract with the scripts (jsConfig), JSON
	// with <, > and & escaped, so no string from data can end its
	// <script type="application/json"> element.
	Config template.JS
}

// section is one widget's place on the page around its own HTML.
type section struct {
	ID, Type, Title string
	Style           template.CSS
	HTML            template.HTML
}

// jsConfig is the page's contract with static/wall.js.
type jsConfig struct {
	Screen    string            `json:"screen"`
	Lang      string            `json:"lang"`
	TZ        string            `json:"tz"` // business time zone of the clock
	WS        string            `json:"ws"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	SilenceMs int64             `json:"silence_ms"`
	Clock     string            `json:"clock"`   // the heartbeat topic
	Sources   []jsSource        `json:"sources"` // every source, for the "data delayed" banner
	Widgets   []jsWidget        `json:"widgets"`
	Playlist  *jsPlaylist       `json:"playlist,omitempty"`
	T         map[string]string `json:"t"`
}

type jsSource struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
}

// jsWidget is one widget for its type's script: w.id, w.type, w.cfg.
type jsWidget struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Cfg  any    `json:"cfg"`
}

type jsPlaylist struct {
	Next    string `json:"next"`
	Seconds int    `json:"seconds"`
}

// build composes the page of screen sc for request q.
func (w *Wall) build(ctx context.Context, sc *dashboards.Screen, q request) (*page, error) {
	lang := q.lang
	screenRegion := cmp.Or(q.region, sc.Region)
	screenPeriod := cmp.Or(q.period, sc.Period)
	data := w.data(ctx)
	wp := widget.NewPage(lang, data, w.cfg.Presenter)
	pg := &page{
		Lang: lang, Title: sc.Title.In(lang), Width: sc.Width, Height: sc.Height, Header: sc.Header,
		EChartsURL: assets.ECharts(), FontCSS: assets.FontCSS(), Icon: assets.Icon(),
		JSURL: w.js.Path, CSSURL: w.css.Path, T: texts[lang],
		PeriodLabel: texts[lang]["period."+screenPeriod],
		RegionName:  wp.Name(screenRegion),
	}
	cfg := jsConfig{
		Screen: sc.ID, Lang: lang, TZ: w.cfg.Presenter.Location().String(), WS: w.cfg.WebSocket,
		Width: sc.Width, Height: sc.Height, SilenceMs: w.cfg.Silence.Milliseconds(),
		Clock: live.ClockTopic, T: texts[lang],
	}
	for _, s := range data.Sources() {
		cfg.Sources = append(cfg.Sources, jsSource{Name: s, Topic: live.HealthTopic(s)})
	}
	for i, wd := range sc.Widgets {
		b := widget.Box{
			ID: fmt.Sprintf("w%d", i), Title: wd.Title.In(lang), W: wd.At.W, H: wd.At.H,
			Region: sc.RegionFor(wd, q.region),
			Period: sc.PeriodFor(wd, q.period),
		}
		v, err := wd.Spec.Render(wp, b)
		if err != nil {
			return nil, fmt.Errorf("widgets[%d] (%s): %w", i, wd.Type, err)
		}
		pg.Widgets = append(pg.Widgets, section{
			ID: b.ID, Type: wd.Type, Title: cmp.Or(b.Title, v.Title), HTML: v.HTML,
			Style: template.CSS(fmt.Sprintf("left:%dpx;top:%dpx;width:%dpx;height:%dpx", wd.At.X, wd.At.Y, wd.At.W, wd.At.H)),
		})
		cfg.Widgets = append(cfg.Widgets, jsWidget{ID: b.ID, Type: wd.Type, Cfg: v.Config})
	}
	if err := data.err; err != nil {
		return nil, err
	}
	pg.MapScripts = wp.Scripts()
	if q.playlist != nil {
		next := (q.item + 1) % len(q.playlist.Items)
		cfg.Playlist = &jsPlaylist{Next: itemURL(q.playlist, next, lang), Seconds: q.playlist.Items[q.item].Seconds}
	}
	// encoding/json escapes <, > and & in strings (\u003c...): a region
	// name or title cannot close the config's script element.
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("page config: %w", err)
	}
	pg.Config = template.JS(b)
	return pg, nil
}
