package widget

import (
	_ "embed"
	"fmt"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed surge.js
var surgeJS string

// defaultSurgeRows is how many surges a surge widget lists unless told.
const defaultSurgeRows = 4

// Surge lists the hotline ticket categories surging now in the region and
// below (趋势感知), strongest first as the server orders them: each with
// its region, its count today or in the last hour against the baseline
// the detector expected, the excess, the detector and since when. YAML:
// rows (surges listed, default 4, 1..live.SurgeRows; the summary tells
// how many more there are), region.
type Surge struct {
	Rows int
}

// Keys implements Spec.
func (*Surge) Keys() []string { return []string{"rows", "region"} }

// Parse implements Spec.
func (s *Surge) Parse(in *Input) { s.Rows = in.Int("rows", defaultSurgeRows, 1, live.SurgeRows) }

// Shows implements Spec.
func (*Surge) Shows() []string { return nil }

var surgeWords = Words{
	"zh": {
		"title": "趋势感知", "none": "暂无异常趋势", "total": "异常 %d 项", "more": "另有 %d 项",
		"count": "%d 件", "baseline": "基线 %s", "since": "%s 起",
		"win.day": "今日", "win.hour": "近1小时",
		"m.ears_c1": "EARS C1", "m.ears_c2": "EARS C2", "m.ears_c3": "EARS C3", "m.nb_cusum": "负二项 CUSUM",
	},
	"en": {
		"title": "Surges", "none": "No surges", "total": "%d surging", "more": "%d more",
		"count": "%d tickets", "baseline": "baseline %s", "since": "since %s",
		"win.day": "Today", "win.hour": "Last hour",
		"m.ears_c1": "EARS C1", "m.ears_c2": "EARS C2", "m.ears_c3": "EARS C3", "m.nb_cusum": "NB CUSUM",
	},
}

// The template draws what surge.js draws from each later board: change
// one with the other.
var surgeHTML = mustTemplate("surge", `<div class="surge" data-count="{{.Count}}">
<div class="sg-sum"><span class="sg-total">{{.TotalText}}</span><span class="sg-more"{{if not .More}} hidden{{end}}>{{.MoreText}}</span></div>
<ol class="sg-list">{{range .Rows}}<li class="sg win-{{.Window}}" data-category="{{.Category}}" data-region="{{.Region}}" data-window="{{.Window}}" data-method="{{.Method}}"><div class="sg-line"><span class="sg-cat">{{.Category}}</span><span class="sg-region">{{.RegionName}}</span><span class="sg-win">{{.WindowLabel}}</span><span class="sg-count">{{.CountText}}</span><span class="sg-base">{{.BaselineText}}</span><span class="sg-excess">{{.ExcessText}}</span></div><div class="sg-meta"><span class="sg-method">{{.MethodLabel}}</span><span class="sg-since">{{.SinceText}}</span></div></li>{{else}}<li class="sg-none">{{.None}}</li>{{end}}</ol>
</div>`)

// surgeView is what the template draws.
type surgeView struct {
	Count                     int
	TotalText, None, MoreText string
	More                      int
	Rows                      []surgeRowView
}

// surgeRowView is one surge as the widget shows it.
type surgeRowView struct {
	Category, Region, RegionName, Window, WindowLabel, Method, MethodLabel string
	CountText, BaselineText, ExcessText, SinceText                         string
}

// surgeConfig is what surge.js reads.
type surgeConfig struct {
	Topic string            `json:"topic"`
	Rows  int               `json:"rows"`
	T     map[string]string `json:"t"`
}

// Render implements Spec: the first paint from the board the hub would
// send now.
func (s *Surge) Render(pg *Page, b Box) (View, error) {
	words := surgeWords.In(pg.Lang)
	board := pg.Data.Surges(b.Region)
	v := surgeView{Count: len(board.Rows), None: words["none"], TotalText: fmt.Sprintf(words["total"], len(board.Rows))}
	for i, r := range board.Rows {
		if i == s.Rows {
			v.More = len(board.Rows) - s.Rows
			break
		}
		name := r.RegionName
		if name == "" {
			name = r.Region
		}
		v.Rows = append(v.Rows, surgeRowView{Category: r.Category, Region: r.Region, RegionName: name,
			Window: r.Window, WindowLabel: surgeLabel(words, "win.", r.Window), Method: r.Method, MethodLabel: surgeLabel(words, "m.", r.Method),
			CountText:    fmt.Sprintf(words["count"], r.Count),
			BaselineText: fmt.Sprintf(words["baseline"], r.ExpectedText),
			ExcessText:   r.ExcessText,
			SinceText:    fmt.Sprintf(words["since"], r.SinceClock)})
	}
	v.MoreText = fmt.Sprintf(words["more"], v.More)
	html, err := render(surgeHTML, v)
	return View{
		Title:  words["title"],
		HTML:   html,
		Config: surgeConfig{Topic: live.SurgeTopic(b.Region), Rows: s.Rows, T: words},
	}, err
}

// surgeLabel is the word for a payload's code, else the code itself, as
// surge.js does.
func surgeLabel(words map[string]string, prefix, code string) string {
	if w, ok := words[prefix+code]; ok {
		return w
	}
	return code
}
