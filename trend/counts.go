package trend

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
)

// DefaultDays is how many days before today Counts keeps by default: the
// NB CUSUM's longest baseline (7 weeks) and its 7-day run.
const DefaultDays = 56

const (
	minuteNanos   = int64(time.Minute)
	minutesPerDay = 24 * 60
)

// CountsConfig sets up Counts. Zero fields take the defaults given.
type CountsConfig struct {
	// Calendar holds the business time zone days and hours are counted in,
	// and which days are working days (default: the official Chinese
	// calendar in Asia/Shanghai).
	Calendar *calendar.Calendar
	// Clock says what today is, for the window kept (default time.Now).
	Clock func() time.Time
	// Days is how many days before today are kept (default DefaultDays).
	Days int
}

// Counts holds ticket counts per (category × region) for today and the
// Days before, in the business time zone: a ticket of township
// 620802001 counts for 620802001, 620802, 620800 and 620000. A ticket
// without a category is not counted (a surge needs a category to name),
// nor one received before the window or more than a day after today.
//
// A ticket sent again (same id, later version; possibly another category,
// region or received time) replaces what it counted before, so that
// collectors and journal replay may deliver a ticket any number of times.
// For that Counts keeps, per id in the window, where it was counted, under
// a 64-bit hash of the id (maphash, seeded per Counts): that two ids of
// the window collide, and one replaces the other, is a chance of about
// n²/2⁶⁵, 3·10⁻⁸ for a million.
//
// Counts are exact to the minute (a past day's tickets through 10:40 are
// those received before 10:40), kept as each ticket's minute of the day
// per series and day. Memory is bounded by the window: about 100 bytes
// per ticket of the window (the id's entry, 2 bytes per level, the series'
// days), 41 MB for the demo's 7,500 tickets a day over 57 days. Its
// methods are safe for concurrent use.
type Counts struct {
	cal   *calendar.Calendar
	clock func() time.Time
	days  int
	seed  maphash.Seed

	mu      sync.RWMutex
	today   calendar.Date // the clock's day when the window last moved
	cats    []string
	catIdx  map[string]int32
	regs    []regNode
	regIdx  map[string]int32
	series  map[seriesKey]*series
	ids     map[uint64]counted
	byDay   map[calendar.Date][]uint64 // the ids counted on each day, to forget them with it
	perDay  map[calendar.Date]int      // tickets per day, to tell days without data
	started bool
}

type regNode struct {
	code   string
	parent int32 // -1 for a province
}

type seriesKey struct{ cat, reg int32 }

// series holds a (category, region)'s days with tickets, oldest first.
type series struct{ days []dayTickets }

// dayTickets holds the minute of the day of each ticket, sorted, so that
// the count of any stretch of the day (through 10:40, the last hour) is
// two binary searches, exactly, in 2 bytes per ticket.
type dayTickets struct {
	day  calendar.Date
	mins []uint16
}

// count returns the tickets of minutes [lo, hi).
func (d *dayTickets) count(lo, hi int) int { return searchMin(d.mins, hi) - searchMin(d.mins, lo) }

