package engine

import (
	"container/heap"
	"sync"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// kindSpec is what the generic table needs to know about one record kind.
type kindSpec[R any] struct {
	nWin, nLvl int
	// contrib is the record's contribution as of instant t. It is a pure
	// function of the record and t; the live counters always equal the sum
	// of contrib(r, clock) over all records.
	contrib func(r *R, t int64) contrib
	// next returns the first instant after t at which contrib may change
	// (a deadline passing, a future-dated record coming into existence), or
	// record.Never.
	next func(r *R, t int64) int64
	// indicators read from this kind's counters.
	indicators []indSpec
}

// indSpec maps an indicator onto counter columns. Columns 0..nWin-1 are
// window counters, nWin.. are level counters.
type indSpec struct {
	id  string // an id constant of package indicator
	num int
	den int // -1 for a count
}

// table holds the records of one kind, their live counters as of the
// table's clock, and the timers that move records when deadlines pass.
type table[R any] struct {
	mu     sync.Mutex
	spec   kindSpec[R]
	cal    *calendar.Calendar
	retain [NumPeriods]int32
	clock  int64
	keys   keys
	ids    idIndex
	recs   []R
	pairs  []uint32 // slot → pair
	next   []int64  // slot → pending transition, record.Never if none
	timers timerHeap
	live   *agg
	// frozen tables never advance their clock (compute), so they keep no
	// timers.
	frozen bool
	batch  []pending[R] // upserts waiting for upsertBatch
	refs   []rowRef     // upsertBatch's rows to look ahead at
	sink   uint64       // what upsertBatch's look-ahead read, so it is kept
}

// add queues r, filed under id at (regionCode, dept), for upsertBatch,
// which files it once batchLen are queued or at flush; the caller holds
// t.mu and calls flush before releasing it.
func (t *table[R]) add(id, regionCode, dept string, r R) {
	t.batch = append(t.batch, pending[R]{id: id, pair: t.keys.pairOf(regionCode, dept), r: r})
	if len(t.batch) == batchLen {
		t.flush()
	}
}

func (t *table[R]) flush() {
	t.upsertBatch(t.batch)
	clear(t.batch)
	t.batch = t.batch[:0]
}

func newTable[R any](spec kindSpec[R], cal *calendar.Calendar, periods []Period, retain [NumPeriods]int32, clock int64) *table[R] {
	t := &table[R]{
		spec:   spec,
		cal:    cal,
		retain: retain,
		clock:  clock,
		keys:   newKeys(),
		ids:    newIDIndex(),
		live:   newAgg(cal, spec.nWin, spec.nLvl, periods, basesSpan(periods, retain)),
	}
	t.live.prune(cal.DayOf(clock), retain)
	return t
}

// pending is one upsert of a batch: the record, its pair and its id's hash.
type pending[R any] struct {
	id   string
	h    uint64
	pair uint32
	r    R
}

// batchLen is how many upserts upsertBatch looks ahead over.
const batchLen = 16

// upsertBatch files the records of b in order, exactly as upsert one by
// one would. With records spread over many ids and pairs nearly every
// memory access of an upsert is a cache miss, and each upsert's misses
// depend on one another (id → slot → old record → its counters). So the
// batch is first walked in stages that only read what the upserts will
// touch (the id table, the old records, the counter rows of the old and
// new contributions), each stage's loads independent across records, so
// the CPU fetches them in parallel; then the upserts run on warm caches.
// The stages change nothing and may guess wrong (an earlier upsert of the
// batch can move things); they decide no result.
func (t *table[R]) upsertBatch(b []pending[R]) {
	var sink uint64
	var cand [batchLen]uint32
	var old [batchLen]contrib
	for j := range b {
		b[j].h = t.ids.hash(b[j].id)
		sink += t.ids.peek(b[j].h)
	}
	for j := range b {
		cand[j] = t.ids.candidate(b[j].h)
		if s := cand[j]; s < uint32(len(t.recs)) {
			old[j] = t.spec.contrib(&t.recs[s], t.clock)
			sink += uint64(t.pairs[s]) + t.ids.refs[s]
			if !t.frozen {
				sink += uint64(t.next[s])
			}
		}
	}
	refs := t.refs[:0]
	for j := range b {
		if s := cand[j]; s < uint32(len(t.recs)) {
			refs = t.live.locate(t.pairs[s], &old[j], refs)
			sink += t.ids.peekBytes(s)
		}
		c := t.spec.contrib(&b[j].r, t.clock)
		refs = t.live.locate(b[j].pair, &c, refs)
	}
	sink += t.live.peekDir(refs)
	sink += t.live.peekRows(refs)
	t.refs = refs
	t.sink += sink
	for j := range b {
		t.upsertHashed(b[j].id, b[j].h, b[j].pair, b[j].r)
	}
}

// upsertHashed files r under id (whose hash is h) at pair p, replacing
// and un-counting any earlier version. The caller holds t.mu.
func (t *table[R]) upsertHashed(id string, h uint64, p uint32, r R) {
	slot, ok := t.ids.lookupHashed(id, h)
	if ok {
		old := t.spec.contrib(&t.recs[slot], t.clock)
		t.live.apply(t.pairs[slot], &old, -1)
		t.recs[slot] = r
		t.pairs[slot] = p
	} else {
		slot = t.ids.insert(id, h)
		t.recs = append(t.recs, r)
		t.pairs = append(t.pairs, p)
		if !t.frozen {
			t.next = append(t.next, record.Never)
		}
	}
	c := t.spec.contrib(&t.recs[slot], t.clock)
	t.live.apply(p, &c, 1)
	t.schedule(slot)
}

func (t *table[R]) schedule(slot uint32) {
	if t.frozen {
		return
	}
	n := t.spec.next(&t.recs[slot], t.clock)
	t.next[slot] = n
	if n != record.Never {
		heap.Push(&t.timers, timer{at: n, slot: slot})
	}
}

// advance moves the clock to now and re-files exactly the records with a
// transition in (clock, now]; nothing else is touched.
func (t *table[R]) advance(now int64) int {
	if now <= t.clock || t.frozen {
		return 0
	}
	moved := 0
	for len(t.timers) > 0 && t.timers[0].at <= now {
		e := heap.Pop(&t.timers).(timer)
		if t.next[e.slot] != e.at {
			continue // superseded by an upsert or a later reschedule
		}
		r := &t.recs[e.slot]
		old := t.spec.contrib(r, t.clock)
		t.live.apply(t.pairs[e.slot], &old, -1)
		cur := t.spec.contrib(r, now)
		t.live.apply(t.pairs[e.slot], &cur, 1)
		n := t.spec.next(r, now)
		t.next[e.slot] = n
		if n != record.Never {
			heap.Push(&t.timers, timer{at: n, slot: e.slot})
		}
		moved++
	}
	t.clock = now
	t.live.prune(t.cal.DayOf(now), t.retain)
	return moved
}

// evaluate recomputes the counters of period kind p as of instant at from
// the records, without touching the live state: the replay path.
func (t *table[R]) evaluate(at int64, p Period) *agg {
	a := newAgg(t.cal, t.spec.nWin, t.spec.nLvl, []Period{p}, basesSpan([]Period{p}, [NumPeriods]int32{}))
	a.keepFrom(p, p.Index(t.cal.DayOf(at)))
	for slot := range t.recs {
		c := t.spec.contrib(&t.recs[slot], at)
		a.apply(t.pairs[slot], &c, 1)
	}
	return a
}

// results emits the indicators of this kind from a's counters for the
// period of kind p containing at.
func (t *table[R]) results(a *agg, p Period, at int64, byDept bool, emit func(Result)) {
	bi := p.Index(t.cal.DayOf(at))
	rollup(&t.keys, t.spec.nWin, t.spec.nLvl, t.spec.indicators, byDept, func(pid uint32) ([]int64, []int64) {
		return a.windowRow(p, bi, pid), a.levelRow(pid)
	}, emit)
}

// rollup sums per-pair counters up to every region (and, with byDept,
// every (region, dept)) that appears in one kind's records, and emits one
// Result per indicator and key. A region appears once any record of it, or
// of a region below it, has been read: SPEC.md section 7 lists every region
// that appears in the file, also where nothing falls in the period.
// Records with an empty department count only in the dept "" rows.
func rollup(k *keys, nWin, nLvl int, inds []indSpec, byDept bool, rows func(pid uint32) (w, l []int64), emit func(Result)) {
	nCols := nWin + nLvl
	sums := make([]int64, len(k.codes)*nCols)
	appear := make([]bool, len(k.codes))
	type dk struct{ node, dept int32 }
	var deptSums map[dk][]int64
	if byDept {
		deptSums = make(map[dk][]int64)
	}
	for pid, pr := range k.pairs {
		w, l := rows(uint32(pid))
		for _, n := range k.anc[pr.node] {
			appear[n] = true
			addRow(sums[int(n)*nCols:], w, l, nWin)
			if byDept && pr.dept != 0 {
				key := dk{n, pr.dept}
				s := deptSums[key]
				if s == nil {
					s = make([]int64, nCols)
					deptSums[key] = s
				}
				addRow(s, w, l, nWin)
			}
		}
	}
	for n, ok := range appear {
		if ok {
			emitRow(inds, k.codes[n], "", sums[n*nCols:(n+1)*nCols], emit)
		}
	}
	for key, s := range deptSums {
		emitRow(inds, k.codes[key.node], k.depts[key.dept], s, emit)
	}
}

func addRow(dst, w, l []int64, nWin int) {
	for i, v := range w {
		dst[i] += v
	}
	for i, v := range l {
		dst[nWin+i] += v
	}
}

func emitRow(inds []indSpec, regionCode, dept string, s []int64, emit func(Result)) {
	for _, ind := range inds {
		r := Result{Indicator: ind.id, Region: regionCode, Dept: dept, Numerator: s[ind.num]}
		if ind.den >= 0 {
			r.Rate = true
			r.Denominator = s[ind.den]
		}
		emit(r)
	}
}

type timer struct {
	at   int64
	slot uint32
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
