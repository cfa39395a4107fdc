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
// months), a row of nWin counters per (region, dept) pair and base bucket;
// plus nLvl level counters per pair. Weeks are read as sums of their days,
// quarters and years as sums of their months: each contribution then
// touches two buckets instead of five, and the updates, which are cache
// misses over many pairs, are the engine's hot path; the few reads pay for
// the sums instead.
//
// The layout is pair-major. Base buckets are grouped in chunks of 2^shift
// consecutive buckets whose rows lie next to each other; each pair has a
// small directory, a ring of slots per base, all of a pair's slots in one
// block of dir, naming the chunks it holds. A contribution's row look-ups
// (day and month, submit and settle time) thus share one directory block,
// and a row is two dependent loads (slot, row) instead of three (bucket
// map, per-bucket offset table, row), which lets upsertBatch compute the
// rows' addresses ahead cheaply.
type agg struct {
	cal     *calendar.Calendar
	nWin    int
	nLvl    int
	periods []Period // the period kinds that can be read
	bases   []Period // the period kinds held: Day and/or Month
	// keep[b] is the lowest bucket index of base b still held;
	// contributions to older buckets are history and are not counted.
	keep  [NumPeriods]int32
	shift [NumPeriods]uint8 // a chunk of base b holds 1<<shift[b] buckets
	ring  [NumPeriods]int32 // directory slots per pair of base b, a power of 2
	doff  [NumPeriods]int32 // where base b's slots start in a pair's block
	// stride is the size of a pair's directory block: the sum of ring.
	stride  int32
	dir     []slot
	chunks  [NumPeriods]chunkStore
	level   []int64
	scratch []int64 // a summed row, valid until the next windowRow
	// months caches the month index of recent days (0: none).
	months [64]struct{ d, m int32 }
}

// monthOf returns the index of the month containing d.
func (a *agg) monthOf(d calendar.Date) int32 {
	e := &a.months[uint32(d)&63]
	if e.m != 0 && e.d == int32(d) {
		return e.m
	}
	y, m, _ := d.Civil()
	i := periodIndexOfMonth(Month, y, m)
	e.d, e.m = int32(d), i
	return i
}

// slot names the chunk with index ci (bucket index >> shift) of one pair;
// at is 1 + the chunk's number in its store, 0 for an empty slot.
type slot struct{ ci, at int32 }

// chunkStore holds the chunks of one base, each nWin<<shift counters, in
// pages of pageChunks chunks: growing never copies counters.
type chunkStore struct {
	pages [][]int64
	n     int32   // chunks handed out
	free  []int32 // 1 + numbers of released chunks
}

const pageShift = 10 // 1,024 chunks a page

const pageChunks = 1 << pageShift

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

// basesSpan is, per base, how many consecutive base buckets the readable
// periods may need at once with retain periods before the current one.
func basesSpan(periods []Period, retain [NumPeriods]int32) [NumPeriods]int32 {
	var n [NumPeriods]int32
	for _, p := range periods {
		per := int32(1)
		switch p {
		case Week:
			per = 7
		case Quarter:
			per = 3
		case Year:
			per = 12
		}
		n[baseOf(p)] = max(n[baseOf(p)], per*(max(retain[p], 0)+1))
	}
	return n
}

// maxChunkShift bounds a chunk to 8 days or 4 months: enough that a
// record's submit and settle days mostly share one and that a pair's
// directory stays small (16 day and 16 month slots for the default
// retention), few enough that a pair with sparse records wastes little.
var maxChunkShift = [NumPeriods]int{Day: 3, Month: 2}

// maxRing is the most directory slots per base a new agg starts with.
const maxRing = 8