// searchMin returns the index of the first minute ≥ m.
func searchMin(mins []uint16, m int) int {
	i, j := 0, len(mins)
	for i < j {
		h := int(uint(i+j) >> 1)
		if int(mins[h]) < m {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// find returns the index of day in s.days, or where it would go.
func (s *series) find(day calendar.Date) (int, bool) {
	// Today is nearly always the last day: look there first.
	if n := len(s.days); n > 0 && s.days[n-1].day <= day {
		if s.days[n-1].day == day {
			return n - 1, true
		}
		return n, false
	}
	i, j := 0, len(s.days)
	for i < j {
		h := int(uint(i+j) >> 1)
		if s.days[h].day < day {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(s.days) && s.days[i].day == day
}

// counted is where a ticket id was counted: its leaf series and minute.
type counted struct {
	day    calendar.Date
	cat    int32
	reg    int32
	minute uint16
}

// NewCounts returns empty counts.
func NewCounts(cfg CountsConfig) *Counts {
	if cfg.Calendar == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600) // no zoneinfo: China has had no DST since 1991
		}
		cfg.Calendar = calendar.Default(loc)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Days <= 0 {
		cfg.Days = DefaultDays
	}
	return &Counts{
		cal: cfg.Calendar, clock: cfg.Clock, days: cfg.Days, seed: maphash.MakeSeed(),
		catIdx: map[string]int32{}, regIdx: map[string]int32{}, series: map[seriesKey]*series{},
		ids: map[uint64]counted{}, byDay: map[calendar.Date][]uint64{}, perDay: map[calendar.Date]int{},
	}
}

// Add counts a batch of tickets: the app calls it from the collectors'
// tee and during journal replay at start.
func (c *Counts) Add(ts []record.Ticket) {
	today := c.cal.DayOf(c.clock().UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slide(today)
	for i := range ts {
		t := &ts[i]
		h := maphash.String(c.seed, t.ID)
		old, had := c.ids[h]
		now, ok := c.place(t)
		if had && ok && old == now {
			continue
		}
		if had {
			c.count(old, -1)
			delete(c.ids, h)
		}
		if ok {
			c.count(now, +1)
			c.ids[h] = now
			if !had || old.day != now.day {
				c.byDay[now.day] = append(c.byDay[now.day], h)
			}
		}
	}
}

// Len returns how many series and ticket ids the window holds.
func (c *Counts) Len() (series, tickets int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.series), len(c.ids)
}

// place finds where a ticket counts, or false when it does not.
func (c *Counts) place(t *record.Ticket) (counted, bool) {
	if t.Category == "" || region.Code(t.Region).Level() == 0 {
		return counted{}, false
	}
	day := c.cal.DayOf(t.Received)
	if day < c.today-calendar.Date(c.days) || day > c.today+1 {
		return counted{}, false
	}
	m := min(max((t.Received-c.cal.StartOfDay(day))/minuteNanos, 0), minutesPerDay-1)
	return counted{day: day, cat: c.category(t.Category), reg: c.region(region.Code(t.Region)), minute: uint16(m)}, true
}

func (c *Counts) category(s string) int32 {
	i, ok := c.catIdx[s]
	if !ok {
		i = int32(len(c.cats))
		c.cats = append(c.cats, s)
		c.catIdx[s] = i
	}
	return i
}

// region interns a code and its ancestors.
func (c *Counts) region(code region.Code) int32 {
	if i, ok := c.regIdx[string(code)]; ok {
		return i
	}
	parent := int32(-1)
	if p, ok := code.Parent(); ok {
		parent = c.region(p)
	}
	i := int32(len(c.regs))
	c.regs = append(c.regs, regNode{code: string(code), parent: parent})
	c.regIdx[string(code)] = i
	return i
}

// count adds delta tickets at e to its series and every ancestor's.
func (c *Counts) count(e counted, delta int) {
	c.perDay[e.day] += delta
	if c.perDay[e.day] == 0 {
		delete(c.perDay, e.day)
	}
	for r := e.reg; r >= 0; r = c.regs[r].parent {
		k := seriesKey{e.cat, r}
		s := c.series[k]
		if s == nil {
			s = &series{}
			c.series[k] = s
		}
		i, found := s.find(e.day)
		if !found {
			s.days = slices.Insert(s.days, i, dayTickets{day: e.day})
		}
		d := &s.days[i]
		at := searchMin(d.mins, int(e.minute)+1) // after the ticket's equals: arrival order
		if delta > 0 {
			d.mins = slices.Insert(d.mins, at, e.minute)
		} else {
			d.mins = slices.Delete(d.mins, at-1, at) // mins[at-1] == e.minute: it was counted
		}
		if len(d.mins) == 0 {
			s.days = slices.Delete(s.days, i, i+1)
			if len(s.days) == 0 {
				delete(c.series, k)
			}
		}
	}
}

// slide moves the window to today, forgetting the days before it.
func (c *Counts) slide(today calendar.Date) {
	if c.started && today <= c.today {
		return
	}
	c.started = true
	c.today = today
	cutoff := today - calendar.Date(c.days)
	for day, ids := range c.byDay {
		if day >= cutoff {
			continue
		}
		for _, h := range ids {
			if e, ok := c.ids[h]; ok && e.day == day {
				delete(c.ids, h)
			}
		}
		delete(c.byDay, day)
		delete(c.perDay, day)
	}
	for k, s := range c.series {
		i := 0
		for i < len(s.days) && s.days[i].day < cutoff {
			i++
		}
		if i == len(s.days) {
			delete(c.series, k)
			continue
		}
		s.days = slices.Delete(s.days, 0, i)
	}
}

// covered returns the days of the window before today that have data,
// oldest first. A day without a single ticket is a day without data, not
// a day of zero counts: a province's hotline is never silent for a day,
// but Yiping may not have been running, and a baseline of such zeros
// would make every series look surging. So is a first day with fewer than
// half the median day's tickets: the journal began in its middle.
func (c *Counts) covered(today calendar.Date) []calendar.Date {
	var out []calendar.Date
	var totals []int
	for d := today - calendar.Date(c.days); d < today; d++ {
		if n := c.perDay[d]; n > 0 {
			out = append(out, d)
			totals = append(totals, n)
		}
	}
	if len(out) > 2 {
		sorted := slices.Clone(totals)
		slices.Sort(sorted)
		if 2*totals[0] < sorted[len(sorted)/2] {
			out = out[1:]
		}
	}
	return out
}
