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

// agg holds counters for one record kind: per tracked period kind, a
// bucket per period, and in each bucket a row of nWin counters per
// (region, dept) pair; plus nLvl level counters per pair.
type agg struct {
	cal     *calendar.Calendar
	nWin    int
	nLvl    int
	periods []Period
	// keep[p] is the lowest bucket index still held for period kind p;
	// contributions to older buckets are history and are not counted.
	keep    [NumPeriods]int32
	buckets [NumPeriods]map[int32]*bucket
	level   []int64
}

type bucket struct {
	// off[pair] is 1 + the offset of pair's row in vals, 0 when the pair
	// has none. A dense slice rather than a map: this lookup is the
	// engine's hot path, and pairs are few (regions × departments).
	off  []int32
	vals []int64
}

func newAgg(cal *calendar.Calendar, nWin, nLvl int, periods []Period) *agg {
	a := &agg{cal: cal, nWin: nWin, nLvl: nLvl, periods: periods}
	for _, p := range periods {
		a.buckets[p] = make(map[int32]*bucket)
		a.keep[p] = -1 << 31
	}
	return a
}

func (a *agg) row(p Period, bi int32, pair uint32) []int64 {
	b := a.buckets[p][bi]
	if b == nil {
		b = &bucket{}
		a.buckets[p][bi] = b
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
		var y, m = 0, 0
		for _, p := range a.periods {
			var bi int32
			switch p {
			case Day:
				bi = int32(d)
			case Week:
				bi = floorDiv(int32(d)+3, 7)
			default:
				if y == 0 {
					yy, mm, _ := d.Civil()
					y, m = yy, int(mm)
				}
				bi = periodIndexOfMonth(p, y, monthOf(m))
			}
			if bi < a.keep[p] {
				continue
			}
			r := a.row(p, bi, pair)
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

// prune drops buckets older than retain periods before the one containing
// day, so a long-running engine holds bounded history (the store keeps the
// rest).
func (a *agg) prune(day calendar.Date, retain [NumPeriods]int32) {
	for _, p := range a.periods {
		keep := p.Index(day) - retain[p]
		if keep <= a.keep[p] {
			continue
		}
		a.keep[p] = keep
		for bi := range a.buckets[p] {
			if bi < keep {
				delete(a.buckets[p], bi)
			}
		}
	}
}

// windowRow returns pair's window counters in bucket bi of period kind p,
// or nil when there are none.
func (a *agg) windowRow(p Period, bi int32, pair uint32) []int64 {
	b := a.buckets[p][bi]
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
