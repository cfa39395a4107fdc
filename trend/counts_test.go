package trend

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func shanghai(t testing.TB) (*time.Location, *calendar.Calendar) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc, calendar.Default(loc)
}

// newTestCounts returns counts on the Shanghai calendar whose clock stands
// at now.
func newTestCounts(t testing.TB, now time.Time, days int) (*Counts, *fakeClock, *calendar.Calendar) {
	t.Helper()
	_, cal := shanghai(t)
	clk := &fakeClock{t: now}
	return NewCounts(CountsConfig{Calendar: cal, Clock: clk.Now, Days: days}), clk, cal
}

func ticket(id, reg, cat string, at time.Time) record.Ticket {
	return record.Ticket{ID: id, Region: reg, Category: cat, Received: at.UnixNano(), Assigned: record.Never, Closed: record.Never}
}

// total returns the tickets of a series on a day (minutes [lo, hi)).
func (c *Counts) total(cat, reg string, day time.Time, lo, hi int) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.series[seriesKey{c.catIdx[cat], c.regIdx[reg]}]
	if _, ok := c.catIdx[cat]; !ok || s == nil {
		return 0
	}
	i, ok := s.find(c.cal.DayOf(day.UnixNano()))
	if !ok {
		return 0
	}
	return s.days[i].count(lo, hi)
}

// TestCountsAncestors checks that a ticket counts for its region and every
// ancestor, at the minute of its day, and nothing else.
func TestCountsAncestors(t *testing.T) {
	loc, _ := shanghai(t)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, loc)
	c, _, _ := newTestCounts(t, day.Add(20*time.Hour), 0)
	c.Add([]record.Ticket{
		ticket("t1", "620802001", "水电气暖", day.Add(9*time.Hour+15*time.Minute)), // township
		ticket("t2", "620802", "水电气暖", day.Add(9*time.Hour+15*time.Minute+30*time.Second)),
		ticket("t3", "620800", "水电气暖", day.Add(10*time.Hour)), // city-coded: not any county's
		ticket("t4", "620000", "水电气暖", day.Add(11*time.Hour)), // province-coded
		ticket("t5", "620802", "", day.Add(11*time.Hour)),     // no category: not counted
		ticket("t6", "6208", "水电气暖", day.Add(11*time.Hour)),   // not a region code
		ticket("t7", "620802", "交通运输", day.Add(-time.Minute)), // the day before, 23:59
	})
	tests := []struct {
		cat, reg string
		day      time.Time
		lo, hi   int
		want     int
	}{
		{"水电气暖", "620802001", day, 0, minutesPerDay, 1},
		{"水电气暖", "620802", day, 0, minutesPerDay, 2},
		{"水电气暖", "620800", day, 0, minutesPerDay, 3},
		{"水电气暖", "620000", day, 0, minutesPerDay, 4},
		{"水电气暖", "620802", day, 9*60 + 15, 9*60 + 16, 2}, // both in minute 09:15
		{"水电气暖", "620802", day, 0, 9*60 + 15, 0},
		{"水电气暖", "620000", day, 10 * 60, 11*60 + 1, 2},
		{"交通运输", "620000", day.AddDate(0, 0, -1), 23 * 60, 24 * 60, 1},
		{"交通运输", "620000", day, 0, minutesPerDay, 0},
		{"", "620802", day, 0, minutesPerDay, 0},
	}
	for _, tt := range tests {
		if got := c.total(tt.cat, tt.reg, tt.day, tt.lo, tt.hi); got != tt.want {
			t.Errorf("%s in %s on %s [%d, %d): %d tickets, want %d", tt.cat, tt.reg, tt.day.Format("01-02"), tt.lo, tt.hi, got, tt.want)
		}
	}
	if series, ids := c.Len(); series != 4+3 || ids != 5 {
		t.Errorf("Len = %d series, %d ids; want 7, 5", series, ids)
	}
}

