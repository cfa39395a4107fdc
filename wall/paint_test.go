package wall

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/scoring"
)

// The status colours of wall.js and wall.css.
const (
	green = "#34d399"
	amber = "#fbbf24"
	red   = "#f87171"
)

// TestCustomTargetsColourTheWall starts the wall with a targets file of
// its own (testdata/targets.yaml: answer_rate's target raised from 95 % to
// 99 %, three tiers from 70, 50 and 0) beside one with the defaults: the
// colours of the first paint and of pushed payloads follow the server's
// targets and tiers, whatever they are.
func TestCustomTargetsColourTheWall(t *testing.T) {
	custom, err := scoring.Load("testdata/targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	const (
		answer  = `document.querySelector('` + `.tile-value .val[data-indicator="answer_rate"][data-region="620000"][data-period="month"]` + `')`
		mapJS   = `echarts.getInstanceByDom(document.querySelector("#w1 .chart .item"))`
		colorOf = `(name => (` + mapJS + `.getOption().series[0].data.find(d => d.name === name) || {itemStyle: {}}).itemStyle.areaColor)`
	)
	for _, tc := range []struct {
		name    string
		targets *scoring.Config
		// answer_rate 95.5 %; 兰州市's composite 73.5 (on_time_rate
		// 94.7 %), 嘉峪关市's 50 (90 %).
		answer, lanzhou, jiayuguan string
		legend                     string
	}{
		{"default", nil, "s-green", amber, red, "第一等次 ≥ 90"},
		{"custom", custom, "s-red", green, amber, "优秀 ≥ 70"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pres := live.NewPresenter(tc.targets, nil, nil)
			srv, h := serveWall(t, Config{Screens: set, Live: sampleLive(), Presenter: pres})
			ctx := browsertest.Chrome(t, browsertest.Options{})
			watch := browsertest.Watch(ctx)
			if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/overview")); err != nil {
				t.Fatal(err)
			}
			waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
			var got struct {
				Answer, Lanzhou, Jiayuguan, Legend string
			}
			if err := chromedp.Run(ctx, chromedp.Evaluate(`({
				answer: `+answer+`.className.replace("val", "").trim(),
				lanzhou: `+colorOf+`("兰州市"),
				jiayuguan: `+colorOf+`("嘉峪关市"),
				legend: document.querySelector("#w1 .legend").textContent,
			})`, &got)); err != nil {
				t.Fatal(err)
			}
			if got.Answer != tc.answer || got.Lanzhou != tc.lanzhou || got.Jiayuguan != tc.jiayuguan {
				t.Errorf("first paint: answer_rate %s, 兰州市 %s, 嘉峪关市 %s; want %s, %s, %s",
					got.Answer, got.Lanzhou, got.Jiayuguan, tc.answer, tc.lanzhou, tc.jiayuguan)
			}
			if want := tc.legend; !strings.Contains(got.Legend, want) {
				t.Errorf("legend %q, want %q in it", got.Legend, want)
			}

			// Pushed payloads, presented by the same server: answer_rate
			// 98 % (green by default, amber by the file), 兰州市 at 72
			// (amber by default, green by the file).
			publish(t, h, live.IndicatorTopic("answer_rate", "620000", "month"), pres.Value(rate("answer_rate", "620000", 980, 1000), "month", at(pres)))
			publish(t, h, live.RankingTopic(live.Composite, "620000", "month"), scored(pres, "620000", map[string]float64{"620100": 72}))
			wantAnswer, wantLanzhou := "s-green", amber
			if tc.targets != nil {
				wantAnswer, wantLanzhou = "s-amber", green
			}
			waitJS(ctx, t, "pushed colours", fmt.Sprintf(`%s.dataset.value === "0.98" && %s.classList.contains(%q) && %s("兰州市") === %q`,
				answer, answer, wantAnswer, colorOf, wantLanzhou), 5*time.Second)
			watch.Check(t, srv.URL)
		})
	}
}

