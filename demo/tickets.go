package demo

import (
	"slices"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

var (
	ticketKinds    = [...]string{"consult", "help", "complaint", "report", "suggestion", "praise"}
	ticketKindW    = cumulative(35, 22, 25, 7, 7, 4)
	surgeKindW     = cumulative(10, 40, 50, 0, 0, 0)
	kindDirect     = [...]float64{0.70, 0.35, 0.10, 0.05, 0.40, 0.80}
	kindDays       = [...]int{1, 3, 5, 5, 10, 1} // SPEC.md section 5 defaults
	ticketChannels = [...]string{"phone", "web", "wechat", "app", "message_board", "other"}
	ticketChanW    = cumulative(70, 8, 9, 6, 5, 2)
	surgeChanW     = cumulative(88, 2, 5, 3, 1, 1)
	explicitDays   = [...]int8{1, 2, 7, 15}
	callbacks      = [...]string{"", "satisfied", "basic", "unsatisfied", "unreachable"}
)

// Ticket satisfaction among reached callbacks: SPEC.md section 11 says
// 85.37% for the province, lagging counties are well below.
const (
	ticketSatisfied    = 0.856
	lagTicketSatisfied = 0.70
	unreachableRate    = 0.07
)

const (
	tflagDirect uint8 = 1 << iota
	tflagBad
)

// ticketRec is one 12345 ticket and its lifecycle: received, assigned
// (unless answered directly), closed, called back. Times are unix
// seconds, 0 for never.
type ticketRec struct {
	rec, asg, clo, cb int64
	region            uint16
	n                 uint16
	unit              uint8
	category          uint8
	kind              uint8
	channel           uint8
	deadline          int8 // -1: the default of the kind
	callback          uint8
	flags             uint8
}

func (t *ticketRec) created() int64 { return t.rec }

type ticketState struct {
	guarded
	m      *model
	tab    table[ticketRec]
	lane   lane
	next   int64
	surges surgeCache
}

func (s *ticketState) advance(h int64, retain int64) {
	for s.next*minute < h {
		end := min(s.next+60, h/minute)
		s.mu.Lock()
		for ; s.next < end; s.next++ {
			s.generate(s.next)
			s.lane.pend.release((s.next+1)*minute, &s.lane.log, s.kept)
		}
		s.h = s.next * minute
		s.mu.Unlock()
	}
	s.mu.Lock()
	cutoff := s.h - retain
	s.tab.trim(cutoff, (*ticketRec).created)
	s.lane.log = trimKeys(s.lane.log, cutoff)
	s.mu.Unlock()
}

func (s *ticketState) kept(seq uint32) bool { return seq >= s.tab.base }

// surgeCache holds the surge of the last day asked about, so that a
// generator draws each day's surge once, not once a minute.
type surgeCache struct {
	day   calendar.Date
	valid bool
	ok    bool
	s     surge
}

// at returns the surge under way in the minute starting at t0 of day d.
func (c *surgeCache) at(m *model, t0 int64, d calendar.Date) (surge, bool) {
	if !c.valid || c.day != d {
		c.day, c.valid = d, true
		c.s, c.ok = m.surgeOn(d)
	}
	if c.ok && t0 >= c.s.start && t0 < c.s.end {
		return c.s, true
	}
	return surge{}, false
}

func (s *ticketState) generate(mi int64) {
	drawTickets(s.m, &s.surges, mi, func(t ticketRec) {
		seq := s.tab.add(t)
		for _, at := range [...]int64{t.rec, t.asg, t.clo, t.cb} {
			if at != 0 {
				s.lane.pend.push(key{at, seq})
			}
		}
	})
}

// drawTickets makes the tickets received in minute mi, in order, and hands
// each to emit. It reads only the model (and the surge cache), so Tickets
// can replay any minute without the demo's tables.
func drawTickets(m *model, surges *surgeCache, mi int64, emit func(ticketRec)) {
	t0 := mi * minute
	d, hr := m.localClock(t0)
	r := newRng(m.seed, streamTicket, uint64(mi))
	lambda := ticketsPerWorkday * m.dayFactor(d, streamTicket, hotlineRestFactor) * hotlineHours[hr] / sum24(&hotlineHours) / 60
	n := r.poisson(lambda)
	sg, surging := surges.at(m, t0, d)
	extra := 0
	if surging {
		extra = r.poisson(float64(sg.tickets) / float64((sg.end-sg.start)/minute))
	}
	total := min(n+extra, maxPerMinute)
	if total == 0 {
		return
	}
	type arrival struct {
		at    int64
		surge bool
	}
	arr := make([]arrival, total)
	for i := range arr {
		arr[i] = arrival{t0 + r.intn(minute), i >= n}
	}
	slices.SortStableFunc(arr, func(a, b arrival) int { return int(a.at - b.at) })
	for i, a := range arr {
		emit(newTicket(m, &r, a.at, uint16(i), sg, a.surge))
	}
}

func newTicket(m *model, r *rng, t int64, n uint16, sg surge, surging bool) ticketRec {
	tk := ticketRec{rec: t, n: n, deadline: -1}
	if surging {
		tk.region = m.inCounty(r, sg.county)
		tk.category = uint8(sg.category)
		tk.kind = uint8(r.pick(surgeKindW))
		tk.channel = uint8(r.pick(surgeChanW))
	} else {
		tk.region = m.pickRegion(r, ticketLevels)
		tk.category = uint8(r.pick(categoryWeights))
		tk.kind = uint8(r.pick(ticketKindW))
		tk.channel = uint8(r.pick(ticketChanW))
	}
	tk.unit = uint8(categoryUnit[tk.category])
	if tk.unit >= uint8(len(departments)) { // utilities: any of them
		tk.unit = uint8(len(departments)) + uint8(r.intn(int64(len(utilityUnits))))
	}
	if r.chance(m.badRate) {
		tk.flags |= tflagBad
	}
	lag := m.laggingRegion[tk.region]
	if r.chance(kindDirect[tk.kind]) {
		// Answered by the operator on the call: no dispatch.
		tk.flags |= tflagDirect
		tk.clo = t + r.between(2*minute, 15*minute)
	} else {
		// The dispatch desk works 08:00–21:00 every day.
		ds := m.dayStart(m.dayOf(t))
		switch off := t - ds; {
		case off < 8*hour:
			tk.asg = ds + 8*hour + r.intn(hour)
		case off >= 21*hour:
			tk.asg = m.dayStart(m.dayOf(t)+1) + 8*hour + r.intn(hour)
		default:
			tk.asg = t + r.between(5*minute, 90*minute)
		}
		N := kindDays[tk.kind]
		if r.chance(0.15) {
			tk.deadline = explicitDays[r.intn(int64(len(explicitDays)))]
			N = int(tk.deadline)
		}
		late, stuck := 0.05, 0.015
		if lag {
			late, stuck = 0.20, 0.05
		}
		switch v := r.f(); {
		case v < stuck:
			tk.clo = m.workTime(r, tk.asg, N+int(r.between(6, 12)), 0)
		case v < stuck+late:
			tk.clo = m.workTime(r, tk.asg, N+int(r.between(1, 4)), 0)
		case N == 0:
			tk.clo = m.sameDay(r, tk.asg, 10*minute, 3*hour)
		default:
			x := r.f()
			tk.clo = m.workTime(r, tk.asg, int(float64(N+1)*x*x), 20*minute)
		}
		tk.clo = min(tk.clo, t+lifeMax-3*day)
	}
	if r.chance(0.96) {
		tk.cb = tk.clo + r.between(hour, 30*hour)
		sat := ticketSatisfied
		if lag {
			sat = lagTicketSatisfied
		}
		switch {
		case r.chance(unreachableRate):
			tk.callback = 4
		case !r.chance(sat):
			tk.callback = 3
		case r.chance(0.8):
			tk.callback = 1
		default:
			tk.callback = 2
		}
	}
	return tk
}

// Tickets returns the 12345 tickets received in [from, to), in order of
// receipt, as they are at intake: received, not yet assigned, closed or
// called back (a ticket's later versions keep its id, region and
// category). They are the tickets the demo serves, made from the seed
// alone whatever window the demo keeps, so that a benchmark can replay
// weeks of a hotline, and its surges (Surges), without the pull API.
// Tickets served deliberately unreadable (Config.BadRate) are left out,
// as a collector's parser rejects them.
func (d *Demo) Tickets(from, to time.Time) []record.Ticket {
	m := d.m
	var out []record.Ticket
	var surges surgeCache
	lo, hi := from.Unix(), to.Unix()
	for mi := floorDiv(lo, minute); mi*minute < hi; mi++ {
		drawTickets(m, &surges, mi, func(t ticketRec) {
			if t.rec < lo || t.rec >= hi || t.flags&tflagBad != 0 {
				return
			}
			out = append(out, record.Ticket{
				ID:     string(m.appendID(nil, 'T', t.rec/minute, t.n)),
				Region: m.regions[t.region].code, Unit: m.units[t.unit].code, Category: categories[t.category],
				Received: t.rec * 1e9, Assigned: record.Never, Closed: record.Never, DeadlineDays: int32(t.deadline),
				Kind: record.TicketKind(t.kind + 1), Channel: record.TicketChannel(t.channel + 1),
				Direct: t.flags&tflagDirect != 0,
			})
		})
	}
	return out
}

// floorDiv divides rounding toward minus infinity, for instants before 1970.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

type ticketSeries struct{ *ticketState }

func (s ticketSeries) keys() []key { return s.lane.log }

func (s ticketSeries) latest(seq uint32) (int64, bool) {
	t, ok := s.tab.get(seq)
	if !ok {
		return 0, false
	}
	at := t.rec
	for _, x := range [...]int64{t.asg, t.clo, t.cb} {
		if x != 0 && x < s.h {
			at = x
		}
	}
	return at, true
}

func (s ticketSeries) id(seq uint32) (string, bool) {
	t, ok := s.tab.get(seq)
	if !ok {
		return "", false
	}
	return string(s.m.appendID(nil, 'T', t.rec/minute, t.n)), true
}

func (s ticketSeries) fields(dst []string, seq uint32) []string {
	t, ok := s.tab.get(seq)
	if !ok {
		return dst
	}
	m := s.m
	ts := func(x int64) string {
		if x == 0 || x >= s.h {
			return ""
		}
		return string(m.appendTime(nil, x))
	}
	received := ts(t.rec)
	if t.flags&tflagBad != 0 {
		received = time2slashes(received)
	}
	dl := ""
	if t.deadline >= 0 {
		dl = strconv.Itoa(int(t.deadline))
	}
	cb := ""
	if t.cb != 0 && t.cb < s.h {
		cb = callbacks[t.callback]
	}
	return append(dst, string(m.appendID(nil, 'T', t.rec/minute, t.n)), m.regions[t.region].code,
		m.units[t.unit].code, categories[t.category], ticketKinds[t.kind], ticketChannels[t.channel],
		received, boolStr(t.flags&tflagDirect != 0), ts(t.asg), dl, ts(t.clo), cb)
}

// time2slashes turns 2026-03-02T09:15:00+08:00 into 2026/03/02 09:15:00,
// the Excel-style form record.Parser rightly refuses.
func time2slashes(s string) string {
	if len(s) < 19 {
		return s
	}
	b := []byte(s[:19])
	b[4], b[7], b[10] = '/', '/', ' '
	return string(b)
}
