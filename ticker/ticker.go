// Package ticker keeps the newest hotline tickets for the wall screens'
// live ticker and publishes them to the hub. It sits beside the engine on
// the collectors' path: every batch of tickets the collectors file goes to
// the engine and to the ticker (see Tee).
//
// The topic's value is the whole list of the newest tickets, newest first,
// not one message per ticket: a screen that connects or resumes gets the
// list as its snapshot, and the hub's coalescing can merge bursts without
// losing a line.
package ticker

import (
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

// Topic is the hub topic of the ticket ticker.
const Topic = "ticker:tickets"

// DefaultSize is how many tickets the ticker keeps.
const DefaultSize = 30

// Line is one ticket as the screens show it. It carries no citizen data:
// the platform's ticket content never leaves the engine.
type Line struct {
	ID         string `json:"id"`
	ReceivedAt string `json:"received_at"` // RFC 3339 in the business time zone
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	Kind       string `json:"kind"`    // consult, help, complaint, report, suggestion, praise
	Channel    string `json:"channel"` // phone, web, wechat, app
	// State is the ticket's progress: received, direct (handled on the
	// call), assigned, closed.
	State string `json:"state"`
}

// Publisher is where the list goes; *hub.Hub implements it.
type Publisher interface {
	Publish(topic string, data json.RawMessage) error
}

// Ticker holds the newest tickets by receive time.
type Ticker struct {
	pub   Publisher
	names *region.Table
	loc   *time.Location
	size  int

	mu    sync.Mutex
	lines []entry // newest first, at most size
}

type entry struct {
	received int64
	line     Line
}

// New returns a ticker that keeps size tickets (DefaultSize when ≤ 0) and
// publishes to pub.
func New(pub Publisher, names *region.Table, loc *time.Location, size int) *Ticker {
	if size <= 0 {
		size = DefaultSize
	}
	if loc == nil {
		loc = time.Local
	}
	return &Ticker{pub: pub, names: names, loc: loc, size: size}
}

// Add takes a batch of tickets (new or updated) and publishes the list when
// it changed. A ticket already listed is updated in place.
func (t *Ticker) Add(ts []record.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	t.mu.Lock()
	changed := false
	for i := range ts {
		if t.add(&ts[i]) {
			changed = true
		}
	}
	var data []byte
	var err error
	if changed {
		data, err = json.Marshal(t.listLocked())
	}
	t.mu.Unlock()
	if !changed || err != nil {
		return err
	}
	return t.pub.Publish(Topic, data)
}

func (t *Ticker) add(tk *record.Ticket) bool {
	for i := range t.lines {
		if t.lines[i].line.ID == tk.ID {
			l := t.line(tk)
			if l == t.lines[i].line {
				return false
			}
			t.lines = append(t.lines[:i], t.lines[i+1:]...)
			break
		}
	}
	if len(t.lines) == t.size && tk.Received <= t.lines[len(t.lines)-1].received {
		return false // older than everything kept
	}
	e := entry{tk.Received, t.line(tk)}
	i := sort.Search(len(t.lines), func(i int) bool { return t.lines[i].received < e.received })
	t.lines = append(t.lines, entry{})
	copy(t.lines[i+1:], t.lines[i:])
	t.lines[i] = e
	if len(t.lines) > t.size {
		t.lines = t.lines[:t.size]
	}
	return true
}

func (t *Ticker) line(tk *record.Ticket) Line {
	name := t.placeName(region.Code(tk.Region))
	state := "received"
	switch {
	case tk.Closed != 0:
		state = "closed"
	case tk.Direct:
		state = "direct"
	case tk.Assigned != 0:
		state = "assigned"
	}
	return Line{
		ID:         tk.ID,
		ReceivedAt: time.Unix(0, tk.Received).In(t.loc).Format(time.RFC3339),
		Region:     tk.Region,
		RegionName: name,
		Kind:       tk.Kind.String(),
		Channel:    tk.Channel.String(),
		State:      state,
	}
}

// placeName names a place with its city, "兰州市城关区": a county's name
// alone is ambiguous across a province.
func (t *Ticker) placeName(c region.Code) string {
	if t.names == nil {
		return string(c)
	}
	name, ok := t.names.Name(c)
	if !ok {
		return string(c)
	}
	for p, ok := c.Parent(); ok && p.Level() >= region.City; p, ok = p.Parent() {
		if pn, ok := t.names.Name(p); ok {
			name = pn + name
		}
	}
	return name
}

// Lines returns the kept tickets, newest first.
func (t *Ticker) Lines() []Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.listLocked()
}

func (t *Ticker) listLocked() []Line {
	out := make([]Line, len(t.lines))
	for i, e := range t.lines {
		out[i] = e.line
	}
	return out
}

// Tee is a sink that files records into the engine, shows tickets on the
// ticker and tells the feed that values may have changed. Hand it to the
// collectors runner in place of the engine.
type Tee struct {
	Sink   ingest.Sink
	Ticker *Ticker
	// Filed, when set, is called after every batch is filed (the feed's
	// Notify), so a pushed record reaches the screens at once.
	Filed  func()
	Logger *slog.Logger
}

func (t Tee) filed() {
	if t.Filed != nil {
		t.Filed()
	}
}

// UpsertCases files cases.
func (t Tee) UpsertCases(cs []record.Case) { t.Sink.UpsertCases(cs); t.filed() }

// UpsertEvaluations files evaluations.
func (t Tee) UpsertEvaluations(es []record.Evaluation) { t.Sink.UpsertEvaluations(es); t.filed() }

// UpsertCalls files calls.
func (t Tee) UpsertCalls(cs []record.Call) { t.Sink.UpsertCalls(cs); t.filed() }

// UpsertItems files catalog items.
func (t Tee) UpsertItems(is []record.Item) { t.Sink.UpsertItems(is); t.filed() }

// UpsertTickets shows the tickets on the ticker, then files them. The
// ticker copies what it needs first: the sink owns the slice afterwards.
func (t Tee) UpsertTickets(ts []record.Ticket) {
	if t.Ticker != nil {
		if err := t.Ticker.Add(ts); err != nil && t.Logger != nil {
			t.Logger.Error("ticker", "err", err)
		}
	}
	t.Sink.UpsertTickets(ts)
	t.filed()
}

// ReplaceCatalog forwards to the sink when it can replace its catalog, so
// wrapping the engine keeps collectors' catalog replacement working.
func (t Tee) ReplaceCatalog(items []record.Item) {
	if r, ok := t.Sink.(ingest.CatalogReplacer); ok {
		r.ReplaceCatalog(items)
	} else {
		t.Sink.UpsertItems(items)
	}
	t.filed()
}