// newAgg returns counters for the given period kinds, sized for span[b]
// base buckets held at once (a hint: the directory grows when needed).
func newAgg(cal *calendar.Calendar, nWin, nLvl int, periods []Period, span [NumPeriods]int32) *agg {
	a := &agg{cal: cal, nWin: nWin, nLvl: nLvl, periods: periods, scratch: make([]int64, nWin)}
	for _, p := range periods {
		b := baseOf(p)
		if a.ring[b] == 0 {
			a.keep[b] = -1 << 31
			a.bases = append(a.bases, b)
			s := max(span[b], 1)
			a.shift[b] = uint8(min(bits.Len32(uint32(s))-1, maxChunkShift[b]))
			// The most chunks s consecutive buckets can touch.
			need := (s+1<<a.shift[b]-2)>>a.shift[b] + 1
			// Start with at most maxRing slots: the ring grows when the
			// chunks a pair holds at once need more.
			a.ring[b] = int32(1) << bits.Len32(uint32(min(need, maxRing)-1))
		}
	}
	a.layout()
	return a
}

// layout sets doff and stride from ring.
func (a *agg) layout() {
	a.stride = 0
	for _, b := range a.bases {
		a.doff[b] = a.stride
		a.stride += a.ring[b]
	}
}

func (a *agg) chunkSize(b Period) int { return a.nWin << a.shift[b] }

// row returns pair's counters in bucket bi of base b, creating them.
func (a *agg) row(b Period, bi int32, pair uint32) []int64 {
	sh := a.shift[b]
	ci := bi >> sh
	for {
		k := int(pair)*int(a.stride) + int(a.doff[b]+ci&(a.ring[b]-1))
		if k >= len(a.dir) {
			n := (int(pair) + 1) * int(a.stride)
			a.dir = append(a.dir, make([]slot, n-len(a.dir))...)
		}
		s := &a.dir[k]
		switch {
		case s.at == 0:
			s.ci, s.at = ci, a.alloc(b)
		case s.ci == ci:
		default:
			a.grow(b)
			continue
		}
		return a.chunkRow(b, s.at, bi)
	}
}

// chunkRow returns the row of bucket bi in chunk at of base b.
func (a *agg) chunkRow(b Period, at, bi int32) []int64 {
	sh := a.shift[b]
	page := a.chunks[b].pages[(at-1)>>pageShift]
	o := (int((at-1)&(pageChunks-1))<<sh + int(bi&(1<<sh-1))) * a.nWin
	return page[o : o+a.nWin]
}

func (a *agg) chunk(b Period, at int32) []int64 {
	n := a.chunkSize(b)
	o := int((at-1)&(pageChunks-1)) * n
	return a.chunks[b].pages[(at-1)>>pageShift][o : o+n]
}

// alloc returns 1 + the number of a zeroed chunk of base b.
func (a *agg) alloc(b Period) int32 {
	cs := &a.chunks[b]
	if n := len(cs.free); n > 0 {
		at := cs.free[n-1]
		cs.free = cs.free[:n-1]
		clear(a.chunk(b, at))
		return at
	}
	if cs.n&(pageChunks-1) == 0 {
		cs.pages = append(cs.pages, make([]int64, pageChunks*a.chunkSize(b)))
	}
	cs.n++
	return cs.n
}

// grow doubles base b's directory ring until every pair's kept chunks
// have distinct slots; chunks no longer kept are released.
func (a *agg) grow(b Period) {
	dead := a.keep[b] >> a.shift[b]
	oldRing, oldOff, oldStride := a.ring, a.doff, int(a.stride)
	nPairs := len(a.dir) / oldStride
	for ring := oldRing[b] * 2; ; ring *= 2 {
		a.ring[b] = ring
		a.layout()
		stride := int(a.stride)
		dir := make([]slot, nPairs*stride)
		ok := true
		for p := 0; p < nPairs && ok; p++ {
			src := a.dir[p*oldStride : (p+1)*oldStride]
			dst := dir[p*stride : (p+1)*stride]
			for _, o := range a.bases {
				from := src[oldOff[o] : oldOff[o]+oldRing[o]]
				if o != b {
					copy(dst[a.doff[o]:], from)
					continue
				}
				for _, s := range from {
					if s.at == 0 || s.ci < dead {
						continue
					}
					d := &dst[a.doff[b]+s.ci&(ring-1)]
					if d.at != 0 {
						ok = false
						break
					}
					*d = s
				}
			}
		}
		if !ok {
			continue
		}
		for p := 0; p < nPairs; p++ {
			o := p*oldStride + int(oldOff[b])
			for _, s := range a.dir[o : o+int(oldRing[b])] {
				if s.at != 0 && s.ci < dead {
					a.chunks[b].free = append(a.chunks[b].free, s.at)
				}
			}
		}
		a.dir = dir
		return
	}
}

