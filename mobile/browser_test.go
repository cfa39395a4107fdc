package mobile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dispatch"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/reportapi"
	"github.com/yiping-ioc/yiping/reportapi/reporttest"
	"github.com/yiping-ioc/yiping/widget"
)

// serve serves the phone page to a province leader as the product does:
// the page, the acknowledge API, the session API, the hub and the assets,
// over a real manager that publishes to the hub. Requests carry the
// leader's principal, as the guard would put it, and a POST without the
// session's CSRF token is refused, as the guard does.
func serve(t *testing.T) (*httptest.Server, *reporttest.Rig, *hub.Hub) {
	t.Helper()
	leader := &access.Principal{Kind: access.KindUser, Name: "李领导", Role: access.RoleLeader, Region: "620000", CSRF: "csrf-of-the-session"}
	return serveAs(t, leader)
}

// serveAs is serve for another caller; the page links those who may
// issue orders (dispatch.CanIssue) to the console's issue form.
func serveAs(t *testing.T, leader *access.Principal) (*httptest.Server, *reporttest.Rig, *hub.Hub) {
	t.Helper()
	h := hub.New(hub.Config{})
	rig := reporttest.New(t, h)
	api, err := reportapi.New(reportapi.Config{Reports: rig.Manager, Location: reporttest.Zone()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Reports: rig.Manager, Orders: func(string) widget.OrderBoard { return phoneOrders() },
		CanIssue: dispatch.CanIssue, IssuePage: "/console/orders"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && !leader.CheckCSRF(r.Header.Get(access.CSRFHeader)) {
				http.Error(w, `{"error":"缺少或错误的 CSRF 令牌 / missing or wrong CSRF token"}`, http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), leader)))
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+PagePath, as(m.Page()))
	mux.Handle("GET "+m.ScriptPath(), m.Script())
	mux.Handle("GET "+m.StylePath(), m.Style())
	mux.Handle("POST /api/reports/{id}/ack", as(api.Ack()))
	mux.Handle("GET "+login.SessionPath, as(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(login.SessionInfo{Kind: "user", Name: leader.Name, Role: string(leader.Role), Region: "620000", RegionName: "甘肃省", CSRF: leader.CSRF})
	})))
	mux.HandleFunc("/ws", h.ServeWS)
	mux.Handle(assets.Root, assets.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv, rig, h
}

const pageState = `document.body.dataset.state + " " + document.getElementById("reports").textContent + " " + document.getElementById("error").textContent`

func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	browsertest.WaitJS(ctx, t, what, expr, 10*time.Second, pageState)
}

