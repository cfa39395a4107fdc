// Package engine computes the indicators of SPEC.md section 5 from platform
// records, incrementally.
//
// Every record's contribution to the counters is a pure function of the
// record and an instant t (contrib). The engine keeps, per record kind,
// the sum of contrib(r, clock) over all records, per (region, dept) pair
// and per period bucket. An upsert subtracts the old version's contribution
// and adds the new one; a timer heap holds, for each record, the next
// instant at which its contribution changes (a deadline passing), so
// advancing the clock re-files exactly those records and nothing else.
// Roll-up to ancestor regions and departments happens on read, from the
// per-pair counters, so aggregates are always sums of numerators and
// denominators, never averages of rates.
//
// The same engine serves the live server (clock = now, all period kinds)
// and the compute command (clock = as_of, one period kind, no history).
package engine

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// Result is one indicator value for one region (and department).
type Result struct {
	Indicator string
	Region    string
	Dept      string
	Numerator int64
	// Denominator is meaningful only when Rate is true; counts have none.
	Denominator int64
	Rate        bool
}

// Value returns the indicator's value and whether it is defined: a rate
// with a zero denominator is null (SPEC.md section 5), never 0 or NaN.
func (r Result) Value() (float64, bool) {
	if !r.Rate {
		return float64(r.Numerator), true
	}
	if r.Denominator == 0 {
		return math.NaN(), false
	}
	return float64(r.Numerator) / float64(r.Denominator), true
}

// Config sets up an Engine. Zero fields take the defaults of SPEC.md.
type Config struct {
	// Calendar decides working days and holds the business time zone.
	Calendar *calendar.Calendar
	// Now is the initial clock (Unix nanoseconds). Records dated after the
	// clock do not count until the clock reaches them.
	Now int64
	// Periods are the period kinds kept live; nil means all five.
	Periods []Period
	// Retain is how many periods before the current one stay live per
	// kind (late records still correct them); older periods belong to the
	// history store. Nil means DefaultRetain.
	Retain *[NumPeriods]int32
	// RectifyDays is the working-day deadline to rectify a 差评 (default 3).
	RectifyDays int
	// Frozen engines keep their clock at Now for good: Advance does
	// nothing and no timers are kept, which saves memory for one-shot
	// computations such as the compute command.
	Frozen bool
	// TicketDeadlineDays overrides the default deadline of a ticket kind
	// (consult 1, help 3, complaint 5, report 5, suggestion 10, praise 1).
	TicketDeadlineDays map[record.TicketKind]int
}

// DefaultRetain keeps about two months of days and weeks, a year of
// months, and two years of quarters and years live, so late records still
// correct recent periods and 环比 / 同比 of the months read live; older
// weeks and days are read from the history store.
var DefaultRetain = [NumPeriods]int32{62, 8, 13, 5, 2}

// Engine holds the records of every kind and their indicators as of its
// clock. Its methods are safe for concurrent use; each record kind has its
// own lock, so different kinds are upserted in parallel.
type Engine struct {
	cal         *calendar.Calendar
	periods     []Period
	rectifyDays int
	ticketDays  [record.NumTicketKinds]int
	cases       *table[caseRec]
	evals       *table[evalRec]
	tickets     *table[ticketRec]
	calls       *table[callRec]
	items       *itemTable
}

