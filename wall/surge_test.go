package wall

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/trend"
)

// surgeDetector is a detector whose surges the test sets.
type surgeDetector struct{ s []trend.Surge }

func (d *surgeDetector) Surges(time.Time, trend.Config) []trend.Surge { return d.s }

// surgeClock is the instant the surge tests judge at, 10:00 in the
// business time zone.
func surgeClock(t testing.TB) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2026, 12, 3, 10, 0, 0, 0, loc)
}

// surgePublisher is the app's surge publisher over a detector the test
// sets: 供水 surging in 崆峒区 today, 供暖 in 城关区 this hour.
func surgePublisher(t testing.TB, pub live.Publisher) (*live.SurgePublisher, *surgeDetector) {
	now := surgeClock(t)
	det := &surgeDetector{s: []trend.Surge{
		{Category: "供水", Region: "620802", Method: trend.NBCUSUM, Window: trend.Day, Count: 42, Expected: 9.46, Score: 30, Since: now.Add(-50 * time.Minute)},
		{Category: "供暖", Region: "620102", Method: trend.EARSC3, Window: trend.Hour, Count: 12, Expected: 2, Score: 14, Since: now},
	}}
	if pub == nil {
		pub = discard{}
	}
	return live.NewSurgePublisher(live.SurgePublisherConfig{Detector: det, Publisher: pub,
		Presenter: live.NewPresenter(nil, nil, now.Location()), Now: func() time.Time { return now }}), det
}

type discard struct{}

func (discard) Publish(string, json.RawMessage) error { return nil }

// TestSurgeFirstPaint: the hotline screen's surge widget draws the board
// Config.Surges gives for the screen's region, or an empty one when the
// wall has no trend sensing.
func TestSurgeFirstPaint(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := surgePublisher(t, nil)
	for _, tc := range []struct {
		name   string
		surges func(string) live.SurgeBoard
		url    string
		asked  string
		want   []string
	}{
		{"a board", sp.Board, "/screens/hotline", "620000", []string{
			`<div class="surge" data-count="2">`, `<span class="sg-total">异常 2 项</span><span class="sg-more" hidden>`,
			`<li class="sg win-day" data-category="供水" data-region="620802" data-window="day" data-method="nb_cusum"><div class="sg-line"><span class="sg-cat">供水</span><span class="sg-region">崆峒区</span><span class="sg-win">今日</span><span class="sg-count">42 件</span><span class="sg-base">基线 9.5</span><span class="sg-excess">&#43;32.5</span></div><div class="sg-meta"><span class="sg-method">负二项 CUSUM</span><span class="sg-since">09:10 起</span></div></li>`,
			`<li class="sg win-hour" data-category="供暖" data-region="620102"`, `"topic":"surge:620000"`,
		}},
		{"a city's, in English", sp.Board, "/screens/hotline?region=620800&lang=en", "620800", []string{
			`<div class="surge" data-count="1">`, `<span class="sg-total">1 surging</span>`,
			`<span class="sg-win">Today</span><span class="sg-count">42 tickets</span><span class="sg-base">baseline 9.5</span>`,
			`<span class="sg-method">NB CUSUM</span><span class="sg-since">since 09:10</span>`, `"topic":"surge:620800"`,
		}},
		{"no trend sensing", nil, "/screens/hotline", "", []string{
			`<div class="surge" data-count="0">`, `<li class="sg-none">暂无异常趋势</li>`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			cfg := Config{Screens: set, Live: sampleLive()}
			if tc.surges != nil {
				cfg.Surges = func(r string) live.SurgeBoard { asked = append(asked, r); return tc.surges(r) }
			}
			pageHas(t, appOf(t, cfg), tc.url, tc.want...)
			if strings.Join(asked, ",") != tc.asked {
				t.Errorf("boards asked for %v, want %s", asked, tc.asked)
			}
		})
	}
}

