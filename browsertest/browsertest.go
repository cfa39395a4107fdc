// Package browsertest runs pages in a real headless Chromium for tests: the
// browser the wall screens and the console run in, started the way the
// command halls start it (fresh profile, no background networking). It is a
// test helper used by the _test files of the packages that serve pages.
//
// Watch records what a page does; its Check fails a test for every answer
// with an HTTP error status (a missing /favicon.ico included: a page links
// its icon), every console error and exception, and every request that
// leaves the server under test.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/chrome"
)

// Options adjust the browser. Zero fields take defaults.
type Options struct {
	Width, Height int           // window size, default 1920×1080
	Timeout       time.Duration // whole-test bound, default 90 s
}

// Chrome starts a real headless Chromium (YIPING_CHROME, or chromium on
// PATH, installed by scripts/install-chromium) and returns a chromedp
// context for one tab. Everything is torn down when the test ends. Without
// a browser the test fails, unless YIPING_SKIP_BROWSER=1 says to skip.
func Chrome(t testing.TB, o Options) context.Context {
	t.Helper()
	if o.Width == 0 {
		o.Width, o.Height = 1920, 1080
	}
	if o.Timeout == 0 {
		o.Timeout = 90 * time.Second
	}
	path, err := chrome.Find(os.Getenv)
	if err != nil {
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
	opts := chrome.Options(path, profile, chromedp.WindowSize(o.Width, o.Height))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, o.Timeout)
	// The viewport, not the window, is what a wall shows: make it exactly
	// Width×Height (a headless window's size includes its frame).
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(o.Width), int64(o.Height))); err != nil {
		cancelT()
		cancelC()
		cancelA()
		os.RemoveAll(profile)
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelT()
		chromedp.Cancel(ctx)
		cancelC()
		cancelA()
		os.RemoveAll(profile)
	})
	return ctx
}

// Watcher records what a tab requests, every answer with an HTTP error
// status (4xx or 5xx, a favicon's 404 included), every console error and
// uncaught exception, from the moment Watch is called.
type Watcher struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

// Watch starts recording the tab of ctx. It turns on the tab's network and
// runtime events itself (a test may do so again: it is harmless).
func Watch(ctx context.Context) *Watcher {
	w := &Watcher{}
	chromedp.ListenTarget(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			w.requests = append(w.requests, e.Request.URL)
		case *network.EventResponseReceived:
			// A page that loads must load without one failed request: a
			// missing icon or script is a console error in every browser.
			if e.Response.Status >= 400 {
				w.problems = append(w.problems, fmt.Sprintf("HTTP %d %s", e.Response.Status, e.Response.URL))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			w.problems = append(w.problems, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				msg := "console.error:"
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
				w.problems = append(w.problems, msg)
			}
		}
	})
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable()); err != nil {
		w.problems = append(w.problems, "watch: enabling the tab's events: "+err.Error())
	}
	return w
}

// Requests returns the URLs requested so far.
func (w *Watcher) Requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...)
}

// Problems returns the failed answers, console errors and exceptions so
// far.
func (w *Watcher) Problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

// Reset forgets what was recorded, e.g. to ignore the errors a test
// provokes on purpose.
func (w *Watcher) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests, w.problems = nil, nil
}

// Check fails the test for every answer with an HTTP error status, every
// console error or exception and every request that left the server at
// base (data: and blob: URLs stay in the page). It returns the number of
// requests seen.
func (w *Watcher) Check(t testing.TB, base string) int {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatalf("base %q: %v", base, err)
	}
	for _, p := range w.Problems() {
		t.Errorf("page problem: %s", p)
	}
	reqs := w.Requests()
	for _, r := range reqs {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != b.Host) {
			t.Errorf("request left the server: %s", r)
		}
	}
	return len(reqs)
}

// Artifact writes data as a test artifact under YIPING_ARTIFACTS (scripts/test
// sets ./artifacts; otherwise a temp dir) and returns its path.
func Artifact(t testing.TB, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("YIPING_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitJS polls expr, a boolean JavaScript expression, in the tab of ctx
// every 20 ms until it is true, and returns how long that took. Past
// within, it fails the test naming what, the expression, the last error
// and, when diag is not empty, what diag evaluates to in the page (a
// screen's state, say).
func WaitJS(ctx context.Context, t testing.TB, what, expr string, within time.Duration, diag string) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < within {
		var ok bool
		err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok))
		if err == nil && ok {
			return time.Since(start)
		}
		if err != nil {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	var state string
	if diag != "" {
		chromedp.Run(ctx, chromedp.Evaluate(diag, &state))
	}
	t.Fatalf("%s: not true within %v: %s (page: %q, last error %v)", what, within, expr, state, last)
	return 0
}

// HeapAfterGC forces a garbage collection in the tab and stores the bytes
// of JavaScript heap still in use in *used: what a page keeps, not what it
// has not collected yet.
func HeapAfterGC(used *float64) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := heapprofiler.CollectGarbage().Do(ctx); err != nil {
			return err
		}
		var err error
		*used, _, _, _, err = runtime.GetHeapUsage().Do(ctx)
		return err
	})
}