// New returns an empty engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Calendar == nil {
		return nil, errors.New("engine: a calendar is required")
	}
	e := &Engine{cal: cfg.Calendar, periods: cfg.Periods, rectifyDays: cfg.RectifyDays}
	if e.periods == nil {
		e.periods = AllPeriods
	}
	for _, p := range e.periods {
		if p >= NumPeriods {
			return nil, fmt.Errorf("engine: unknown period %d", p)
		}
	}
	if e.rectifyDays == 0 {
		e.rectifyDays = 3
	}
	if e.rectifyDays < 0 {
		return nil, fmt.Errorf("engine: rectify days %d is negative", e.rectifyDays)
	}
	e.ticketDays = [record.NumTicketKinds]int{
		record.TicketConsult: 1, record.TicketHelp: 3, record.TicketComplaint: 5,
		record.TicketReport: 5, record.TicketSuggestion: 10, record.TicketPraise: 1,
	}
	for k, d := range cfg.TicketDeadlineDays {
		if k == 0 || k >= record.NumTicketKinds || d < 0 {
			return nil, fmt.Errorf("engine: bad ticket deadline %d days for kind %d", d, k)
		}
		e.ticketDays[k] = d
	}
	retain := DefaultRetain
	if cfg.Retain != nil {
		retain = *cfg.Retain
	}
	e.cases = newTable(caseSpec, e.cal, e.periods, retain, cfg.Now)
	e.evals = newTable(evalSpec, e.cal, e.periods, retain, cfg.Now)
	e.tickets = newTable(ticketSpec, e.cal, e.periods, retain, cfg.Now)
	e.calls = newTable(callSpec, e.cal, e.periods, retain, cfg.Now)
	e.items = newItemTable()
	e.cases.frozen, e.evals.frozen, e.tickets.frozen, e.calls.frozen = cfg.Frozen, cfg.Frozen, cfg.Frozen, cfg.Frozen
	return e, nil
}

// UpsertCases files cases in order; a case whose id is known replaces the
// earlier version.
func (e *Engine) UpsertCases(cs []record.Case) {
	t := e.cases
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range cs {
		c := &cs[i]
		r := caseRec{submitted: c.Submitted, accepted: c.Accepted, closed: c.Closed, deadline: record.Never}
		switch c.Status {
		case record.StatusWithdrawn:
			r.flags |= fWithdrawn
		case record.StatusRejected:
			r.flags |= fRejected
		}
		switch c.Channel {
		case record.ChannelOnline:
			r.flags |= fOnline
		case record.ChannelMobile:
			r.flags |= fOnline | fMobile
		}
		if c.FullOnline {
			r.flags |= fFullOnline
		}
		if c.Accepted != record.Never {
			r.deadline = e.cal.Deadline(c.Accepted, int(c.PromisedDays))
		}
		t.add(c.ID, c.Region, c.Dept, r)
	}
	t.flush()
}

// UpsertEvaluations files evaluations in order.
func (e *Engine) UpsertEvaluations(es []record.Evaluation) {
	t := e.evals
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range es {
		v := &es[i]
		r := evalRec{evaluated: v.Evaluated, rectified: v.Rectified, score: v.Score, deadline: record.Never}
		if v.Bad() {
			r.deadline = e.cal.Deadline(v.Evaluated, e.rectifyDays)
		}
		t.add(v.ID, v.Region, v.Dept, r)
	}
	t.flush()
}

// UpsertTickets files 12345 tickets in order.
func (e *Engine) UpsertTickets(ts []record.Ticket) {
	t := e.tickets
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range ts {
		v := &ts[i]
		r := ticketRec{received: v.Received, assigned: v.Assigned, closed: v.Closed, deadline: record.Never, callback: v.Callback}
		if v.Direct {
			r.flags |= fDirect
		}
		if v.Assigned != record.Never {
			days := int(v.DeadlineDays)
			if days < 0 {
				days = e.ticketDays[v.Kind]
			}
			r.deadline = e.cal.Deadline(v.Assigned, days)
		}
		t.add(v.ID, v.Region, v.Unit, r)
	}
	t.flush()
}

// UpsertCalls files 12345 calls in order.
func (e *Engine) UpsertCalls(cs []record.Call) {
	t := e.calls
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range cs {
		v := &cs[i]
		r := callRec{offered: v.Offered}
		if v.Answered {
			r.flags |= fAnswered
			if v.WaitSeconds >= 0 && v.WaitSeconds <= 15 {
				r.flags |= fWithin15
			}
		}
		t.add(v.ID, v.Region, "", r)
	}
	t.flush()
}

// UpsertItems files catalog items in order, replacing items with the same
// code.
func (e *Engine) UpsertItems(its []record.Item) {
	t := e.items
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range its {
		t.upsert(&its[i])
	}
}

