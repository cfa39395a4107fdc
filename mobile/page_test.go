package mobile

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/dispatch"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/widget"
)

// fakeBoards serves one board for every region: a critical report whose
// title is markup, and an acknowledged warning.
type fakeBoards struct{ asked []string }

func (f *fakeBoards) Board(region string) report.Board {
	f.asked = append(f.asked, region)
	return report.Board{Region: region, RegionName: "平凉市", Unacked: 1, AsOf: "2026-06-01T10:05:00+08:00", AsOfText: "06-01 10:05", Reports: []report.Report{
		{ID: "a1", Rule: "answer", Title: `<script>alert("x")</script>`, TitleEN: "Answer rate low", Severity: report.Critical,
			Region: "620802", RegionName: "崆峒区", Text: "今日接通率 50.00%，低于阈值 90.00%", TextEN: "Answer rate today 50.00%",
			State: report.StateFiring, FiredAt: "2026-06-01T10:01:00+08:00", FiredText: "06-01 10:01"},
		{ID: "b2", Rule: "on-time", Title: "按时办结率低", Severity: report.Warning, Region: "620803", RegionName: "泾川县",
			Text: "今日按时办结率 80.00%", State: report.StateAcknowledged, FiredAt: "2026-06-01T09:01:00+08:00", FiredText: "06-01 09:01", AckedBy: "张三"},
	}}
}

