package console

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/region"
)

// consoleServer serves the console over the sample, under the content
// security policy the product sends (script-src 'self').
func consoleServer(t testing.TB) (*httptest.Server, *fiber.App) {
	t.Helper()
	s := loadSample(t)
	c, err := New(Config{Live: s.eng, History: s.st, Regions: region.Default(), Location: s.loc, Logger: quietLogger(),
		Now: func() time.Time { return s.asOf }})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, c, "script-src 'self'")
}

// serve serves the console on a test server the way the product does:
// the fiber app (immutable strings) behind net/http, the assets on the
// same port, and, unless csp is empty, that Content-Security-Policy on
// every answer.
func serve(t testing.TB, c *Console, csp string) (*httptest.Server, *fiber.App) {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Immutable: true})
	for _, r := range c.Routes() {
		app.Add(r.Method, r.Path, r.Handler)
	}
	mux := http.NewServeMux()
	mux.Handle(assets.Root, assets.Handler())
	mux.Handle("/", adaptor.FiberApp(app))
	h := http.Handler(mux)
	if csp != "" {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			mux.ServeHTTP(w, r)
		})
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs, app
}

// ready waits until the page shows region code and no load is pending.
func ready(code string) chromedp.Action {
	return chromedp.WaitVisible(fmt.Sprintf(`body[data-region="%s"][data-ready]:not([data-loading])`, code), chromedp.ByQuery)
}

