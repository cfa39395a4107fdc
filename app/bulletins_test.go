package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/bulletin"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	ingestfiles "github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/notify/notifytest"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/store"
)

// The scheduled bulletins of issue 12, end to end: a bulletins file with
// the province's 月报 delivered to a webhook, the sample export's values
// in the history store, the scheduler on a clock the test moves. At
// start the scheduler catches up the run before (August's, issued in
// September); when the clock reaches September's issue time (the 3rd
// working day of October: Saturday the 10th, a make-up working day after
// the National Day holiday) it prints
// September's in real Chromium. The bulletin is then found through GET
// /api/bulletins (searched by period, type and text), downloaded from
// GET /api/bulletins/:id/pdf (a PDF, audited as an export), hidden from a
// county user (not listed, 404), and its link reached the webhook.

// bulletinClock is a bulletin.Clock that stands still until the test
// moves it; its timers fire when it passes their time.
type bulletinClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*bulletinTimer
}

type bulletinTimer struct {
	c     *bulletinClock
	at    time.Time
	ch    chan time.Time
	fired bool
}

func (c *bulletinClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *bulletinClock) NewTimer(d time.Duration) bulletin.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &bulletinTimer{c: c, at: c.t.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		tm.fired = true
		tm.ch <- c.t
		return tm
	}
	c.timers = append(c.timers, tm)
	return tm
}

// Set moves the clock to t, firing the timers it passes.
func (c *bulletinClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.at.After(t) {
			tm.fired = true
			tm.ch <- t
			continue
		}
		kept = append(kept, tm)
	}
	c.timers = kept
}

func (tm *bulletinTimer) C() <-chan time.Time { return tm.ch }