func TestPage(t *testing.T) {
	leader := &access.Principal{Kind: access.KindUser, Name: "李领导", Role: access.RoleLeader, Region: "620800"}
	analyst := &access.Principal{Kind: access.KindUser, Name: "analyst", Role: access.RoleAnalyst, Region: "620800"}
	for _, tc := range []struct {
		name   string
		who    *access.Principal
		query  string
		code   int
		region string   // the board asked for
		want   []string // in the page
		not    []string // not in the page
	}{
		{"a leader", leader, "", 200, "620800", []string{
			`<html lang="zh-CN">`, `<span id="region" class="region">平凉市</span>`, `1 条未确认`,
			`<li class="rep sev-critical" data-id="a1" data-state="firing">`,
			`<span class="sev">严重</span><h2 class="rep-title">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</h2>`,
			`<dd class="rep-fired">06-01 10:01</dd>`, `<dd class="rep-state">待确认</dd>`,
			`<button class="ack" type="button">确认收到</button>`,
			`<dd class="rep-acked">张三</dd>`, `更新于 06-01 10:05`,
			`"topic":"report:620800"`, `"can_ack":true`, `"ack":["/api/reports/","/ack"]`, `"session":"/api/session"`,
			`href="/m?lang=en&amp;region=620800"`,
		}, []string{`<script>alert`}},
		// One button only: the acknowledged report has none.
		{"one button", leader, "", 200, "620800", nil, nil},
		{"in English", leader, "?lang=en", 200, "620800", []string{
			`<html lang="en">`, `1 unacknowledged`, `<h2 class="rep-title">Answer rate low</h2>`, `<p class="rep-text">Answer rate today 50.00%</p>`,
			// No English text: the Chinese one.
			`<h2 class="rep-title">按时办结率低</h2>`, `>Acknowledge</button>`, `href="/m?region=620800"`,
		}, nil},
		{"a county of the scope", leader, "?region=620802", 200, "620802", []string{`"topic":"report:620802"`}, nil},
		{"an analyst reads only", analyst, "", 200, "620800", []string{`"can_ack":false`}, []string{`<button`}},
		{"outside the scope", leader, "?region=620100", 403, "", nil, nil},
		{"not a region", leader, "?region=6208", 400, "", nil, nil},
		{"nobody", nil, "", 401, "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boards := &fakeBoards{}
			m, err := New(Config{Reports: boards})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", PagePath+tc.query, nil)
			if tc.who != nil {
				req = req.WithContext(access.WithPrincipal(req.Context(), tc.who))
			}
			rec := httptest.NewRecorder()
			m.Page().ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code != http.StatusOK {
				if len(boards.asked) != 0 {
					t.Errorf("asked for the boards of %v", boards.asked)
				}
				return
			}
			body := rec.Body.String()
			if strings.Join(boards.asked, ",") != tc.region {
				t.Errorf("boards asked %v, want %s", boards.asked, tc.region)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("no %s in\n%s", w, body)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("%s in the page", w)
				}
			}
			if tc.name == "one button" && strings.Count(body, "<button") != 1 {
				t.Errorf("%d buttons, want 1", strings.Count(body, "<button"))
			}
			// No inline script: the config is data, the script a file.
			if strings.Count(body, "<script") != 2 || !strings.Contains(body, `<script src="`+m.ScriptPath()+`" defer></script>`) ||
				!strings.Contains(body, `<script type="application/json" id="m-config">`) {
				t.Errorf("scripts of the page:\n%s", body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	m, err := New(Config{Reports: &fakeBoards{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		h    http.Handler
		ct   string
		want string
	}{
		{m.ScriptPath(), m.Script(), "text/javascript; charset=utf-8", `"use strict"`},
		{m.StylePath(), m.Style(), "text/css; charset=utf-8", ".rep.sev-critical"},
	} {
		if !strings.HasPrefix(tc.path, "/m/mobile.") {
			t.Errorf("path %s", tc.path)
		}
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Header().Get("Content-Type") != tc.ct || !strings.Contains(rec.Body.String(), tc.want) ||
			!strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %s %q", tc.path, rec.Header(), rec.Body.String()[:40])
		}
	}
}

// TestPageOrders: the page lists the open orders of the caller's unit
// (the region asked for is the caller's own by default) in the board's
// order, overdue first and marked so, with their deadlines, every text
// escaped, in Chinese or English; the script follows the orders topic.
// Without dispatch the page has no orders.
func TestPageOrders(t *testing.T) {
	unit := &access.Principal{Kind: access.KindUser, Name: "county-op", Role: access.RoleOperator, Region: "620802"}
	var asked []string
	orders := func(code string) widget.OrderBoard {
		asked = append(asked, code)
		return widget.OrderBoard{Region: code, RegionName: "崆峒区", Open: 3, Overdue: 1, Orders: []widget.OrderItem{
			{ID: "DB-2", Title: `<script>alert("x")</script>`, Unit: "620802", UnitName: "崆峒区", Dept: "热线办", State: "issued", Timing: "overdue", Deadline: "2026-10-09T00:00:00+08:00", DeadlineText: "10-09 00:00"},
			{ID: "DB-1", Title: "接通率低于目标", Unit: "620802", UnitName: "崆峒区", State: "returned", Timing: "due_soon", Deadline: "2026-10-12T00:00:00+08:00", DeadlineText: "10-12 00:00"},
		}}
	}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"", []string{`<section id="orders" class="orders" data-overdue="1">`, `<h2>督办单</h2>`,
			`<span id="ord-open" class="ord-open">未办结 3 件</span>`, `<span id="ord-late" class="ord-late">超期 1 件</span>`,
			`<li class="ord t-overdue" data-id="DB-2" data-state="issued" data-timing="overdue">`,
			`<span class="ord-timing">超期</span><h3 class="ord-title">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</h3>`,
			`<dd class="ord-unit">崆峒区 · 热线办</dd>`, `<dd class="ord-state">待签收</dd>`, `<dd class="ord-due">10-09 00:00</dd>`,
			`<li class="ord t-due_soon" data-id="DB-1" data-state="returned" data-timing="due_soon">`, `<span class="ord-timing">临期</span>`,
			`<dd class="ord-state">已退回</dd>`, `<p id="ord-more" class="ord-more">另有 1 件未列出</p>`, `"orders":"orders:620802"`}},
		{"?lang=en", []string{`<h2>Supervision orders</h2>`, `3 open`, `1 overdue`, `<span class="ord-timing">Overdue</span>`,
			`<dd class="ord-state">To sign</dd>`, `<span class="ord-timing">Due soon</span>`, `1 more not listed`}},
	} {
		asked = nil
		m, err := New(Config{Reports: &fakeBoards{}, Orders: orders})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", PagePath+tc.lang, nil)
		req = req.WithContext(access.WithPrincipal(req.Context(), unit))
		rec := httptest.NewRecorder()
		m.Page().ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != 200 || strings.Join(asked, ",") != "620802" {
			t.Fatalf("%s: status %d, boards asked %v", tc.lang, rec.Code, asked)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %s in\n%s", tc.lang, w, body)
			}
		}
		if strings.Contains(body, `<script>alert`) || strings.Count(body, "<script") != 2 {
			t.Errorf("%s: scripts of the page:\n%s", tc.lang, body)
		}
		if strings.Index(body, `data-id="DB-2"`) > strings.Index(body, `data-id="DB-1"`) {
			t.Errorf("%s: the overdue order is not first", tc.lang)
		}
	}
	m, err := New(Config{Reports: &fakeBoards{}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", PagePath, nil)
	req = req.WithContext(access.WithPrincipal(req.Context(), unit))
	rec := httptest.NewRecorder()
	m.Page().ServeHTTP(rec, req)
	if body := rec.Body.String(); rec.Code != 200 || strings.Contains(body, `id="orders"`) || strings.Contains(body, `"orders":"orders:`) {
		t.Errorf("without dispatch: %d\n%s", rec.Code, body)
	}
}

// TestPageIssueLink: every report card of an operator whose scope covers
// the page carries a 督办 link to the issue form of that report (the
// page config tells the script so); an analyst's, a leader's or a page
// without dispatch has none.
func TestPageIssueLink(t *testing.T) {
	operator := &access.Principal{Kind: access.KindUser, Name: "city-op", Role: access.RoleOperator, Region: "620800"}
	analyst := &access.Principal{Kind: access.KindUser, Name: "analyst", Role: access.RoleAnalyst, Region: "620800"}
	leader := &access.Principal{Kind: access.KindUser, Name: "李领导", Role: access.RoleLeader, Region: "620800"}
	withLinks := Config{Reports: &fakeBoards{}, CanIssue: dispatch.CanIssue, IssuePage: "/console/orders"}
	for _, tc := range []struct {
		name  string
		cfg   Config
		who   *access.Principal
		query string
		want  []string
		not   []string
	}{
		{"an operator", withLinks, operator, "", []string{
			`<a class="issue" href="/console/orders?issue=1&amp;report=a1&amp;region=620802">督办</a>`,
			`<a class="issue" href="/console/orders?issue=1&amp;report=b2&amp;region=620803">督办</a>`,
			`"can_issue":true`, `"issue":"/console/orders?issue=1\u0026report="`,
		}, nil},
		{"an operator in English", withLinks, operator, "?lang=en", []string{
			`<a class="issue" href="/console/orders?issue=1&amp;report=a1&amp;region=620802&amp;lang=en">Issue an order</a>`,
		}, nil},
		{"an analyst", withLinks, analyst, "", []string{`"can_issue":false`}, []string{`class="issue"`, `"issue":"/console`}},
		{"a leader", withLinks, leader, "", []string{`"can_issue":false`}, []string{`class="issue"`, `"issue":"/console`}},
		{"no dispatch", Config{Reports: &fakeBoards{}}, operator, "", []string{`"can_issue":false`}, []string{`class="issue"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", PagePath+tc.query, nil)
			req = req.WithContext(access.WithPrincipal(req.Context(), tc.who))
			rec := httptest.NewRecorder()
			m.Page().ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("no %s in\n%s", w, body)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("%s in the page", w)
				}
			}
		})
	}
}
