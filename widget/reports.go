package widget

import (
	_ "embed"
	"fmt"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed reports.js
var reportsJS string

// Limits of a reports widget's list.
const (
	defaultReportRows = 6
	maxReportRows     = 50
)

// Reports lists the open special reports (特别呈报) of the region and
// below, most severe first as the server orders them, with the count of
// those nobody has acknowledged. YAML: rows (reports listed, default 6,
// 1..50; the summary tells how many more there are), region.
type Reports struct {
	Rows int
}

// ReportBoard is the payload of a report topic (live.ReportTopic) as the
// reports widget reads it: the fields of package report's Board it shows,
// under the same JSON names. Package widget depends on no server part
// (package report brings the access database with it): the app adapts
// report.Board to it, by a JSON round trip or field by field.
type ReportBoard struct {
	Region     string       `json:"region"`
	RegionName string       `json:"region_name"`
	Reports    []ReportItem `json:"reports"`
	// Unacked counts the reports nobody has acknowledged.
	Unacked int    `json:"unacked"`
	AsOf    string `json:"as_of"`
}

// ReportItem is one open report of a ReportBoard (report.Report's fields
// of the same JSON names). Severity is info, warning or critical; State
// firing or acknowledged; times are RFC 3339 in the business time zone.
type ReportItem struct {
	ID         string `json:"id"`
	Rule       string `json:"rule"`
	Title      string `json:"title"`
	TitleEN    string `json:"title_en"`
	Severity   string `json:"severity"`
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	Text       string `json:"text"`
	TextEN     string `json:"text_en"`
	State      string `json:"state"`
	FiredAt    string `json:"fired_at"`
	FiredText  string `json:"fired_text"` // as shown: "06-01 10:01"
	AckedBy    string `json:"acked_by"`
}

// Keys implements Spec.
func (*Reports) Keys() []string { return []string{"rows", "region"} }

// Parse implements Spec.
func (r *Reports) Parse(in *Input) { r.Rows = in.Int("rows", defaultReportRows, 1, maxReportRows) }

// Shows implements Spec.
func (*Reports) Shows() []string { return nil }

var reportsWords = Words{
	"zh": {
		"title": "特别呈报", "none": "暂无特别呈报", "unacked": "未确认 %d 条", "total": "共 %d 条", "more": "另有 %d 条",
		"sev.critical": "严重", "sev.warning": "警告", "sev.info": "提示",
		"state.firing": "待确认", "state.acknowledged": "已确认", "acked_by": "确认人 ",
	},
	"en": {
		"title": "Special reports", "none": "No open special reports", "unacked": "%d unacknowledged", "total": "%d open", "more": "%d more",
		"sev.critical": "Critical", "sev.warning": "Warning", "sev.info": "Info",
		"state.firing": "Unacknowledged", "state.acknowledged": "Acknowledged", "acked_by": "by ",
	},
}

// The template draws what reports.js draws from each later Board: change
// one with the other.
var reportsHTML = mustTemplate("reports", `<div class="reports" data-top="{{.Top}}" data-unacked="{{.Unacked}}">
<div class="rp-sum"><span class="rp-unacked">{{.UnackedText}}</span><span class="rp-total">{{.TotalText}}</span><span class="rp-more"{{if not .More}} hidden{{end}}>{{.MoreText}}</span></div>
<ol class="rp-list">{{range .Items}}<li class="rp sev-{{.Severity}}" data-id="{{.ID}}" data-state="{{.State}}"><div class="rp-line"><span class="rp-sev">{{.SeverityLabel}}</span><span class="rp-title">{{.Title}}</span><span class="rp-region">{{.RegionName}}</span><span class="rp-time">{{.Fired}}</span><span class="rp-state">{{.StateLabel}}</span></div><p class="rp-text">{{.Text}}</p></li>{{else}}<li class="rp-none">{{.None}}</li>{{end}}</ol>
</div>`)

// reportsView is what the template draws.
type reportsView struct {
	Top                          string // the severity of the first report, "" for none
	Unacked                      int
	UnackedText, TotalText, None string
	Items                        []reportView
	More                         int
	MoreText                     string
}

// reportView is one report as the widget shows it.
type reportView struct {
	ID, Severity, SeverityLabel, Title, RegionName, Fired, State, StateLabel, Text string
}

// reportsConfig is what reports.js reads.
type reportsConfig struct {
	Topic string            `json:"topic"`
	Rows  int               `json:"rows"`
	Lang  string            `json:"lang"`
	T     map[string]string `json:"t"`
}

// Render implements Spec: the first paint from the board the hub would
// send now.
func (r *Reports) Render(pg *Page, b Box) (View, error) {
	words := reportsWords.In(pg.Lang)
	board := pg.Data.Reports(b.Region)
	v := reportsView{Unacked: board.Unacked, None: words["none"],
		UnackedText: fmt.Sprintf(words["unacked"], board.Unacked), TotalText: fmt.Sprintf(words["total"], len(board.Reports))}
	if len(board.Reports) > 0 {
		v.Top = board.Reports[0].Severity
	}
	for i, it := range board.Reports {
		if i == r.Rows {
			v.More = len(board.Reports) - r.Rows
			break
		}
		state := words["state."+it.State]
		if it.AckedBy != "" {
			state += " · " + words["acked_by"] + it.AckedBy
		}
		v.Items = append(v.Items, reportView{ID: it.ID, Severity: it.Severity, SeverityLabel: words["sev."+it.Severity],
			Title: inLang(pg.Lang, it.Title, it.TitleEN), RegionName: it.RegionName, Fired: it.FiredText,
			State: it.State, StateLabel: state, Text: inLang(pg.Lang, it.Text, it.TextEN)})
	}
	v.MoreText = fmt.Sprintf(words["more"], v.More)
	html, err := render(reportsHTML, v)
	return View{
		Title:  words["title"],
		HTML:   html,
		Config: reportsConfig{Topic: live.ReportTopic(b.Region), Rows: r.Rows, Lang: pg.Lang, T: words},
	}, err
}

// inLang picks the English text on an English page when there is one.
func inLang(lang, zh, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return zh
}
