package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/calendar"
)

// ordersDiag is what a failed wait on the orders page shows.
const ordersDiag = `location.href + " | " + document.getElementById("error").textContent + " | detail " +
	(document.getElementById("detail").dataset.state || "") + " [" + Array.from(document.querySelectorAll("#d-buttons button")).map(b => b.dataset.action).join(",") + "] | " +
	Array.from(document.querySelectorAll("#orders tbody tr")).map(tr => tr.dataset.id + ":" + tr.dataset.state + ":" + tr.dataset.timing).join(",")`

// browserSignIn signs name in through the sign-in page in the tab of
// ctx, typing into its form, and waits for the page it leads to.
func browserSignIn(t *testing.T, ctx context.Context, base, name, next string) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.SendKeys("#name", name, chromedp.ByID),
		chromedp.SendKeys("#password", testPassword, chromedp.ByID),
		chromedp.Click(`#login button[type="submit"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("sign in %s: %v", name, err)
	}
	browsertest.WaitJS(ctx, t, name+" signed in", `!location.pathname.startsWith("/login") && document.body.dataset.ready === "1"`, 20*time.Second,
		`location.href + " " + ((document.getElementById("error") || {}).textContent || "")`)
}

// buttons is the actions the detail panel offers, sorted.
func buttons(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var got []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("d-act").hidden ? [] : Array.from(document.querySelectorAll("#d-buttons button")).map(b => b.dataset.action)`, &got)); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// TestDispatchInChromium is issue 12's "done when" for dispatch, in the
// console in real Chromium against the real App on its report clock (the
// Tuesday before National Day 2026): the city's operator signs in through
// the sign-in page, opens the ranking of 平凉市's counties and clicks 督办
// on a red row; the issue form shows the evidence the server filled in
// (indicator, value, target) and issues the order, whose deadline is
// calendar.Deadline across the holiday. The county's operator, in a
// browser context of its own, signs and replies with the page's buttons;
// the city returns it with a comment, the county signs and replies again,
// the city verifies it. After each step the page shows the new state and
// exactly the buttons the server allows. The audit log has every
// transition with who and from where. Then a second order runs out of
// time on the clock: the console lists it first, red, the overdue special
// report is in /api/reports, the service screen's orders widget turns it
// red live, over the websocket, after a first paint without it, and the
// county's phone page lists it first, red, with its deadline.
func TestDispatchInChromium(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	issued := time.Date(2026, 9, 29, 10, 0, 0, 0, cst)
	clock := &testClock{t: issued}
	f := newDispatchFixture(t, clock)
	admin := f.signIn(t, "admin")

	// 崆峒区 answered 3 of 10 calls a minute ago: red today.
	f.ingestCalls(t, "620802", 10, 3)

	// The operator of 平凉市.
	city := browsertest.Chrome(t, browsertest.Options{Width: 1600, Height: 1000, Timeout: 120 * time.Second})
	cityWatch := browsertest.Watch(city)
	browserSignIn(t, city, f.srv.URL, "city-op", "/console?region=620800&indicator=answer_rate&period=day")
	browsertest.WaitJS(city, t, "a red row with 督办", `!!document.querySelector('#ranking a.issue[data-issue="620802"]')`, 20*time.Second,
		`document.getElementById("ranking").textContent`)
	// What the ranking shows of 崆峒区: the evidence the form must carry.
	var shown struct{ Name, Value, Target string }
	if err := chromedp.Run(city, chromedp.Evaluate(`(() => {
		const d = JSON.parse(document.getElementById("console-data").textContent), r = d.ranking;
		const row = r.rows.find(x => x.key === "620802");
		return {name: r.indicator.name, value: row.value_text, target: r.rule ? r.rule.target_text : ""};
	})()`, &shown)); err != nil {
		t.Fatal(err)
	}
	if shown.Name == "" || shown.Value == "" || shown.Target == "" {
		t.Fatalf("the ranking shows %+v", shown)
	}
	if err := chromedp.Run(city, chromedp.Click(`#ranking a.issue[data-issue="620802"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(city, t, "the issue form", `location.pathname === "/console/orders" && document.body.dataset.ready === "1" && !document.getElementById("issue-panel").hidden`,
		20*time.Second, ordersDiag)
	var form struct {
		Unit, Title string
		Evidence    []string
	}
	if err := chromedp.Run(city, chromedp.Evaluate(`({unit: document.getElementById("issue-unit").textContent, title: document.getElementById("issue-title").value,
		evidence: Array.from(document.querySelectorAll("#issue-evidence li")).map(li => li.textContent)})`, &form)); err != nil {
		t.Fatal(err)
	}
	ev := strings.Join(form.Evidence, "\n")
	for _, w := range []string{"指标：" + shown.Name, "数值：" + shown.Value, "目标值：" + shown.Target} {
		if !strings.Contains(ev, w) {
			t.Errorf("the issue form's evidence %q lacks %q", form.Evidence, w)
		}
	}
	if form.Unit != "崆峒区" || !strings.Contains(form.Title, "崆峒区") {
		t.Errorf("the issue form: unit %q, title %q", form.Unit, form.Title)
	}
	if err := chromedp.Run(city, chromedp.SetValue("#issue-days", "3", chromedp.ByID), chromedp.Click("#issue-submit", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(city, t, "the order issued", `!!document.body.dataset.issued && document.getElementById("detail").dataset.state === "issued" && document.getElementById("issue-panel").hidden`,
		20*time.Second, ordersDiag)
	var id string
	chromedp.Run(city, chromedp.Evaluate(`document.body.dataset.issued`, &id))

	// The deadline: three working days across National Day, as the
	// calendar counts them, shown in the business time zone.
	wantDeadline := time.Unix(0, calendar.Default(f.a.loc).Deadline(issued.UnixNano(), 3)).In(f.a.loc)
	if !wantDeadline.After(time.Date(2026, 10, 8, 0, 0, 0, 0, cst)) {
		t.Fatalf("calendar deadline %s does not skip the holiday", wantDeadline)
	}
	if got := field(t, city, "时限"); got != wantDeadline.Format("2006-01-02 15:04") {
		t.Errorf("the page shows the deadline %q, want %s", got, wantDeadline.Format("2006-01-02 15:04"))
	}
	var evDetail string
	chromedp.Run(city, chromedp.Evaluate(`document.getElementById("d-evidence").textContent`, &evDetail))
	if !strings.Contains(evDetail, shown.Name) {
		t.Errorf("the order's evidence %q does not name %s", evDetail, shown.Name)
	}
	// The list has it, in its row.
	browsertest.WaitJS(city, t, "the order listed", `!!document.querySelector('#orders tr[data-id="`+id+`"][data-state="issued"]')`, 10*time.Second, ordersDiag)
	expectButtons(t, city, "the issuer, issued", "withdraw")

	// The county's operator, in a browser of its own.
	county := browsertest.Chrome(t, browsertest.Options{Width: 1600, Height: 1000, Timeout: 120 * time.Second})
	countyWatch := browsertest.Watch(county)
	browserSignIn(t, county, f.srv.URL, "county-op", "/console/orders?region=620802")
	openOrder(t, county, id, "issued")
	expectButtons(t, county, "the unit, issued", "extend", "sign")

	act(t, county, "sign", "", "signed")
	expectButtons(t, county, "the unit, signed", "extend", "reply")
	act(t, county, "reply", "已约谈坐席班组，增加午间排班。", "replied")
	expectButtons(t, county, "the unit, replied")

	// The city returns it with a comment and a new term.
	reopen(t, city, id, "replied")
	expectButtons(t, city, "the issuer, replied", "return", "verify", "withdraw")
	if err := chromedp.Run(city, chromedp.SetValue("#d-days", "2", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	act(t, city, "return", "整改措施不具体，请补充排班表。", "returned")
	expectButtons(t, city, "the issuer, returned", "withdraw")
	wantReturned := time.Unix(0, calendar.Default(f.a.loc).Deadline(issued.UnixNano(), 2)).In(f.a.loc)
	if got := field(t, city, "时限"); got != wantReturned.Format("2006-01-02 15:04") {
		t.Errorf("returned: the page shows the deadline %q, want %s", got, wantReturned.Format("2006-01-02 15:04"))
	}

	// The county sees it back, with the comment, and answers again.
	reopen(t, county, id, "returned")
	var hist string
	chromedp.Run(county, chromedp.Evaluate(`document.querySelector('#d-history tr[data-action="return"]').textContent`, &hist))
	if !strings.Contains(hist, "整改措施不具体") || !strings.Contains(hist, "city-op") || !strings.Contains(hist, "127.0.0.1") {
		t.Errorf("the return in the history: %q", hist)
	}
	expectButtons(t, county, "the unit, returned", "extend", "sign")
	act(t, county, "sign", "", "signed")
	act(t, county, "reply", "已补充排班表，午间接通率回升。", "replied")

	// The city verifies it: closed, no buttons left.
	reopen(t, city, id, "replied")
	act(t, city, "verify", "", "verified")
	expectButtons(t, city, "the issuer, verified")
	reopen(t, county, id, "verified")
	expectButtons(t, county, "the unit, verified")
	var rows int
	chromedp.Run(county, chromedp.Evaluate(`document.querySelectorAll("#d-history tbody tr").length`, &rows))
	if rows < 7 {
		t.Errorf("the history shows %d rows, want every step", rows)
	}

	// The audit log: every transition, who, from where.
	code, body := f.do(t, admin, "GET", "/api/audit?target=order:"+id+"&limit=100", "", nil)
	if code != 200 {
		t.Fatalf("audit: %d %s", code, body)
	}
	var audit struct{ Entries []access.AuditEntry }
	if err := json.Unmarshal([]byte(body), &audit); err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range audit.Entries {
		trail = append(trail, e.Action+" "+e.Actor)
		if e.Addr != "127.0.0.1" || e.At.IsZero() {
			t.Errorf("audit entry %+v: want the address and the time", e)
		}
	}
	sort.Strings(trail)
	want := []string{"dispatch_issue city-op", "dispatch_reply county-op", "dispatch_reply county-op", "dispatch_return city-op",
		"dispatch_sign county-op", "dispatch_sign county-op", "dispatch_verify city-op"}
	if strings.Join(trail, ",") != strings.Join(want, ",") {
		t.Errorf("audit trail %v, want %v", trail, want)
	}

	// The overdue path. Two more orders: one of a day, one of ten.
	short := f.orderCall(t, f.signIn(t, "city-op"), "POST", "/api/dispatch/orders", map[string]any{"unit": map[string]string{"region": "620802"},
		"title": "<img src=x onerror=\"document.title='pwned'\">工单超时", "reason": "请于一个工作日内回复", "days": 1}, 201)
	long := f.orderCall(t, f.signIn(t, "city-op"), "POST", "/api/dispatch/orders", map[string]any{"unit": map[string]string{"region": "620802"},
		"title": "满意度回访", "reason": "请于十个工作日内回复", "days": 10}, 201)

	// The service screen, in a tab of the operator's session: first paint
	// with both orders on time.
	wall, cancelWall := chromedp.NewContext(city)
	defer cancelWall()
	wallWatch := browsertest.Watch(wall)
	if err := chromedp.Run(wall, chromedp.Navigate(f.srv.URL+"/screens/service?region=620800")); err != nil {
		t.Fatal(err)
	}
	const wallDiag = `document.body.dataset.state + " | " + Array.from(document.querySelectorAll(".w-orders li")).map(li => li.className + ":" + li.dataset.id + ":" + li.textContent).join(", ")`
	odRow := `document.querySelector('.w-orders li.od[data-id="` + short.Order.ID + `"]')`
	browsertest.WaitJS(wall, t, "the screen live with the orders on time", `document.body.dataset.state === "live" && !!`+odRow+` && `+odRow+`.dataset.timing !== "overdue"`,
		20*time.Second, wallDiag)
	chromedp.Run(wall, chromedp.Evaluate(`window.__firstPaint = true`, nil))

	// A day and an hour past the short order's deadline.
	clock.set(short.Order.Deadline.Add(time.Hour))
	if !long.Order.Deadline.After(clock.now()) {
		t.Fatalf("the long order's deadline %s is past too", long.Order.Deadline)
	}
	browsertest.WaitJS(wall, t, "the screen to turn the order red, live", `window.__firstPaint === true && `+odRow+`.classList.contains("t-overdue") && `+
		odRow+`.querySelector(".od-timing").textContent === "超期" && document.querySelector(".w-orders .orders").dataset.overdue === "1" && `+
		`document.querySelector(".w-orders li.od").dataset.id === "`+short.Order.ID+`"`, 20*time.Second, wallDiag)
	var wallSeen struct {
		Color, Title string
		Imgs         int
	}
	chromedp.Run(wall, chromedp.Evaluate(`({color: getComputedStyle(`+odRow+`).borderLeftColor, title: document.title, imgs: document.querySelectorAll(".w-orders img").length})`, &wallSeen))
	if wallSeen.Color != "rgb(248, 113, 113)" || wallSeen.Imgs != 0 || wallSeen.Title == "pwned" {
		t.Errorf("the overdue order on the screen: %+v", wallSeen)
	}
	wallWatch.Check(t, f.srv.URL)

	// The console lists it first, red.
	if err := chromedp.Run(city, chromedp.Click("#f-search", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	first := `document.querySelector("#orders tbody tr")`
	browsertest.WaitJS(city, t, "the overdue order first, red", first+`.dataset.id === "`+short.Order.ID+`" && `+first+`.dataset.timing === "overdue" && `+
		first+`.classList.contains("t-overdue") && getComputedStyle(`+first+`.cells[0]).color === "rgb(248, 113, 113)"`, 10*time.Second, ordersDiag)
	var listed []string
	chromedp.Run(city, chromedp.Evaluate(`Array.from(document.querySelectorAll("#orders tbody tr")).map(tr => tr.dataset.id + ":" + tr.dataset.timing)`, &listed))
	if len(listed) != 3 || listed[0] != short.Order.ID+":overdue" || !strings.HasPrefix(listed[1], long.Order.ID+":") {
		t.Errorf("the list: %v", listed)
	}
	var hostile struct {
		Title string
		Imgs  int
		Cell  string
	}
	chromedp.Run(city, chromedp.Evaluate(`({title: document.title, imgs: document.querySelectorAll("#orders img").length, cell: `+first+`.cells[2].textContent})`, &hostile))
	if hostile.Title == "pwned" || hostile.Imgs != 0 || !strings.HasPrefix(hostile.Cell, "<img") {
		t.Errorf("a title of markup in the list: %+v", hostile)
	}
	cityWatch.Check(t, f.srv.URL)
	// The county's phone page: its open orders, the overdue one first and
	// red, with its deadline.
	if err := chromedp.Run(county, chromedp.Navigate(f.srv.URL+"/m")); err != nil {
		t.Fatal(err)
	}
	phoneFirst := `document.querySelector("#ord-list li.ord")`
	browsertest.WaitJS(county, t, "the phone page's orders", `document.body.dataset.state === "live" && `+phoneFirst+`.dataset.id === "`+short.Order.ID+`" && `+
		phoneFirst+`.classList.contains("t-overdue") && `+phoneFirst+`.querySelector(".ord-due").textContent === "`+short.Order.Deadline.In(f.a.loc).Format("01-02 15:04")+`" && `+
		`document.querySelectorAll("#ord-list li.ord").length === 2`, 10*time.Second, `document.getElementById("orders") ? document.getElementById("orders").textContent : document.body.textContent`)
	countyWatch.Check(t, f.srv.URL)

	// The overdue special report.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, reports := f.do(t, admin, "GET", "/api/reports?region=620000", "", nil)
		if strings.Contains(reports, "orders-overdue") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no overdue report: %.400s", reports)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// field is the text of the detail panel's field named name.
func field(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var v string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { for (const dt of document.querySelectorAll("#d-fields dt")) if (dt.textContent === `+jsQuote(name)+`) return dt.nextElementSibling.textContent; return ""; })()`, &v)); err != nil {
		t.Fatal(err)
	}
	return v
}

func jsQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// expectButtons checks the detail panel offers exactly the actions want
// (sorted), and no action box at all when want is empty.
func expectButtons(t *testing.T, ctx context.Context, who string, want ...string) {
	t.Helper()
	if got := buttons(t, ctx); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: buttons %v, want %v", who, got, want)
	}
}

// openOrder clicks the order's row in the list and waits for its detail
// in state.
func openOrder(t *testing.T, ctx context.Context, id, state string) {
	t.Helper()
	row := `#orders tr[data-id="` + id + `"]`
	browsertest.WaitJS(ctx, t, "the order "+id+" listed "+state, `!!document.querySelector('`+row+`[data-state="`+state+`"]')`, 10*time.Second, ordersDiag)
	if err := chromedp.Run(ctx, chromedp.Click(row, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(ctx, t, "the order "+id+" open, "+state, `document.getElementById("detail").dataset.id === "`+id+`" && document.getElementById("detail").dataset.state === "`+state+`"`,
		10*time.Second, ordersDiag)
}

// reopen searches again (the list as it is now) and opens the order.
func reopen(t *testing.T, ctx context.Context, id, state string) {
	t.Helper()
	chromedp.Run(ctx, chromedp.Evaluate(`document.body.removeAttribute("data-listed")`, nil))
	if err := chromedp.Run(ctx, chromedp.Click("#f-search", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(ctx, t, "the list again", `!!document.body.dataset.listed`, 10*time.Second, ordersDiag)
	openOrder(t, ctx, id, state)
}

// act types comment and presses the action's button, and waits for the
// order in state want.
func act(t *testing.T, ctx context.Context, action, comment, want string) {
	t.Helper()
	typing := chromedp.Tasks{chromedp.Evaluate(`document.getElementById("d-comment").value = ""`, nil)}
	if comment != "" {
		typing = append(typing, chromedp.SendKeys("#d-comment", comment, chromedp.ByID))
	}
	if err := chromedp.Run(ctx, typing, chromedp.Click(`#d-buttons button[data-action="`+action+`"]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	browsertest.WaitJS(ctx, t, action+" → "+want, `document.getElementById("detail").dataset.state === "`+want+`" && document.getElementById("error").hidden`,
		10*time.Second, ordersDiag)
}

// ingestCalls ingests n calls of region code offered a minute ago, the
// first answered of them answered, through the ingest API.
func (f *fixture) ingestCalls(t *testing.T, code string, n, answered int) {
	t.Helper()
	var body strings.Builder
	body.WriteString("call_id,region_code,offered_at,answered,wait_seconds\n")
	at := time.Now().In(f.a.loc).Add(-time.Minute).Format(time.DateTime)
	for i := range n {
		a := 0
		if i < answered {
			a = 1
		}
		fmt.Fprintf(&body, "call-%s-%d,%s,%s,%d,12\n", code, i, code, at, a)
	}
	code2, ans := f.do(t, caller{name: "ingest", client: http.DefaultClient, token: ingestToken}, "POST", "/api/ingest/calls", "text/csv", []byte(body.String()))
	if code2 != http.StatusOK {
		t.Fatalf("ingest: %d %s", code2, ans)
	}
}
