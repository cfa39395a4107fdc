package widget

import (
	_ "embed"
	"html/template"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed ticker.js
var tickerJS string

// SourceTickets is the ticker source of 12345 hotline tickets, the only one.
const SourceTickets = "tickets"

// Limits of a ticker's list.
const (
	defaultTickerRows = 20
	maxTickerRows     = 200
)

// Ticker scrolls the newest 12345 hotline tickets of the region and below.
// YAML: source (tickets, the default and only one), rows (lines kept,
// default 20, 1..200), region.
type Ticker struct {
	Source string
	Rows   int
}

// Keys implements Spec.
func (*Ticker) Keys() []string { return []string{"source", "rows", "region"} }

// Parse implements Spec.
func (t *Ticker) Parse(in *Input) {
	t.Source = SourceTickets
	if n, ok := in.Field("source"); ok {
		if s, good := in.Reader().Str(n, in.Path("source")); good && s != SourceTickets {
			in.Errorf(n, "source", "unknown source %q; want %s (12345 hotline tickets)", s, SourceTickets)
		}
	}
	t.Rows = in.Int("rows", defaultTickerRows, 1, maxTickerRows)
}

// Shows implements Spec.
func (*Ticker) Shows() []string { return nil }

var tickerWords = Words{
	"zh": {
		"title": "12345热线实时工单", "none": "暂无工单",
		"kind.consult": "咨询", "kind.help": "求助", "kind.complaint": "投诉", "kind.report": "举报", "kind.suggestion": "建议", "kind.praise": "表扬",
		"channel.phone": "电话", "channel.web": "网站", "channel.wechat": "微信", "channel.app": "App", "channel.message_board": "留言板", "channel.other": "其他",
		"state.received": "已受理", "state.direct": "已直办", "state.assigned": "已派单", "state.closed": "已办结",
	},
	"en": {
		"title": "12345 hotline tickets, live", "none": "No tickets yet",
		"kind.consult": "Enquiry", "kind.help": "Help", "kind.complaint": "Complaint", "kind.report": "Report", "kind.suggestion": "Suggestion", "kind.praise": "Praise",
		"channel.phone": "Phone", "channel.web": "Web", "channel.wechat": "WeChat", "channel.app": "App", "channel.message_board": "Message board", "channel.other": "Other",
		"state.received": "Received", "state.direct": "Handled on call", "state.assigned": "Assigned", "state.closed": "Closed",
	},
}

// tickerConfig is what ticker.js reads.
type tickerConfig struct {
	Topic string            `json:"topic"`
	Rows  int               `json:"rows"`
	T     map[string]string `json:"t"`
}

// Render implements Spec. The list is filled by the topic's snapshot.
func (t *Ticker) Render(pg *Page, b Box) (View, error) {
	words := tickerWords.In(pg.Lang)
	return View{
		Title:  words["title"],
		HTML:   template.HTML(`<ul class="ticker" aria-live="off"></ul>`),
		Config: tickerConfig{Topic: live.TickerTopic(b.Region), Rows: t.Rows, T: words},
	}, nil
}
