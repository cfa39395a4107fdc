// Package mobile is the phone page (小屏) of special reports: the open
// reports of the signed-in user's region, live, with an acknowledge button
// for those who may, and the open supervision orders (督办单) of the
// user's unit, overdue first and red. Leaders and units read it on a
// phone; it works on a desk too.
//
// The server draws the first paint from report.Manager.Board (every text
// escaped by html/template); static/mobile.js then follows the region's
// report topic (live.ReportTopic) over the hub's websocket and paints each
// Board as the server sent it, with textContent only. The orders come the
// same way: the first paint from Config.Orders, then each board of the
// orders topic (live.OrdersTopic), in the server's order with the
// server's timing (overdue or not); the page's words come from the
// server. Acknowledging posts
// to the report API (package reportapi) with the session's CSRF token,
// which the script asks the session API for. For a user who may issue
// supervision orders (Config.CanIssue), each report card links to the
// console's issue form filled from that report (Config.IssuePage). The
// page holds no inline script, so a Content-Security-Policy of
// script-src 'self' holds.
//
// The package does not register its routes: it exports its handlers and
// their paths (Page at PagePath, Script at ScriptPath, Style at StylePath)
// for the product's one route table.
package mobile

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/reportapi"
	"github.com/yiping-ioc/yiping/widget"
)

// PagePath is the path of the page. Its query takes lang (zh, en) and
// region (a region inside the caller's scope; default the scope).
const PagePath = "/m"

//go:embed static/mobile.html
var pageHTML string

//go:embed static/mobile.js
var mobileJS []byte

//go:embed static/mobile.css
var mobileCSS []byte

// Boards gives the open reports of a region and below
// (report.Manager implements it).
type Boards interface {
	Board(region string) report.Board
}

// Config holds the page's dependencies. Reports is required.
type Config struct {
	Reports Boards
	// Orders gives the open supervision orders of a region and below,
	// overdue first, as the orders topic carries them (the app's dispatch
	// boards). Nil: the page shows no orders.
	Orders func(region string) widget.OrderBoard
	// WebSocket is the path of the hub, default "/ws".
	WebSocket string
	// SessionAPI is the path that tells who is signed in and the CSRF
	// token, default login.SessionPath.
	SessionAPI string
	// CanIssue tells whether a user may issue supervision orders (督办)
	// to a unit of a region (dispatch.CanIssue); IssuePage is the page of
	// the issue form (the console's orders page), opened with
	// ?issue=1&report=<id>&region=<region>. When both are set, every
	// report card of a caller who may issue for the page's region (and
	// so for every report on it, all at or below it) carries a 督办 link
	// there. Either unset: no link.
	CanIssue  func(p *access.Principal, region string) bool
	IssuePage string
	Logger    *slog.Logger
}

// Mobile serves the phone page.
type Mobile struct {
	cfg     Config
	page    *template.Template
	js, css assets.PageFile
	// ackPrefix and ackSuffix surround a report's id in the path that
	// acknowledges it.
	ackPrefix, ackSuffix string
}

// New checks cfg and returns the page's handlers.
func New(cfg Config) (*Mobile, error) {
	if cfg.Reports == nil {
		return nil, errors.New("mobile: Reports is required")
	}
	if cfg.WebSocket == "" {
		cfg.WebSocket = "/ws"
	}
	if cfg.SessionAPI == "" {
		cfg.SessionAPI = login.SessionPath
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tpl, err := template.New("mobile").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("mobile: page template: %w", err)
	}
	prefix, suffix, ok := strings.Cut(reportapi.AckPath, ":id")
	if !ok {
		return nil, fmt.Errorf("mobile: the acknowledge path %s names no :id", reportapi.AckPath)
	}
	return &Mobile{cfg: cfg, page: tpl, ackPrefix: prefix, ackSuffix: suffix,
		js: assets.NewPageFile("/m", "mobile.js", mobileJS), css: assets.NewPageFile("/m", "mobile.css", mobileCSS)}, nil
}

// ScriptPath is the path of the page script; it changes with its content,
// so browsers may keep it for ever.
func (m *Mobile) ScriptPath() string { return m.js.Path }

// StylePath is the path of the page style, content-hashed likewise.
func (m *Mobile) StylePath() string { return m.css.Path }

// Script serves the page script at ScriptPath.
func (m *Mobile) Script() http.Handler { return m.js }

// Style serves the page style at StylePath.
func (m *Mobile) Style() http.Handler { return m.css }

