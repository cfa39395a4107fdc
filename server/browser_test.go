package server

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
)

// TestRankingPageInChromium loads the ranking screen in real Chromium: no
// console error, no request leaving the server, a chart drawn; the
// screenshot is kept as an artifact (YIPING_ARTIFACTS, default a temp dir).
func TestRankingPageInChromium(t *testing.T) {
	s := New(Config{}, fakeIndicators{
		rate("answer_rate", "620100", 955, 1000), rate("answer_rate", "620800", 900, 1000),
		rate("answer_rate", "621200", 0, 0), rate("answer_rate", "620000", 1855, 2000),
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)

	var shot []byte
	var canvases int
	var values []any
	err := chromedp.Run(ctx,
		network.Enable(),
		runtime.Enable(),
		chromedp.Navigate(srv.URL+"/screens/ranking?indicator=answer_rate&period=day&region=620000"),
		chromedp.WaitVisible("canvas", chromedp.ByQuery),
		chromedp.Sleep(1500*time.Millisecond), // let the chart's animation settle for the screenshot
		chromedp.Evaluate(`document.querySelectorAll("canvas").length`, &canvases),
		chromedp.Evaluate(`echarts.getInstanceByDom(document.getElementById("ranking")).getOption().series[0].data.map(d => d.value === undefined ? d : d.value)`, &values),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG,
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
	if n := watch.Check(t, srv.URL); n < 2 {
		t.Errorf("only %d requests seen", n)
	}
	out := browsertest.Artifact(t, "ranking-1920x1080.png", shot)
	t.Logf("screenshot %s (%d bytes)", out, len(shot))
}
