package wall

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
)

// fakeLive serves fixed results for every period.
type fakeLive []engine.Result

func (f fakeLive) Results(engine.Period, bool) ([]engine.Result, error) { return f, nil }
func (f fakeLive) Now() int64                                           { return 1763900000000000000 }

func rate(ind, reg string, n, d int64) engine.Result {
	return engine.Result{Indicator: ind, Region: reg, Numerator: n, Denominator: d, Rate: true}
}

func count(ind, reg string, n int64) engine.Result {
	return engine.Result{Indicator: ind, Region: reg, Numerator: n}
}

// sampleLive has province and city values for the default screens.
func sampleLive() fakeLive {
	return fakeLive{
		count("case_volume", "620000", 163101),
		rate("on_time_rate", "620000", 9383, 10000),
		rate("on_time_rate", "620100", 947, 1000),
		rate("on_time_rate", "620200", 900, 1000),
		rate("on_time_rate", "620300", 0, 0), // null: last, no rank
		rate("on_time_rate", "620400", 947, 1000),
		rate("answer_rate", "620000", 955, 1000),
	}
}

func newApp(t *testing.T, live Live) *fiber.App {
	t.Helper()
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	return appOf(t, Config{Screens: set, Live: live, Sources: func() []string { return []string{"demo-cases", "push"} }})
}

// appOf serves a wall of cfg on its own fiber app, its routes registered
// as the product registers them.
func appOf(t *testing.T, cfg Config) *fiber.App {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get(IndexPath, w.Index())
	app.Get(w.ScriptPath(), adaptor.HTTPHandler(w.Script()))
	app.Get(w.StylePath(), adaptor.HTTPHandler(w.Style()))
	app.Get(ScreenPath, w.Screen())
	app.Get(PlaylistPath, w.Playlist())
	return app
}

func get(t *testing.T, app *fiber.App, url string) (int, string) {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", url, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pageHas gets url, which must answer 200 with every string of want.
func pageHas(t *testing.T, app *fiber.App, url string, want ...string) {
	t.Helper()
	code, body := get(t, app, url)
	if code != 200 {
		t.Fatalf("%s: %d %s", url, code, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("no %s in the page", w)
		}
	}
}

func TestScreensRenderValuesWithDataAttributes(t *testing.T) {
	app := newApp(t, sampleLive())
	for _, tc := range []struct {
		url  string
		want []string
	}{
		{"/screens/overview", []string{
			`data-indicator="case_volume" data-region="620000" data-period="month" data-value="163101" data-num="163101" data-den="">163,101<`,
			`data-indicator="on_time_rate" data-region="620000" data-period="month" data-value="0.9383" data-num="9383" data-den="10000">93.83%<`,
			// A region without records: a rate is null, shown "—".
			`data-indicator="satisfaction_rate" data-region="620000" data-period="month" data-value="" data-num="0" data-den="0">—<`,
			`甘肃省政务服务一屏统揽`, `<html lang="zh-CN">`, `id="wall-config"`, `data-source="demo-cases"`,
		}},
		{"/screens/overview?lang=en", []string{`<html lang="en">`, `Gansu government services at a glance`, `Cases`}},
		{"/screens/overview?period=day", []string{`data-indicator="case_volume" data-region="620000" data-period="day"`}},
		{"/screens/overview?region=620100", []string{`data-indicator="case_volume" data-region="620100" data-period="month"`, `兰州市`}},
		{"/screens/service", []string{`data-indicator="overdue_open" data-region="620000"`}},
		{"/screens/hotline", []string{`data-indicator="answer_15s_rate" data-region="620000"`}},
	} {
		code, body := get(t, app, tc.url)
		if code != 200 {
			t.Errorf("%s: status %d: %.300s", tc.url, code, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %s", tc.url, w)
			}
		}
		// Every script and stylesheet is Yiping's own.
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			if strings.Contains(m[1], "//") {
				t.Errorf("%s: external reference %s", tc.url, m[1])
			}
		}
	}
}

func TestRankingCarouselRanksLikeTheSpec(t *testing.T) {
	app := newApp(t, sampleLive())
	_, body := get(t, app, "/screens/overview")
	// The on_time_rate list: 620100 and 620400 tie at 94.7% (rank 1, 1),
	// 620200 is third, the null 620300 comes after the ranked ones without
	// a rank.
	i := strings.Index(body, `data-list="on_time_rate"`)
	if i < 0 {
		t.Fatal("no on_time_rate ranking list")
	}
	list := body[i:]
	list = list[:strings.Index(list, "</ol>")]
	rows := regexp.MustCompile(`data-rank="(\d+)"><span class="rk">[^<]*</span><span class="nm">([^<]*)</span>`).FindAllStringSubmatch(list, -1)
	var got []string
	for _, r := range rows[:5] {
		got = append(got, r[1]+":"+r[2])
	}
	want := "1:兰州市 1:白银市 3:嘉峪关市"
	if strings.Join(got[:3], " ") != want {
		t.Errorf("top of ranking = %v, want %s", got, want)
	}
	// 620300 (金昌市) is null: after every ranked row, with rank 0.
	for _, r := range rows {
		if r[2] == "金昌市" && r[1] != "0" {
			t.Errorf("null row ranked %s", r[1])
		}
	}
}

