package server

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chrome starts a real headless Chromium (Debian's, installed by
// scripts/install-chromium) with a fresh profile and no background
// networking, as the wall screens' browsers are run.
func chrome(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("YIPING_CHROME")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("YIPING_SKIP_BROWSER") == "1" {
			t.Skip("YIPING_SKIP_BROWSER=1 and no chromium")
		}
		t.Fatal("chromium not found: run scripts/install-chromium (or set YIPING_CHROME), or YIPING_SKIP_BROWSER=1 to skip browser tests")
	}
	// Not t.TempDir: Chromium may still write to its profile while the
	// test's own cleanup runs, and a failed removal would fail the test.
	profile, err := os.MkdirTemp("", "yiping-chrome-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1920, 1080),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelT()
		chromedp.Cancel(ctx)
		cancelC()
		cancelA()
		os.RemoveAll(profile)
	})
	return ctx
}

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
	base, _ := url.Parse(srv.URL)
	ctx := chrome(t)

	var mu sync.Mutex
	var requests, problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				problems = append(problems, "console.error")
			}
		}
	})
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
	mu.Lock()
	defer mu.Unlock()
	if canvases == 0 {
		t.Error("no chart canvas on the page")
	}
	// Best first, in percent; the region without calls is last and null.
	if len(values) != 3 || values[0] != 95.5 || values[1] != 90.0 || values[2] != "-" {
		t.Errorf("chart data = %v, want [95.5 90 -]", values)
	}
	for _, p := range problems {
		t.Errorf("page problem: %s", p)
	}
	for _, r := range requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != base.Host) {
			t.Errorf("request left the server: %s", r)
		}
	}
	if len(requests) < 2 {
		t.Errorf("only %d requests seen: %v", len(requests), requests)
	}
	dir := os.Getenv("YIPING_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	out := filepath.Join(dir, "ranking-1920x1080.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes); requests: %s", out, len(shot), strings.Join(requests, " "))
}