// ReplaceCatalog makes its the whole catalog: a new catalog snapshot
// replaces the previous one (SPEC.md section 3).
func (e *Engine) ReplaceCatalog(its []record.Item) {
	fresh := newItemTable()
	for i := range its {
		fresh.upsert(&its[i])
	}
	t := e.items
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys, t.ids, t.rows, t.pairs, t.sums = fresh.keys, fresh.ids, fresh.rows, fresh.pairs, fresh.sums
}

// Advance moves the clock forward to now (Unix nanoseconds) and re-files
// the records whose contribution changes in between, such as open cases
// whose deadline passes. It returns how many records moved. A clock that
// would go backwards is left where it is.
func (e *Engine) Advance(now int64) int {
	n := 0
	n += lockAdvance(e.cases, now)
	n += lockAdvance(e.evals, now)
	n += lockAdvance(e.tickets, now)
	n += lockAdvance(e.calls, now)
	return n
}

func lockAdvance[R any](t *table[R], now int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.advance(now)
}

// Now returns the engine's clock.
func (e *Engine) Now() int64 {
	t := e.cases
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clock
}

// Len returns how many records of each kind the engine holds, indexed by
// record.Kind.
func (e *Engine) Len() [record.NumKinds]int {
	var n [record.NumKinds]int
	n[record.KindCase] = lockLen(e.cases)
	n[record.KindEvaluation] = lockLen(e.evals)
	n[record.KindTicket] = lockLen(e.tickets)
	n[record.KindCall] = lockLen(e.calls)
	e.items.mu.Lock()
	n[record.KindItem] = len(e.items.rows)
	e.items.mu.Unlock()
	return n
}

func lockLen[R any](t *table[R]) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recs)
}

// Results returns every indicator for the period of kind p containing the
// engine's clock, for every region that appears in the records (and every
// (region, dept) with byDept), sorted by indicator, region, dept. It reads
// the live counters: no record is scanned.
func (e *Engine) Results(p Period, byDept bool) ([]Result, error) {
	out, err := e.AppendResults(nil, p, byDept)
	if err != nil {
		return nil, err
	}
	SortResults(out)
	return out, nil
}

// AppendResults appends what Results returns to dst, in no particular
// order: for callers that scan every value every second (the feed) and
// need neither the sort nor a fresh slice each time.
func (e *Engine) AppendResults(dst []Result, p Period, byDept bool) ([]Result, error) {
	if !e.tracks(p) {
		return dst, fmt.Errorf("engine: period %s is not kept live", p)
	}
	emit := func(r Result) { dst = append(dst, r) }
	liveResults(e.cases, p, byDept, emit)
	liveResults(e.evals, p, byDept, emit)
	liveResults(e.tickets, p, byDept, emit)
	liveResults(e.calls, p, byDept, emit)
	e.items.mu.Lock()
	e.items.results(byDept, emit)
	e.items.mu.Unlock()
	return dst, nil
}

func liveResults[R any](t *table[R], p Period, byDept bool, emit func(Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.results(t.live, p, t.clock, byDept, emit)
}

// Evaluate recomputes every indicator as of instant at (which may be in the
// past: replay) from the records the engine holds, for the period of kind p
// containing at. It leaves the live counters alone.
func (e *Engine) Evaluate(at int64, p Period, byDept bool) []Result {
	var out []Result
	emit := func(r Result) { out = append(out, r) }
	evalResults(e.cases, at, p, byDept, emit)
	evalResults(e.evals, at, p, byDept, emit)
	evalResults(e.tickets, at, p, byDept, emit)
	evalResults(e.calls, at, p, byDept, emit)
	e.items.mu.Lock()
	e.items.results(byDept, emit)
	e.items.mu.Unlock()
	SortResults(out)
	return out
}

func evalResults[R any](t *table[R], at int64, p Period, byDept bool, emit func(Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.results(t.evaluate(at, p), p, at, byDept, emit)
}

func (e *Engine) tracks(p Period) bool {
	for _, q := range e.periods {
		if q == p {
			return true
		}
	}
	return false
}

// SortResults orders results by indicator, region, dept (SPEC.md section 7).
func SortResults(rs []Result) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Indicator != b.Indicator {
			return a.Indicator < b.Indicator
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Dept < b.Dept
	})
}
