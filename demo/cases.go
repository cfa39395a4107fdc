package demo

import (
	"slices"
	"strconv"
)

// Case lifecycle steps.
const (
	decAccepted uint8 = iota + 1
	decRejected
	decWithdrawn
)

const (
	finClosed uint8 = iota + 1
	finWithdrawn
)

const (
	flagFullOnline uint8 = 1 << iota
	flagBad
	flagBadEval
)

var (
	caseChannels    = [...]string{"online", "mobile", "window", "self_service"}
	caseChannelW    = cumulative(45, 40, 12, 3)
	promisedChoices = [...]uint8{0, 1, 3, 5, 10, 15}
	promisedW       = cumulative(25, 10, 25, 20, 15, 5)
	// 好差评 scores 1..5; lagging counties rate their services worse.
	scoreW        = cumulative(1.0, 1.5, 4.5, 8, 85)
	scoreLaggingW = cumulative(5, 7, 8, 10, 70)
)

// caseRec is one case and its whole lifecycle, decided at submission;
// the API shows the part of it that has happened. Times are unix seconds,
// 0 for never.
type caseRec struct {
	sub    int64 // submitted
	dec    int64 // accepted, rejected or withdrawn (decKind)
	fin    int64 // closed or withdrawn after acceptance (finKind)
	evalAt int64 // 好差评 rating, if the user gave one
	rectAt int64 // 差评 rectified
	item   uint32
	region uint16
	n      uint16 // counter within the minute of submission (id)
	promised,
	channel,
	decKind,
	finKind,
	score,
	flags uint8
}

func (c *caseRec) created() int64 { return c.sub }

// caseState is the platform's case table and, derived from it, the 好差评
// table: an evaluation is keyed by its case's sequence number.
type caseState struct {
	guarded
	m     *model
	cat   *catalog
	tab   table[caseRec]
	cases lane
	evals lane
	next  int64 // next minute to generate (unix minutes)
}

func (s *caseState) advance(h int64, retain int64) {
	for s.next*minute < h {
		end := min(s.next+60, h/minute) // an hour per lock, so readers get in
		s.mu.Lock()
		for ; s.next < end; s.next++ {
			s.generate(s.next)
			limit := (s.next + 1) * minute
			s.cases.pend.release(limit, &s.cases.log, s.kept)
			s.evals.pend.release(limit, &s.evals.log, s.kept)
		}
		s.h = s.next * minute
		s.mu.Unlock()
	}
	s.mu.Lock()
	cutoff := s.h - retain
	s.tab.trim(cutoff, (*caseRec).created)
	s.cases.log = trimKeys(s.cases.log, cutoff)
	s.evals.log = trimKeys(s.evals.log, cutoff)
	s.mu.Unlock()
}

func (s *caseState) kept(seq uint32) bool { return seq >= s.tab.base }

// generate creates the cases submitted in one simulated minute.
func (s *caseState) generate(mi int64) {
	m := s.m
	t0 := mi * minute
	d, hr := m.localClock(t0)
	r := newRng(m.seed, streamCase, uint64(mi))
	lambda := casesPerWorkday * m.dayFactor(d, streamCase, caseRestFactor) * caseHours[hr] / sum24(&caseHours) / 60
	n := min(r.poisson(lambda), maxPerMinute)
	if n == 0 {
		return
	}
	at := make([]int64, n)
	for i := range at {
		at[i] = t0 + r.intn(minute)
	}
	slices.Sort(at)
	for i, t := range at {
		c := s.newCase(&r, t, uint16(i))
		seq := s.tab.add(c)
		s.cases.pend.push(key{c.sub, seq})
		if c.dec != 0 {
			s.cases.pend.push(key{c.dec, seq})
		}
		if c.fin != 0 {
			s.cases.pend.push(key{c.fin, seq})
		}
		if c.evalAt != 0 {
			s.evals.pend.push(key{c.evalAt, seq})
			if c.rectAt != 0 {
				s.evals.pend.push(key{c.rectAt, seq})
			}
		}
	}
}