// TestPhoneInChromium: the first paint lists the open report; a report
// that fires appears, in the server's order; a Board pushed on the topic
// is painted as given (markup stays text); the acknowledge button posts
// with the session's CSRF token and the report shows who acknowledged
// it; nothing fails to load; the page fits a phone and a desk.
func TestPhoneInChromium(t *testing.T) {
	srv, rig, h := serve(t)
	first := rig.Fire(t, "answer_rate", "620802")

	ctx := browsertest.Chrome(t, browsertest.Options{Width: 390, Height: 844})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+PagePath)); err != nil {
		t.Fatal(err)
	}
	card := func(id string) string { return `document.querySelector('li.rep[data-id="` + id + `"]')` }
	var paint struct {
		Cards          int
		Title, Region  string
		State, Unacked string
		Button         bool
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`({
		cards: document.querySelectorAll("li.rep").length,
		title: `+card(first.ID)+`.querySelector(".rep-title").textContent,
		region: `+card(first.ID)+`.querySelector(".rep-region").textContent,
		state: `+card(first.ID)+`.querySelector(".rep-state").textContent,
		unacked: document.getElementById("unacked").textContent,
		button: !!`+card(first.ID)+`.querySelector("button.ack"),
	})`, &paint)); err != nil {
		t.Fatal(err)
	}
	if paint.Cards != 1 || paint.Title != "接通率低" || paint.Region != "崆峒区" || paint.State != "待确认" || paint.Unacked != "1 条未确认" || !paint.Button {
		t.Errorf("first paint %+v", paint)
	}
	waitJS(t, ctx, "live", `document.body.dataset.state === "live" && document.getElementById("link").textContent === "实时"`)
	waitJS(t, ctx, "no 督办 link for a leader", `!document.querySelector("a.issue")`)

	// A Board pushed on the topic is painted as given: a title of markup
	// stays text.
	b := rig.Manager.Board("620000")
	b.Reports[0].Title = `<img src=x onerror="document.title='pwned'">`
	data, _ := json.Marshal(b)
	if err := h.Publish(live.ReportTopic("620000"), data); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the pushed board", card(first.ID)+`.querySelector(".rep-title").textContent === `+fmt.Sprintf("%q", b.Reports[0].Title))
	var imgs int
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#reports img").length`, &imgs))
	if imgs != 0 {
		t.Errorf("markup in a title became %d elements", imgs)
	}

	// A warning fires in 兰州: it follows the critical report.
	second := rig.Fire(t, "on_time_rate", "620102")
	waitJS(t, ctx, "the new report, after the critical one",
		`Array.from(document.querySelectorAll("li.rep")).map(li => li.dataset.id + " " + li.className).join(", ") === "`+
			first.ID+` rep sev-critical, `+second.ID+` rep sev-warning" && document.getElementById("unacked").textContent === "2 条未确认"`)

	// Acknowledge the critical one.
	if err := chromedp.Run(ctx, chromedp.Click(`li.rep[data-id="`+first.ID+`"] button.ack`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "acknowledged", card(first.ID)+`.dataset.state === "acknowledged" && `+card(first.ID)+`.querySelector(".rep-acked").textContent === "李领导" && `+
		card(first.ID)+`.querySelector(".rep-state").textContent === "已确认" && !`+card(first.ID)+`.querySelector("button") && document.getElementById("unacked").textContent === "1 条未确认"`)
	if r, err := rig.Manager.Report(t.Context(), first.ID); err != nil || r.State != report.StateAcknowledged || r.AckedBy != "李领导" {
		t.Errorf("the manager has %+v, %v", r, err)
	}

	// The page fits a phone's width, and a desk's in a column.
	for _, vp := range []struct{ w, h int64 }{{390, 844}, {1280, 800}} {
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "live again", `document.body.dataset.state === "live"`)
		var fit struct {
			Scroll, Inner, Body float64
		}
		chromedp.Run(ctx, chromedp.Evaluate(`({scroll: document.documentElement.scrollWidth, inner: window.innerWidth, body: document.body.getBoundingClientRect().width})`, &fit))
		if fit.Scroll > fit.Inner || fit.Body > 722 {
			t.Errorf("%d px wide: content %v px in a %v px window, body %v px", vp.w, fit.Scroll, fit.Inner, fit.Body)
		}
		var png []byte
		if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
			t.Logf("screenshot %s", browsertest.Artifact(t, fmt.Sprintf("mobile-%dx%d.png", vp.w, vp.h), png))
		}
	}
	watch.Check(t, srv.URL)
}

// phoneOrders is the orders board the served page starts from: one
// order of 崆峒区 on time.
func phoneOrders() widget.OrderBoard {
	return widget.OrderBoard{Region: "620000", RegionName: "甘肃省", Open: 1, AsOf: "2026-10-09T10:00:00+08:00", Orders: []widget.OrderItem{
		{ID: "DB-1", Title: "接通率低于目标", Unit: "620802", UnitName: "崆峒区", State: "signed", Timing: "on_track", Deadline: "2026-10-12T00:00:00+08:00", DeadlineText: "10-12 00:00"},
	}}
}