// TestCountsResend sends a ticket again in another version: what it
// counted before is replaced, never added to.
func TestCountsResend(t *testing.T) {
	loc, _ := shanghai(t)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, loc)
	at := day.Add(10 * time.Hour)
	first := ticket("T1", "620802", "水电气暖", at)
	tests := []struct {
		name  string
		again []record.Ticket
		want  map[string]int // "category region day-offset" → count
	}{
		{"same again", []record.Ticket{first, first},
			map[string]int{"水电气暖 620802 0": 1, "水电气暖 620800 0": 1, "水电气暖 620000 0": 1}},
		{"assigned later", []record.Ticket{{ID: "T1", Region: "620802", Category: "水电气暖", Received: at.UnixNano(), Assigned: at.Add(time.Hour).UnixNano(), Closed: record.Never}},
			map[string]int{"水电气暖 620802 0": 1, "水电气暖 620000 0": 1}},
		{"recategorised", []record.Ticket{ticket("T1", "620802", "城乡建设", at)},
			map[string]int{"水电气暖 620802 0": 0, "水电气暖 620000 0": 0, "城乡建设 620802 0": 1, "城乡建设 620000 0": 1}},
		{"moved to another city", []record.Ticket{ticket("T1", "620102", "水电气暖", at)},
			map[string]int{"水电气暖 620802 0": 0, "水电气暖 620800 0": 0, "水电气暖 620000 0": 1, "水电气暖 620100 0": 1}},
		{"moved to a township", []record.Ticket{ticket("T1", "620802001", "水电气暖", at)},
			map[string]int{"水电气暖 620802001 0": 1, "水电气暖 620802 0": 1, "水电气暖 620000 0": 1}},
		{"received the day before", []record.Ticket{ticket("T1", "620802", "水电气暖", at.AddDate(0, 0, -1))},
			map[string]int{"水电气暖 620802 0": 0, "水电气暖 620802 -1": 1}},
		{"category cleared", []record.Ticket{ticket("T1", "620802", "", at)},
			map[string]int{"水电气暖 620802 0": 0, "水电气暖 620000 0": 0}},
		{"cleared then set again", []record.Ticket{ticket("T1", "620802", "", at), first, first},
			map[string]int{"水电气暖 620802 0": 1, "水电气暖 620000 0": 1}},
		{"moved out of the window", []record.Ticket{ticket("T1", "620802", "水电气暖", at.AddDate(0, 0, -60))},
			map[string]int{"水电气暖 620802 0": 0, "水电气暖 620000 0": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestCounts(t, day.Add(20*time.Hour), 0)
			c.Add([]record.Ticket{first})
			for _, tk := range tt.again {
				c.Add([]record.Ticket{tk})
			}
			for k, want := range tt.want {
				var cat, reg string
				var off int
				if _, err := fmt.Sscan(k, &cat, &reg, &off); err != nil {
					t.Fatal(err)
				}
				if got := c.total(cat, reg, day.AddDate(0, 0, off), 0, minutesPerDay); got != want {
					t.Errorf("%s: %d, want %d", k, got, want)
				}
			}
		})
	}
}

