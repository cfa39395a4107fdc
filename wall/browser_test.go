package wall

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/hub"
)

// liveServer serves the default screens over a real hub on loopback, as
// serve does: net/http in front, /ws to the hub, the rest to fiber.
func liveServer(t *testing.T) (*httptest.Server, *hub.Hub) {
	t.Helper()
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	return serveScreens(t, set)
}

// serveScreens serves the screens of set over a real hub on loopback.
func serveScreens(t *testing.T, set *dashboards.Set) (*httptest.Server, *hub.Hub) {
	t.Helper()
	w, err := New(Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases", "push"} }})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	w.Routes(app)
	h := hub.New(hub.Config{MaxTopics: 1024})
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.ServeWS)
	mux.Handle(assets.Root, assets.Handler())
	mux.Handle("/", adaptor.FiberApp(app))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv, h
}

// screenState is what a failed wait reports of a screen.
const screenState = `document.body.dataset.state + " " + (document.getElementById("banner")||{}).textContent`

// waitJS polls expr in the page until it is true.
func waitJS(ctx context.Context, t *testing.T, what, expr string, within time.Duration) {
	t.Helper()
	browsertest.WaitJS(ctx, t, what, expr, within, screenState)
}

func publish(t *testing.T, h *hub.Hub, topic, data string) {
	t.Helper()
	if err := h.Publish(topic, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

const valSel = `.val[data-indicator="%s"][data-region="%s"][data-period="%s"]`

func TestScreenFollowsTheHubInChromium(t *testing.T) {
	srv, h := liveServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable(), chromedp.Navigate(srv.URL+"/screens/overview")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)

	// Every value element carries the four data attributes.
	var bad, total int
	chromedp.Run(ctx,
		chromedp.Evaluate(`document.querySelectorAll(".val").length`, &total),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".val")).filter(e => !e.dataset.indicator || !e.dataset.region || !e.dataset.period || e.dataset.value === undefined).length`, &bad))
	if total < 6+14*4+14 || bad != 0 {
		t.Errorf("%d value elements, %d without data-indicator/region/period/value", total, bad)
	}

	// A tile follows its topic.
	publish(t, h, "ind:case_volume:620000:month", `{"indicator":"case_volume","region":"620000","period":"month","numerator":200001,"denominator":null,"value":200001}`)
	tile := fmt.Sprintf(valSel, "case_volume", "620000", "month")
	waitJS(ctx, t, "tile updated", `document.querySelector('`+tile+`').dataset.value === "200001"`, 5*time.Second)
	var label string
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('`+tile+`').getAttribute("aria-label")`, &label))
	if label != "200,001" {
		t.Errorf("tile reads %q, want 200,001", label)
	}

	// The ranking re-sorts: 兰州市 falls from first (94.7%) to last of the
	// ranked rows (50%), and the rank of its former tie partner becomes 1.
	publish(t, h, "ind:on_time_rate:620100:month", `{"indicator":"on_time_rate","region":"620100","period":"month","numerator":500,"denominator":1000,"value":0.5}`)
	list := `document.querySelector('[data-list="on_time_rate"] ol')`
	waitJS(ctx, t, "ranking re-sorted", `(() => { const rows = Array.from(`+list+`.children).filter(li => li.dataset.rank !== "0"); return rows[rows.length-1].querySelector(".val").dataset.region === "620100" && rows[0].dataset.rank === "1"; })()`, 5*time.Second)

	// The map follows the composite score of its cities.
	mapJS := `echarts.getInstanceByDom(document.querySelector("#w1 .chart .item"))`
	publish(t, h, "score:620900:month", `{"region":"620900","period":"month","score":95.5,"tier":"第一等次"}`)
	waitJS(ctx, t, "map coloured", `(() => { const d = `+mapJS+`.getOption().series[0].data.find(d => d.name === "酒泉市"); return d && d.value === 95.5; })()`, 5*time.Second)

	// Click 酒泉市 on the map: its counties, with their own values.
	var xy []float64
	// Where the map draws the city's name (SVG renderer: text stays text).
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const t = Array.from(document.querySelectorAll("#w1 svg text")).find(t => t.textContent === "酒泉市");
		const r = t.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`, &xy)); err != nil || len(xy) != 2 {
		t.Fatalf("locating 酒泉市 on the map: %v %v", err, xy)
	}
	if err := chromedp.Run(ctx, chromedp.MouseClickXY(xy[0], xy[1])); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "drilled into 酒泉市", `document.getElementById("w1").dataset.drill === "620900" && `+mapJS+`.getOption().series[0].map === "酒泉"`, 5*time.Second)
	publish(t, h, "score:620902:month", `{"region":"620902","period":"month","score":42,"tier":"第四等次"}`)
	waitJS(ctx, t, "county coloured", `(() => { const d = `+mapJS+`.getOption().series[0].data.find(d => d.name === "肃州区"); return d && d.value === 42; })()`, 5*time.Second)
	if err := chromedp.Run(ctx, chromedp.Click("#w1 .back", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "back to the province", `!document.getElementById("w1").dataset.drill && `+mapJS+`.getOption().series[0].map === "甘肃"`, 5*time.Second)

	// The ticker shows pushed tickets, newest first.
	publish(t, h, "ticker:tickets", `[{"id":"T2","received_at":"2026-11-23T10:02:03+08:00","region":"620102","region_name":"兰州市城关区","kind":"complaint","channel":"phone","state":"assigned"},{"id":"T1","received_at":"2026-11-23T10:01:00+08:00","region":"620902","region_name":"酒泉市肃州区","kind":"consult","channel":"web","state":"closed"}]`)
	waitJS(ctx, t, "ticker", `(() => { const li = document.querySelectorAll(".ticker li[data-ticket]"); return li.length === 2 && li[0].textContent.includes("兰州市城关区") && li[0].textContent.includes("投诉"); })()`, 5*time.Second)

	// A failing source puts the screen in the delayed state, naming it;
	// its recovery clears it.
	publish(t, h, "health:demo-cases", `{"source":"demo-cases","type":"httppull","consecutive_failures":2,"lag_seconds":30}`)
	waitJS(ctx, t, "delayed by a source", `document.body.dataset.state === "delayed" && document.getElementById("banner").textContent.includes("demo-cases") && document.getElementById("link").dataset.state === "delayed"`, 5*time.Second)
	publish(t, h, "health:demo-cases", `{"source":"demo-cases","type":"httppull","consecutive_failures":0,"lag_seconds":3}`)
	waitJS(ctx, t, "recovered", `document.body.dataset.state === "live" && document.getElementById("banner").hidden`, 5*time.Second)
	publish(t, h, "health:demo-cases", `{"source":"demo-cases","type":"httppull","consecutive_failures":0,"lag_seconds":3600}`)
	waitJS(ctx, t, "delayed by a stale source", `document.body.dataset.state === "delayed"`, 5*time.Second)

	if n := watch.Check(t, srv.URL); n < 5 {
		t.Errorf("only %d requests", n)
	}
}

// TestScreensScaleToTheWall loads every screen at 1920×1080 and 3840×2160,
// at device scale 1 and 2 and on a spliced 7680×2160 wall: the stage fills
// the viewport (letterboxed on the 32:9 wall) and nothing is clipped; the
// screenshots are kept as artifacts.
func TestScreensScaleToTheWall(t *testing.T) {
	srv, _ := liveServer(t)
	for _, tc := range []struct {
		w, h   int
		dpr    float64
		shot   bool
		stageW float64
		stageX float64
	}{
		{1920, 1080, 1, true, 1920, 0},
		{3840, 2160, 1, true, 3840, 0},
		{1920, 1080, 2, false, 1920, 0}, // OS display scaling 200%
		{7680, 2160, 1, false, 3840, 1920},
	} {
		t.Run(fmt.Sprintf("%dx%d@%v", tc.w, tc.h, tc.dpr), func(t *testing.T) {
			ctx := browsertest.Chrome(t, browsertest.Options{Width: tc.w, Height: tc.h})
			watch := browsertest.Watch(ctx)
			if err := chromedp.Run(ctx, network.Enable(), runtime.Enable(),
				emulation.SetDeviceMetricsOverride(int64(tc.w), int64(tc.h), tc.dpr, false)); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"overview", "service", "hotline"} {
				if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/"+id)); err != nil {
					t.Fatal(err)
				}
				waitJS(ctx, t, id+" connected", `document.body.dataset.state === "live"`, 15*time.Second)
				var r struct{ X, Y, Width, Height float64 }
				if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { const r = document.getElementById("stage").getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()`, &r)); err != nil {
					t.Fatal(err)
				}
				if abs(r.Width-tc.stageW) > 0.5 || abs(r.X-tc.stageX) > 0.5 || r.Y < -0.5 || r.Y+r.Height > float64(tc.h)+0.5 {
					t.Errorf("%s: stage at %+v in a %d×%d viewport, want width %v at x %v", id, r, tc.w, tc.h, tc.stageW, tc.stageX)
				}
				// Nothing of a widget lies outside the stage.
				var clipped string
				chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById("stage").getBoundingClientRect(); return Array.from(document.querySelectorAll(".w")).filter(w => { const r = w.getBoundingClientRect(); return r.left < s.left-1 || r.top < s.top-1 || r.right > s.right+1 || r.bottom > s.bottom+1; }).map(w => w.id).join(","); })()`, &clipped))
				if clipped != "" {
					t.Errorf("%s: widgets outside the stage: %s", id, clipped)
				}
				if tc.shot {
					time.Sleep(1200 * time.Millisecond) // chart animations settle
					var png []byte
					if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
						t.Fatal(err)
					}
					out := browsertest.Artifact(t, fmt.Sprintf("screen-%s-%dx%d.png", id, tc.w, tc.h), png)
					t.Logf("screenshot %s (%d bytes)", out, len(png))
				}
			}
			watch.Check(t, srv.URL)
		})
	}
}

// TestEnglishScreen: the same screen in English.
func TestEnglishScreen(t *testing.T) {
	srv, _ := liveServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	var title, link string
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable(), chromedp.Navigate(srv.URL+"/screens/hotline?lang=en")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	chromedp.Run(ctx, chromedp.Text("h1", &title, chromedp.ByQuery), chromedp.Text("#link", &link, chromedp.ByQuery))
	if !strings.Contains(title, "hotline") || link != "Live" {
		t.Errorf("English screen: title %q, link %q", title, link)
	}
	watch.Check(t, srv.URL)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestPlaylistRotatesInChromium: a playlist moves on to its next screen by
// itself, and wraps.
func TestPlaylistRotatesInChromium(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"overview.yaml", "hotline.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "dashboards", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "quick.yaml"), []byte("kind: playlist\nid: quick\ntitle: {zh: 快速轮播}\nitems:\n  - {screen: overview, seconds: 5}\n  - {screen: hotline, seconds: 5, region: \"620100\"}\n"), 0o644)
	set, err := dashboards.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := serveScreens(t, set)

	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable(), chromedp.Navigate(srv.URL+"/playlists/quick")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "first screen", `location.pathname === "/screens/overview"`, 5*time.Second)
	waitJS(ctx, t, "second screen, with its region", `location.pathname === "/screens/hotline" && location.search.includes("region=620100") && document.querySelector(".region").textContent === "兰州市"`, 12*time.Second)
	waitJS(ctx, t, "wrapped to the first", `location.pathname === "/screens/overview"`, 12*time.Second)
	watch.Check(t, srv.URL)
}

// TestScreenMemoryStaysFlat feeds a screen a day's worth of churn in
// seconds — thousands of value changes on every topic it shows, ticker
// lists, health — and checks the page's JS heap and DOM do not grow: a wall
// screen runs for days.
func TestScreenMemoryStaysFlat(t *testing.T) {
	srv, h := liveServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{Timeout: 3 * time.Minute})
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/overview")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	var topics []string
	chromedp.Run(ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll(".val")).map(e => Wall.topicOf(e.dataset.indicator, e.dataset.region, e.dataset.period))`, &topics))
	churn := func(round int) {
		for i, tp := range topics {
			v := float64((round*31+i*7)%1000) / 1000
			if strings.HasPrefix(tp, "score:") {
				publish(t, h, tp, fmt.Sprintf(`{"score":%v}`, v*100))
			} else {
				publish(t, h, tp, fmt.Sprintf(`{"numerator":%d,"denominator":1000,"value":%v}`, int(v*1000), v))
			}
		}
		var lines []string
		for j := range 30 {
			lines = append(lines, fmt.Sprintf(`{"id":"T%d-%d","received_at":"2026-11-23T10:00:00+08:00","region":"620102","region_name":"兰州市城关区","kind":"consult","channel":"phone","state":"received"}`, round, j))
		}
		publish(t, h, "ticker:tickets", "["+strings.Join(lines, ",")+"]")
		publish(t, h, "health:demo-cases", fmt.Sprintf(`{"type":"httppull","consecutive_failures":0,"lag_seconds":%d}`, round%9))
	}
	measure := func() (heap float64, nodes int) {
		var used float64
		if err := chromedp.Run(ctx,
			chromedp.Sleep(500*time.Millisecond),
			browsertest.HeapAfterGC(&used),
			chromedp.Evaluate(`document.getElementsByTagName("*").length`, &nodes),
		); err != nil {
			t.Fatal(err)
		}
		return used, nodes
	}
	// Warm up: every code path and chart state once.
	for r := range 20 {
		churn(r)
		time.Sleep(220 * time.Millisecond) // past the hub's coalescing
	}
	heap0, nodes0 := measure()
	const rounds = 150
	for r := 20; r < 20+rounds; r++ {
		churn(r)
		time.Sleep(220 * time.Millisecond)
	}
	heap1, nodes1 := measure()
	t.Logf("%d topics × %d rounds: JS heap %.1f → %.1f MB, DOM %d → %d nodes", len(topics), rounds, heap0/1e6, heap1/1e6, nodes0, nodes1)
	// A leak of even one small object per message would be ~len(topics) ×
	// rounds objects (≈ 20,000): megabytes. Allow chart-internal noise.
	if heap1-heap0 > 3e6 {
		t.Errorf("JS heap grew by %.1f MB over %d rounds", (heap1-heap0)/1e6, rounds)
	}
	if nodes1 > nodes0+50 {
		t.Errorf("DOM grew from %d to %d nodes", nodes0, nodes1)
	}
}