// words are the page's texts; the script gets them in its config.
var words = map[string]map[string]string{
	"zh": {
		"title": "特别呈报", "page_title": "特别呈报 · 一屏", "lang_switch": "English",
		"none": "暂无待处理的特别呈报", "unacked": "%d 条未确认",
		"region": "地区", "fired": "发生", "state": "状态", "acked_by": "确认人",
		"ack": "确认收到", "issue": "督办", "acking": "正在确认…", "ack_failed": "确认失败：", "unreachable": "无法连接服务器。",
		"live": "实时", "connecting": "连接中", "offline": "已断开，正在重连", "as_of": "更新于 ",
		"sev.critical": "严重", "sev.warning": "警告", "sev.info": "提示",
		"state.firing": "待确认", "state.acknowledged": "已确认", "state.resolved": "已解除",
		"orders": "督办单", "orders_open": "未办结 %d 件", "orders_overdue": "超期 %d 件", "orders_none": "暂无未办结督办单",
		"orders_more": "另有 %d 件未列出", "unit": "责任单位", "order_state": "状态", "deadline": "时限",
		"ostate.issued": "待签收", "ostate.signed": "办理中", "ostate.replied": "待审核", "ostate.returned": "已退回",
		"timing.on_track": "正常", "timing.due_soon": "临期", "timing.overdue": "超期", "timing.waiting": "待审核",
	},
	"en": {
		"title": "Special reports", "page_title": "Special reports · Yiping", "lang_switch": "中文",
		"none": "No open special reports", "unacked": "%d unacknowledged",
		"region": "Region", "fired": "Fired", "state": "State", "acked_by": "Acknowledged by",
		"ack": "Acknowledge", "issue": "Issue an order", "acking": "Acknowledging…", "ack_failed": "Acknowledging failed: ", "unreachable": "The server cannot be reached.",
		"live": "Live", "connecting": "Connecting", "offline": "Disconnected, reconnecting", "as_of": "As of ",
		"sev.critical": "Critical", "sev.warning": "Warning", "sev.info": "Info",
		"state.firing": "Unacknowledged", "state.acknowledged": "Acknowledged", "state.resolved": "Resolved",
		"orders": "Supervision orders", "orders_open": "%d open", "orders_overdue": "%d overdue", "orders_none": "No open orders",
		"orders_more": "%d more not listed", "unit": "Unit", "order_state": "State", "deadline": "Deadline",
		"ostate.issued": "To sign", "ostate.signed": "In hand", "ostate.replied": "To verify", "ostate.returned": "Returned",
		"timing.on_track": "On track", "timing.due_soon": "Due soon", "timing.overdue": "Overdue", "timing.waiting": "Awaiting review",
	},
}

// item is one report as the page shows it: the same fields mobile.js
// paints from a Board.
type item struct {
	ID, Severity, SeverityLabel, Title, Text string
	RegionName, Fired, State, StateLabel     string
	AckedBy                                  string
	CanAck                                   bool
	// IssueLink is the 督办 link, "" for a caller who may not issue.
	IssueLink string
}

// order is one supervision order as the page shows it: the same fields
// mobile.js paints from an OrderBoard.
type order struct {
	ID, Title, Unit, State, StateLabel, Timing, TimingLabel, Due string
}

// orders is the orders section: nil when the page has none.
type orders struct {
	Overdue               int
	OpenText, OverdueText string
	MoreText              string
	More                  bool
	Items                 []order
}

// view is what mobile.html draws.
type view struct {
	Lang, RegionName, Unacked, AsOf string
	T                               map[string]string
	Items                           []item
	Orders                          *orders
	Icon, FontCSS, CSS, JS          string
	LangLink                        string
	// Config is the page's contract with mobile.js (jsConfig), JSON with
	// <, > and & escaped, so no string from data can end its script
	// element.
	Config template.JS
}

// jsConfig is what mobile.js reads.
type jsConfig struct {
	Lang    string    `json:"lang"`
	Topic   string    `json:"topic"`
	WS      string    `json:"ws"`
	Session string    `json:"session"`
	Ack     [2]string `json:"ack"` // the path around a report's id
	CanAck  bool      `json:"can_ack"`
	// CanIssue says whether the caller may issue orders for the reports
	// of the page; Issue is then the issue form's path and query up to
	// the report's id (mobile.js adds the id, the region and the
	// language as issueLink does).
	CanIssue bool   `json:"can_issue"`
	Issue    string `json:"issue,omitempty"`
	// Orders is the orders topic; "" when the page shows no orders.
	Orders string            `json:"orders,omitempty"`
	T      map[string]string `json:"t"`
}

