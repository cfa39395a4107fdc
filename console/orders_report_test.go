package console

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/region"
)

// reportConsole is a console over the sample whose caller sees the
// reports of facts inside scope and may issue there when operator.
func reportConsole(t *testing.T, scope string, operator bool, facts ...ReportFacts) *fiber.App {
	t.Helper()
	s := loadSample(t)
	c, err := New(Config{Live: s.eng, History: s.st, Regions: region.Default(), Location: s.loc, Logger: quietLogger(),
		Now: func() time.Time { return s.asOf },
		CanIssue: func(_ context.Context, code string) bool {
			return operator && strings.HasPrefix(code, scope)
		},
		Report: func(_ context.Context, id string) (ReportFacts, error) {
			for _, f := range facts {
				if f.ID == id && strings.HasPrefix(f.Region, scope) {
					return f, nil
				}
			}
			return ReportFacts{}, ErrNoReport
		}})
	if err != nil {
		t.Fatal(err)
	}
	return mount(c)
}

var ordersDataRE = regexp.MustCompile(`<script type="application/json" id="orders-data">(.*?)</script>`)

// pageDraft reads the issue draft out of an orders page.
func pageDraft(t *testing.T, body []byte) issueDraft {
	t.Helper()
	m := ordersDataRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no orders-data in %.500s", body)
	}
	var st struct{ Draft *issueDraft }
	if err := json.Unmarshal(m[1], &st); err != nil {
		t.Fatalf("orders-data: %v: %s", err, m[1])
	}
	if st.Draft == nil {
		t.Fatalf("no draft in %s", m[1])
	}
	return *st.Draft
}

// TestIssueFormFromReport: /console/orders?issue=1&report=<id> opens the
// issue form filled from the special report (unit, title, reason, the
// evidence and the source; a surge's count and baseline, source surge),
// every string of the report escaped; a report outside the caller's
// scope or unknown is 404, a caller who may not issue 403, a bad id 400.
func TestIssueFormFromReport(t *testing.T) {
	loc := loadSample(t).loc
	fired := time.Date(2026, 10, 9, 9, 30, 0, 0, loc)
	hostile := `</script><img src=x onerror=alert(1)>"&`
	facts := []ReportFacts{
		{ID: "a1b2c3", Rule: "on-time-floor", Kind: "threshold", Title: "按时办结率低于底线" + hostile, TitleEN: "On-time rate below the floor",
			Text: "本月按时办结率 82.10%，低于底线 90.00%" + hostile, Region: "620802", RegionName: "崆峒区",
			Indicator: "on_time_rate", Period: "month", Value: "82.10%", Threshold: "90.00%", FiredAt: fired},
		{ID: "surge01", Rule: "hotline-surge", Kind: "surge", Title: "热线工单激增", Text: "「供水」工单 1,234 件，预期 300.5 件",
			Region: "620802", RegionName: "崆峒区", Subject: "供水", Value: "1,234", Threshold: "300.5", FiredAt: fired},
		{ID: "far01", Rule: "on-time-floor", Kind: "threshold", Title: "别处", Region: "620102", FiredAt: fired},
	}
	app := reportConsole(t, "6208", true, facts...)

	code, body, _ := get(t, app, "/console/orders?issue=1&report=a1b2c3&region=620802")
	if code != 200 {
		t.Fatalf("report draft: %d %s", code, body)
	}
	page := string(body)
	if strings.Contains(page, "<img src=x") || strings.Contains(page, "</script><img") {
		t.Errorf("the report's title or text is not escaped: %s", page)
	}
	if !strings.Contains(page, html.EscapeString("按时办结率低于底线"+hostile)) && !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the escaped title is not on the form: %s", page)
	}
	d := pageDraft(t, body)
	if d.Unit.Region != "620802" || d.Unit.Dept != "" || d.UnitName != "崆峒区" || d.Days != 5 {
		t.Errorf("unit %+v %q days %d", d.Unit, d.UnitName, d.Days)
	}
	if !strings.HasPrefix(d.Title, "崆峒区：按时办结率低于底线") || !strings.Contains(d.Reason, "本月按时办结率 82.10%") ||
		!strings.Contains(d.Reason, "2026-10-09 09:30") {
		t.Errorf("title %q reason %q", d.Title, d.Reason)
	}
	if d.Source["kind"] != "report" || d.Source["ref"] != "a1b2c3" {
		t.Errorf("source %v", d.Source)
	}
	ev := d.Evidence
	if ev["indicator"] != "on_time_rate" || ev["period"] != "month" || ev["value"] != 0.821 || ev["target"] != 0.9 {
		t.Errorf("evidence %v", ev)
	}
	if at, _ := ev["as_of"].(string); at == "" || !strings.HasPrefix(at, "2026-10-09T09:30:00") {
		t.Errorf("evidence as_of %v", ev["as_of"])
	}
	note, _ := ev["note"].(string)
	for _, want := range []string{"a1b2c3", "on-time-floor", "threshold", "数值 82.10%", "阈值 90.00%", "2026-10-09 09:30"} {
		if !strings.Contains(note, want) {
			t.Errorf("evidence note %q lacks %q", note, want)
		}
	}
	if len(d.EvidenceText) < 4 {
		t.Errorf("evidence text %q", d.EvidenceText)
	}

	// A surge: source surge, its count and baseline in the note (a value
	// needs an indicator).
	code, body, _ = get(t, app, "/console/orders?issue=1&report=surge01&region=620802&lang=en")
	if code != 200 {
		t.Fatalf("surge draft: %d %s", code, body)
	}
	d = pageDraft(t, body)
	if d.Source["kind"] != "surge" || d.Source["ref"] != "surge01" || d.Evidence["value"] != nil || d.Evidence["target"] != nil || d.Evidence["indicator"] != nil {
		t.Errorf("surge: source %v evidence %v", d.Source, d.Evidence)
	}
	note, _ = d.Evidence["note"].(string)
	if !strings.Contains(note, "工单 1,234 件") || !strings.Contains(note, "基线 300.5 件") || !strings.Contains(note, "供水") {
		t.Errorf("surge note %q", note)
	}
	if !strings.Contains(strings.Join(d.EvidenceText, "|"), "Baseline：300.5") {
		t.Errorf("surge evidence text %q", d.EvidenceText)
	}

	// Refusals.
	for _, c := range []struct {
		app  *fiber.App
		url  string
		code int
	}{
		{app, "/console/orders?issue=1&report=far01", 404},                                        // outside the scope
		{app, "/console/orders?issue=1&report=nope", 404},                                         // unknown
		{app, "/console/orders?issue=1&report=a%20b", 400},                                        // not an id
		{app, "/console/orders?issue=1&report=", 400},                                             // empty
		{reportConsole(t, "6208", false, facts...), "/console/orders?issue=1&report=a1b2c3", 403}, // an analyst
	} {
		code, body, _ := get(t, c.app, c.url)
		if code != c.code {
			t.Errorf("%s: %d, want %d: %s", c.url, code, c.code, body)
			continue
		}
		var e errorBody
		if json.Unmarshal(body, &e) != nil || e.Param != "report" || e.Error == "" {
			t.Errorf("%s: answer %s", c.url, body)
		}
	}
	// Without a lookup the parameter is refused.
	_, app0 := loadSample(t).console(t)
	if code, body, _ := get(t, app0, "/console/orders?issue=1&report=a1b2c3"); code != 400 {
		t.Errorf("no lookup: %d %s", code, body)
	}
}
