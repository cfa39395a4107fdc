package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// The orders page (督办): the supervision orders of the caller's scope,
// filtered, overdue first and red, each with its evidence, history and
// the actions the server allows; an issue form, prefilled by the server
// from a red ranking row or a special report. The orders themselves come from the dispatch
// API (package dispatchapi, in the app's route table); the console knows
// neither the caller nor the orders, only how to draw them: the page is
// its words, its state and the evidence it computed, and orders.js
// paints what the API answers, its buttons from the order's "can".

// OrdersPath is the orders page.
const OrdersPath = "/console/orders"

// The API the page talks to (package dispatchapi's paths).
const (
	ordersAPI    = "/api/dispatch/orders"
	ordersExport = "/api/export/dispatch-orders"
)

// ordersDict holds the orders page's words, Chinese first.
var ordersDict = map[string]map[string]string{
	"zh": {
		"title": "一屏 · 督办", "console": "分析台", "filters": "筛选", "state": "状态", "all": "全部",
		"overdue_only": "只看超期", "region": "单位区划", "dept": "部门", "text": "关键词", "search": "查询",
		"export_csv": "导出 CSV", "new": "发起督办", "id": "编号", "unit": "责任单位", "order_title": "标题",
		"deadline": "时限", "timing": "进度", "issuer": "督办人", "issued_at": "发起时间", "no_orders": "暂无督办单",
		"total": "共 %d 件", "more": "更多", "reason": "督办事由", "evidence": "依据", "indicator": "指标",
		"value": "数值", "target": "目标值", "period": "周期", "as_of": "截至", "note": "说明", "history": "办理记录",
		"at": "时间", "actor": "操作人", "addr": "来源地址", "action": "操作", "transition": "状态变化", "comment": "意见",
		"days": "工作日", "comment_ph": "意见（必填于回复、退回）", "issue": "发出督办单", "cancel": "取消",
		"reply": "回复", "lang_switch": "English", "logout": "退出登录", "error": "出错", "loading": "加载中…",
		"source": "来源", "extension": "延期申请", "done": "已提交", "close": "关闭",
		"report": "特别呈报", "rule": "规则", "threshold": "阈值", "fired": "发生时间", "category": "类别", "count": "工单数", "baseline": "基线",
		"state.issued": "待签收", "state.signed": "已签收", "state.replied": "已回复", "state.returned": "已退回",
		"state.verified": "已办结", "state.withdrawn": "已撤回",
		"timing.on_track": "正常", "timing.due_soon": "临期", "timing.overdue": "超期", "timing.waiting": "待审核",
		"timing.closed": "已关闭",
		"act.sign":      "签收", "act.reply": "回复", "act.verify": "审核通过", "act.return": "退回", "act.extend": "申请延期",
		"act.approve": "批准延期", "act.refuse": "驳回延期", "act.withdraw": "撤回",
		"ev.remind": "提醒", "ev.overdue": "超期通知", "ev.issue": "发起",
	},
	"en": {
		"title": "Yiping · Supervision orders", "console": "Console", "filters": "Filters", "state": "State", "all": "All",
		"overdue_only": "Overdue only", "region": "Unit region", "dept": "Department", "text": "Text", "search": "Search",
		"export_csv": "Export CSV", "new": "Issue an order", "id": "No.", "unit": "Unit", "order_title": "Title",
		"deadline": "Deadline", "timing": "Timing", "issuer": "Issuer", "issued_at": "Issued", "no_orders": "No orders",
		"total": "%d in all", "more": "More", "reason": "Reason", "evidence": "Evidence", "indicator": "Indicator",
		"value": "Value", "target": "Target", "period": "Period", "as_of": "As of", "note": "Note", "history": "History",
		"at": "Time", "actor": "By", "addr": "From", "action": "Action", "transition": "State", "comment": "Comment",
		"days": "Working days", "comment_ph": "Comment (required to reply or return)", "issue": "Issue the order", "cancel": "Cancel",
		"reply": "Reply", "lang_switch": "中文", "logout": "Sign out", "error": "Error", "loading": "Loading…",
		"source": "Source", "extension": "Extension request", "done": "Done", "close": "Close",
		"report": "Special report", "rule": "Rule", "threshold": "Threshold", "fired": "Fired", "category": "Category",
		"count": "Tickets", "baseline": "Baseline",
		"state.issued": "Issued", "state.signed": "Signed", "state.replied": "Replied", "state.returned": "Returned",
		"state.verified": "Verified", "state.withdrawn": "Withdrawn",
		"timing.on_track": "On track", "timing.due_soon": "Due soon", "timing.overdue": "Overdue", "timing.waiting": "Awaiting review",
		"timing.closed": "Closed",
		"act.sign":      "Sign", "act.reply": "Reply", "act.verify": "Verify", "act.return": "Return", "act.extend": "Ask for more time",
		"act.approve": "Approve extension", "act.refuse": "Refuse extension", "act.withdraw": "Withdraw",
		"ev.remind": "Reminder", "ev.overdue": "Overdue notice", "ev.issue": "Issued",
	},
}

