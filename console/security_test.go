package console

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
)

// hostileDept is a department code as the push intake may file it: it
// closes a script element, and its own script sets a global and raises an
// alert.
const hostileDept = `</script><script>window.__pwned=1;alert(1)</script>`

// hostileConsole is a console whose live engine knows hostileDept (and a
// harmless department) in Gansu.
func hostileConsole(t *testing.T) *Console {
	t.Helper()
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	live := &fakeLive{now: now.UnixNano(), rs: []engine.Result{
		rateResult("on_time_rate", "620000", 9, 10),
		rateResult("on_time_rate", "620100", 9, 10),
		{Indicator: "on_time_rate", Region: "620000", Dept: hostileDept, Numerator: 3, Denominator: 4, Rate: true},
		{Indicator: "on_time_rate", Region: "620000", Dept: "民政厅", Numerator: 1, Denominator: 2, Rate: true},
	}}
	c, err := New(Config{Live: live, History: &fakeHistory{}, Location: loc, Logger: quietLogger(),
		Regions: region.Default(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scriptTag matches a script element's start tag.
var scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>`)

// TestPagesHoldNoInlineScript: every script element of the console's
// pages either loads code from a URL or is JSON data, no element has an
// event handler attribute, and a hostile department code appears only
// escaped. So Content-Security-Policy: script-src 'self' leaves the pages
// working, and no data can become code.
func TestPagesHoldNoInlineScript(t *testing.T) {
	app := mount(hostileConsole(t))
	for _, url := range []string{
		"/console?by=dept&region=620000",
		"/console?by=dept&region=620000&lang=en&compare=620000:" + strings.ReplaceAll(hostileDept, "<", "%3C"),
		"/console?indicator=composite&by=dept",
		"/console/ranking-chart?indicator=on_time_rate",
	} {
		code, b, _ := get(t, app, url)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", url, code, b)
		}
		html := string(b)
		tags := scriptTag.FindAllStringSubmatch(html, -1)
		if len(tags) < 2 {
			t.Errorf("%s: %d script elements", url, len(tags))
		}
		for _, m := range tags {
			attrs := m[1]
			src := regexp.MustCompile(`\bsrc="/[^"]*"`).MatchString(attrs)
			data := strings.Contains(attrs, `type="application/json"`)
			if src == data {
				t.Errorf("%s: script element %q is neither code from a URL nor JSON data", url, m[0])
			}
			if src && !regexp.MustCompile(`^\s*src="[^"]*"\s*$`).MatchString(attrs) {
				t.Errorf("%s: script element %q has more than a src", url, m[0])
			}
		}
		// A src script element holds nothing; a JSON one is valid JSON.
		for _, m := range regexp.MustCompile(`(?s)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(html, -1) {
			if body := strings.TrimSpace(m[1]); body != "" && !json.Valid([]byte(body)) {
				t.Errorf("%s: script body is not JSON: %.200s", url, body)
			}
		}
		if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(html) {
			t.Errorf("%s: an element has an inline event handler", url)
		}
		if strings.Contains(html, "</script><script>window.__pwned") {
			t.Errorf("%s: the department code is in the page unescaped", url)
		}
	}
}

// TestHostileDepartmentInChromium opens the department ranking in real
// Chromium, under Content-Security-Policy: script-src 'self' and without
// it: the hostile department code is shown as text (table row and chart
// axis), its script never runs (no alert, no global), the page works under
// the policy and violates none of it.
func TestHostileDepartmentInChromium(t *testing.T) {
	for _, csp := range []string{"", "script-src 'self'"} {
		t.Run("csp="+csp, func(t *testing.T) {
			hs, _ := serve(t, hostileConsole(t), csp)
			ctx := browsertest.Chrome(t, browsertest.Options{Width: 1600, Height: 1000})
			watch := browsertest.Watch(ctx)
			var mu sync.Mutex
			var dialogs []string
			chromedp.ListenTarget(ctx, func(ev any) {
				if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
					mu.Lock()
					dialogs = append(dialogs, e.Message)
					mu.Unlock()
					go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
				}
			})
			err := chromedp.Run(ctx, network.Enable(), runtime.Enable(), page.Enable(),
				chromedp.ActionFunc(func(ctx context.Context) error {
					// Injected by the browser, not the page: not subject to its policy.
					_, err := page.AddScriptToEvaluateOnNewDocument(`window.__csp = [];
						document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`).Do(ctx)
					return err
				}),
				chromedp.Navigate(hs.URL+"/console?by=dept&region=620000"),
			)
			if err != nil {
				t.Fatal(err)
			}
			wait, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := chromedp.Run(wait, ready("620000")); err != nil {
				t.Errorf("the page never became ready (%v); page problems: %q", err, watch.Problems())
			}
			var shown, axis string
			var pwned, violations []string
			err = chromedp.Run(ctx,
				chromedp.Evaluate(`[...document.querySelectorAll("#ranking tbody tr")].map(r => r.dataset.unit).find(u => u.includes("script")) || ""`, &shown),
				chromedp.Evaluate(`(echarts.getInstanceByDom(document.getElementById("rankchart"))?.getOption().xAxis[0].data || []).find(n => n.includes("script")) || ""`, &axis),
				chromedp.Evaluate(`"__pwned" in window ? ["pwned"] : []`, &pwned),
				chromedp.Evaluate(`window.__csp`, &violations),
			)
			if err != nil {
				t.Fatal(err)
			}
			if shown != hostileDept || axis != hostileDept {
				t.Errorf("department shown as %q in the table and %q on the chart, want the code as text", shown, axis)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(dialogs) > 0 || len(pwned) > 0 {
				t.Errorf("the department code's script ran: dialogs %q, global set %v", dialogs, pwned)
			}
			if len(violations) > 0 {
				t.Errorf("content security policy violations: %q", violations)
			}
			watch.Check(t, hs.URL)
		})
	}
}