// TestRankingsPaintThePayloadAsGiven pushes rankings whose order and
// ranks no rule of the page could produce (a tie between rows apart, a
// null ranked first is not): the ranking carousel and the bar chart paint
// exactly the rows given, in their order, with their ranks, texts and
// colours, and show a name made of markup as text.
func TestRankingsPaintThePayloadAsGiven(t *testing.T) {
	srv, h := liveServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	x := func(v float64) *float64 { return &v }
	rk := live.Ranking{Indicator: "on_time_rate", Region: "620000", Period: "month", Rows: []live.RankRow{
		{Region: "620300", Name: "金昌市", Rank: 1, Value: x(0.5), Display: x(50), Text: "50.00%", Status: "red", Bar: 50},
		{Region: "620100", Name: "<img src=x onerror=alert(1)>", Rank: 2, Value: x(0.9), Display: x(90), Text: "90.00%", Status: "amber", Bar: 90},
		{Region: "620900", Name: "酒泉市", Rank: 0, Text: "—"},
		{Region: "620200", Name: "嘉峪关市", Rank: 2, Value: x(1), Display: x(100), Text: "100.00%", Status: "green", Bar: 100},
	}}

	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/overview")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	publish(t, h, live.RankingTopic("on_time_rate", "620000", "month"), rk)
	const rows = `Array.from(document.querySelectorAll('[data-list="on_time_rate"] li')).map(li => [li.dataset.region, li.querySelector(".rk").textContent, li.querySelector(".nm").textContent, li.querySelector(".val").textContent, li.querySelector(".val").className, li.querySelector(".bar i").style.width].join(" "))`
	want := `["620300 1 金昌市 50.00% val s-red 50%","620100 2 <img src=x onerror=alert(1)> 90.00% val s-amber 90%","620900 — 酒泉市 — val 0%","620200 2 嘉峪关市 100.00% val s-green 100%"]`
	waitJS(ctx, t, "the ranking as given", `JSON.stringify(`+rows+`) === `+jsString(want), 5*time.Second)
	var imgs int
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#w2 img").length`, &imgs))
	if imgs != 0 {
		t.Errorf("a name made of markup became %d elements", imgs)
	}

	// The bar chart of the service screen.
	rk.Indicator = "full_online_case_rate"
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/service")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	publish(t, h, live.RankingTopic("full_online_case_rate", "620000", "month"), rk)
	const bars = `(() => { const o = echarts.getInstanceByDom(document.querySelector("#w3 .chart .item")).getOption();
		return JSON.stringify([o.xAxis[0].data, o.series[0].data.map(d => d === "-" ? "-" : d.value + " " + d.itemStyle.color)]); })()`
	wantBars := fmt.Sprintf(`[["金昌市","<img src=x onerror=alert(1)>","酒泉市","嘉峪关市"],["50 %s","90 %s","-","100 %s"]]`, red, amber, green)
	waitJS(ctx, t, "the bars as given", bars+` === `+jsString(wantBars), 5*time.Second)
	watch.Check(t, srv.URL)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// TestScreensRunUnderAStrictCSP serves the screens with the policy issue
// 10 puts on every page, script-src 'self' (no inline script, no eval):
// every screen goes live, draws its charts and violates nothing.
func TestScreensRunUnderAStrictCSP(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := serveWall(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases"} }})
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		proxy(srv.URL).ServeHTTP(w, r)
	}))
	defer strict.Close()

	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	// Recorded from before the first script runs, by the browser itself.
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := cdpage.AddScriptToEvaluateOnNewDocument(`window.__csp = [];
			document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`).Do(ctx)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"overview", "service", "hotline"} {
		if err := chromedp.Run(ctx, chromedp.Navigate(strict.URL+"/screens/"+id)); err != nil {
			t.Fatal(err)
		}
		waitJS(ctx, t, id+" live", `document.body.dataset.state === "live"`, 15*time.Second)
		var charts, items int
		var violations []string
		chromedp.Run(ctx,
			chromedp.Evaluate(`document.querySelectorAll(".chart .item").length`, &items),
			chromedp.Evaluate(`Array.from(document.querySelectorAll(".chart .item")).filter(e => echarts.getInstanceByDom(e)).length`, &charts),
			chromedp.Evaluate(`window.__csp`, &violations))
		if items == 0 || charts != items {
			t.Errorf("%s: %d of %d charts drawn", id, charts, items)
		}
		if len(violations) > 0 {
			t.Errorf("%s: the policy was violated: %q", id, violations)
		}
	}
	watch.Check(t, strict.URL)
}

// proxy forwards requests, websockets included, to the server at base.
func proxy(base string) http.Handler {
	u, _ := url.Parse(base)
	return httputil.NewSingleHostReverseProxy(u)
}