// issueDraft is the issue form as the server fills it from a red
// indicator of a unit: the request body of POST /api/dispatch/orders but
// the term.
type issueDraft struct {
	Unit struct {
		Region string `json:"region"`
		Dept   string `json:"dept,omitempty"`
	} `json:"unit"`
	UnitName string         `json:"unit_name"`
	Title    string         `json:"title"`
	Reason   string         `json:"reason"`
	Days     int            `json:"days"`
	Source   map[string]any `json:"source"`
	Evidence map[string]any `json:"evidence"`
	// EvidenceText is the evidence as the form shows it.
	EvidenceText []string `json:"evidence_text"`
}

// ordersPage is the orders page's state.
type ordersPage struct {
	Lang   string      `json:"lang"`
	Region string      `json:"region"`
	API    string      `json:"api"`
	Export string      `json:"export"`
	Draft  *issueDraft `json:"draft,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// handleOrders serves the orders page. With issue=1 and a unit (region,
// dept), an indicator, a period and optionally as_of, the issue form
// opens filled with the unit's value of that indicator as the console
// computes it, its target and the instant. With issue=1 and report=<id>
// it opens filled from that special report (or surge) instead
// (orders_report.go): 404 when the caller cannot see the report, 403 when
// they may not issue to its unit.
func (c *Console) handleOrders(ctx *fiber.Ctx) error {
	if err := checkParams(ctx, "region", "dept", "indicator", "period", "as_of", "issue", "report", "lang"); err != nil {
		return c.fail(ctx, err)
	}
	lang := ctx.Query("lang")
	if lang != "en" {
		lang = "zh"
	}
	st := ordersPage{Lang: lang, Region: strings.Clone(ctx.Query("region", c.cfg.DefaultRegion)), API: ordersAPI, Export: ordersExport}
	code, err := c.parseRegion("region", st.Region)
	if err != nil {
		return c.fail(ctx, err)
	}
	if ctx.Query("issue") == "1" && ctx.Context().QueryArgs().Has("report") {
		d, ok, err := c.reportDraftFor(ctx, strings.Clone(ctx.Query("report")), lang)
		if !ok {
			return err
		}
		st.Draft = d
	} else if ctx.Query("issue") == "1" {
		d, err := c.draft(ctx.UserContext(), code, strings.Clone(ctx.Query("dept")), strings.Clone(ctx.Query("indicator", "on_time_rate")),
			strings.Clone(ctx.Query("period", "month")), strings.Clone(ctx.Query("as_of")), lang)
		if err != nil {
			st.Error = err.Error()
		} else {
			st.Draft = d
		}
	}
	blob, err := json.Marshal(st)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: orders page: %w", err))
	}
	words, err := json.Marshal(ordersDict[lang])
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: orders words: %w", err))
	}
	other := url.Values{"region": {st.Region}}
	if lang == "zh" {
		other.Set("lang", "en")
	}
	back := url.Values{"region": {st.Region}}
	if lang == "en" {
		back.Set("lang", "en")
	}
	var buf bytes.Buffer
	err = c.page.ordersTpl.Execute(&buf, map[string]any{
		"Lang": lang, "T": ordersDict[lang], "State": st, "States": []string{"issued", "signed", "replied", "returned", "verified", "withdrawn"},
		"FontCSS": assets.FontCSS(), "FontFamily": template.CSS(assets.FontFamily), "Icon": assets.Icon(), "SessionAPI": c.cfg.SessionAPI,
		"Data": jsonScript(blob), "Dict": jsonScript(words), "LangLink": OrdersPath + "?" + other.Encode(),
		"Console": "/console?" + back.Encode(),
		"JS":      c.page.url("orders.js"), "CSS": c.page.url("console.css"),
	})
	if err != nil {
		return c.fail(ctx, fmt.Errorf("console: render orders page: %w", err))
	}
	ctx.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Send(buf.Bytes())
}

// draft fills the issue form from a unit's indicator: its value,
// numerator and denominator, the target of its level and the instant, as
// the console shows them now (or as of as_of).
func (c *Console) draft(ctx context.Context, code region.Code, dept, ind, period, asOfParam, lang string) (*issueDraft, error) {
	def, ok := indicator.Lookup(ind)
	if !ok {
		return nil, badParam("indicator", "未知指标 %q", "unknown indicator %q", ind)
	}
	p, err := engine.ParsePeriod(period)
	if err != nil {
		return nil, badParam("period", "未知周期 %q", "unknown period %q", period)
	}
	if err := checkDept(dept); err != nil {
		return nil, err
	}
	u, err := c.unitViewAt(ctx, code, dept, p, asOfParam, lang)
	if err != nil {
		return nil, err
	}
	var row *unitIndicator
	for i := range u.Indicators {
		if u.Indicators[i].Indicator.ID == def.ID {
			row = &u.Indicators[i]
		}
	}
	if row == nil {
		return nil, badParam("indicator", "单位没有指标 %q", "the unit has no indicator %q", ind)
	}
	name, nameEN := def.Name, def.NameEN
	shown := name
	if lang == "en" {
		shown = nameEN
	}
	unitName := u.Unit.Name
	if dept != "" {
		unitName += " · " + dept
	}
	d := &issueDraft{UnitName: unitName, Days: 5}
	d.Unit.Region, d.Unit.Dept = string(code), dept
	d.Title = fmt.Sprintf("%s%s低于目标", unitName, name)
	periodWord := dict[lang]["period_"+p.String()]
	d.Reason = fmt.Sprintf("%s %s%s为 %s，目标值 %s（%s）。请分析原因，限期整改并回复。", u.AsOfText, periodWord, name, row.ValueText, row.TargetText, row.StatusText)
	d.Source = map[string]any{"kind": "ranking", "ref": def.ID + ":" + string(code)}
	ev := map[string]any{"indicator": def.ID, "name": name, "period": p.String(), "as_of": u.AsOf}
	if row.Value != nil {
		ev["value"] = *row.Value
	}
	if row.Numerator != nil {
		ev["numerator"] = *row.Numerator
	}
	if row.Denominator != nil {
		ev["denominator"] = *row.Denominator
	}
	if row.Rule != nil {
		ev["target"] = row.Rule.Target
	}
	if row.Status == scoring.StatusRed {
		ev["note"] = row.StatusText
	}
	d.Evidence = ev
	w := ordersDict[lang]
	d.EvidenceText = []string{
		w["indicator"] + "：" + shown, w["value"] + "：" + row.ValueText, w["target"] + "：" + row.TargetText,
		w["period"] + "：" + periodWord, w["as_of"] + "：" + u.AsOfText,
	}
	return d, nil
}

// unitViewAt is unitView at as_of ("" for now).
func (c *Console) unitViewAt(ctx context.Context, code region.Code, dept string, p engine.Period, asOfParam, lang string) (*unitJSON, error) {
	if asOfParam == "" {
		return c.unitView(ctx, code, dept, p, nil, lang)
	}
	t, err := c.parseTimeParam("as_of", asOfParam)
	if err != nil {
		return nil, err
	}
	return c.unitView(ctx, code, dept, p, &t, lang)
}

// issueLinks are the 督办 links of a ranking's red rows the caller may
// issue orders to (Config.CanIssue), by the rows' compare keys.
func (c *Console) issueLinks(ctx context.Context, r *rankingJSON, st pageState) map[string]string {
	if c.cfg.CanIssue == nil || r == nil {
		return nil
	}
	out := map[string]string{}
	for _, row := range r.Rows {
		if row.Status != scoring.StatusRed || !c.cfg.CanIssue(ctx, row.Region) {
			continue
		}
		q := url.Values{"issue": {"1"}, "region": {row.Region}, "indicator": {st.Indicator}, "period": {st.Period}}
		if row.Dept != "" {
			q.Set("dept", row.Dept)
		}
		if st.AsOf != "" {
			q.Set("as_of", st.AsOf)
		}
		if st.Lang == "en" {
			q.Set("lang", "en")
		}
		out[row.Key] = OrdersPath + "?" + q.Encode()
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
