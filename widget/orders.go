package widget

import (
	_ "embed"
	"fmt"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed orders.js
var ordersJS string

// Limits of an orders widget's list.
const (
	defaultOrderRows = 6
	maxOrderRows     = 30
)

// Orders lists the open supervision orders (督办单) of the region and
// below by unit, overdue first as the server orders them, overdue ones in
// red, with the counts of open and overdue orders. YAML: rows (orders
// listed, default 6, 1..30; the summary tells how many more there are),
// region.
type Orders struct {
	Rows int
}

// OrderBoard is the payload of an orders topic (live.OrdersTopic) as the
// orders widget reads it. Package widget depends on no server part: the
// app builds it from package dispatch's orders.
type OrderBoard struct {
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	// Open counts the open orders (not verified or withdrawn) of the
	// region and below, Overdue those of them past their deadline; Orders
	// are the first of them, overdue first, then by deadline.
	Open    int         `json:"open"`
	Overdue int         `json:"overdue"`
	Orders  []OrderItem `json:"orders"`
	AsOf    string      `json:"as_of"`
}

// OrderItem is one open order of an OrderBoard. State is package
// dispatch's (issued, signed, replied, returned), Timing its timing at
// AsOf (on_track, due_soon, overdue, waiting); Deadline is RFC 3339 in the
// business time zone.
type OrderItem struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Unit     string `json:"unit"`
	UnitName string `json:"unit_name"`
	Dept     string `json:"dept,omitempty"`
	State    string `json:"state"`
	Timing   string `json:"timing"`
	Deadline string `json:"deadline"`
	// DeadlineText is Deadline as shown: "06-02 00:00".
	DeadlineText string `json:"deadline_text"`
}

// Keys implements Spec.
func (*Orders) Keys() []string { return []string{"rows", "region"} }

// Parse implements Spec.
func (o *Orders) Parse(in *Input) { o.Rows = in.Int("rows", defaultOrderRows, 1, maxOrderRows) }

// Shows implements Spec.
func (*Orders) Shows() []string { return nil }

var ordersWords = Words{
	"zh": {
		"title": "督办事项", "none": "暂无未办结督办单", "open": "未办结 %d 件", "overdue": "超期 %d 件", "more": "另有 %d 件",
		"state.issued": "待签收", "state.signed": "办理中", "state.replied": "待审核", "state.returned": "已退回",
		"timing.on_track": "正常", "timing.due_soon": "临期", "timing.overdue": "超期", "timing.waiting": "待审核",
		"due": "时限 ",
	},
	"en": {
		"title": "Supervision orders", "none": "No open orders", "open": "%d open", "overdue": "%d overdue", "more": "%d more",
		"state.issued": "To sign", "state.signed": "In hand", "state.replied": "To verify", "state.returned": "Returned",
		"timing.on_track": "On track", "timing.due_soon": "Due soon", "timing.overdue": "Overdue", "timing.waiting": "To verify",
		"due": "due ",
	},
}

// The template draws what orders.js draws from each later board: change
// one with the other.
var ordersHTML = mustTemplate("orders", `<div class="orders" data-overdue="{{.Overdue}}">
<div class="od-sum"><span class="od-open">{{.OpenText}}</span><span class="od-late">{{.OverdueText}}</span><span class="od-more"{{if not .More}} hidden{{end}}>{{.MoreText}}</span></div>
<ol class="od-list">{{range .Items}}<li class="od t-{{.Timing}}" data-id="{{.ID}}" data-state="{{.State}}" data-timing="{{.Timing}}"><span class="od-unit">{{.Unit}}</span><span class="od-title">{{.Title}}</span><span class="od-timing">{{.TimingLabel}}</span><span class="od-state">{{.StateLabel}}</span><span class="od-due">{{.Due}}</span></li>{{else}}<li class="od-none">{{.None}}</li>{{end}}</ol>
</div>`)

type ordersView struct {
	Overdue                     int
	OpenText, OverdueText, None string
	Items                       []orderView
	More                        int
	MoreText                    string
}

type orderView struct {
	ID, Unit, Title, State, StateLabel, Timing, TimingLabel, Due string
}

// ordersConfig is what orders.js reads.
type ordersConfig struct {
	Topic string            `json:"topic"`
	Rows  int               `json:"rows"`
	T     map[string]string `json:"t"`
}

// Render implements Spec: the first paint from the board the hub would
// send now.
func (o *Orders) Render(pg *Page, b Box) (View, error) {
	words := ordersWords.In(pg.Lang)
	board := pg.Data.Orders(b.Region)
	v := ordersView{Overdue: board.Overdue, None: words["none"],
		OpenText: fmt.Sprintf(words["open"], board.Open), OverdueText: fmt.Sprintf(words["overdue"], board.Overdue)}
	for i, it := range board.Orders {
		if i == o.Rows {
			break
		}
		v.Items = append(v.Items, orderView{ID: it.ID, Unit: orderUnit(it), Title: it.Title, State: it.State,
			StateLabel: wordOr(words, "state.", it.State), Timing: it.Timing, TimingLabel: wordOr(words, "timing.", it.Timing),
			Due: words["due"] + it.DeadlineText})
	}
	if n := board.Open - len(v.Items); n > 0 {
		v.More = n
	}
	v.MoreText = fmt.Sprintf(words["more"], v.More)
	html, err := render(ordersHTML, v)
	return View{
		Title:  words["title"],
		HTML:   html,
		Config: ordersConfig{Topic: live.OrdersTopic(b.Region), Rows: o.Rows, T: words},
	}, err
}

// orderUnit names an order's unit as orders.js does: the region's name
// and the department.
func orderUnit(it OrderItem) string {
	name := it.UnitName
	if name == "" {
		name = it.Unit
	}
	if it.Dept != "" {
		name += " · " + it.Dept
	}
	return name
}

// wordOr is the word for prefix+code, else the code.
func wordOr(words map[string]string, prefix, code string) string {
	if w, ok := words[prefix+code]; ok {
		return w
	}
	return code
}