// TestConsoleInChromium drills from the province to a township and back
// in real Chromium, checking the URL, the breadcrumb and the table at
// every step, then downloads both exports and checks them against the API.
func TestConsoleInChromium(t *testing.T) {
	hs, app := consoleServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{Width: 1920, Height: 1080})
	watch := browsertest.Watch(ctx)
	dl := t.TempDir()
	done := make(chan string, 4)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			done <- e.GUID
		}
	})
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable(),
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dl).WithEventsEnabled(true),
		chromedp.Navigate(hs.URL+"/console?region=620000"),
		ready("620000"),
	); err != nil {
		t.Fatal(err)
	}
	names := region.Default()
	step := func(code string, click string) {
		t.Helper()
		var url, crumbs string
		var rows []string
		err := chromedp.Run(ctx,
			chromedp.Click(click, chromedp.ByQuery),
			ready(code),
			chromedp.Location(&url),
			chromedp.Text("#breadcrumb", &crumbs, chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll("#ranking tbody tr[data-region]")].map(r => r.dataset.region)`, &rows),
		)
		if err != nil {
			t.Fatalf("click %s: %v", click, err)
		}
		if !strings.Contains(url, "region="+code) {
			t.Errorf("URL %s does not hold region=%s", url, code)
		}
		want := []string{}
		for _, a := range region.Code(code).Ancestors(nil) {
			n, _ := names.Name(a)
			want = append([]string{n}, want...)
		}
		n, _ := names.Name(region.Code(code))
		want = append(want, n)
		if got := strings.Join(strings.Fields(strings.ReplaceAll(crumbs, "›", " ")), " "); got != strings.Join(want, " ") {
			t.Errorf("breadcrumb %q, want %q", got, strings.Join(want, " "))
		}
		kids := names.Children(region.Code(code))
		if len(rows) != len(kids) {
			t.Errorf("%s: table has %d rows, want its %d children", code, len(rows), len(kids))
		}
		for _, r := range rows {
			if p, _ := region.Code(r).Parent(); string(p) != code {
				t.Errorf("%s: row %s is not a child", code, r)
			}
		}
	}
	step("620100", `#ranking tbody tr[data-region="620100"]`)
	step("620102", `#ranking tbody tr[data-region="620102"]`)
	step("620102001", `#ranking tbody tr[data-region="620102001"]`)
	var empty string
	if err := chromedp.Run(ctx, chromedp.Text("#ranking tbody", &empty, chromedp.ByQuery)); err != nil || !strings.Contains(empty, "无下级单位") {
		t.Errorf("township table %q, want the no-subordinates note (%v)", empty, err)
	}
	// Back up in one click on the breadcrumb.
	step("620000", `#breadcrumb a[data-region="620000"]`)

	// Both exports of the current view.
	var shot []byte
	if err := chromedp.Run(ctx, chromedp.Click("#export-csv", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitDownload(t, done)
	if err := chromedp.Run(ctx, chromedp.Click("#export-xlsx", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitDownload(t, done)
	if err := chromedp.Run(ctx, chromedp.Sleep(800*time.Millisecond), chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	view := "indicator=on_time_rate&period=month&region=620000"
	files, _ := filepath.Glob(filepath.Join(dl, "*"))
	var sawCSV, sawXLSX bool
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		if !strings.Contains(base, "按时办结率排名_甘肃省") {
			t.Errorf("downloaded file name %q lacks the Chinese name", base)
		}
		switch filepath.Ext(f) {
		case ".csv":
			sawCSV = true
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			checkRowsEqualAPI(t, app, view, recs, false)
		case ".xlsx":
			sawXLSX = true
			checkRowsEqualAPI(t, app, view, readXLSX(t, b), true)
		}
	}
	if !sawCSV || !sawXLSX {
		t.Errorf("downloads %v: want a .csv and a .xlsx", files)
	}
	if n := watch.Check(t, hs.URL); n < 10 {
		t.Errorf("only %d requests seen", n)
	}
	out := browsertest.Artifact(t, "console-1920x1080.png", shot)
	t.Logf("screenshot %s (%d bytes)", out, len(shot))
}

func waitDownload(t *testing.T, done <-chan string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("download did not complete")
	}
}

// TestConsoleEnglishAndCompare: ?lang=en renders English, ticking units
// adds them to the URL and the side-by-side table, the indicator select
// and the composite view update the URL and the chart.
func TestConsoleEnglishAndCompare(t *testing.T) {
	hs, _ := consoleServer(t)
	ctx := browsertest.Chrome(t, browsertest.Options{Width: 1600, Height: 1000})
	watch := browsertest.Watch(ctx)
	var title, url, head string
	var cols int
	var bar []any
	err := chromedp.Run(ctx, network.Enable(), runtime.Enable(),
		chromedp.Navigate(hs.URL+"/console?region=620000&lang=en&"+asOfQ),
		ready("620000"),
		chromedp.Text("h1", &title, chromedp.ByQuery),
		chromedp.Click(`#ranking tbody tr[data-region="620100"] input[type=checkbox]`, chromedp.ByQuery),
		ready("620000"),
		chromedp.Click(`#ranking tbody tr[data-region="620200"] input[type=checkbox]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compare thead th:nth-child(3)`, chromedp.ByQuery),
		ready("620000"),
		chromedp.Location(&url),
		chromedp.Text("#compare thead", &head, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#compare thead th").length`, &cols),
		chromedp.SetValue("#f-indicator", "composite", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("f-indicator").dispatchEvent(new Event("change", {bubbles: true}))`, nil),
		chromedp.WaitVisible(`body[data-view*="indicator=composite"]:not([data-loading])`, chromedp.ByQuery),
		chromedp.Evaluate(`echarts.getInstanceByDom(document.getElementById("rankchart")).getOption().series[0].data.map(d => d.value)`, &bar),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "Analyst console") {
		t.Errorf("title %q", title)
	}
	if !strings.Contains(url, "compare=620100%2C620200") && !strings.Contains(url, "compare=620100,620200") {
		t.Errorf("URL %s lacks the compare list", url)
	}
	if cols != 3 || !strings.Contains(head, "兰州市") || !strings.Contains(head, "嘉峪关市") {
		t.Errorf("compare head %q (%d columns)", head, cols)
	}
	if len(bar) != 14 {
		t.Errorf("composite chart has %d bars, want 14 cities", len(bar))
	}
	watch.Check(t, hs.URL)
}
