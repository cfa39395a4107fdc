package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// BenchmarkPageInteractive loads the console in headless Chromium over
// loopback (the sample export, province view) and reports, from the
// navigation start, when the page is interactive: the ranking table
// rendered and both charts drawn (the page's console-ready mark), p50/p99
// over b.N loads with a warm browser cache, and the first (cold) load.
// The named peer, measured in the same run, is the console's bare
// go-echarts ranking chart (/console/ranking-chart: one chart from the
// live values, no table, no controls), timed to its load event; the ratio is console p50 /
// peer p50 (how much the console costs over a bare go-echarts page).
func BenchmarkPageInteractive(b *testing.B) {
	hs, _ := consoleServer(b)
	ctx := browsertest.Chrome(b, browsertest.Options{Width: 1920, Height: 1080, Timeout: 10 * time.Minute})
	load := func(url, ready, metric string) float64 {
		var ms float64
		if err := chromedp.Run(ctx,
			chromedp.Navigate(url),
			chromedp.WaitVisible(ready, chromedp.ByQuery),
			chromedp.Poll(metric, &ms, chromedp.WithPollingTimeout(20*time.Second)),
		); err != nil {
			b.Fatal(err)
		}
		return ms
	}
	console := func() float64 {
		return load(hs.URL+"/console?region=620000&indicator=on_time_rate", `body[data-ready]`,
			`(performance.getEntriesByName("console-ready")[0] || {}).startTime`)
	}
	peer := func() float64 {
		return load(hs.URL+"/console/ranking-chart?indicator=on_time_rate&period=month&region=620000", `canvas`,
			`(performance.getEntriesByType("navigation")[0] || {}).loadEventEnd || undefined`)
	}
	cold := console()
	peer() // warm the peer's cache too
	b.ResetTimer()
	var d, p []time.Duration
	for i := 0; i < b.N; i++ {
		d = append(d, time.Duration(console()*float64(time.Millisecond)))
		p = append(p, time.Duration(peer()*float64(time.Millisecond)))
	}
	b.StopTimer()
	p50, _ := percentiles(b, "", d)
	pp50, _ := percentiles(b, "peer-screen-", p)
	b.ReportMetric(cold, "cold-ms")
	b.ReportMetric(p50/pp50, "x-peer")
}

// BenchmarkRankingChart1403 composes the bar chart option of a ranking of
// Gansu's 1,403 townships (go-echarts, then encoding/json): the cost the
// chart adds to a ranking answer and to the page's view.
func BenchmarkRankingChart1403(b *testing.B) {
	c, err := New(Config{Live: &fakeLive{}, History: &fakeHistory{}, Regions: region.Default(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	def, _ := indicator.Lookup("answer_rate")
	r := &rankingJSON{Indicator: indicatorOf(def), Rule: c.ruleOf("township", def)}
	for i := range 1403 {
		v := float64(i%1000) / 1000
		r.Rows = append(r.Rows, row{unitRow: unitRow{Name: fmt.Sprintf("乡镇%04d", i)}, numbers: numbers{Value: &v}, Status: scoring.StatusAmber})
	}
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		opt, err := c.rankingChart(r, "zh")
		if err != nil {
			b.Fatal(err)
		}
		size = len(opt)
	}
	b.ReportMetric(float64(size), "option-bytes")
}