func TestBadRequests(t *testing.T) {
	app := newApp(t, sampleLive())
	for _, tc := range []struct {
		url  string
		code int
		want string
	}{
		{"/screens/nope", 404, "no such screen"},
		{"/screens/overview?region=12", 400, "parameter region"},
		{"/screens/overview?region=990000", 400, "unknown division"},
		{"/screens/overview?period=decade", 400, "parameter period"},
		{"/screens/overview?lang=fr", 400, "parameter lang"},
		{"/screens/overview?playlist=nope", 400, "no playlist"},
		{"/screens/overview?playlist=hall&i=9", 400, "parameter i"},
		{"/playlists/nope", 404, "no such playlist"},
	} {
		code, body := get(t, app, tc.url)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.url, code, body, tc.code, tc.want)
		}
	}
}

func TestPlaylistChainsScreens(t *testing.T) {
	app := newApp(t, sampleLive())
	resp, err := app.Test(httptest.NewRequest("GET", "/playlists/hall", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != "/screens/overview?i=0&playlist=hall" {
		t.Fatalf("playlist start: %d %s", resp.StatusCode, loc)
	}
	_, body := get(t, app, "/screens/overview?i=0&playlist=hall")
	if !strings.Contains(body, `"playlist":{"next":"/screens/service?i=1\u0026playlist=hall","seconds":60}`) {
		t.Errorf("overview in the playlist does not chain to service: %s", regexp.MustCompile(`"playlist":[^}]*}`).FindString(body))
	}
	_, body = get(t, app, "/screens/hotline?i=2&playlist=hall")
	if !strings.Contains(body, `"next":"/screens/overview?i=0\u0026playlist=hall"`) {
		t.Error("the last screen does not wrap to the first")
	}
}

func TestIndexListsScreens(t *testing.T) {
	app := newApp(t, sampleLive())
	code, body := get(t, app, "/screens")
	for _, w := range []string{`href="/screens/overview"`, `href="/screens/service"`, `href="/screens/hotline"`, `href="/playlists/hall"`} {
		if code != 200 || !strings.Contains(body, w) {
			t.Errorf("index misses %s", w)
		}
	}
}

func TestMapFeaturesMatchRegionNames(t *testing.T) {
	// Every county of Gansu must colour a shape on its city's map: the
	// names in the map files and the division table differ only where
	// feature says.
	app := newApp(t, sampleLive())
	_, body := get(t, app, "/screens/overview")
	var m struct {
		Topic string `json:"topic"`
		Drill map[string]struct {
			Map      string            `json:"map"`
			Topic    string            `json:"topic"`
			Features map[string]string `json:"features"`
		} `json:"drill"`
	}
	widgetConfig(t, body, "map", &m)
	if len(m.Drill) != 14 {
		t.Errorf("drill maps = %d, want 14 cities", len(m.Drill))
	}
	if m.Topic != "rank:composite:620000:month" || m.Drill["620800"].Topic != "rank:composite:620800:month" {
		t.Errorf("map topics %q, %q", m.Topic, m.Drill["620800"].Topic)
	}
	if f := m.Drill["620800"].Features["620881"]; f != "华亭县" {
		t.Errorf("华亭市 (620881) is drawn on the shape %q of the Pingliang map, want 华亭县", f)
	}
	// And each feature name is in the map file the page loads.
	names := region.Default()
	missing := 0
	for _, city := range names.Children("620000") {
		cn, _ := names.Name(city)
		u, ok := assets.MapScript(cn)
		if !ok {
			t.Errorf("no map for %s", cn)
			continue
		}
		js, err := fs.ReadFile(assets.FS(), strings.TrimPrefix(u, assets.Prefix()))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range names.Children(city) {
			n, _ := names.Name(c)
			if !strings.Contains(string(js), `name:"`+m.Drill[string(city)].Features[string(c)]+`"`) {
				t.Logf("%s %s has no shape on the %s map", c, n, cn)
				missing++
			}
		}
	}
	// 兰州新区 (620171) is a state-level new area without a shape of its own.
	if missing != 1 {
		t.Errorf("%d counties without a shape, want 1 (兰州新区)", missing)
	}
}

// configOf returns a page's config (the JSON of #wall-config).
func configOf(t *testing.T, body string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="wall-config">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no #wall-config in the page")
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("page config: %v", err)
	}
	return cfg
}

// widgetConfig decodes the cfg of the page's first widget of type typ
// into v.
func widgetConfig(t *testing.T, body, typ string, v any) {
	t.Helper()
	for _, w := range configOf(t, body)["widgets"].([]any) {
		w := w.(map[string]any)
		if w["type"] != typ {
			continue
		}
		b, _ := json.Marshal(w["cfg"])
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no %s widget on the page", typ)
}

// TestAnyScreenID: no screen id is reserved (the page script and style
// have paths of their own), so a command center may call a screen
// "static" or "ranking".
func TestAnyScreenID(t *testing.T) {
	files := fstest.MapFS{}
	for _, id := range []string{"static", "ranking"} {
		files[id+".yaml"] = &fstest.MapFile{Data: []byte("kind: screen\nid: " + id + "\ntitle: 屏\nregion: \"620000\"\nwidgets:\n  - {type: health, at: [0, 100, 10, 10]}\n")}
	}
	set, err := dashboards.LoadFS(files)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Screens: set, Live: sampleLive()})
	if err != nil {
		t.Fatal(err)
	}
	app := appOf(t, Config{Screens: set, Live: sampleLive()})
	for _, url := range []string{"/screens/static", "/screens/ranking", w.ScriptPath(), w.StylePath()} {
		if code, body := get(t, app, url); code != 200 {
			t.Errorf("%s: %d %.200s", url, code, body)
		}
	}
}
