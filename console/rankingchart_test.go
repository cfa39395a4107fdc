package console

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

func TestRankTiesNullsDirection(t *testing.T) {
	rs := []engine.Result{
		rateResult("on_time_rate", "620100", 9, 10),
		rateResult("on_time_rate", "620200", 8, 10),
		rateResult("on_time_rate", "620300", 4, 5), // 0.8 ties 620200
		rateResult("on_time_rate", "620400", 0, 0), // null
		rateResult("on_time_rate", "620500", 1, 2),
		rateResult("on_time_rate", "620802", 1, 1), // a county: not a child of the province
		rateResult("on_time_rate", "620000", 1, 1), // the province itself
		{Indicator: "overdue_open", Region: "620100", Numerator: 5},
		{Indicator: "overdue_open", Region: "620200", Numerator: 1},
	}
	names := region.Default()
	def, _ := indicator.Lookup("on_time_rate")
	got := rank(rs, def, "620000", names)
	want := []struct {
		region string
		rank   int
	}{{"620100", 1}, {"620200", 2}, {"620300", 2}, {"620500", 4}, {"620400", 0}}
	if len(got) != len(want) {
		t.Fatalf("ranked %d units, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Region != w.region || got[i].Rank != w.rank {
			t.Errorf("row %d = %s rank %d, want %s rank %d", i, got[i].Region, got[i].Rank, w.region, w.rank)
		}
	}
	if got[0].Name != "兰州市" {
		t.Errorf("name of 620100 = %q", got[0].Name)
	}
	lower, _ := indicator.Lookup("overdue_open")
	if got := rank(rs, lower, "620000", names); got[0].Region != "620200" {
		t.Errorf("lower-is-better ranking starts with %s, want 620200", got[0].Region)
	}
}

// rankingChartConsole serves the answer rates of three cities (one
// without calls) and the province.
func rankingChartConsole(t *testing.T) *Console {
	t.Helper()
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	live := &fakeLive{now: now.UnixNano(), rs: []engine.Result{
		rateResult("answer_rate", "620100", 955, 1000), rateResult("answer_rate", "620800", 900, 1000),
		rateResult("answer_rate", "621200", 0, 0), rateResult("answer_rate", "620000", 1855, 2000),
	}}
	c, err := New(Config{Live: live, History: &fakeHistory{}, Regions: region.Default(), Location: loc, Logger: quietLogger(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRankingChartPageIsOffline renders the page and checks that every
// script it loads is served by Yiping itself.
func TestRankingChartPageIsOffline(t *testing.T) {
	hs, _ := serve(t, rankingChartConsole(t), "")
	resp, err := hs.Client().Get(hs.URL + "/console/ranking-chart?indicator=answer_rate&period=day&region=620000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, "接通率") || !strings.Contains(page, "兰州市") || !strings.Contains(page, "95.5") {
		t.Fatalf("page %d:\n%.600s", resp.StatusCode, page)
	}
	srcs := regexp.MustCompile(`<script[^>]+src="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) < 2 {
		t.Fatalf("page loads %d scripts", len(srcs))
	}
	for _, m := range srcs {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("script %s is not served by Yiping", m[1])
			continue
		}
		r, err := hs.Client().Get(hs.URL + m[1])
		if err != nil || r.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", m[1], err, r)
		}
		if r != nil {
			r.Body.Close()
		}
	}
	for _, bad := range []string{"?indicator=nope", "?period=decade", "?region=12"} {
		r, err := hs.Client().Get(hs.URL + "/console/ranking-chart" + bad)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", bad, r.StatusCode)
		}
		r.Body.Close()
	}
}

// TestRankingChartInChromium loads the ranking chart in real Chromium,
// under script-src 'self': no console error, no request leaving the
// server, a chart drawn; the screenshot is kept as an artifact
// (YIPING_ARTIFACTS, default a temp dir).
func TestRankingChartInChromium(t *testing.T) {
	hs, _ := serve(t, rankingChartConsole(t), "script-src 'self'")
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)

	var shot []byte
	var canvases int
	var values []any
	err := chromedp.Run(ctx,
		network.Enable(),
		runtime.Enable(),
		chromedp.Navigate(hs.URL+"/console/ranking-chart?indicator=answer_rate&period=day&region=620000"),
		chromedp.WaitVisible("canvas", chromedp.ByQuery),
		chromedp.Sleep(1500*time.Millisecond), // let the chart's animation settle for the screenshot
		chromedp.Evaluate(`document.querySelectorAll("canvas").length`, &canvases),
		chromedp.Evaluate(`echarts.getInstanceByDom(document.getElementById("ranking")).getOption().series[0].data.map(d => d.value === undefined ? d : d.value)`, &values),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	if canvases == 0 {
		t.Error("no chart canvas on the page")
	}
	// Best first, in percent; the region without calls is last and null.
	if len(values) != 3 || values[0] != 95.5 || values[1] != 90.0 || values[2] != "-" {
		t.Errorf("chart data = %v, want [95.5 90 -]", values)
	}
	if n := watch.Check(t, hs.URL); n < 2 {
		t.Errorf("only %d requests seen", n)
	}
	out := browsertest.Artifact(t, "ranking-1920x1080.png", shot)
	t.Logf("screenshot %s (%d bytes)", out, len(shot))
}
