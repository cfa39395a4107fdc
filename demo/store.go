package demo

import (
	"sort"
	"sync"
)

// key orders changes the way the API serves them: by updated_at, then id.
// Within a kind, ids sort like seq (see appendID), so (at, seq) order is
// (updated_at, id) order.
type key struct {
	at  int64  // unix seconds: the record's updated_at after the change
	seq uint32 // the record's sequence number within its kind
}

func (a key) less(b key) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// pending is a min-heap of future changes. Every record's lifecycle is
// decided when it is created; its later changes wait here until simulated
// time reaches them.
type pending []key

func (h *pending) push(k key) {
	*h = append(*h, k)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *pending) pop() key {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && s[r].less(s[l]) {
			c = r
		}
		if !s[c].less(s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// release moves the changes before h from the heap to the log. They come
// out in key order, and all of them are later than anything already in
// the log, so the log stays sorted.
func (h *pending) release(h0 int64, log *[]key, keep func(seq uint32) bool) {
	for len(*h) > 0 && (*h)[0].at < h0 {
		k := h.pop()
		if keep(k.seq) {
			*log = append(*log, k)
		}
	}
}

// trimKeys drops the log entries before cutoff. Slicing keeps the array,
// but append reallocates to the live length once the capacity runs out,
// so memory stays proportional to the window.
func trimKeys(log []key, cutoff int64) []key {
	i := sort.Search(len(log), func(i int) bool { return log[i].at >= cutoff })
	return log[i:]
}

// series is one record kind as the API sees it: a log of changes in key
// order, of which only the newest per record is current.
type series interface {
	// rlock returns the series read-locked with its unlock function.
	rlock() func()
	// horizon is the simulated instant up to which the series is complete:
	// every change before it is in the log, none after it.
	horizon() int64
	keys() []key
	// latest returns the record's updated_at as of the horizon, or false
	// when the record is no longer kept.
	latest(seq uint32) (int64, bool)
	// id returns the record's id.
	id(seq uint32) (string, bool)
	// fields returns the record as of the horizon, aligned to Kind.Fields.
	fields(dst []string, seq uint32) []string
}

// lane holds one kind's changes: those not yet due and the visible log.
type lane struct {
	pend pending
	log  []key
}

// table keeps a kind's records by sequence number, dropping the oldest.
type table[R any] struct {
	base uint32 // seq of recs[0]
	recs []R
}

func (t *table[R]) get(seq uint32) (*R, bool) {
	if seq < t.base || seq-t.base >= uint32(len(t.recs)) {
		return nil, false
	}
	return &t.recs[seq-t.base], true
}

func (t *table[R]) add(r R) uint32 {
	t.recs = append(t.recs, r)
	return t.base + uint32(len(t.recs)-1)
}

// trim drops the records created before cutoff; created must be
// non-decreasing in seq order, as records are created minute by minute.
func (t *table[R]) trim(cutoff int64, created func(*R) int64) {
	i := sort.Search(len(t.recs), func(i int) bool { return created(&t.recs[i]) >= cutoff })
	if i > 0 {
		clear(t.recs[:i]) // release strings held by dropped records
		t.recs = t.recs[i:]
		t.base += uint32(i)
	}
}

// guarded is embedded by every kind's state for its lock and horizon.
type guarded struct {
	mu sync.RWMutex
	h  int64
}

func (g *guarded) rlock() func() {
	g.mu.RLock()
	return g.mu.RUnlock
}

func (g *guarded) horizon() int64 { return g.h }
