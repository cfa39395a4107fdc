package console

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

// Issuing from a special report (特别呈报) or a surge (a special report of
// rule kind surge): /console/orders?issue=1&report=<id> opens the issue
// form filled by the server from the report. The console does not know
// the reports (package report is below it): Config.Report looks one up as
// the caller may see it, in the console's own words (ReportFacts).

// ReportFacts is a special report as the issue form needs it: the
// application fills it from its report manager.
type ReportFacts struct {
	ID string
	// Rule is the rule's name, Kind its type (threshold, drop, bottom,
	// overdue, silent, surge, orders_overdue).
	Rule, Kind string
	// Title and Text say it in Chinese; TitleEN and TextEN in English
	// ("" when the rule has none).
	Title, TitleEN, Text, TextEN string
	// Region is the unit the report is about, Dept its department if any.
	Region, RegionName, Dept string
	// Subject tells reports of one rule and region apart (a surge's
	// ticket category, a silent rule's source).
	Subject string
	// Indicator and Period are the indicator judged and its period, ""
	// when the rule judges none.
	Indicator, Period string
	// Value and Threshold are as the report shows them ("82.10%", "75.00%";
	// a surge's ticket count and its expected count, its baseline).
	Value, Threshold string
	FiredAt          time.Time
}

// ErrNoReport is what Config.Report answers for a report that does not
// exist or lies outside the caller's scope: the page answers 404 alike.
var ErrNoReport = errors.New("console: no such special report")

// kindSurge is the rule kind of a surge report.
const kindSurge = "surge"

// maxReportID bounds a report id in the query (dispatch keeps source
// references up to 128 bytes).
const maxReportID = 128

// answerError answers a JSON error with a status, in the API's shape.
func answerError(ctx *fiber.Ctx, status int, param, zh, en string) error {
	return ctx.Status(status).JSON(errorBody{Error: zh + " / " + en, Param: param})
}

// reportDraftFor answers the issue form of report id for the caller of
// ctx: nil and an answer already written when it may not be drawn (400 a
// bad id or no lookup, 404 unknown or outside the scope, 403 the caller
// may not issue to its unit).
func (c *Console) reportDraftFor(ctx *fiber.Ctx, id, lang string) (*issueDraft, bool, error) {
	if err := checkReportID(id); err != nil {
		return nil, false, c.fail(ctx, err)
	}
	if c.cfg.Report == nil {
		return nil, false, c.fail(ctx, badParam("report", "不支持从特别呈报发起督办", "issuing from a special report is not configured"))
	}
	f, err := c.cfg.Report(ctx.UserContext(), id)
	if errors.Is(err, ErrNoReport) {
		return nil, false, answerError(ctx, fiber.StatusNotFound, "report", "没有特别呈报 "+id, "no special report "+id)
	}
	if err != nil {
		return nil, false, c.fail(ctx, fmt.Errorf("console: special report %s: %w", id, err))
	}
	code, err := region.ParseCode(f.Region)
	if err != nil {
		return nil, false, c.fail(ctx, fmt.Errorf("console: special report %s: region: %w", id, err))
	}
	if c.cfg.CanIssue == nil || !c.cfg.CanIssue(ctx.UserContext(), string(code)) {
		return nil, false, answerError(ctx, fiber.StatusForbidden, "report", "您不能向 "+string(code)+" 发出督办单",
			"you may not issue orders to "+string(code))
	}
	if err := checkDept(f.Dept); err != nil {
		return nil, false, c.fail(ctx, fmt.Errorf("console: special report %s: %w", id, err))
	}
	return c.reportDraft(f, code, lang), true, nil
}

// checkReportID accepts what a report id can be: 1 to 128 letters,
// digits and . _ - :.
func checkReportID(id string) error {
	if id == "" || len(id) > maxReportID {
		return badParam("report", "特别呈报编号应为 1 至 %d 个字符", "a special report id: want 1 to %d characters", maxReportID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:", r)) {
			return badParam("report", "特别呈报编号 %q 含有非法字符", "special report id %q: want letters, digits and . _ - :", id)
		}
	}
	return nil
}