func (tm *bulletinTimer) Stop() bool {
	tm.c.mu.Lock()
	defer tm.c.mu.Unlock()
	for i, x := range tm.c.timers {
		if x == tm {
			tm.c.timers = append(tm.c.timers[:i], tm.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// testChrome is the Chromium the bulletins print with: YIPING_CHROME, else
// /usr/bin/chromium or chromium on the PATH.
func testChrome(t *testing.T) string {
	t.Helper()
	p := os.Getenv("YIPING_CHROME")
	if p == "" {
		for _, c := range []string{"/usr/bin/chromium", "chromium"} {
			if lp, err := exec.LookPath(c); err == nil {
				p = lp
				break
			}
		}
	}
	if p == "" {
		if os.Getenv("YIPING_SKIP_BROWSER") == "1" {
			t.Skip("YIPING_SKIP_BROWSER=1 and no chromium")
		}
		t.Fatal("chromium not found: run scripts/install-chromium (or set YIPING_CHROME), or YIPING_SKIP_BROWSER=1 to skip browser tests")
	}
	return p
}

// sampleExport is the platform export shared by the project's tests
// (Gansu, September–October 2026).
var sampleExport = filepath.Join("..", "cli", "testdata", "sample")

// writeSampleHistory loads the sample export into an engine of its own
// and writes its month values as of the ends of August and September
// 2026 into st, the way package history records them.
func writeSampleHistory(t *testing.T, st store.Store, loc *time.Location) {
	t.Helper()
	if _, err := os.Stat(sampleExport); err != nil {
		t.Fatalf("no sample export at %s (the copy of the platform export in the repository): %v", sampleExport, err)
	}
	ctx := context.Background()
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: time.Date(2026, 10, 9, 12, 0, 0, 0, loc).UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingestfiles.ReadDir(ctx, sampleExport, func() *record.Parser { return record.NewParser(loc) }, eng, func(*ingestfiles.BadRow) {}); err != nil {
		t.Fatal(err)
	}
	for _, end := range []time.Time{time.Date(2026, 8, 31, 23, 59, 59, 0, loc), time.Date(2026, 9, 30, 23, 59, 59, 0, loc)} {
		var pts []store.Point
		for _, r := range eng.Evaluate(end.UnixNano(), engine.Month, false) {
			period := engine.Month.String()
			if d, ok := indicator.Lookup(r.Indicator); ok && !d.Periodic {
				period = store.PeriodCatalog
			}
			k := store.SeriesKey{Indicator: r.Indicator, Region: r.Region, Dept: r.Dept, Period: period}
			if k.Validate() != nil {
				continue
			}
			if r.Rate {
				pts = append(pts, store.Ratio(k, end, r.Numerator, r.Denominator))
			} else {
				pts = append(pts, store.Count(k, end, r.Numerator))
			}
		}
		if err := st.Write(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
}

const bulletinsYAML = `bulletins:
  - name: gansu-monthly
    type: monthly
    title: 甘肃省政务服务数据月报
    regions: ["620000"]
    at: "09:00"
    workday: 3
    receivers: [hook]
`

// bulletinEnv is an App with the bulletins above, a webhook receiver and
// the bulletin clock, serving on loopback.
type bulletinEnv struct {
	*fixture
	clock *bulletinClock
	hook  *notifytest.Webhook
	loc   *time.Location
}

func newBulletinEnv(t *testing.T, start time.Time) *bulletinEnv {
	t.Helper()
	return newBulletinEnvMail(t, start, "")
}

// newBulletinEnvMail is newBulletinEnv with, when smtp is an address, an
// e-mail receiver "mail" on it that the bulletin also names.
func newBulletinEnvMail(t *testing.T, start time.Time, smtp string) *bulletinEnv {
	t.Helper()
	chrome := os.Getenv("YIPING_CHROME")
	if _, err := os.Stat(chrome); chrome == "" || err == nil {
		chrome = testChrome(t) // else a missing Chromium, on purpose
	}
	loc := testkit.Shanghai(t)
	e := &bulletinEnv{fixture: &fixture{dataDir: t.TempDir(), tokens: map[string]string{}, ids: map[string]string{}},
		clock: &bulletinClock{t: start}, hook: notifytest.NewWebhook(), loc: loc}
	t.Cleanup(e.hook.Close)
	e.addUsers(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	bulletins := filepath.Join(dir, "bulletins.yaml")
	receivers := "receivers:\n  - {name: hook, type: webhook, url: \"" + e.hook.URL + "/bulletins\"}\n"
	byaml := bulletinsYAML
	if smtp != "" {
		receivers += "  - {name: mail, type: email, url: \"smtp://" + smtp + "\", from: \"一屏统管 <yiping@example.gov.cn>\", to: [leader@example.gov.cn]}\n"
		byaml = strings.Replace(byaml, "receivers: [hook]", "receivers: [hook, mail]", 1)
	}
	if err := os.WriteFile(rules, []byte(receivers+"rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bulletins, []byte(byaml), 0o600); err != nil {
		t.Fatal(err)
	}
	l, base := listenLoopback(t)
	e.srv.URL = base
	ctx, cancel := context.WithCancel(context.Background())
	e.logs = &bytes.Buffer{}
	a, err := New(ctx, Options{
		Addr: "127.0.0.1:0", DataDir: e.dataDir, HistoryEvery: time.Hour, Location: loc,
		RulesFile: rules, BulletinsFile: bulletins, BulletinClock: e.clock,
		AllowedOrigins: []string{e.srv.URL},
		Getenv: func(k string) string {
			if k == "YIPING_CHROME" {
				return chrome
			}
			return ""
		},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, nil)),
	})
	if err != nil {
		cancel()
		l.Close()
		t.Fatal(err)
	}
	e.a = a
	writeSampleHistory(t, a.hist, loc)
	t.Cleanup(func() { // after the App stopped (cleanups run last first)
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs)
		}
	})
	runApp(t, ctx, cancel, a, l)
	return e
}

// waitEntry waits until the archive holds id.
func (e *bulletinEnv) waitEntry(t *testing.T, id string, within time.Duration) bulletin.Entry {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if en, ok := e.a.bulletins.svc.Archive().Get(id); ok {
			return en
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not archived within %s", id, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listBulletins GETs /api/bulletins?query as c.
func (e *bulletinEnv) listBulletins(t *testing.T, c caller, query string) (int, []string) {
	t.Helper()
	code, body := e.do(t, c, "GET", "/api/bulletins?"+query, "", nil)
	if code != 200 {
		return code, nil
	}
	var ans struct {
		Bulletins []struct{ ID, URL string }
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("GET /api/bulletins?%s: %v: %s", query, err, body)
	}
	var ids []string
	for _, b := range ans.Bulletins {
		ids = append(ids, b.ID)
	}
	return code, ids
}

func TestBulletinScheduledPrintedListedDownloadedDelivered(t *testing.T) {
	loc := testkit.Shanghai(t)
	cfg, err := bulletin.Parse("b.yaml", []byte(bulletinsYAML))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 9, 12, 0, 0, 0, loc) // after September ended, before its issue
	run, err := cfg.Bulletins[0].NextRun(start, calendar.Default(loc))
	if err != nil {
		t.Fatal(err)
	}
	// The 3rd working day of October 2026: Saturday the 10th, a make-up
	// working day after the National Day holiday.
	if want := time.Date(2026, 10, 10, 9, 0, 0, 0, loc); run.Period.Key() != "2026-09" || !run.At.Equal(want) {
		t.Fatalf("next run %s at %s: want September's at %s", run.Period.Key(), run.At, want)
	}
	e := newBulletinEnv(t, start)

	// At start: August's run, due since September, is caught up.
	e.waitEntry(t, "gansu-monthly_620000_2026-08", 90*time.Second)
	if _, ok := e.a.bulletins.svc.Archive().Get("gansu-monthly_620000_2026-09"); ok {
		t.Fatal("September's bulletin printed before its time")
	}
	// A minute before its time nothing happens; at its time it is printed.
	e.clock.Set(run.At.Add(-time.Minute))
	time.Sleep(300 * time.Millisecond)
	if _, ok := e.a.bulletins.svc.Archive().Get("gansu-monthly_620000_2026-09"); ok {
		t.Fatal("September's bulletin printed a minute early")
	}
	e.clock.Set(run.At)
	const id = "gansu-monthly_620000_2026-09"
	en := e.waitEntry(t, id, 90*time.Second)
	if en.Pages < 1 || en.Title == "" || !strings.Contains(en.Title, "甘肃省政务服务数据月报") || !en.GeneratedAt.Equal(run.At) {
		t.Errorf("entry %+v", en)
	}

	admin, county := e.signIn(t, "admin"), e.signIn(t, "county")
	// Found, and searchable by period, type and text.
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{"", true},
		{"region=620000", true},
		{"from=2026-09-01&to=2026-09-30", true},
		{"from=2026-10-01", false},
		{"to=2026-08-31&type=monthly", false},
		{"type=monthly&q=" + url.QueryEscape("月报 甘肃"), true},
		{"type=daily", false},
		{"q=" + url.QueryEscape("周报"), false},
		{"bulletin=gansu-monthly&limit=1", true},
	} {
		code, ids := e.listBulletins(t, admin, tc.query)
		if code != 200 || strings.Contains(strings.Join(ids, ","), id) != tc.want {
			t.Errorf("admin GET /api/bulletins?%s: %d %v, want %s listed: %v", tc.query, code, ids, id, tc.want)
		}
	}
	if code, _ := e.listBulletins(t, admin, "from=2026-13-01"); code != 400 {
		t.Errorf("a bad date: %d, want 400", code)
	}

	// Downloaded: a PDF named by its title, audited as an export.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/bulletins/"+id+"/pdf", nil)
	resp, err := admin.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(pdf), "%PDF-") || int64(len(pdf)) != en.Size {
		t.Fatalf("download: %s, %d bytes starting %.8q (archived %d)", resp.Status, len(pdf), pdf, en.Size)
	}
	cd := resp.Header.Get("Content-Disposition")
	if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" ||
		!strings.Contains(cd, `filename="`+id+`.pdf"`) || !strings.Contains(cd, "filename*=UTF-8''"+url.PathEscape("甘肃省")) {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if text := pdfText(t, pdf); text != "" && !strings.Contains(text, "甘肃省") {
		t.Errorf("the PDF's text does not name 甘肃省:\n%.500s", text)
	}
	code, audit := e.do(t, admin, "GET", "/api/audit?limit=20", "", nil)
	if code != 200 || !strings.Contains(audit, "/api/bulletins/"+id+"/pdf") || !strings.Contains(audit, `"export"`) {
		t.Errorf("the download is not in the audit log: %d %.600s", code, audit)
	}

	// A county user sees nothing of the province: not listed, 404 on the
	// download, 403 naming the province.
	if code, ids := e.listBulletins(t, county, ""); code != 200 || len(ids) != 0 {
		t.Errorf("county GET /api/bulletins: %d %v, want nothing", code, ids)
	}
	if code, _ := e.listBulletins(t, county, "region=620000"); code != 403 {
		t.Errorf("county GET /api/bulletins?region=620000: %d, want 403", code)
	}
	if code, _ := e.do(t, county, "GET", "/api/bulletins/"+id+"/pdf", "", nil); code != 404 {
		t.Errorf("county download: %d, want 404", code)
	}
	if code, _ := e.do(t, admin, "GET", "/api/bulletins/gansu-monthly_620000_1999-01/pdf", "", nil); code != 404 {
		t.Errorf("an unknown id: %d, want 404", code)
	}
	// Printing now is for operators and administrators.
	if code, _ := e.do(t, county, "POST", "/api/bulletins/issue?bulletin=gansu-monthly&region=620802", "", nil); code != 403 {
		t.Errorf("county POST /api/bulletins/issue: %d, want 403", code)
	}

	// The webhook received the link, absolute under the allowed origin.
	link := e.srv.URL + "/api/bulletins/" + id + "/pdf"
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got bool
		for _, r := range e.hook.Received() {
			if r.Payload["url"] == link && strings.Contains(r.Payload["title"].(string), "月报") {
				got = true
				if md, _ := r.Payload["markdown"].(string); !strings.Contains(md, "2026年9月") && !strings.Contains(md, "9月") {
					t.Errorf("the message does not name the period: %s", md)
				}
			}
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook did not receive %s: %d requests", link, len(e.hook.Received()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The link works for whoever may see it.
	if code, _ := e.do(t, admin, "GET", strings.TrimPrefix(link, e.srv.URL), "", nil); code != 200 {
		t.Errorf("the delivered link: %d", code)
	}
}

// pdfText is the PDF's text by poppler's pdftotext (YIPING_PDFTOTEXT),
// "" when there is none.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	p := os.Getenv("YIPING_PDFTOTEXT")
	if p == "" {
		return ""
	}
	f := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p, "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestBulletinsPageInChromium opens the console's bulletins page as the
// administrator in real Chromium: the archived bulletin is listed with a
// download link, a search by type hides it, and the page loads nothing
// that fails under the strict content security policy.
func TestBulletinsPageInChromium(t *testing.T) {
	loc := testkit.Shanghai(t)
	e := newBulletinEnv(t, time.Date(2026, 10, 9, 12, 0, 0, 0, loc))
	const id = "gansu-monthly_620000_2026-08" // caught up at start
	e.waitEntry(t, id, 90*time.Second)
	ctx := browsertest.Chrome(t, browsertest.Options{Width: 1400, Height: 900})
	watch := browsertest.Watch(ctx)
	// Sign in through the sign-in page's API from the page's origin, so
	// the browser holds the session cookie.
	if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({name: "admin", password: "`+testPassword+`"})}).then(r => r.ok)`, &ok, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	})); err != nil || !ok {
		t.Fatalf("sign in: %v %v", ok, err)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+"/console/bulletins")); err != nil {
		t.Fatal(err)
	}
	const diag = `document.getElementById("status").textContent + " | " + document.getElementById("rows").textContent`
	browsertest.WaitJS(ctx, t, "the bulletin listed with its download link",
		`document.body.dataset.ready === "1" && !!document.querySelector('#rows tr[data-id="`+id+`"] a.download[href="/api/bulletins/`+id+`/pdf"]')`,
		20*time.Second, diag)
	var title string
	if err := chromedp.Run(ctx, chromedp.Text("h1", &title, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if title != "一屏 · 简报" {
		t.Errorf("title %q", title)
	}
	// Search: daily bulletins only, then monthly again.
	if err := chromedp.Run(ctx,
		chromedp.SetValue("#f-type", "daily", chromedp.ByQuery),
		chromedp.Click("#f-search", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(ctx, t, "the search to hide it", `document.body.dataset.ready === "1" && document.querySelectorAll("#rows tr").length === 0`, 20*time.Second, diag)
	if err := chromedp.Run(ctx,
		chromedp.SetValue("#f-type", "monthly", chromedp.ByQuery),
		chromedp.SetValue("#f-q", "月报", chromedp.ByQuery),
		chromedp.Click("#f-search", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(ctx, t, "the search to find it", `document.body.dataset.ready === "1" && document.querySelectorAll('#rows tr[data-id="`+id+`"]').length === 1`, 20*time.Second, diag)
	var href string
	if err := chromedp.Run(ctx, chromedp.Location(&href)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(href, "type=monthly") {
		t.Errorf("the address %q does not keep the search", href)
	}
	watch.Check(t, e.srv.URL)
}

// TestBulletinWithoutChromium: with no Chromium the bulletins are still
// scheduled; the start warns once, the run due fails with one error line
// (not one a second), the page says why and printing now answers 503.
func TestBulletinWithoutChromium(t *testing.T) {
	loc := testkit.Shanghai(t)
	t.Setenv("YIPING_CHROME", filepath.Join(t.TempDir(), "no-chromium"))
	e := newBulletinEnv(t, time.Date(2026, 10, 9, 12, 0, 0, 0, loc))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.logs.String(), "bulletin: run failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed run logged:\n%s", e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	logs := e.logs.String()
	if n := strings.Count(logs, "bulletin: run failed"); n != 1 || !strings.Contains(logs, "未找到 Chromium") ||
		strings.Count(logs, "bulletins are scheduled but cannot be printed") != 1 {
		t.Errorf("%d failed runs logged, want 1 naming Chromium, and one warning:\n%s", n, logs)
	}
	admin := e.signIn(t, "admin")
	if code, page := e.do(t, admin, "GET", "/console/bulletins", "", nil); code != 200 || !strings.Contains(page, "未找到 Chromium，无法打印简报（设置 YIPING_CHROME）") {
		t.Errorf("the page: %d\n%.2000s", code, page)
	}
	if code, _ := e.do(t, admin, "POST", "/api/bulletins/issue?bulletin=gansu-monthly&region=620000", "", nil); code != 503 {
		t.Errorf("print now without Chromium: %d, want 503", code)
	}
}

// TestBulletinEmailedWithPDF: an e-mail receiver named by the bulletin
// gets the message with the PDF attached, through a real SMTP server
// (aiosmtpd: YIPING_SMTP, from scripts/install-smtp).
func TestBulletinEmailedWithPDF(t *testing.T) {
	py := os.Getenv("YIPING_SMTP")
	if py == "" {
		t.Skip("YIPING_SMTP unset: no SMTP server to test against (scripts/install-smtp)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	out := &lockedWriter{w: &bytes.Buffer{}}
	cmd := exec.Command(py, "-u", "-m", "aiosmtpd", "-n", "-l", addr)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the SMTP server did not start")
		}
	}
	loc := testkit.Shanghai(t)
	e := newBulletinEnvMail(t, time.Date(2026, 10, 9, 12, 0, 0, 0, loc), addr)
	en := e.waitEntry(t, "gansu-monthly_620000_2026-08", 90*time.Second)
	read := func() string { out.mu.Lock(); defer out.mu.Unlock(); return out.w.String() }
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(read(), "END MESSAGE"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no mail arrived:\n%s", read())
		}
	}
	text := read()
	begin := strings.Index(text, "---------- MESSAGE FOLLOWS ----------\n")
	end := strings.Index(text, "------------ END MESSAGE ------------")
	raw := text[begin+len("---------- MESSAGE FOLLOWS ----------\n") : end]
	if _, msg, ok := strings.Cut(raw, "\n\n"); ok && strings.HasPrefix(raw, "mail options") {
		raw = msg
	}
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var pdf []byte
	var name string
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		if fn := p.FileName(); fn != "" {
			name = fn
			pdf, _ = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		}
	}
	if !strings.HasPrefix(string(pdf), "%PDF-") || int64(len(pdf)) != en.Size || name != en.Title+".pdf" {
		t.Errorf("attachment %q: %d bytes starting %.8q, want %q of %d bytes", name, len(pdf), pdf, en.Title+".pdf", en.Size)
	}
}
