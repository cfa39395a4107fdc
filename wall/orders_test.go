package wall

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/widget"
)

// orderBoard is a board of the province with one order on time in 崆峒区.
func orderBoard() widget.OrderBoard {
	return widget.OrderBoard{Region: "620000", RegionName: "甘肃省", Open: 1, AsOf: "2026-10-09T10:00:00+08:00", Orders: []widget.OrderItem{
		{ID: "DB-1", Title: "接通率低于目标", Unit: "620802", UnitName: "崆峒区", State: "signed", Timing: "on_track", Deadline: "2026-10-12T00:00:00+08:00", DeadlineText: "10-12 00:00"},
	}}
}

// TestOrdersFirstPaint: the service screen's orders widget draws the
// board Config.Orders gives for the screen's region, its text escaped,
// or the empty state when the wall has no dispatch.
func TestOrdersFirstPaint(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	b := orderBoard()
	b.Orders[0].Title = `<script>alert(1)</script>`
	pageHas(t, appOf(t, Config{Screens: set, Live: sampleLive(), Orders: func(r string) widget.OrderBoard { asked = append(asked, r); return b }}), "/screens/service",
		`<div class="orders" data-overdue="0">`, `<span class="od-open">未办结 1 件</span><span class="od-late">超期 0 件</span>`,
		`<li class="od t-on_track" data-id="DB-1" data-state="signed" data-timing="on_track"><span class="od-unit">崆峒区</span><span class="od-title">&lt;script&gt;alert(1)&lt;/script&gt;</span><span class="od-timing">正常</span><span class="od-state">办理中</span><span class="od-due">时限 10-12 00:00</span></li>`,
		`"topic":"orders:620000"`)
	if strings.Join(asked, ",") != "620000" {
		t.Errorf("boards asked for %v", asked)
	}
	// No dispatch: the empty state.
	pageHas(t, appOf(t, Config{Screens: set, Live: sampleLive()}), "/screens/service", `<li class="od-none">暂无未办结督办单</li>`)
}

// TestOrdersFollowTheHubInChromium: the orders widget of the service
// screen shows its first paint, then each board pushed on the orders
// topic as given: the server's order (overdue first), the overdue row
// red, the counts, a unit name of markup as text; then the empty state.
func TestOrdersFollowTheHubInChromium(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv, h := serveWall(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases"} },
		Orders: func(string) widget.OrderBoard { return orderBoard() }})
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/service")); err != nil {
		t.Fatal(err)
	}
	const rows = `Array.from(document.querySelectorAll(".w-orders li.od")).map(li => [li.className, li.dataset.id, li.dataset.state, li.querySelector(".od-unit").textContent, li.querySelector(".od-title").textContent, li.querySelector(".od-timing").textContent, li.querySelector(".od-state").textContent, li.querySelector(".od-due").textContent].join(" ")).join(", ")`
	waitJS(ctx, t, "first paint", rows+` === "od t-on_track DB-1 signed 崆峒区 接通率低于目标 正常 办理中 时限 10-12 00:00"`, 5*time.Second)
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	chromedp.Run(ctx, chromedp.Evaluate(`window.__firstPaint = true`, nil))

	// An overdue order to a unit whose name is markup, first as the
	// server orders it; seven open in all, five shown (rows: 5).
	hostile := `</script><img src=x onerror="document.title='pwned'">`
	b := orderBoard()
	b.Open, b.Overdue = 7, 1
	b.Orders = append([]widget.OrderItem{{ID: "DB-2", Title: "工单超时未回复", Unit: "620821", UnitName: hostile, Dept: "热线办", State: "issued", Timing: "overdue", Deadline: "2026-10-09T00:00:00+08:00", DeadlineText: "10-09 00:00"}},
		b.Orders...)
	b.Orders = append(b.Orders, widget.OrderItem{ID: "DB-3", Title: "满意度回访", Unit: "620102", UnitName: "城关区", State: "replied", Timing: "waiting", Deadline: "2026-10-20T00:00:00+08:00", DeadlineText: "10-20 00:00"})
	publish(t, h, live.OrdersTopic("620000"), b)
	want := "od t-overdue DB-2 issued " + hostile + " · 热线办 工单超时未回复 超期 待签收 时限 10-09 00:00, " +
		"od t-on_track DB-1 signed 崆峒区 接通率低于目标 正常 办理中 时限 10-12 00:00, " +
		"od t-waiting DB-3 replied 城关区 满意度回访 待审核 待审核 时限 10-20 00:00"
	waitJS(ctx, t, "the pushed board", rows+` === `+jsString(want), 5*time.Second)
	var got struct {
		Open, Late, More, Title, Border, LateBg, Overdue string
		Imgs                                             int
		Kept                                             bool
	}
	chromedp.Run(ctx, chromedp.Evaluate(`({
		open: document.querySelector(".w-orders .od-open").textContent,
		late: document.querySelector(".w-orders .od-late").textContent,
		more: document.querySelector(".w-orders .od-more").hidden ? "" : document.querySelector(".w-orders .od-more").textContent,
		title: document.title,
		border: getComputedStyle(document.querySelector('.w-orders li[data-id="DB-2"]')).borderLeftColor,
		latebg: getComputedStyle(document.querySelector(".w-orders .od-late")).backgroundColor,
		overdue: document.querySelector(".w-orders .orders").dataset.overdue,
		imgs: document.querySelectorAll(".w-orders img").length,
		kept: window.__firstPaint === true,
	})`, &got))
	if got.Open != "未办结 7 件" || got.Late != "超期 1 件" || got.More != "另有 4 件" || got.Imgs != 0 || got.Title == "pwned" ||
		got.Border != "rgb(248, 113, 113)" || got.LateBg != "rgba(185, 28, 28, 0.55)" || got.Overdue != "1" || !got.Kept {
		t.Errorf("after the push: %+v", got)
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
		t.Logf("screenshot %s", browsertest.Artifact(t, "screen-service-orders.png", png))
	}

	// Everything closed: an empty board, and the widget says so.
	publish(t, h, live.OrdersTopic("620000"), widget.OrderBoard{Region: "620000", RegionName: "甘肃省", Orders: []widget.OrderItem{}})
	waitJS(ctx, t, "none open", `document.querySelector(".w-orders .od-none").textContent === "暂无未办结督办单" && document.querySelector(".w-orders .od-more").hidden && `+
		`document.querySelector(".w-orders .orders").dataset.overdue === "0" && document.querySelector(".w-orders .od-open").textContent === "未办结 0 件"`, 5*time.Second)
	watch.Check(t, srv.URL)
}
