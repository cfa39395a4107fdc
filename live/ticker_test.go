package live

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

// lists records every list the ticker publishes, by topic.
type lists map[string][][]Line

func (p lists) Publish(topic string, data json.RawMessage) error {
	var ls []Line
	if err := json.Unmarshal(data, &ls); err != nil {
		return err
	}
	p[topic] = append(p[topic], ls)
	return nil
}

func tk(id, reg string, minute int, assigned, closed bool) record.Ticket {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).UnixNano()
	t := record.Ticket{ID: id, Region: reg, Received: base + int64(minute)*int64(time.Minute), Assigned: record.Never, Closed: record.Never,
		Kind: record.TicketComplaint, Channel: record.TicketWechat}
	if assigned {
		t.Assigned = t.Received + 1
	}
	if closed {
		t.Closed = t.Received + 2
	}
	return t
}

func ids(ls []Line) (out []string) {
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func TestTickerKeepsNewestFirst(t *testing.T) {
	loc := shanghai(t)
	for _, tc := range []struct {
		name      string
		batches   [][]record.Ticket
		want      []string
		publishes int
	}{
		{"newest first", [][]record.Ticket{{tk("a", "620102", 1, false, false), tk("c", "620102", 3, false, false), tk("b", "620102", 2, false, false)}}, []string{"c", "b", "a"}, 1},
		{"bounded to size, old ones fall off", [][]record.Ticket{{tk("a", "620102", 1, false, false), tk("b", "620102", 2, false, false), tk("c", "620102", 3, false, false), tk("d", "620102", 4, false, false)}}, []string{"d", "c", "b"}, 1},
		{"older than all kept: no publish", [][]record.Ticket{{tk("b", "620102", 2, false, false), tk("c", "620102", 3, false, false), tk("d", "620102", 4, false, false)}, {tk("a", "620102", 1, false, false)}}, []string{"d", "c", "b"}, 1},
		{"update in place, unchanged: no publish", [][]record.Ticket{{tk("a", "620102", 1, false, false)}, {tk("a", "620102", 1, false, false)}, {tk("a", "620102", 1, true, false)}}, []string{"a"}, 2},
		{"empty batch", [][]record.Ticket{{}}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := lists{}
			tr := NewTicker(p, region.Default(), loc, 3)
			for _, b := range tc.batches {
				if err := tr.Add(b); err != nil {
					t.Fatal(err)
				}
			}
			for _, reg := range []string{"620102", "620100", "620000"} {
				if got := ids(tr.Lines(reg)); !slices.Equal(got, tc.want) {
					t.Errorf("%s lines = %v, want %v", reg, got, tc.want)
				}
				got := p[TickerTopic(reg)]
				if len(got) != tc.publishes {
					t.Errorf("%s: %d publishes, want %d", reg, len(got), tc.publishes)
				}
				if len(got) > 0 && !slices.Equal(ids(got[len(got)-1]), tc.want) {
					t.Errorf("%s: last published %v, want %v", reg, ids(got[len(got)-1]), tc.want)
				}
			}
		})
	}
}

func TestTickerListsEachRegionItsOwn(t *testing.T) {
	p := lists{}
	tr := NewTicker(p, region.Default(), time.UTC, 0)
	tr.Add([]record.Ticket{tk("lz", "620102", 1, false, false), tk("pl", "620802", 2, false, false), tk("gs", "620000", 3, false, false)})
	for reg, want := range map[string][]string{
		"620000": {"gs", "pl", "lz"},
		"620100": {"lz"},
		"620102": {"lz"},
		"620800": {"pl"},
		"620802": {"pl"},
		"620821": nil,
	} {
		if got := ids(tr.Lines(reg)); !slices.Equal(got, want) {
			t.Errorf("%s lines = %v, want %v", reg, got, want)
		}
	}
	if _, ok := p[TickerTopic("620821")]; ok {
		t.Error("a region without tickets got a list")
	}
}

func TestLineFields(t *testing.T) {
	loc := shanghai(t)
	tr := NewTicker(lists{}, region.Default(), loc, 0)
	direct := tk("z", "620102", 2, false, false)
	direct.Direct = true
	if err := tr.Add([]record.Ticket{tk("x", "620102", 0, true, true), tk("y", "620102", 1, true, false), direct, tk("w", "620102", -1, false, false)}); err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{ID: "z", ReceivedAt: "2026-11-23T17:02:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "direct"},
		{ID: "y", ReceivedAt: "2026-11-23T17:01:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "assigned"},
		{ID: "x", ReceivedAt: "2026-11-23T17:00:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "closed"},
		{ID: "w", ReceivedAt: "2026-11-23T16:59:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "received"},
	}
	if got := tr.Lines("620102"); !slices.Equal(got, want) {
		t.Errorf("lines = %+v\nwant %+v", got, want)
	}
}

type sink struct{ tickets, items, replaced int }

func (s *sink) UpsertCases([]record.Case)             {}
func (s *sink) UpsertEvaluations([]record.Evaluation) {}
func (s *sink) UpsertTickets(ts []record.Ticket)      { s.tickets += len(ts) }
func (s *sink) UpsertCalls([]record.Call)             {}
func (s *sink) UpsertItems(is []record.Item)          { s.items += len(is) }
func (s *sink) ReplaceCatalog(is []record.Item)       { s.replaced += len(is) }

func TestTeeFilesIntoBoth(t *testing.T) {
	s := &sink{}
	p := lists{}
	filed := 0
	tee := Tee{Sink: s, Ticker: NewTicker(p, nil, time.UTC, 5), Filed: func() { filed++ }}
	tee.UpsertTickets([]record.Ticket{tk("a", "620102", 1, false, false)})
	tee.ReplaceCatalog([]record.Item{{}, {}})
	tee.UpsertCalls(nil)
	if s.tickets != 1 || len(p[TickerTopic("620102")]) != 1 || s.replaced != 2 || s.items != 0 || filed != 3 {
		t.Errorf("sink %+v, publishes %v, %d filed", s, p, filed)
	}
}