// reportDraft fills the issue form from a special report: the unit is the
// report's region (and department), the title and reason its title and
// text, the evidence its rule, kind, value and threshold (a surge's count
// and baseline) and when it fired; the source the report (kind surge for
// a surge).
func (c *Console) reportDraft(f ReportFacts, code region.Code, lang string) *issueDraft {
	w := ordersDict[lang]
	unitName := f.RegionName
	if unitName == "" {
		unitName, _ = c.cfg.Regions.Name(code)
	}
	if unitName == "" {
		unitName = string(code)
	}
	if f.Dept != "" {
		unitName += " · " + f.Dept
	}
	title := f.Title
	if title == "" {
		title = f.Rule
	}
	surge := f.Kind == kindSurge
	d := &issueDraft{UnitName: unitName, Days: 5}
	d.Unit.Region, d.Unit.Dept = string(code), f.Dept
	d.Title = clip(strings.Join(strings.Fields(unitName+"："+title), " "), 200)
	fired := ""
	if !f.FiredAt.IsZero() {
		fired = f.FiredAt.In(c.loc).Format("2006-01-02 15:04")
	}
	ask := "请分析原因，限期整改并回复。"
	if surge {
		ask = "请核查激增原因，限期处置并回复。"
	}
	d.Reason = clip(fmt.Sprintf("特别呈报「%s」（%s 发生）：%s。%s", title, fired, strings.TrimSuffix(f.Text, "。"), ask), 1000)
	kind := "report"
	if surge {
		kind = kindSurge
	}
	d.Source = map[string]any{"kind": kind, "ref": f.ID}

	// The evidence in dispatch's shape (indicator, name, value, target,
	// period, as_of, note): what does not fit a field goes in the note.
	ev := map[string]any{}
	name := title
	if def, ok := indicator.Lookup(f.Indicator); ok {
		ev["indicator"] = def.ID
		name = def.Name
	}
	ev["name"] = clip(name, 100)
	if p, err := engine.ParsePeriod(f.Period); err == nil && f.Period != "" {
		ev["period"] = p.String()
	}
	if !f.FiredAt.IsZero() {
		ev["as_of"] = f.FiredAt
	}
	// A value and a target need their indicator (dispatch checks it): a
	// surge's count and baseline, or a report of no indicator, are in the
	// note only.
	var note []string
	note = append(note, "特别呈报 "+f.ID, "规则 "+f.Rule+"（"+f.Kind+"）")
	if f.Subject != "" {
		note = append(note, "类别 "+f.Subject)
	}
	if surge {
		note = append(note, "工单 "+f.Value+" 件", "基线 "+f.Threshold+" 件")
	} else {
		if _, ok := ev["indicator"]; ok {
			if v, ok := shownNumber(f.Value); ok {
				ev["value"] = v
			}
			if v, ok := shownNumber(f.Threshold); ok {
				ev["target"] = v
			}
		}
		if f.Value != "" {
			note = append(note, "数值 "+f.Value)
		}
		if f.Threshold != "" {
			note = append(note, "阈值 "+f.Threshold)
		}
	}
	if fired != "" {
		note = append(note, "发生于 "+fired)
	}
	ev["note"] = clipBytes(strings.Join(note, "；"), 500)
	d.Evidence = ev

	shownTitle := title
	if lang == "en" && f.TitleEN != "" {
		shownTitle = f.TitleEN
	}
	d.EvidenceText = []string{w["report"] + "：" + shownTitle + "（" + f.ID + "）", w["rule"] + "：" + f.Rule + "（" + f.Kind + "）"}
	if surge {
		if f.Subject != "" {
			d.EvidenceText = append(d.EvidenceText, w["category"]+"："+f.Subject)
		}
		d.EvidenceText = append(d.EvidenceText, w["count"]+"："+f.Value, w["baseline"]+"："+f.Threshold)
	} else {
		if f.Indicator != "" {
			d.EvidenceText = append(d.EvidenceText, w["indicator"]+"："+name)
		}
		if f.Value != "" {
			d.EvidenceText = append(d.EvidenceText, w["value"]+"："+f.Value)
		}
		if f.Threshold != "" {
			d.EvidenceText = append(d.EvidenceText, w["threshold"]+"："+f.Threshold)
		}
	}
	if fired != "" {
		d.EvidenceText = append(d.EvidenceText, w["fired"]+"："+fired)
	}
	return d
}

// shownNumber reads a number as a report shows it: "82.10%" is 0.821,
// "1,234" is 1234; a rank ("12/13") or a dash is none.
func shownNumber(s string) (float64, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || s == "" {
		return 0, false
	}
	if pct {
		x /= 100
	}
	return x, true
}

// clip keeps the first n characters of s.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// clipBytes keeps s within n bytes, whole characters only.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
