package wall

import (
	"context"
	"encoding/json"
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
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
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
	return serveWall(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases", "push"} }})
}

// serveWall serves a wall of cfg over a real hub on loopback.
func serveWall(t *testing.T, cfg Config) (*httptest.Server, *hub.Hub) {
	t.Helper()
	app := appOf(t, cfg)
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

// publish pushes a payload (JSON-encoded) on a topic, as the live
// publishers do.
func publish(t *testing.T, h *hub.Hub, topic string, payload any) {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(topic, b); err != nil {
		t.Fatal(err)
	}
}

// at is the instant of sampleLive, as payloads carry it.
func at(p *live.Presenter) live.Stamp { return p.Stamp(sampleLive().Now()) }

// ranked presents the ranking of parent's children by ind from results,
// as the feed does.
func ranked(p *live.Presenter, ind, parent string, rs ...engine.Result) live.Ranking {
	by := map[string]engine.Result{}
	for _, r := range rs {
		by[r.Region] = r
	}
	return p.Rank(ind, parent, "month", by, at(p))
}

// scored presents the ranking of parent's children by composite scores.
func scored(p *live.Presenter, parent string, scores map[string]float64) live.Ranking {
	m := map[string]live.Score{}
	for reg, x := range scores {
		m[reg] = live.Score{Region: reg, Period: "month", Score: &x, Display: &x, Text: fmt.Sprint(x), Status: p.TierStatus(x)}
	}
	return p.RankScores(parent, "month", m, at(p))
}

// health is a source's health as the pulse publishes it: the server's
// judgement in State.
func health(source, state string, failures int, lag float64) live.Health {
	return live.Health{Health: collectors.Health{Source: source, Type: "httppull", ConsecutiveFailures: failures, LagSeconds: &lag}, State: state}
}

const valSel = `.val[data-indicator="%s"][data-region="%s"][data-period="%s"]`

func TestScreenFollowsTheHubInChromium(t *testing.T) {
	srv, h := liveServer(t)
	pres := live.NewPresenter(nil, nil, nil)
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

	// A tile follows its topic, showing the server's text.
	publish(t, h, live.IndicatorTopic("case_volume", "620000", "month"), pres.Value(count("case_volume", "620000", 200001), "month", at(pres)))
	tile := fmt.Sprintf(valSel, "case_volume", "620000", "month")
	waitJS(ctx, t, "tile updated", `document.querySelector('`+tile+`').dataset.value === "200001"`, 5*time.Second)
	var label string
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('`+tile+`').getAttribute("aria-label")`, &label))
	if label != "200,001" {
		t.Errorf("tile reads %q, want 200,001", label)
	}

	// The ranking follows its ranking topic: 兰州市 falls from first
	// (94.7%) to last of the ranked rows (50%), and the rank of its former
	// tie partner becomes 1.
	publish(t, h, live.RankingTopic("on_time_rate", "620000", "month"), ranked(pres, "on_time_rate", "620000",
		rate("on_time_rate", "620100", 500, 1000), rate("on_time_rate", "620200", 900, 1000),
		rate("on_time_rate", "620300", 0, 0), rate("on_time_rate", "620400", 947, 1000)))
	list := `document.querySelector('[data-list="on_time_rate"] ol')`
	waitJS(ctx, t, "ranking re-sorted", `(() => { const rows = Array.from(`+list+`.children).filter(li => li.dataset.rank !== "0"); return rows[rows.length-1].querySelector(".val").dataset.region === "620100" && rows[0].dataset.rank === "1"; })()`, 5*time.Second)

	// The map follows the composite ranking of its cities.
	mapJS := `echarts.getInstanceByDom(document.querySelector("#w1 .chart .item"))`
	publish(t, h, live.RankingTopic(live.Composite, "620000", "month"), scored(pres, "620000", map[string]float64{"620900": 95.5}))
	waitJS(ctx, t, "map coloured", `(() => { const d = `+mapJS+`.getOption().series[0].data.find(d => d.name === "酒泉市"); return d && d.value === 95.5 && d.itemStyle.areaColor === "#34d399"; })()`, 5*time.Second)

	// Click 酒泉市 on the map: its counties, with their own ranking.
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
	publish(t, h, live.RankingTopic(live.Composite, "620900", "month"), scored(pres, "620900", map[string]float64{"620902": 42}))
	waitJS(ctx, t, "county coloured", `(() => { const d = `+mapJS+`.getOption().series[0].data.find(d => d.name === "肃州区"); return d && d.value === 42 && d.itemStyle.areaColor === "#f87171"; })()`, 5*time.Second)
	if err := chromedp.Run(ctx, chromedp.Click("#w1 .back", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "back to the province", `!document.getElementById("w1").dataset.drill && `+mapJS+`.getOption().series[0].map === "甘肃"`, 5*time.Second)

	// The ticker shows pushed tickets, newest first.
	publish(t, h, live.TickerTopic("620000"), []live.Line{
		{ID: "T2", ReceivedAt: "2026-11-23T10:02:03+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "phone", State: "assigned"},
		{ID: "T1", ReceivedAt: "2026-11-23T10:01:00+08:00", Region: "620902", RegionName: "酒泉市肃州区", Kind: "consult", Channel: "web", State: "closed"},
	})
	waitJS(ctx, t, "ticker", `(() => { const li = document.querySelectorAll(".ticker li[data-ticket]"); return li.length === 2 && li[0].textContent.includes("兰州市城关区") && li[0].textContent.includes("投诉"); })()`, 5*time.Second)

	// A failing source puts the screen in the delayed state, naming it;
	// its recovery clears it. The state is the server's: the page does not
	// judge failures or lag itself.
	topic := live.HealthTopic("demo-cases")
	publish(t, h, topic, health("demo-cases", live.SourceFailing, 2, 30))
	waitJS(ctx, t, "delayed by a source", `document.body.dataset.state === "delayed" && document.getElementById("banner").textContent.includes("demo-cases") && document.getElementById("link").dataset.state === "delayed" && document.querySelector('li[data-source="demo-cases"]').dataset.health === "failing"`, 5*time.Second)
	publish(t, h, topic, health("demo-cases", live.SourceOK, 0, 3))
	waitJS(ctx, t, "recovered", `document.body.dataset.state === "live" && document.getElementById("banner").hidden`, 5*time.Second)
	publish(t, h, topic, health("demo-cases", live.SourceStale, 0, 3600))
	waitJS(ctx, t, "delayed by a stale source", `document.body.dataset.state === "delayed" && document.querySelector('li[data-source="demo-cases"]').dataset.health === "stale"`, 5*time.Second)
	publish(t, h, topic, health("demo-cases", live.SourceOK, 3, 7200)) // the server says ok: so it is
	waitJS(ctx, t, "ok as the server says", `document.body.dataset.state === "live" && document.querySelector('li[data-source="demo-cases"]').dataset.health === "ok"`, 5*time.Second)

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
	chromedp.Run(ctx, chromedp.Evaluate(`Wall.topics()`, &topics))
	pres := live.NewPresenter(nil, nil, nil)
	churn := func(round int) {
		for i, name := range topics {
			tp, _ := live.Parse(name)
			n := int64((round*31 + i*7) % 1000)
			switch tp.Kind {
			case live.KindIndicator:
				publish(t, h, name, pres.Value(rate(tp.Indicator, tp.Region, n, 1000), tp.Period, at(pres)))
			case live.KindRanking:
				var rs []engine.Result
				for j, c := range region.Default().Children(region.Code(tp.Region)) {
					rs = append(rs, rate(tp.Indicator, string(c), (n+int64(j)*97)%1000, 1000))
				}
				if tp.Indicator == live.Composite {
					scores := map[string]float64{}
					for _, r := range rs {
						scores[r.Region] = float64(r.Numerator) / 10
					}
					publish(t, h, name, scored(pres, tp.Region, scores))
				} else {
					publish(t, h, name, ranked(pres, tp.Indicator, tp.Region, rs...))
				}
			case live.KindTicker:
				var lines []live.Line
				for j := range 30 {
					lines = append(lines, live.Line{ID: fmt.Sprintf("T%d-%d", round, j), ReceivedAt: "2026-11-23T10:00:00+08:00",
						Region: "620102", RegionName: "兰州市城关区", Kind: "consult", Channel: "phone", State: "received"})
				}
				publish(t, h, name, lines)
			case live.KindHealth:
				publish(t, h, name, health(tp.Source, live.SourceOK, 0, float64(round%9)))
			}
		}
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
