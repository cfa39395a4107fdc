package wall

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/widget"
)

// board is a board of the province as package report presents it: a
// critical report of 崆峒区 and an acknowledged warning of 城关区.
func board() report.Board {
	return report.Board{Region: "620000", RegionName: "甘肃省", Unacked: 1, AsOf: "2026-06-01T10:05:00+08:00", AsOfText: "06-01 10:05", Reports: []report.Report{
		{ID: "a1", Rule: "answer", Type: report.Threshold, Title: "接通率低", TitleEN: "Answer rate low", Severity: report.Critical,
			Region: "620802", RegionName: "崆峒区", Indicator: "answer_rate", Period: "day", Value: "50.00%", Threshold: "90.00%",
			Text: "今日接通率 50.00%，低于阈值 90.00%", TextEN: "Answer rate today 50.00%, below 90.00%",
			State: report.StateFiring, FiredAt: "2026-06-01T10:01:00+08:00", FiredText: "06-01 10:01"},
		{ID: "b2", Rule: "on-time", Type: report.Threshold, Title: "按时办结率低", TitleEN: "On-time closure low", Severity: report.Warning,
			Region: "620102", RegionName: "城关区", Text: "今日按时办结率 80.00%", TextEN: "On-time closure today 80.00%",
			State: report.StateAcknowledged, FiredAt: "2026-06-01T09:30:00+08:00", FiredText: "06-01 09:30", AckedAt: "2026-06-01T09:40:00+08:00", AckedBy: "张三"},
	}}
}