// TestPhoneOrdersInChromium: the page's orders show the first paint,
// then each board pushed on the orders topic as given: the server's order
// (overdue first), the overdue card red with its deadline, the counts, a
// title of markup as text; then the empty state.
func TestPhoneOrdersInChromium(t *testing.T) {
	srv, _, h := serve(t)
	ctx := browsertest.Chrome(t, browsertest.Options{Width: 390, Height: 844})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+PagePath)); err != nil {
		t.Fatal(err)
	}
	const cards = `Array.from(document.querySelectorAll("#ord-list li.ord")).map(li => [li.className, li.dataset.id, li.querySelector(".ord-timing").textContent, li.querySelector(".ord-title").textContent, li.querySelector(".ord-unit").textContent, li.querySelector(".ord-state").textContent, li.querySelector(".ord-due").textContent].join(" ")).join(", ")`
	waitJS(t, ctx, "first paint", cards+` === "ord t-on_track DB-1 正常 接通率低于目标 崆峒区 办理中 10-12 00:00"`)
	waitJS(t, ctx, "live", `document.body.dataset.state === "live"`)

	hostile := `<img src=x onerror="document.title='pwned'">`
	b := phoneOrders()
	b.Open, b.Overdue = 4, 1
	b.Orders = append([]widget.OrderItem{{ID: "DB-2", Title: hostile, Unit: "620821", UnitName: "泾川县", Dept: "热线办", State: "issued", Timing: "overdue", Deadline: "2026-10-09T00:00:00+08:00", DeadlineText: "10-09 00:00"}},
		b.Orders...)
	data, _ := json.Marshal(b)
	if err := h.Publish(live.OrdersTopic("620000"), data); err != nil {
		t.Fatal(err)
	}
	want := "ord t-overdue DB-2 超期 " + hostile + " 泾川县 · 热线办 待签收 10-09 00:00, ord t-on_track DB-1 正常 接通率低于目标 崆峒区 办理中 10-12 00:00"
	waitJS(t, ctx, "the pushed board", cards+` === `+fmt.Sprintf("%q", want))
	var got struct {
		Open, Late, More, Title, Border, Overdue string
		Imgs                                     int
	}
	chromedp.Run(ctx, chromedp.Evaluate(`({
		open: document.getElementById("ord-open").textContent,
		late: document.getElementById("ord-late").textContent,
		more: document.getElementById("ord-more").hidden ? "" : document.getElementById("ord-more").textContent,
		title: document.title,
		border: getComputedStyle(document.querySelector('li.ord[data-id="DB-2"]')).borderLeftColor,
		overdue: document.getElementById("orders").dataset.overdue,
		imgs: document.querySelectorAll("#orders img").length,
	})`, &got))
	if got.Open != "未办结 4 件" || got.Late != "超期 1 件" || got.More != "另有 2 件未列出" || got.Title == "pwned" || got.Imgs != 0 ||
		got.Border != "rgb(239, 68, 68)" || got.Overdue != "1" {
		t.Errorf("after the push: %+v", got)
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
		t.Logf("screenshot %s", browsertest.Artifact(t, "mobile-orders.png", png))
	}

	data, _ = json.Marshal(widget.OrderBoard{Region: "620000", Orders: []widget.OrderItem{}})
	if err := h.Publish(live.OrdersTopic("620000"), data); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "none open", `document.querySelector("#ord-list li.empty").textContent === "暂无未办结督办单" && document.getElementById("ord-more").hidden && document.getElementById("orders").dataset.overdue === "0"`)
	watch.Check(t, srv.URL)
}

// TestPhoneIssueLinkInChromium: an operator's page links every report
// card to the issue form of that report, those of the first paint and
// those the script paints from a live board alike; a leader's has none
// (TestPhoneInChromium's page).
func TestPhoneIssueLinkInChromium(t *testing.T) {
	op := &access.Principal{Kind: access.KindUser, Name: "city-op", Role: access.RoleOperator, Region: "620000", CSRF: "csrf-of-the-session"}
	srv, rig, _ := serveAs(t, op)
	first := rig.Fire(t, "answer_rate", "620802")
	ctx := browsertest.Chrome(t, browsertest.Options{Width: 390, Height: 844})
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+PagePath)); err != nil {
		t.Fatal(err)
	}
	link := func(id string) string {
		return `(document.querySelector('li.rep[data-id="` + id + `"] a.issue') || {}).getAttribute && document.querySelector('li.rep[data-id="` + id + `"] a.issue').getAttribute("href")`
	}
	waitJS(t, ctx, "the first paint's link", link(first.ID)+` === "/console/orders?issue=1&report=`+first.ID+`&region=620802"`)
	waitJS(t, ctx, "live", `document.body.dataset.state === "live"`)
	second := rig.Fire(t, "on_time_rate", "620102")
	waitJS(t, ctx, "the painted card's link", link(second.ID)+` === "/console/orders?issue=1&report=`+second.ID+`&region=620102"`+
		` && `+link(first.ID)+` === "/console/orders?issue=1&report=`+first.ID+`&region=620802"`+
		` && document.querySelector('li.rep[data-id="`+second.ID+`"] a.issue').textContent === "督办"`)
}