// Page serves the page at PagePath for a signed-in user (the caller's
// principal is in the request context; the route's guard put it there and
// checked the query's region against the scope, which is checked here
// again).
func (m *Mobile) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.FromContext(r.Context())
		if !ok {
			http.Error(w, "请先登录 / sign in first", http.StatusUnauthorized)
			return
		}
		lang := "zh"
		if r.URL.Query().Get("lang") == "en" {
			lang = "en"
		}
		code := string(p.Region)
		if q := r.URL.Query().Get("region"); q != "" {
			if _, err := region.ParseCode(q); err != nil {
				http.Error(w, "参数 region 不是行政区划代码 / parameter region: "+err.Error(), http.StatusBadRequest)
				return
			}
			if !p.Covers(q) {
				http.Error(w, "区域 "+q+" 不在您的权限范围内 / region "+q+" is outside your scope", http.StatusForbidden)
				return
			}
			code = q
		}
		var ob *widget.OrderBoard
		if m.cfg.Orders != nil {
			b := m.cfg.Orders(code)
			ob = &b
		}
		canIssue := m.cfg.CanIssue != nil && m.cfg.IssuePage != "" && m.cfg.CanIssue(p, code)
		b, err := m.render(lang, code, reportapi.CanAck(p), canIssue, m.cfg.Reports.Board(code), ob)
		if err != nil {
			m.cfg.Logger.Error("mobile page", "region", code, "err", err)
			http.Error(w, "页面生成失败 / the page failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	})
}

// render draws the page of a region's board and, when ob is not nil, its
// orders; canIssue puts a 督办 link on every report.
func (m *Mobile) render(lang, code string, canAck, canIssue bool, b report.Board, ob *widget.OrderBoard) ([]byte, error) {
	t := words[lang]
	other := url.Values{"region": {code}}
	if lang == "zh" {
		other.Set("lang", "en")
	}
	v := view{
		Lang: lang, T: t, RegionName: b.RegionName, Unacked: fmt.Sprintf(t["unacked"], b.Unacked),
		Icon: assets.Icon(), FontCSS: assets.FontCSS(), CSS: m.css.Path, JS: m.js.Path,
		LangLink: PagePath + "?" + other.Encode(),
	}
	if v.RegionName == "" {
		v.RegionName = code
	}
	if b.AsOf != "" {
		v.AsOf = t["as_of"] + b.AsOfText
	}
	for _, r := range b.Reports {
		v.Items = append(v.Items, item{
			ID: r.ID, Severity: r.Severity.String(), SeverityLabel: t["sev."+r.Severity.String()],
			Title: inLang(lang, r.Title, r.TitleEN), Text: inLang(lang, r.Text, r.TextEN),
			RegionName: r.RegionName, Fired: r.FiredText, State: r.State, StateLabel: t["state."+r.State],
			AckedBy: r.AckedBy, CanAck: canAck && r.State == report.StateFiring,
		})
		if canIssue {
			v.Items[len(v.Items)-1].IssueLink = m.issueLink(r.ID, r.Region, lang)
		}
	}
	jc := jsConfig{Lang: lang, Topic: live.ReportTopic(code), WS: m.cfg.WebSocket, Session: m.cfg.SessionAPI,
		Ack: [2]string{m.ackPrefix, m.ackSuffix}, CanAck: canAck, T: t}
	if canIssue {
		jc.CanIssue, jc.Issue = true, m.issuePrefix()
	}
	if ob != nil {
		v.Orders = ordersView(t, ob)
		jc.Orders = live.OrdersTopic(code)
	}
	cfg, err := json.Marshal(jc)
	if err != nil {
		return nil, fmt.Errorf("page config: %w", err)
	}
	// encoding/json escapes <, > and &: a text cannot end the element.
	v.Config = template.JS(cfg)
	var buf bytes.Buffer
	if err := m.page.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return buf.Bytes(), nil
}

// issuePrefix is the issue form's address up to a report's id.
func (m *Mobile) issuePrefix() string { return m.cfg.IssuePage + "?issue=1&report=" }

// issueLink is the issue form of a report of a region, as mobile.js
// builds it.
func (m *Mobile) issueLink(id, region, lang string) string {
	s := m.issuePrefix() + url.QueryEscape(id) + "&region=" + url.QueryEscape(region)
	if lang == "en" {
		s += "&lang=en"
	}
	return s
}

// ordersView is the orders section of a board, as mobile.js draws it.
func ordersView(t map[string]string, b *widget.OrderBoard) *orders {
	o := &orders{Overdue: b.Overdue, OpenText: fmt.Sprintf(t["orders_open"], b.Open), OverdueText: fmt.Sprintf(t["orders_overdue"], b.Overdue)}
	for _, it := range b.Orders {
		unit := it.UnitName
		if unit == "" {
			unit = it.Unit
		}
		if it.Dept != "" {
			unit += " · " + it.Dept
		}
		o.Items = append(o.Items, order{ID: it.ID, Title: it.Title, Unit: unit, State: it.State, StateLabel: wordOr(t, "ostate.", it.State),
			Timing: it.Timing, TimingLabel: wordOr(t, "timing.", it.Timing), Due: it.DeadlineText})
	}
	if n := b.Open - len(o.Items); n > 0 {
		o.More, o.MoreText = true, fmt.Sprintf(t["orders_more"], n)
	}
	return o
}

// wordOr is the word for prefix+code, else the code.
func wordOr(t map[string]string, prefix, code string) string {
	if w, ok := t[prefix+code]; ok {
		return w
	}
	return code
}

// inLang picks the English text on an English page when there is one.
func inLang(lang, zh, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return zh
}
