package wall

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
)

// TestSoakScreen keeps a wall screen of a running server open in Chromium
// and samples, once a minute, the page's JS heap after a forced GC, its DOM
// size and how many values it has applied: a screen must run for days. It
// is a measurement: it runs only with YIPING_SOAK_URL (a screen's URL) and
// YIPING_SOAK_MINUTES set (scripts/soak-screen), and fails when the heap or
// the DOM keeps growing.
func TestSoakScreen(t *testing.T) {
	url := os.Getenv("YIPING_SOAK_URL")
	minutes, _ := strconv.Atoi(os.Getenv("YIPING_SOAK_MINUTES"))
	if url == "" || minutes <= 0 {
		t.Skip("set YIPING_SOAK_URL and YIPING_SOAK_MINUTES (scripts/soak-screen)")
	}
	ctx := browsertest.Chrome(t, browsertest.Options{Timeout: time.Duration(minutes+5) * time.Minute})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, runtime.Enable(), chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 60*time.Second)
	// Count applied values: every data-value change.
	chromedp.Run(ctx, chromedp.Evaluate(`window.__applied = 0; new MutationObserver(ms => { window.__applied += ms.length; })
		.observe(document.getElementById("stage"), {attributes: true, attributeFilter: ["data-value"], subtree: true}); true`, nil))
	sample := func() (heapMB float64, nodes, applied int, state string) {
		var used float64
		chromedp.Run(ctx,
			browsertest.HeapAfterGC(&used),
			chromedp.Evaluate(`document.getElementsByTagName("*").length`, &nodes),
			chromedp.Evaluate(`window.__applied`, &applied),
			chromedp.Evaluate(`document.body.dataset.state`, &state),
		)
		return used / 1e6, nodes, applied, state
	}
	var heaps []float64
	var nodes0 int
	for m := 0; m <= minutes; m++ {
		h, n, a, st := sample()
		if m == 0 {
			nodes0 = n
		}
		heaps = append(heaps, h)
		t.Logf("minute %3d: JS heap %.1f MB, DOM %d nodes, %d values applied, state %s", m, h, n, a, st)
		if n > nodes0+100 {
			t.Errorf("DOM grew from %d to %d nodes", nodes0, n)
		}
		if m < minutes {
			time.Sleep(time.Minute)
		}
	}
	// Growth: the last third's lowest heap against the first third's.
	third := max(1, len(heaps)/3)
	lo := func(xs []float64) float64 {
		m := xs[0]
		for _, x := range xs {
			m = min(m, x)
		}
		return m
	}
	early, late := lo(heaps[:third]), lo(heaps[len(heaps)-third:])
	t.Logf("JS heap floor: %.1f MB early, %.1f MB late", early, late)
	if late > early*1.5+2 {
		t.Errorf("JS heap keeps growing: floor %.1f MB → %.1f MB", early, late)
	}
	for _, p := range watch.Problems() {
		t.Errorf("page problem: %s", p)
	}
}