// apply adds delta times the contribution c to pair's counters.
func (a *agg) apply(pair uint32, c *contrib, delta int64) {
	for i := 0; i < c.n; i++ {
		d := a.cal.DayOf(c.at[i])
		for _, base := range a.bases {
			bi := int32(d)
			if base == Month {
				bi = a.monthOf(d)
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

// rowRef is where apply will find one row: the directory slot, and the
// chunk index and bucket it must hold.
type rowRef struct {
	k      int
	b      Period
	ci, bi int32
}

// locate appends where the rows that apply(pair, c, ·) updates are
// looked up. It changes nothing; together with peekDir and peekRows it
// lets a batch of upserts fetch those rows from memory in parallel.
func (a *agg) locate(pair uint32, c *contrib, refs []rowRef) []rowRef {
	for i := 0; i < c.n; i++ {
		d := a.cal.DayOf(c.at[i])
		for _, b := range a.bases {
			bi := int32(d)
			if b == Month {
				bi = a.monthOf(d)
			}
			if bi < a.keep[b] {
				continue
			}
			ci := bi >> a.shift[b]
			k := int(pair)*int(a.stride) + int(a.doff[b]+ci&(a.ring[b]-1))
			if k < len(a.dir) {
				refs = append(refs, rowRef{k, b, ci, bi})
			}
		}
	}
	return refs
}

// peekDir reads the directory slots of refs.
func (a *agg) peekDir(refs []rowRef) uint64 {
	var sum uint64
	for _, r := range refs {
		sum += uint64(a.dir[r.k].at)
	}
	return sum
}

// peekRows reads the first and last counter of the rows of refs that
// exist (a row may straddle two cache lines).
func (a *agg) peekRows(refs []rowRef) uint64 {
	var sum uint64
	for _, r := range refs {
		if s := a.dir[r.k]; s.at != 0 && s.ci == r.ci {
			row := a.chunkRow(r.b, s.at, r.bi)
			sum += uint64(row[0] + row[len(row)-1])
		}
	}
	return sum
}

// keepFrom makes the period of kind p with index i the oldest readable
// one: base buckets before its start are no longer needed for p.
func (a *agg) keepFrom(p Period, i int32) {
	a.keep[baseOf(p)] = startInBase(p, i)
}

// prune drops buckets older than retain periods before the one containing
// day, so a long-running engine holds bounded history (the store keeps the
// rest). A base bucket stays while any readable period still needs it.
// Chunks whose buckets are all dropped are released; the dropped buckets
// of a chunk still partly kept are neither read nor written again.
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
		dead := keep[b] >> a.shift[b]
		for p := 0; p < len(a.dir); p += int(a.stride) {
			for k := p + int(a.doff[b]); k < p+int(a.doff[b]+a.ring[b]); k++ {
				if s := &a.dir[k]; s.at != 0 && s.ci < dead {
					a.chunks[b].free = append(a.chunks[b].free, s.at)
					*s = slot{}
				}
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

// baseRow returns pair's counters in bucket bi of base b, or nil when
// there are none (or the bucket is no longer kept).
func (a *agg) baseRow(b Period, bi int32, pair uint32) []int64 {
	if a.ring[b] == 0 || bi < a.keep[b] {
		return nil
	}
	sh := a.shift[b]
	ci := bi >> sh
	k := int(pair)*int(a.stride) + int(a.doff[b]+ci&(a.ring[b]-1))
	if k >= len(a.dir) {
		return nil
	}
	s := a.dir[k]
	if s.at == 0 || s.ci != ci {
		return nil
	}
	return a.chunkRow(b, s.at, bi)
}

func (a *agg) levelRow(pair uint32) []int64 {
	base := int(pair) * a.nLvl
	if a.nLvl == 0 || base+a.nLvl > len(a.level) {
		return nil
	}
	return a.level[base : base+a.nLvl]
}
