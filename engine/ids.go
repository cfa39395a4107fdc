package engine

import "hash/maphash"

// idIndex maps record ids to slots. Millions of ids are held, so it avoids
// a map keyed by string: that map's keys are pointers the garbage
// collector must trace and each id is its own allocation. Instead the id
// bytes live in one arena, and an open-addressing table (linear probing,
// at most half full) holds, per id, 32 bits of its hash and its slot; the
// bytes are compared on every tag match, so ids whose hashes collide,
// even in all 64 bits, are still told apart. One probe is one cache line
// where a Go map's group look-up is often two, and it needs no overflow.
type idIndex struct {
	seed  maphash.Seed
	table []uint64 // hash >> 32 << 32 | 1 + slot; 0 is empty
	arena []byte
	refs  []uint64 // slot → arena offset << 16 | length
}

// maxIDLen bounds an id so its length fits the ref; longer ids are an
// input error reported by the caller.
const maxIDLen = 1<<16 - 1

func newIDIndex() idIndex {
	return idIndex{seed: maphash.MakeSeed(), table: make([]uint64, 1024)}
}

func (x *idIndex) idOf(slot uint32) string {
	r := x.refs[slot]
	off, n := r>>16, r&0xffff
	return string(x.arena[off : off+n])
}

func (x *idIndex) equal(slot uint32, id string) bool {
	r := x.refs[slot]
	off, n := r>>16, r&0xffff
	return int(n) == len(id) && string(x.arena[off:off+n]) == id
}

func (x *idIndex) hash(id string) uint64 { return maphash.String(x.seed, id) }

// peek reads the table entry where id's hash h lands, so that a look-up
// soon after finds it in cache.
func (x *idIndex) peek(h uint64) uint64 { return x.table[h&uint64(len(x.table)-1)] }

// candidate returns the slot of the first entry from h's place on whose
// tag matches h, unverified, or ^0 when there is none: a guess for
// looking ahead.
func (x *idIndex) candidate(h uint64) uint32 {
	mask := uint64(len(x.table) - 1)
	for i, n := h&mask, 0; n < 4; i, n = (i+1)&mask, n+1 {
		e := x.table[i]
		if e == 0 {
			break
		}
		if e>>32 == h>>32 {
			return uint32(e) - 1
		}
	}
	return ^uint32(0)
}

// peekBytes reads the first byte of slot's id.
func (x *idIndex) peekBytes(slot uint32) uint64 {
	r := x.refs[slot]
	if r&0xffff == 0 {
		return 0
	}
	return uint64(x.arena[r>>16])
}

// lookup returns the slot of id, and id's hash for a following insert.
func (x *idIndex) lookup(id string) (uint32, uint64, bool) {
	h := x.hash(id)
	s, ok := x.lookupHashed(id, h)
	return s, h, ok
}

func (x *idIndex) lookupHashed(id string, h uint64) (uint32, bool) {
	mask := uint64(len(x.table) - 1)
	tag := h >> 32
	for i := h & mask; ; i = (i + 1) & mask {
		e := x.table[i]
		if e == 0 {
			return 0, false
		}
		if e>>32 == tag && x.equal(uint32(e)-1, id) {
			return uint32(e) - 1, true
		}
	}
}

// insert files a new id, whose hash lookup returned, under the next slot.
// Ids longer than maxIDLen are cut to it: the parser rejects such ids, so
// this only bounds the damage of a caller that does not.
func (x *idIndex) insert(id string, h uint64) uint32 {
	if len(id) > maxIDLen {
		id = id[:maxIDLen]
	}
	slot := uint32(len(x.refs))
	x.refs = append(x.refs, uint64(len(x.arena))<<16|uint64(len(id)))
	x.arena = append(x.arena, id...)
	if 2*len(x.refs) > len(x.table) {
		x.grow()
	}
	x.place(h, slot)
	return slot
}

func (x *idIndex) place(h uint64, slot uint32) {
	mask := uint64(len(x.table) - 1)
	i := h & mask
	for x.table[i] != 0 {
		i = (i + 1) & mask
	}
	x.table[i] = h>>32<<32 | uint64(slot+1)
}

// grow doubles the table, re-hashing the ids from the arena.
func (x *idIndex) grow() {
	old := x.table
	x.table = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			slot := uint32(e) - 1
			r := x.refs[slot]
			x.place(maphash.Bytes(x.seed, x.arena[r>>16:r>>16+r&0xffff]), slot)
		}
	}
}