// adapt turns a report.Board into the widget's board as the app may: a
// JSON round trip (the widget's fields carry report's JSON names).
func adapt(t testing.TB, b report.Board) widget.ReportBoard {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var out widget.ReportBoard
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportBoardMatchesReport: every field of the widget's board is one
// of report.Board's JSON fields, so the hub's payload and the first
// paint carry the same values.
func TestReportBoardMatchesReport(t *testing.T) {
	keys := func(v any) map[string]bool {
		b, _ := json.Marshal(v)
		m := map[string]any{}
		json.Unmarshal(b, &m)
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}
	full := board()
	for _, tc := range []struct {
		name         string
		widget, from any
	}{
		{"board", widget.ReportBoard{}, report.Board{}},
		{"report", widget.ReportItem{}, full.Reports[1]},
	} {
		have := keys(tc.from)
		for k := range keys(tc.widget) {
			if !have[k] {
				t.Errorf("%s: the widget reads %q, which report does not send", tc.name, k)
			}
		}
	}
	got := adapt(t, full)
	want := widget.ReportBoard{Region: "620000", RegionName: "甘肃省", Unacked: 1, AsOf: "2026-06-01T10:05:00+08:00", Reports: []widget.ReportItem{
		{ID: "a1", Rule: "answer", Title: "接通率低", TitleEN: "Answer rate low", Severity: "critical", Region: "620802", RegionName: "崆峒区",
			Text: "今日接通率 50.00%，低于阈值 90.00%", TextEN: "Answer rate today 50.00%, below 90.00%", State: "firing", FiredAt: "2026-06-01T10:01:00+08:00", FiredText: "06-01 10:01"},
		{ID: "b2", Rule: "on-time", Title: "按时办结率低", TitleEN: "On-time closure low", Severity: "warning", Region: "620102", RegionName: "城关区",
			Text: "今日按时办结率 80.00%", TextEN: "On-time closure today 80.00%", State: "acknowledged", FiredAt: "2026-06-01T09:30:00+08:00", FiredText: "06-01 09:30", AckedBy: "张三"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("adapted\n%+v\nwant\n%+v", got, want)
	}
}

// TestReportsFirstPaint: the hotline screen's reports widget draws the
// board Config.Reports gives for the screen's region, or an empty one
// when the wall has no reports.
func TestReportsFirstPaint(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		reports func(string) widget.ReportBoard
		url     string
		asked   string
		want    []string
	}{
		{"a board", func(string) widget.ReportBoard { return adapt(t, board()) }, "/screens/hotline", "620000", []string{
			`<div class="reports" data-top="critical" data-unacked="1">`, `<span class="rp-unacked">未确认 1 条</span>`,
			`<li class="rp sev-critical" data-id="a1" data-state="firing">`, `<span class="rp-title">接通率低</span>`,
			`<span class="rp-state">已确认 · 确认人 张三</span>`, `"topic":"report:620000"`,
		}},
		{"a city's", func(string) widget.ReportBoard { return adapt(t, board()) }, "/screens/hotline?region=620800&lang=en", "620800", []string{
			`<span class="rp-title">Answer rate low</span>`, `<span class="rp-unacked">1 unacknowledged</span>`,
		}},
		{"no reports", nil, "/screens/hotline", "", []string{
			`<div class="reports" data-top="" data-unacked="0">`, `<li class="rp-none">暂无特别呈报</li>`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			cfg := Config{Screens: set, Live: sampleLive()}
			if tc.reports != nil {
				cfg.Reports = func(r string) widget.ReportBoard { asked = append(asked, r); return tc.reports(r) }
			}
			pageHas(t, appOf(t, cfg), tc.url, tc.want...)
			if strings.Join(asked, ",") != tc.asked {
				t.Errorf("boards asked for %v, want %s", asked, tc.asked)
			}
		})
	}
}

// TestReportsFollowTheHubInChromium: the reports widget of the hotline
// screen shows its first paint, then each Board the report topic
// carries, as given: order, counts, severity classes, markup as text.
func TestReportsFollowTheHubInChromium(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv, h := serveWall(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{"demo-cases"} },
		Reports: func(string) widget.ReportBoard { return adapt(t, board()) }})
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/screens/hotline")); err != nil {
		t.Fatal(err)
	}
	const rows = `Array.from(document.querySelectorAll(".w-reports li.rp")).map(li => [li.dataset.id, li.className, li.dataset.state, li.querySelector(".rp-title").textContent, li.querySelector(".rp-state").textContent].join(" ")).join(", ")`
	waitJS(ctx, t, "first paint", rows+` === "a1 rp sev-critical firing 接通率低 待确认, b2 rp sev-warning acknowledged 按时办结率低 已确认 · 确认人 张三"`, 5*time.Second)
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)

	// A new critical report whose title is markup, the first one
	// acknowledged, four in all: three rows shown, the rest counted.
	b := board()
	b.Reports[0].State, b.Reports[0].AckedBy = report.StateAcknowledged, "李四"
	fresh := b.Reports[0]
	fresh.ID, fresh.Title, fresh.State, fresh.AckedBy, fresh.RegionName = "c3", `<img src=x onerror="document.title='pwned'">`, report.StateFiring, "", "泾川县"
	info := b.Reports[1]
	info.ID, info.Severity, info.Title, info.State, info.AckedBy = "d4", report.Info, "数据源中断", report.StateFiring, ""
	b.Reports = []report.Report{fresh, b.Reports[0], b.Reports[1], info}
	b.Unacked = 2
	publish(t, h, live.ReportTopic("620000"), b)
	want := fmt.Sprintf("c3 rp sev-critical firing %s 待确认, a1 rp sev-critical acknowledged 接通率低 已确认 · 确认人 李四, b2 rp sev-warning acknowledged 按时办结率低 已确认 · 确认人 张三", fresh.Title)
	waitJS(ctx, t, "the pushed board", rows+` === `+jsString(want), 5*time.Second)
	var got struct {
		Unacked, Total, More string
		Imgs                 int
		Top                  string
		Border               string
	}
	chromedp.Run(ctx, chromedp.Evaluate(`({
		unacked: document.querySelector(".w-reports .rp-unacked").textContent,
		total: document.querySelector(".w-reports .rp-total").textContent,
		more: document.querySelector(".w-reports .rp-more").hidden ? "" : document.querySelector(".w-reports .rp-more").textContent,
		imgs: document.querySelectorAll(".w-reports img").length,
		top: document.querySelector(".w-reports .reports").dataset.top,
		border: getComputedStyle(document.querySelector(".w-reports")).borderTopColor,
	})`, &got))
	if got.Unacked != "未确认 2 条" || got.Total != "共 4 条" || got.More != "另有 1 条" || got.Imgs != 0 || got.Top != "critical" || got.Border != "rgb(248, 113, 113)" {
		t.Errorf("after the push: %+v", got)
	}

	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
		t.Logf("screenshot %s", browsertest.Artifact(t, "screen-hotline-reports.png", png))
	}

	// Nothing open: the widget says so.
	publish(t, h, live.ReportTopic("620000"), report.Board{Region: "620000", RegionName: "甘肃省", Reports: []report.Report{}})
	waitJS(ctx, t, "none open", `document.querySelector(".w-reports .rp-none").textContent === "暂无特别呈报" && document.querySelector(".w-reports .rp-more").hidden && document.querySelector(".w-reports .reports").dataset.unacked === "0"`, 5*time.Second)
	watch.Check(t, srv.URL)
}
