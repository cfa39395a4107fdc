package live

import (
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

// DefaultTickerSize is how many tickets a ticker list keeps.
const DefaultTickerSize = 30

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

// Ticker keeps the newest hotline tickets of every region (a ticket is
// listed in its own region and in each ancestor's), and publishes a
// region's whole list on TickerTopic(region) when it changes.
//
// The topic's value is the whole list, newest first, not one message per
// ticket: a screen that connects or resumes gets the list as its snapshot,
// and the hub's coalescing can merge bursts without losing a line.
type Ticker struct {
	pub   Publisher
	names *region.Table
	loc   *time.Location
	size  int

	mu    sync.Mutex
	lists map[string][]entry // region → newest first, at most size
}

type entry struct {
	received int64
	line     Line
}

// NewTicker returns a ticker that keeps size tickets per region
// (DefaultTickerSize when ≤ 0) and publishes to pub.
func NewTicker(pub Publisher, names *region.Table, loc *time.Location, size int) *Ticker {
	if size <= 0 {
		size = DefaultTickerSize
	}
	if loc == nil {
		loc = time.Local
	}
	return &Ticker{pub: pub, names: names, loc: loc, size: size, lists: map[string][]entry{}}
}

// Add takes a batch of tickets (new or updated) and publishes the lists
// that changed. A ticket already listed is updated in place.
func (t *Ticker) Add(ts []record.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	t.mu.Lock()
	changed := map[string]bool{}
	for i := range ts {
		tk := &ts[i]
		l := t.line(tk)
		for _, reg := range ancestry(tk.Region) {
			if t.add(reg, tk.Received, l) {
				changed[reg] = true
			}
		}
	}
	out := make(map[string][]byte, len(changed))
	var err error
	for reg := range changed {
		if out[reg], err = json.Marshal(t.listLocked(reg)); err != nil {
			break
		}
	}
	t.mu.Unlock()
	if err != nil {
		return err
	}
	for reg, b := range out {
		if err := t.pub.Publish(TickerTopic(reg), b); err != nil {
			return err
		}
	}
	return nil
}

// ancestry is a region code and the codes above it, by code (SPEC.md §3).
func ancestry(code string) []string {
	c := region.Code(code)
	out := []string{code}
	for p, ok := c.Parent(); ok; p, ok = p.Parent() {
		out = append(out, string(p))
	}
	return out
}

func (t *Ticker) add(reg string, received int64, l Line) bool {
	list := t.lists[reg]
	for i := range list {
		if list[i].line.ID == l.ID {
			if list[i].line == l {
				return false
			}
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == t.size && received <= list[len(list)-1].received {
		t.lists[reg] = list
		return false // older than everything kept
	}
	e := entry{received, l}
	i := sort.Search(len(list), func(i int) bool { return list[i].received < e.received })
	list = append(list, entry{})
	copy(list[i+1:], list[i:])
	list[i] = e
	if len(list) > t.size {
		list = list[:t.size]
	}
	t.lists[reg] = list
	return true
}

func (t *Ticker) line(tk *record.Ticket) Line {
	state := "received"
	switch {
	case tk.Closed != record.Never && tk.Closed != 0:
		state = "closed"
	case tk.Direct:
		state = "direct"
	case tk.Assigned != record.Never && tk.Assigned != 0:
		state = "assigned"
	}
	return Line{
		ID:         tk.ID,
		ReceivedAt: time.Unix(0, tk.Received).In(t.loc).Format(time.RFC3339),
		Region:     tk.Region,
		RegionName: t.placeName(region.Code(tk.Region)),
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

// Lines returns the kept tickets of a region and below, newest first.
func (t *Ticker) Lines(reg string) []Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.listLocked(reg)
}

func (t *Ticker) listLocked(reg string) []Line {
	list := t.lists[reg]
	out := make([]Line, len(list))
	for i, e := range list {
		out[i] = e.line
	}
	return out
}

// Tee is a sink that files records into the engine, shows tickets on the
// ticker and tells the feed that values may have changed. Hand it to the
// collectors runner and the journal replay in place of the engine.
type Tee struct {
	Sink   record.Sink
	Ticker *Ticker
	// Tickets, when set, also gets every ticket batch before it is filed
	// (the surge counts); it copies what it keeps.
	Tickets func([]record.Ticket)
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
	if t.Tickets != nil {
		t.Tickets(ts)
	}
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
	if r, ok := t.Sink.(record.CatalogReplacer); ok {
		r.ReplaceCatalog(items)
	} else {
		t.Sink.UpsertItems(items)
	}
	t.filed()
}