// TestSurgeFollowsTheHubInChromium: the surge widget of the hotline
// screen shows its first paint, then each board the surge publisher
// pushes on the surge topic, as given: order, counts against baselines,
// window classes, a category's markup as text; then the empty state.
func TestSurgeFollowsTheHubInChromium(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	var hubPub hubPublisher
	sp, det := surgePublisher(t, &hubPub)
	srv, h := serveWall(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases"} }, Surges: sp.Board})
	hubPub.h = h
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/hotline")); err != nil {
		t.Fatal(err)
	}
	const rows = `Array.from(document.querySelectorAll(".w-surge li.sg")).map(li => [li.className, li.dataset.method, li.querySelector(".sg-cat").textContent, li.querySelector(".sg-region").textContent, li.querySelector(".sg-win").textContent, li.querySelector(".sg-count").textContent, li.querySelector(".sg-base").textContent, li.querySelector(".sg-excess").textContent, li.querySelector(".sg-method").textContent, li.querySelector(".sg-since").textContent].join(" ")).join(", ")`
	waitJS(ctx, t, "first paint", rows+` === "sg win-day nb_cusum 供水 崆峒区 今日 42 件 基线 9.5 +32.5 负二项 CUSUM 09:10 起, sg win-hour ears_c3 供暖 城关区 近1小时 12 件 基线 2 +10 EARS C3 10:00 起"`, 5*time.Second)
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)

	// A stronger surge whose category is markup, four in all: three rows
	// shown (the screen's rows: 3), the rest counted.
	now := surgeClock(t)
	hostile := `</script><img src=x onerror="document.title='pwned'">`
	det.s = append([]trend.Surge{{Category: hostile, Region: "620821", Method: trend.EARSC1, Window: trend.Hour, Count: 30, Expected: 3.04, Score: 40, Since: now.Add(-10 * time.Minute)}},
		append(det.s, trend.Surge{Category: "噪音", Region: "620100", Method: trend.EARSC2, Window: trend.Day, Count: 9, Expected: 3.1, Score: 4, Since: now.Add(-2 * time.Hour)})...)
	if err := sp.Cycle(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("sg win-hour ears_c1 %s 泾川县 近1小时 30 件 基线 3 +27 EARS C1 09:50 起, sg win-day nb_cusum 供水 崆峒区 今日 42 件 基线 9.5 +32.5 负二项 CUSUM 09:10 起, sg win-hour ears_c3 供暖 城关区 近1小时 12 件 基线 2 +10 EARS C3 10:00 起", hostile)
	waitJS(ctx, t, "the pushed board", rows+` === `+jsString(want), 5*time.Second)
	var got struct {
		Total, More, Title, Border, Count string
		Imgs                              int
	}
	chromedp.Run(ctx, chromedp.Evaluate(`({
		total: document.querySelector(".w-surge .sg-total").textContent,
		more: document.querySelector(".w-surge .sg-more").hidden ? "" : document.querySelector(".w-surge .sg-more").textContent,
		title: document.title,
		border: getComputedStyle(document.querySelector(".w-surge")).borderTopColor,
		count: document.querySelector(".w-surge .surge").dataset.count,
		imgs: document.querySelectorAll(".w-surge img").length,
	})`, &got))
	if got.Total != "异常 4 项" || got.More != "另有 1 项" || got.Imgs != 0 || got.Title == "pwned" || got.Count != "4" || got.Border != "rgb(251, 191, 36)" {
		t.Errorf("after the push: %+v", got)
	}

	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
		t.Logf("screenshot %s", browsertest.Artifact(t, "screen-hotline-surge.png", png))
	}

	// Everything calm: the publisher sends an empty board, and the widget
	// says so.
	det.s = nil
	if err := sp.Cycle(); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "calm", `document.querySelector(".w-surge .sg-none").textContent === "暂无异常趋势" && document.querySelector(".w-surge .sg-more").hidden && document.querySelector(".w-surge .surge").dataset.count === "0"`, 5*time.Second)
	watch.Check(t, srv.URL)
}

// hubPublisher publishes on a hub set after the wall is served.
type hubPublisher struct{ h *hub.Hub }

func (p *hubPublisher) Publish(topic string, data json.RawMessage) error {
	return p.h.Publish(topic, data)
}
