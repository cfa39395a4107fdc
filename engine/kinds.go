package engine

import (
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/record"
)

// Compact per-kind records: only what the indicators read, with deadlines
// computed once at upsert. Times are Unix nanoseconds, record.Never for null.

const (
	fWithdrawn uint8 = 1 << iota
	fRejected
	fOnline
	fFullOnline
	fMobile
)

type caseRec struct {
	submitted, accepted, closed, deadline int64
	flags                                 uint8
}

// Case counter columns.
const (
	cVolume = iota
	cOnline
	cFullOnline
	cMobile
	cOnTimeDen
	cOnTimeNum
	cOverdue // level
)

var caseSpec = kindSpec[caseRec]{
	nWin: 6, nLvl: 1,
	indicators: []indSpec{
		{indicator.CaseVolume, cVolume, -1},
		{indicator.OnlineCaseRate, cOnline, cVolume},
		{indicator.FullOnlineCaseRate, cFullOnline, cVolume},
		{indicator.MobileCaseRate, cMobile, cVolume},
		{indicator.OnTimeRate, cOnTimeNum, cOnTimeDen},
		{indicator.OverdueOpen, cOverdue, -1},
	},
	contrib: func(r *caseRec, t int64) (c contrib) {
		if r.flags&fWithdrawn != 0 || r.submitted > t {
			return c
		}
		m := uint16(1 << cVolume)
		if r.flags&fOnline != 0 {
			m |= 1 << cOnline
		}
		if r.flags&fFullOnline != 0 {
			m |= 1 << cFullOnline
		}
		if r.flags&fMobile != 0 {
			m |= 1 << cMobile
		}
		c.add(r.submitted, m)
		if r.accepted <= t && r.flags&fRejected == 0 {
			settle(&c, r.closed, r.deadline, t, cOnTimeDen, cOnTimeNum)
			if r.closed > t && r.deadline <= t {
				c.level = 1 << (cOverdue - 6)
			}
		}
		return c
	},
	next: func(r *caseRec, t int64) int64 {
		if r.flags&fWithdrawn != 0 {
			return record.Never
		}
		return nextAfter(t, r.submitted, r.accepted, r.closed, r.deadline)
	},
}

// settle files a deadline-bound record (SPEC.md section 5, on_time_rate):
// it settles when it closes by t, else at its deadline once that has
// passed; on time means closed strictly before the deadline.
func settle(c *contrib, closed, deadline, t int64, den, num int) {
	switch {
	case closed <= t:
		m := uint16(1 << den)
		if closed < deadline {
			m |= 1 << num
		}
		c.add(closed, m)
	case deadline <= t:
		c.add(deadline, 1<<den)
	}
}

func nextAfter(t int64, times ...int64) int64 {
	n := record.Never
	for _, x := range times {
		if x > t && x < n {
			n = x
		}
	}
	return n
}

type evalRec struct {
	evaluated, rectified, deadline int64
	score                          int8
}

// Evaluation counter columns.
const (
	eCount = iota
	eSatisfied
	eBad
	eRectifyDen
	eRectifyNum
)

var evalSpec = kindSpec[evalRec]{
	nWin: 5,
	indicators: []indSpec{
		{indicator.EvalCount, eCount, -1},
		{indicator.SatisfactionRate, eSatisfied, eCount},
		{indicator.BadReviewCount, eBad, -1},
		{indicator.RectifyOnTimeRate, eRectifyNum, eRectifyDen},
	},
	contrib: func(r *evalRec, t int64) (c contrib) {
		if r.evaluated > t {
			return c
		}
		m := uint16(1 << eCount)
		if r.score >= 3 {
			m |= 1 << eSatisfied
		} else {
			m |= 1 << eBad
		}
		c.add(r.evaluated, m)
		if r.score <= 2 {
			settle(&c, r.rectified, r.deadline, t, eRectifyDen, eRectifyNum)
		}
		return c
	},
	next: func(r *evalRec, t int64) int64 {
		if r.score >= 3 {
			return nextAfter(t, r.evaluated)
		}
		return nextAfter(t, r.evaluated, r.rectified, r.deadline)
	},
}

const fDirect uint8 = 1

type ticketRec struct {
	received, assigned, closed, deadline int64
	flags                                uint8
	callback                             record.Callback
}

// Ticket counter columns.
const (
	tVolume = iota
	tDirect
	tOnTimeDen
	tOnTimeNum
	tSatDen
	tSatNum
)

var ticketSpec = kindSpec[ticketRec]{
	nWin: 6,
	indicators: []indSpec{
		{indicator.TicketVolume, tVolume, -1},
		{indicator.DirectRate, tDirect, tVolume},
		{indicator.TicketOnTimeRate, tOnTimeNum, tOnTimeDen},
		{indicator.TicketSatisfactionRate, tSatNum, tSatDen},
	},
	contrib: func(r *ticketRec, t int64) (c contrib) {
		if r.received > t {
			return c
		}
		m := uint16(1 << tVolume)
		if r.flags&fDirect != 0 {
			m |= 1 << tDirect
		} else if r.assigned <= t {
			settle(&c, r.closed, r.deadline, t, tOnTimeDen, tOnTimeNum)
		}
		c.add(r.received, m)
		if r.closed <= t {
			switch r.callback {
			case record.CallbackSatisfied, record.CallbackBasic:
				c.add(r.closed, 1<<tSatDen|1<<tSatNum)
			case record.CallbackUnsatisfied:
				c.add(r.closed, 1<<tSatDen)
			}
		}
		return c
	},
	next: func(r *ticketRec, t int64) int64 {
		if r.flags&fDirect != 0 {
			return nextAfter(t, r.received, r.closed)
		}
		return nextAfter(t, r.received, r.assigned, r.closed, r.deadline)
	},
}

const (
	fAnswered uint8 = 1 << iota
	fWithin15
)

type callRec struct {
	offered int64
	flags   uint8
}

// Call counter columns.
const (
	kVolume = iota
	kAnswered
	kAnswered15
)

var callSpec = kindSpec[callRec]{
	nWin: 3,
	indicators: []indSpec{
		{indicator.CallVolume, kVolume, -1},
		{indicator.AnswerRate, kAnswered, kVolume},
		{indicator.Answer15sRate, kAnswered15, kVolume},
	},
	contrib: func(r *callRec, t int64) (c contrib) {
		if r.offered > t {
			return c
		}
		m := uint16(1 << kVolume)
		if r.flags&fAnswered != 0 {
			m |= 1 << kAnswered
			if r.flags&fWithin15 != 0 {
				m |= 1 << kAnswered15
			}
		}
		c.add(r.offered, m)
		return c
	},
	next: func(r *callRec, t int64) int64 { return nextAfter(t, r.offered) },
}
