package engine

import (
	"math/bits"

	"github.com/yiping-ioc/yiping/calendar"
)

// contrib is what one record adds to the counters as of one instant: up to
// three (bucket time, counter set) entries and a set of level counters.
// Window counters land in the period containing their bucket time; level
// counters (open overdue cases, the catalog) describe the instant itself.
type contrib struct {
	n     int
	at    [3]int64
	mask  [3]uint16
	level uint16
}

func (c *contrib) add(at int64, mask uint16) {
	for i := 0; i < c.n; i++ {
		if c.at[i] == at {
			c.mask[i] |= mask
			return
		}
	}
	c.at[c.n] = at
	c.mask[c.n] = mask
	c.n++
}

// agg holds counters for one record kind: per base period kind (days and
// months), a bucket per period, and in each bucket a row of nWin counters
// per (region, dept) pair; plus nLvl level counters per pair. Weeks are read
// as sums of their days, quarters and years as sums of their months: each
// contribution then touches two buckets instead of five, and the updates,
// which are cache misses over many pairs, are the engine's hot path; the
// few reads pay for the sums instead.
type agg struct {
	cal     *calendar.Calendar
	nWin    int
	nLvl    int
	periods []Period // the period kinds that can be read
	bases   []Period // the period kinds held: Day and/or Month
	// keep[b] is the lowest bucket index of base b still held;
	// contributions to older buckets are history and are not counted.
	keep    [NumPeriods]int32
	buckets [NumPeriods]map[int32]*bucket
	level   []int64
	scratch []int64 // a summed row, valid until the next windowRow
}

type bucket struct {
	// off[pair] is 1 + the offset of pair's row in vals, 0 when the pair
	// has none. A dense slice rather than a map: this lookup is the
	// engine's hot path, and pairs are few (regions × departments).
	off  []int32
	vals []int64
}

// baseOf is the period kind whose buckets hold p's counters.
func baseOf(p Period) Period {
	if p == Day || p == Week {
		return Day
	}
	return Month
}

// startInBase converts the index of a period of kind p into the index of
// its first base bucket.
func startInBase(p Period, i int32) int32 {
	switch p {
	case Week:
		return int32(Week.Start(i))
	case Quarter:
		return i * 3
	case Year:
		return i * 12
	}
	return i
}

func newAgg(cal *calendar.Calendar, nWin, nLvl int, periods []Period) *agg {
	a := &agg{cal: cal, nWin: nWin, nLvl: nLvl, periods: periods, scratch: make([]int64, nWin)}
	for _, p := range periods {
		b := baseOf(p)
		if a.buckets[b] == nil {
			a.buckets[b] = make(map[int32]*bucket)
			a.keep[b] = -1 << 31
			a.bases = append(a.bases, b)
		}
	}
	return a
}

func (a *agg) row(base Period, bi int32, pair uint32) []int64 {
	b := a.buckets[base][bi]
	if b == nil {
		b = &bucket{}
		a.buckets[base][bi] = b
	}
	if int(pair) >= len(b.off) {
		b.off = append(b.off, make([]int32, int(pair)+1-len(b.off))...)
	}
	o := b.off[pair] - 1
	if o < 0 {
		o = int32(len(b.vals))
		b.off[pair] = o + 1
		b.vals = append(b.vals, make([]int64, a.nWin)...)
	}
	return b.vals[o : int(o)+a.nWin]
}

// apply adds delta times the contribution c to pair's counters.
func (a *agg) apply(pair uint32, c *contrib, delta int64) {
	for i := 0; i < c.n; i++ {
		d := a.cal.DayOf(c.at[i])
		for _, base := range a.bases {
			bi := int32(d)
			if base == Month {
				y, m, _ := d.Civil()
				bi = periodIndexOfMonth(Month, y, m)
			}
			if bi < a.keep[base] {
				continue
			}
			r := a.row(base, bi, pair)
			for mask := c.mask[i]; mask != 0; mask &= mask - 1 {
				r[bits.TrailingZeros16(mask)] += delta
			}
		}
	}
	if c.level != 0 {
		base := int(pair) * a.nLvl
		if need := base + a.nLvl; need > len(a.level) {
			a.level = append(a.level, make([]int64, need-len(a.level))...)
		}
		for mask := c.level; mask != 0; mask &= mask - 1 {
			a.level[base+bits.TrailingZeros16(mask)] += delta
		}
	}
}

// keepFrom makes the period of kind p with index i the oldest readable
// one: base buckets before its start are no longer needed for p.
func (a *agg) keepFrom(p Period, i int32) {
	a.keep[baseOf(p)] = startInBase(p, i)
}

// prune drops buckets older than retain periods before the one containing
// day, so a long-running engine holds bounded history (the store keeps the
// rest). A base bucket stays while any readable period still needs it.
func (a *agg) prune(day calendar.Date, retain [NumPeriods]int32) {
	var keep [NumPeriods]int32
	for _, b := range a.bases {
		keep[b] = 1<<31 - 1
	}
	for _, p := range a.periods {
		b := baseOf(p)
		keep[b] = min(keep[b], startInBase(p, p.Index(day)-retain[p]))
	}
	for _, b := range a.bases {
		if keep[b] <= a.keep[b] {
			continue
		}
		a.keep[b] = keep[b]
		for bi := range a.buckets[b] {
			if bi < keep[b] {
				delete(a.buckets[b], bi)
			}
		}
	}
}

// windowRow returns pair's window counters in the period of kind p with
// index bi, or nil when there are none. A period made of several base
// buckets is summed into a scratch row that the next call reuses.
func (a *agg) windowRow(p Period, bi int32, pair uint32) []int64 {
	base := baseOf(p)
	lo, hi := startInBase(p, bi), startInBase(p, bi+1)
	if hi-lo == 1 {
		return a.baseRow(base, lo, pair)
	}
	clear(a.scratch)
	found := false
	for i := max(lo, a.keep[base]); i < hi; i++ {
		if r := a.baseRow(base, i, pair); r != nil {
			found = true
			for j, v := range r {
				a.scratch[j] += v
			}
		}
	}
	if !found {
		return nil
	}
	return a.scratch
}

func (a *agg) baseRow(base Period, bi int32, pair uint32) []int64 {
	b := a.buckets[base][bi]
	if b == nil || int(pair) >= len(b.off) || b.off[pair] == 0 {
		return nil
	}
	o := b.off[pair] - 1
	return b.vals[o : int(o)+a.nWin]
}

func (a *agg) levelRow(pair uint32) []int64 {
	base := int(pair) * a.nLvl
	if a.nLvl == 0 || base+a.nLvl > len(a.level) {
		return nil
	}
	return a.level[base : base+a.nLvl]
}