// TestCountsWindow moves the clock: days before the window are forgotten
// (series and ids), tickets older than the window or more than a day
// ahead are not counted.
func TestCountsWindow(t *testing.T) {
	loc, _ := shanghai(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, loc)
	c, clk, _ := newTestCounts(t, start, 10)
	for d := range 30 {
		now := start.AddDate(0, 0, d)
		clk.Set(now)
		c.Add([]record.Ticket{ticket(fmt.Sprint("d", d), "620802", "水电气暖", now)})
	}
	today := start.AddDate(0, 0, 29)
	if series, ids := c.Len(); series != 3 || ids != 11 {
		t.Errorf("after 30 days with a window of 10: %d series, %d ids; want 3, 11", series, ids)
	}
	tests := []struct {
		name string
		tk   record.Ticket
		day  time.Time
		want int
	}{
		{"kept: 10 days ago", record.Ticket{}, today.AddDate(0, 0, -10), 1},
		{"forgotten: 11 days ago", record.Ticket{}, today.AddDate(0, 0, -11), 0},
		{"too old to count", ticket("old", "620802", "水电气暖", today.AddDate(0, 0, -11)), today.AddDate(0, 0, -11), 0},
		{"tomorrow counts", ticket("tomorrow", "620802", "水电气暖", today.AddDate(0, 0, 1)), today.AddDate(0, 0, 1), 1},
		{"after tomorrow does not", ticket("later", "620802", "水电气暖", today.AddDate(0, 0, 2)), today.AddDate(0, 0, 2), 0},
		// A forgotten id sent again is as old as it was: still not counted.
		{"forgotten id again", ticket("d5", "620802", "水电气暖", start.AddDate(0, 0, 5)), start.AddDate(0, 0, 5), 0},
	}
	for _, tt := range tests {
		if tt.tk.ID != "" {
			c.Add([]record.Ticket{tt.tk})
		}
		if got := c.total("水电气暖", "620000", tt.day, 0, minutesPerDay); got != tt.want {
			t.Errorf("%s: %d tickets, want %d", tt.name, got, tt.want)
		}
	}
}

// TestCovered checks which past days a series is judged on: not the days
// without any ticket (no data), nor a first day with less than half the
// median day's tickets (the journal began in its middle).
func TestCovered(t *testing.T) {
	loc, _ := shanghai(t)
	today := time.Date(2026, 3, 20, 12, 0, 0, 0, loc)
	tests := []struct {
		name   string
		perDay map[int]int // days before today → tickets
		want   []int       // days before today covered, oldest first
	}{
		{"full days", map[int]int{3: 10, 2: 10, 1: 10}, []int{3, 2, 1}},
		{"a gap", map[int]int{5: 10, 4: 10, 2: 10, 1: 10}, []int{5, 4, 2, 1}},
		{"partial first day", map[int]int{4: 3, 3: 10, 2: 10, 1: 10}, []int{3, 2, 1}},
		{"quiet first day kept", map[int]int{4: 6, 3: 10, 2: 10, 1: 10}, []int{4, 3, 2, 1}},
		{"beyond the window", map[int]int{60: 10, 2: 10, 1: 10}, []int{2, 1}},
		{"nothing", map[int]int{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, cal := newTestCounts(t, today, 0)
			var ts []record.Ticket
			for ago, n := range tt.perDay {
				for i := range n {
					ts = append(ts, ticket(fmt.Sprint(ago, "-", i), "620802", "水电气暖", today.AddDate(0, 0, -ago)))
				}
			}
			c.Add(ts)
			d0 := cal.DayOf(today.UnixNano())
			var got []int
			for _, d := range c.covered(d0) {
				got = append(got, int(d0-d))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("covered %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCountsConcurrent adds and asks from several goroutines (run with
// -race to check the locking).
func TestCountsConcurrent(t *testing.T) {
	loc, _ := shanghai(t)
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, loc)
	c, _, _ := newTestCounts(t, now, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				at := now.Add(-time.Duration(i) * 7 * time.Minute)
				// Every goroutine sends the same ids: each is counted once.
				c.Add([]record.Ticket{ticket(fmt.Sprint("T", i), "620802", []string{"水电气暖", "交通运输"}[i%2], at)})
				if i%50 == g {
					c.Surges(now, Config{})
				}
			}
		})
	}
	wg.Wait()
	if _, ids := c.Len(); ids != 500 {
		t.Errorf("%d ids, want 500", ids)
	}
	n := 0
	for d := range 3 {
		n += c.total("水电气暖", "620000", now.AddDate(0, 0, -d), 0, minutesPerDay) + c.total("交通运输", "620000", now.AddDate(0, 0, -d), 0, minutesPerDay)
	}
	if n != 500 {
		t.Errorf("%d tickets counted, want 500", n)
	}
}
