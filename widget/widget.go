package widget

import (
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

// Spec is one widget type: the settings a screen file gives a widget of
// that type, and what the type does with them. A pointer to the type's
// settings struct implements it; Kind.New returns a zero one to parse into.
type Spec interface {
	// Keys lists the YAML keys the type takes besides type, title and at,
	// in the order messages list them. "region" and "period" among them
	// are read by the loader (they override the screen's).
	Keys() []string
	// Parse reads the type's own keys and fills in its defaults; problems
	// are recorded on in. After a Parse without problems the settings are
	// final: Render does not check them again.
	Parse(in *Input)
	// Shows lists the indicators the widget shows (not the composite).
	Shows() []string
	// Render draws the widget's first paint on one page.
	Render(pg *Page, b Box) (View, error)
}

// RegionFitter is implemented by the types that cannot show every region
// (a map needs a province or a city, a ranking subdivisions). Fit says why
// the type cannot show region c, or "".
type RegionFitter interface {
	Fit(c region.Code, regions *region.Table) string
}

// Box is where and for what one widget draws, resolved by the wall: the
// widget's own region and period, else the request's, else the screen's.
type Box struct {
	ID     string // the id of the widget's section, unique in its page
	Title  string // the screen's title for the widget in the page's language; "" for none
	W, H   int    // size in design pixels
	Region string
	Period string
}

// View is a widget's first paint.
type View struct {
	// Title is the widget's default title, shown when the screen gives
	// none.
	Title string
	// HTML is the widget's body inside its section, below the title.
	HTML template.HTML
	// Config is handed to the type's script as w.cfg (encoding/json): the
	// topics it follows, chart options, its first payloads, its words.
	Config any
}

// Data is what widgets draw their first paint from, for one page: the
// same payloads the hub pushes later, presented by live.Presenter. The
// wall implements it; a problem reading the engine is the wall's to
// report, so the methods return no error (a value then shows as empty).
type Data interface {
	Value(ind, reg, period string) live.Value
	Ranking(ind, parent, period string) live.Ranking // ind may be live.Composite
	Series(ind, reg string, days int) Series
	// Sources lists the collector sources whose health screens show.
	Sources() []string
	// Reports is the board of a region's open special reports, as its
	// report topic (live.ReportTopic) would carry it now; a wall without
	// reports gives an empty board.
	Reports(region string) ReportBoard
	// Surges is the board of the hotline categories surging in a region
	// and below, as its surge topic (live.SurgeTopic) would carry it now;
	// a wall without trend sensing gives an empty board.
	Surges(region string) live.SurgeBoard
	// Orders is the board of the open supervision orders of a region and
	// below, as its orders topic (live.OrdersTopic) would carry it now; a
	// wall without dispatch gives an empty board.
	Orders(region string) OrderBoard
}

// Series is an indicator's daily history, oldest first: one date per day
// (YYYY-MM-DD) and the value in display units (numtext.Display), nil for a
// day without a value.
type Series struct {
	Dates  []string
	Points []*float64
}

// Page is one request's view of the screens' data, shared by the widgets
// of a page.
type Page struct {
	Lang      string // "zh" or "en"
	Data      Data
	Presenter *live.Presenter
	scripts   map[string]bool
}

// NewPage returns a page in lang ("en", else Chinese) drawing from d and
// naming regions and judging targets with p.
func NewPage(lang string, d Data, p *live.Presenter) *Page {
	if lang != "en" {
		lang = "zh"
	}
	return &Page{Lang: lang, Data: d, Presenter: p, scripts: map[string]bool{}}
}

// Require asks the page to load a script before the widgets start (a map's
// shapes, from package assets).
func (p *Page) Require(script string) { p.scripts[script] = true }

// Scripts returns the scripts the widgets required, sorted.
func (p *Page) Scripts() []string {
	out := make([]string, 0, len(p.scripts))
	for s := range p.scripts {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Name returns a region's name, or its code when the table has none.
func (p *Page) Name(code string) string {
	if n, ok := p.Presenter.Regions().Name(region.Code(code)); ok {
		return n
	}
	return code
}

// Children returns the codes of a region's subdivisions.
func (p *Page) Children(code string) []string {
	cs := p.Presenter.Regions().Children(region.Code(code))
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// IndicatorName returns an indicator's name in the page's language;
// live.Composite is the composite score.
func (p *Page) IndicatorName(id string) string {
	if id == live.Composite {
		return common.In(p.Lang)["composite"]
	}
	d, _ := indicator.Lookup(id)
	if p.Lang == "en" {
		return d.NameEN
	}
	return d.Name
}

// Words are a type's UI texts: language → key → text, Chinese first.
type Words map[string]map[string]string

// In returns the words of lang, Chinese for any language but English.
func (w Words) In(lang string) map[string]string {
	if lang == "en" {
		return w["en"]
	}
	return w["zh"]
}

// common are the words more than one type uses.
var common = Words{
	"zh": {"composite": "综合指数", "status.green": "达标", "status.amber": "预警", "status.red": "落后"},
	"en": {"composite": "Composite score", "status.green": "On target", "status.amber": "Watch", "status.red": "Behind"},
}

// titleBar is the height of a widget's title bar, in design pixels.
const titleBar = 44

// val is one shown value as an element with data-* attributes (template
// "val"): people and tests read exactly what a screen shows.
type val struct {
	Indicator, Region, Period string
	Name, Label               string // whose (region) and what (indicator)
	Value, Num, Den           string // raw, "" when null
	Text, Status              string
}

// valueVal is the element of a Value payload.
func valueVal(v live.Value) val {
	out := val{Indicator: v.Indicator, Region: v.Region, Period: v.Period, Text: v.Text, Status: v.Status,
		Num: strconv.FormatInt(v.Numerator, 10)}
	if v.Value != nil {
		out.Value = strconv.FormatFloat(*v.Value, 'g', -1, 64)
	}
	if v.Denominator != nil {
		out.Den = strconv.FormatInt(*v.Denominator, 10)
	}
	return out
}

// rowVal is the element of one row of a ranking.
func rowVal(r live.Ranking, row live.RankRow) val {
	out := val{Indicator: r.Indicator, Region: row.Region, Period: r.Period, Name: row.Name, Text: row.Text, Status: row.Status}
	if row.Value != nil {
		out.Value = strconv.FormatFloat(*row.Value, 'g', -1, 64)
	}
	return out
}

// base holds the templates every type shares: "val", a value element;
// "values", a list of them (visually hidden unless .Visible), which chart
// widgets keep beside the chart; "chart", a chart's element.
var base = template.Must(template.New("base").Parse(`
{{- define "val"}}<span class="val{{if .Status}} s-{{.Status}}{{end}}" data-indicator="{{.Indicator}}" data-region="{{.Region}}" data-period="{{.Period}}" data-value="{{.Value}}" data-num="{{.Num}}" data-den="{{.Den}}">{{.Text}}</span>{{end}}
{{- define "values"}}<ul class="values{{if not .Visible}} sr-only{{end}}">{{range .Items}}<li><span class="nm">{{.Name}} {{.Label}}</span> {{template "val" .}}</li>{{end}}</ul>{{end}}
{{- define "chart"}}<div class="item" id="{{.}}"></div>{{end}}`))

// values is the data of template "values".
type values struct {
	Visible bool
	Items   []val
}

// mustTemplate parses a type's template beside the shared ones. It runs
// at package initialisation, so a broken template fails every test.
func mustTemplate(name, text string) *template.Template {
	return template.Must(template.Must(base.Clone()).New(name).Parse(text))
}

// render executes a type's template.
func render(t *template.Template, data any) (template.HTML, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	// html/template escaped every value for its context.
	return template.HTML(b.String()), nil
}

// names returns the names of the kinds, in registry order.
func names(kinds []Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

// usedElsewhere reports whether some type takes key.
func usedElsewhere(kinds []Kind, key string) bool {
	for _, k := range kinds {
		if slices.Contains(k.New().Keys(), key) {
			return true
		}
	}
	return false
}
