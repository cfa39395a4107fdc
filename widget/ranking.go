package widget

import (
	_ "embed"
	"fmt"
	"html/template"
	"time"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

//go:embed ranking.js
var rankingJS string

// Limits of a ranking carousel.
const (
	defaultRotate = 8 * time.Second
	minRotate     = 2 * time.Second
	defaultRows   = 10
	maxRows       = 100
)

// Ranking is a table ranking the region's subdivisions, cycling through
// its indicators. YAML: indicators, rotate (default 8s, at least 2s), rows
// (default 10, 1..100), region, period.
type Ranking struct {
	Indicators []string
	Rotate     time.Duration
	Rows       int
}

// Keys implements Spec.
func (*Ranking) Keys() []string { return []string{"indicators", "rotate", "rows", "region", "period"} }

// Parse implements Spec.
func (r *Ranking) Parse(in *Input) {
	r.Indicators = in.Indicators(1, len(indicator.All()), false)
	r.Rotate = in.Duration("rotate", defaultRotate, minRotate)
	r.Rows = in.Int("rows", defaultRows, 1, maxRows)
}

// Shows implements Spec.
func (r *Ranking) Shows() []string { return r.Indicators }

// Fit implements RegionFitter.
func (*Ranking) Fit(c region.Code, t *region.Table) string { return fitChildren(c, t) }

// fitChildren: a ranking needs subdivisions to rank.
func fitChildren(c region.Code, t *region.Table) string {
	if len(t.Children(c)) == 0 {
		return "it has no subdivisions to rank"
	}
	return ""
}

var rankingWords = Words{"zh": {"title": "排行榜"}, "en": {"title": "Rankings"}}

var rankingHTML = mustTemplate("ranking", `<div class="carousel" style="{{.RowStyle}}">
{{- range $i, $l := .Lists}}<div class="rank-list{{if eq $i 0}} on{{end}}" data-list="{{$l.Indicator}}"><div class="rank-title">{{$l.Title}}</div><ol>
{{- range $l.Rows}}<li class="rank-row" data-region="{{.Val.Region}}" data-rank="{{.Rank}}"><span class="rk">{{if .Rank}}{{.Rank}}{{else}}—{{end}}</span><span class="nm">{{.Val.Name}}</span><span class="bar"><i style="width:{{.Bar}}%"></i></span>{{template "val" .Val}}</li>{{end -}}
</ol></div>{{end -}}
</div>`)

// rankingConfig is what ranking.js reads.
type rankingConfig struct {
	Topics   []string `json:"topics"` // one ranking topic per list, in order
	RotateMs int64    `json:"rotate_ms"`
}

// Render implements Spec.
func (r *Ranking) Render(pg *Page, b Box) (View, error) {
	type row struct {
		Rank int
		Bar  float64
		Val  val
	}
	type list struct {
		Indicator, Title string
		Rows             []row
	}
	data := struct {
		RowStyle template.CSS
		Lists    []list
	}{}
	cfg := rankingConfig{RotateMs: r.Rotate.Milliseconds()}
	n := 0
	for _, ind := range r.Indicators {
		rk := pg.Data.Ranking(ind, b.Region, b.Period)
		l := list{Indicator: ind, Title: pg.IndicatorName(ind)}
		for _, x := range rk.Rows {
			l.Rows = append(l.Rows, row{Rank: x.Rank, Bar: x.Bar, Val: rowVal(rk, x)})
		}
		n = max(n, len(l.Rows))
		data.Lists = append(data.Lists, l)
		cfg.Topics = append(cfg.Topics, live.RankingTopic(ind, b.Region, b.Period))
	}
	// Rows high enough to fill the widget with Rows rows, within reason.
	if rows := min(r.Rows, n); rows > 0 {
		h := min(44, max(20, (b.H-titleBar-40-8)/rows))
		data.RowStyle = template.CSS(fmt.Sprintf("--row-h:%dpx", h))
	}
	html, err := render(rankingHTML, data)
	return View{Title: rankingWords.In(pg.Lang)["title"], HTML: html, Config: cfg}, err
}
