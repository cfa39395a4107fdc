package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/browsertest"
)

// TestIngestToPixel measures how long a record pushed into the intake takes
// to reach the pixels of a wall screen in Chromium, against a named peer in
// the same run: a screen that polls the HTTP API every second, the refresh
// model of timer-driven dashboards (DataV, GoView, DataEase). It is a
// measurement, not a test: it runs only when YIPING_BENCH_PIXEL is set to
// the number of pushes (scripts/bench-pixel), against the real binary with
// the demo platform running.
//
// Each page stamps the frame after the value changed (requestAnimationFrame
// after the DOM update): the time the new number is painted.
func TestIngestToPixel(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("YIPING_BENCH_PIXEL"))
	if n <= 0 {
		t.Skip("set YIPING_BENCH_PIXEL=<pushes> (scripts/bench-pixel)")
	}
	bin := buildYiping(t)
	addr, dataDir := freeAddr(t), t.TempDir()
	base := "http://" + addr
	const token = "pixel-bench-token-0123456789"
	addUser(t, dataDir, "bench", access.RoleAdmin, "620000")
	prod := startProduct(t, bin, addr, dataDir, "YIPING_INGEST_TOKEN="+token, "YIPING_STORE=", "YIPING_DEMO=1", "YIPING_CONFIG=")
	c, _ := signIn(t, base, "bench")

	// Measure the steady state: after every demo source's first pull (the
	// 35-day backlog) has landed and its burst of changes has gone out.
	eventually(t, "demo backlog collected", func() string {
		_, body := getWith(t, c, base+"/api/collectors")
		if strings.Count(body, `"last_success"`) < 5 {
			return "demo sources still on their first pull"
		}
		return ""
	})
	time.Sleep(10 * time.Second)
	ctx := browsertest.Chrome(t, browsertest.Options{Timeout: time.Duration(n)*5*time.Second + 2*time.Minute})
	const region = "620802" // the demo sends no calls here: only the pushes move it
	tile := `.tile-value .val[data-indicator="call_volume"][data-region="` + region + `"][data-period="month"]`
	signInChromium(ctx, t, base, "bench", "/screens/hotline?region="+region)
	waitPage(ctx, t, "screen live", `location.pathname === "/screens/hotline" && document.body.dataset.state === "live"`, 30*time.Second)
	// A browser of its own: a background tab gets no animation frames.
	peer := browsertest.Chrome(t, browsertest.Options{Timeout: time.Duration(n)*5*time.Second + 2*time.Minute})
	signInChromium(peer, t, base, "bench", "/console")
	waitPage(peer, t, "console open", `location.pathname === "/console"`, 30*time.Second)
	// Yiping: stamp the frame after the tile's data-value changes.
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.__stamps = {}; window.__dom = {};
		new MutationObserver(() => { const v = document.querySelector('`+tile+`').dataset.value;
			if (!(v in window.__dom)) window.__dom[v] = Date.now();
			requestAnimationFrame(() => { if (!(v in window.__stamps)) window.__stamps[v] = Date.now(); }); })
		.observe(document.querySelector('`+tile+`'), {attributes: true}); true`, nil)); err != nil {
		t.Fatal(err)
	}
	// The peer: same origin, polls /api/indicators every second and paints
	// the count into the page.
	api := "/api/indicators?period=month&indicator=call_volume&region=" + region
	if err := chromedp.Run(peer, chromedp.Navigate(base+api), chromedp.Evaluate(`window.__stamps = {};
		document.body.innerHTML = '<div id="v"></div>';
		setInterval(async () => { const r = await fetch('`+api+`', {cache: "no-store"}); const j = await r.json();
			const v = String(j.results.length ? j.results[0].numerator : 0), el = document.getElementById("v");
			if (el.textContent !== v) { el.textContent = v; requestAnimationFrame(() => { if (!(v in window.__stamps)) window.__stamps[v] = Date.now(); }); } }, 1000); true`, nil)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)

	stamp := func(c context.Context, v string) (int64, bool) {
		var ms float64
		var ok bool
		chromedp.Run(c, chromedp.Evaluate(`(window.__stamps["`+v+`"] || 0)`, &ms))
		ok = ms > 0
		return int64(ms), ok
	}
	var ours, theirs []time.Duration
	for i := range n {
		v, err := pageValue(ctx, t, tile)
		if err != nil {
			t.Fatal(err)
		}
		before, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("tile data-value %q", v)
		}
		want := strconv.Itoa(before + 1)
		// Random phase against the peer's poll and the feed's tick.
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
		sent, acked := pushCall(t, base, token, region)
		deadline := time.Now().Add(10 * time.Second)
		var a, b int64
		var okA, okB bool
		for time.Now().Before(deadline) && !(okA && okB) {
			if !okA {
				a, okA = stamp(ctx, want)
			}
			if !okB {
				b, okB = stamp(peer, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !okA || !okB {
			t.Fatalf("push %d: value %s not painted within 10 s (yiping %v, polling peer %v)", i, want, okA, okB)
		}
		ours = append(ours, time.UnixMilli(a).Sub(sent))
		var dom float64
		chromedp.Run(ctx, chromedp.Evaluate(`window.__dom["`+want+`"]`, &dom))
		t.Logf("push %d: acked %v dom %v paint %v peer %v", i, acked, time.UnixMilli(int64(dom)).Sub(sent), time.UnixMilli(a).Sub(sent), time.UnixMilli(b).Sub(sent))
		theirs = append(theirs, time.UnixMilli(b).Sub(sent))
	}
	q := func(ds []time.Duration, p float64) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }
	if b, err := os.ReadFile(prod.log); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "slow") {
				t.Log(l)
			}
		}
	}
	fmt.Printf("ingest-to-pixel over %d pushes (demo platform running):\n", n)
	fmt.Printf("  yiping (websocket)        p50 %s  p99 %s  max %s\n", ms(q(ours, .5)), ms(q(ours, .99)), ms(q(ours, 1)))
	fmt.Printf("  peer: 1 s HTTP polling    p50 %s  p99 %s  max %s\n", ms(q(theirs, .5)), ms(q(theirs, .99)), ms(q(theirs, 1)))
	fmt.Printf("  ratio yiping/peer         p50 %.2f  p99 %.2f\n", float64(q(ours, .5))/float64(q(theirs, .5)), float64(q(ours, .99))/float64(q(theirs, .99)))
}
