package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// TestTickets checks that Tickets replays exactly the tickets the pull API
// serves (ids, regions, categories, kinds, channels, receipt times), also
// for a window the demo no longer keeps, and that the extra tickets of a
// surge are among them.
func TestTickets(t *testing.T) {
	loc := testkit.Shanghai(t)
	at := time.Date(2026, 3, 9, 12, 0, 0, 0, loc) // the day before has a surge
	from, to := at.Add(-26*time.Hour+30*time.Second), at.Add(-90*time.Second)
	d, _ := newTestDemo(t, at, 30*time.Hour, nil)
	ticketKey := func(id, region, unit, category, kind, channel string, received time.Time, direct bool) string {
		return fmt.Sprint(id, region, unit, category, kind, channel, received.Unix(), direct)
	}
	raws, _ := pull(t, d.Handler(), "tickets", "", MaxLimit)
	want := map[string]bool{}
	for _, r := range rows(t, raws) {
		rec, err := time.Parse(time.RFC3339, r["received_at"])
		if err != nil {
			t.Fatal(err)
		}
		if rec.Before(from) || !rec.Before(to) {
			continue
		}
		want[ticketKey(r["ticket_id"], r["region_code"], r["unit_code"], r["category"], r["kind"], r["channel"], rec, r["direct"] == "1")] = true
	}
	// A second demo that keeps nothing of that day replays it all the same.
	later, _ := newTestDemo(t, at.AddDate(0, 0, 40), time.Hour, nil)
	for name, dd := range map[string]*Demo{"same demo": d, "40 days later": later} {
		got := dd.Tickets(from, to)
		if len(got) != len(want) {
			t.Fatalf("%s: %d tickets, the API serves %d", name, len(got), len(want))
		}
		for i, tk := range got {
			rec := time.Unix(0, tk.Received)
			k := ticketKey(tk.ID, tk.Region, tk.Unit, tk.Category, tk.Kind.String(), tk.Channel.String(), rec, tk.Direct)
			if !want[k] {
				t.Fatalf("%s: ticket %+v is not served by the API", name, tk)
			}
			if i > 0 && tk.Received < got[i-1].Received {
				t.Fatalf("%s: tickets out of order at %d", name, i)
			}
			if tk.Assigned != record.Never || tk.Closed != record.Never {
				t.Fatalf("%s: ticket %+v is not as at intake", name, tk)
			}
		}
	}
	surges := d.Surges(from, to)
	if len(surges) == 0 {
		t.Fatal("no surge in the window")
	}
	for _, s := range surges {
		n := 0
		for _, tk := range d.Tickets(s.Start, s.End) {
			if tk.Category == s.Category && (tk.Region == s.Region || len(tk.Region) == 9 && tk.Region[:6] == s.Region) {
				n++
			}
		}
		if n < s.Tickets/2 {
			t.Errorf("surge %+v: %d tickets of its category in its county", s, n)
		}
	}
}
