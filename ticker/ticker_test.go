package ticker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

type pubs struct{ got [][]Line }

func (p *pubs) Publish(topic string, data json.RawMessage) error {
	if topic != Topic {
		panic(topic)
	}
	var ls []Line
	if err := json.Unmarshal(data, &ls); err != nil {
		return err
	}
	p.got = append(p.got, ls)
	return nil
}

func tk(id string, minute int, assigned, closed bool) record.Ticket {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).UnixNano()
	t := record.Ticket{ID: id, Region: "620102", Received: base + int64(minute)*int64(time.Minute), Kind: record.TicketComplaint, Channel: record.TicketWechat}
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
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		name      string
		batches   [][]record.Ticket
		want      []string
		publishes int
	}{
		{"newest first", [][]record.Ticket{{tk("a", 1, false, false), tk("c", 3, false, false), tk("b", 2, false, false)}}, []string{"c", "b", "a"}, 1},
		{"bounded to size, old ones fall off", [][]record.Ticket{{tk("a", 1, false, false), tk("b", 2, false, false), tk("c", 3, false, false), tk("d", 4, false, false)}}, []string{"d", "c", "b"}, 1},
		{"older than all kept: no publish", [][]record.Ticket{{tk("b", 2, false, false), tk("c", 3, false, false), tk("d", 4, false, false)}, {tk("a", 1, false, false)}}, []string{"d", "c", "b"}, 1},
		{"update in place, unchanged: no publish", [][]record.Ticket{{tk("a", 1, false, false)}, {tk("a", 1, false, false)}, {tk("a", 1, true, false)}}, []string{"a"}, 2},
		{"empty batch", [][]record.Ticket{{}}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pubs{}
			tr := New(p, region.Default(), loc, 3)
			for _, b := range tc.batches {
				if err := tr.Add(b); err != nil {
					t.Fatal(err)
				}
			}
			if got := ids(tr.Lines()); !equal(got, tc.want) {
				t.Errorf("lines = %v, want %v", got, tc.want)
			}
			if len(p.got) != tc.publishes {
				t.Errorf("%d publishes, want %d", len(p.got), tc.publishes)
			}
			if len(p.got) > 0 && !equal(ids(p.got[len(p.got)-1]), tc.want) {
				t.Errorf("last published %v, want %v", ids(p.got[len(p.got)-1]), tc.want)
			}
		})
	}
}

func TestLineFields(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	p := &pubs{}
	tr := New(p, region.Default(), loc, 0)
	if err := tr.Add([]record.Ticket{tk("x", 0, true, true), tk("y", 1, true, false)}); err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{ID: "y", ReceivedAt: "2026-11-23T17:01:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "assigned"},
		{ID: "x", ReceivedAt: "2026-11-23T17:00:00+08:00", Region: "620102", RegionName: "兰州市城关区", Kind: "complaint", Channel: "wechat", State: "closed"},
	}
	got := tr.Lines()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
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
	p := &pubs{}
	filed := 0
	tee := Tee{Sink: s, Ticker: New(p, nil, time.UTC, 5), Filed: func() { filed++ }}
	tee.UpsertTickets([]record.Ticket{tk("a", 1, false, false)})
	tee.ReplaceCatalog([]record.Item{{}, {}})
	tee.UpsertCalls(nil)
	if s.tickets != 1 || len(p.got) != 1 || s.replaced != 2 || s.items != 0 || filed != 3 {
		t.Errorf("sink %+v, %d publishes, %d filed", s, len(p.got), filed)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