func (s *caseState) newCase(r *rng, t int64, n uint16) caseRec {
	m := s.m
	c := caseRec{sub: t, n: n}
	c.region = m.pickRegion(r, caseLevels)
	lag := m.laggingRegion[c.region]
	c.item = s.cat.pickFor(r, c.region)
	c.channel = uint8(r.pick(caseChannelW))
	d := m.dayOf(t)
	if c.channel == 2 { // the hall's windows are open in office hours only
		if off := t - m.dayStart(d); !m.isWorkday(d) || off < officeOpen || off >= officeClose {
			c.channel = 0
		}
	}
	if c.channel <= 1 && s.cat.ids[c.item].full {
		c.flags |= flagFullOnline
	}
	c.promised = promisedChoices[r.pick(promisedW)]
	if r.chance(m.badRate) {
		c.flags |= flagBad
	}

	u := r.f()
	if u < 0.015 { // withdrawn before anyone looked at it
		c.dec, c.decKind = t+r.between(5*minute, 20*hour), decWithdrawn
		return c
	}
	var acc int64
	if c.channel == 2 {
		acc = t + r.between(2*minute, 20*minute)
	} else {
		acc = m.workTime(r, t, 0, 10*minute)
	}
	if u < 0.035 {
		c.dec, c.decKind = acc, decRejected
		return c
	}
	c.dec, c.decKind = acc, decAccepted
	if r.chance(0.005) {
		c.fin, c.finKind = acc+r.between(hour, 2*day), finWithdrawn
		return c
	}
	late, stuck := 0.04, 0.01
	if lag {
		late, stuck = 0.20, 0.04
	}
	N := int(c.promised)
	v := r.f()
	switch {
	case v < stuck: // open past its deadline for a week or two
		c.fin = m.workTime(r, acc, N+int(r.between(6, 12)), 0)
	case v < stuck+late:
		c.fin = m.workTime(r, acc, N+int(r.between(1, 5)), 0)
	case N == 0: // 即办件: closed the day it is accepted
		c.fin = m.sameDay(r, acc, 5*minute, 2*hour)
	default:
		x := r.f()
		c.fin = m.workTime(r, acc, int(float64(N+1)*x*x), 10*minute)
	}
	c.fin = min(c.fin, t+lifeMax-4*day)
	c.finKind = finClosed

	if !r.chance(evalShare) {
		return c
	}
	if r.chance(0.6) { // on the phone right after the result arrives
		c.evalAt = c.fin + r.between(minute, 15*minute)
	} else {
		c.evalAt = c.fin + r.between(hour, 48*hour)
	}
	if r.chance(m.badRate) {
		c.flags |= flagBadEval
	}
	w := scoreW
	if lag {
		w = scoreLaggingW
	}
	c.score = uint8(1 + r.pick(w))
	if c.score <= 2 {
		onTime, lateR := 0.90, 0.08
		if lag {
			onTime, lateR = 0.65, 0.25
		}
		v := r.f()
		switch {
		case v < onTime:
			x := r.f()
			c.rectAt = m.workTime(r, c.evalAt, int(4*x*x), 30*minute)
		case v < onTime+lateR:
			c.rectAt = m.workTime(r, c.evalAt, int(r.between(4, 7)), 0)
		}
		if c.rectAt-t > lifeMax {
			c.rectAt = 0
		}
	}
	return c
}

// caseSeries serves the case table; evalSeries the 好差评 table.
type (
	caseSeries struct{ *caseState }
	evalSeries struct{ *caseState }
)

func (s caseSeries) keys() []key { return s.cases.log }

func (s caseSeries) latest(seq uint32) (int64, bool) {
	c, ok := s.tab.get(seq)
	if !ok {
		return 0, false
	}
	at := c.sub
	if c.dec != 0 && c.dec < s.h {
		at = c.dec
	}
	if c.fin != 0 && c.fin < s.h {
		at = c.fin
	}
	return at, at < s.h
}

func (s caseSeries) id(seq uint32) (string, bool) {
	c, ok := s.tab.get(seq)
	if !ok {
		return "", false
	}
	return string(s.m.appendID(nil, 'C', c.sub/minute, c.n)), true
}

func (s caseSeries) fields(dst []string, seq uint32) []string {
	c, ok := s.tab.get(seq)
	if !ok {
		return dst
	}
	m := s.m
	id := string(m.appendID(nil, 'C', c.sub/minute, c.n))
	reg := m.regions[c.region].code
	if c.flags&flagBad != 0 {
		reg = reg[:5] // a 5-digit code: the kind of row a real export has now and then
	}
	it := &s.cat.ids[c.item]
	acc, clo, status := "", "", "submitted"
	if c.dec != 0 && c.dec < s.h {
		switch c.decKind {
		case decAccepted:
			acc, status = string(m.appendTime(nil, c.dec)), "accepted"
		case decRejected:
			status = "rejected"
		case decWithdrawn:
			status = "withdrawn"
		}
	}
	if c.fin != 0 && c.fin < s.h {
		switch c.finKind {
		case finClosed:
			clo, status = string(m.appendTime(nil, c.fin)), "closed"
		case finWithdrawn:
			status = "withdrawn"
		}
	}
	return append(dst, id, reg, departments[it.dept].code, it.code, caseChannels[c.channel],
		boolStr(c.flags&flagFullOnline != 0), string(m.appendTime(nil, c.sub)), acc,
		strconv.Itoa(int(c.promised)), clo, status)
}

func (s evalSeries) keys() []key { return s.evals.log }

func (s evalSeries) latest(seq uint32) (int64, bool) {
	c, ok := s.tab.get(seq)
	if !ok || c.evalAt == 0 || c.evalAt >= s.h {
		return 0, false
	}
	if c.rectAt != 0 && c.rectAt < s.h {
		return c.rectAt, true
	}
	return c.evalAt, true
}

func (s evalSeries) id(seq uint32) (string, bool) {
	c, ok := s.tab.get(seq)
	if !ok {
		return "", false
	}
	return string(s.m.appendID(nil, 'E', c.sub/minute, c.n)), true
}

func (s evalSeries) fields(dst []string, seq uint32) []string {
	c, ok := s.tab.get(seq)
	if !ok {
		return dst
	}
	m := s.m
	rect := ""
	if c.rectAt != 0 && c.rectAt < s.h {
		rect = string(m.appendTime(nil, c.rectAt))
	}
	score := strconv.Itoa(int(c.score))
	if c.flags&flagBadEval != 0 {
		score = "6"
	}
	return append(dst, string(m.appendID(nil, 'E', c.sub/minute, c.n)), string(m.appendID(nil, 'C', c.sub/minute, c.n)),
		m.regions[c.region].code, departments[s.cat.ids[c.item].dept].code, caseChannels[c.channel],
		score, string(m.appendTime(nil, c.evalAt)), rect)
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
