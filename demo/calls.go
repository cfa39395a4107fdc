package demo

import (
	"math"
	"slices"
	"strconv"
)

const (
	cflagAnswered uint8 = 1 << iota
	cflagBad
	cflagNoWait // the switch did not record the wait
)

// callRec is one call offered to the 12345 hotline. It never changes, so
// it goes straight to the log.
type callRec struct {
	at     int64
	region uint16
	n      uint16
	wait   uint16 // seconds
	flags  uint8
}

func (c *callRec) created() int64 { return c.at }

type callState struct {
	guarded
	m      *model
	tab    table[callRec]
	log    []key
	next   int64
	surges surgeCache
}

func (s *callState) advance(h int64, retain int64) {
	for s.next*minute < h {
		end := min(s.next+60, h/minute)
		s.mu.Lock()
		for ; s.next < end; s.next++ {
			s.generate(s.next)
		}
		s.h = s.next * minute
		s.mu.Unlock()
	}
	s.mu.Lock()
	cutoff := s.h - retain
	s.tab.trim(cutoff, (*callRec).created)
	s.log = trimKeys(s.log, cutoff)
	s.mu.Unlock()
}

func (s *callState) generate(mi int64) {
	m := s.m
	t0 := mi * minute
	d, hr := m.localClock(t0)
	r := newRng(m.seed, streamCall, uint64(mi))
	lambda := callsPerWorkday * m.dayFactor(d, streamCall, hotlineRestFactor) * hotlineHours[hr] / sum24(&hotlineHours) / 60
	n := r.poisson(lambda)
	sg, surging := s.surges.at(m, t0, d)
	extra := 0
	if surging {
		// People call about the surge; the city's center is swamped.
		extra = r.poisson(1.5 * float64(sg.tickets) / float64((sg.end-sg.start)/minute))
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
		c := callRec{at: a.at, n: uint16(i)}
		p := answerRate
		if a.surge {
			c.region = m.cities[m.counties[sg.county].city]
			p = surgeAnswerRate
		} else {
			c.region = m.pickRegion(&r, callLevels)
		}
		if r.chance(p) {
			c.flags |= cflagAnswered
			// Exponential wait, mean 7 s: ~88% answered within 15 s.
			c.wait = uint16(min(-7*math.Log(1-r.f()), 600))
		} else {
			c.wait = uint16(r.between(5, 180)) // hung up waiting
		}
		if r.chance(0.01) {
			c.flags |= cflagNoWait
		}
		if r.chance(m.badRate) {
			c.flags |= cflagBad
		}
		seq := s.tab.add(c)
		s.log = append(s.log, key{c.at, seq})
	}
}

type callSeries struct{ *callState }

func (s callSeries) keys() []key { return s.log }

func (s callSeries) latest(seq uint32) (int64, bool) {
	c, ok := s.tab.get(seq)
	if !ok {
		return 0, false
	}
	return c.at, true
}

func (s callSeries) id(seq uint32) (string, bool) {
	c, ok := s.tab.get(seq)
	if !ok {
		return "", false
	}
	return string(s.m.appendID(nil, 'K', c.at/minute, c.n)), true
}

func (s callSeries) fields(dst []string, seq uint32) []string {
	c, ok := s.tab.get(seq)
	if !ok {
		return dst
	}
	answered := boolStr(c.flags&cflagAnswered != 0)
	if c.flags&cflagBad != 0 {
		answered = "maybe"
	}
	wait := strconv.Itoa(int(c.wait))
	if c.flags&cflagNoWait != 0 {
		wait = ""
	}
	return append(dst, string(s.m.appendID(nil, 'K', c.at/minute, c.n)), s.m.regions[c.region].code,
		string(s.m.appendTime(nil, c.at)), answered, wait)
}
