package engine

import "hash/maphash"

// idIndex maps record ids to slots. Millions of ids are held, so it avoids
// a map keyed by string: that map's keys are pointers the garbage
// collector must trace and each id is its own allocation. Instead the
// id bytes live in one arena and the map is keyed by a 64-bit hash, with
// the bytes compared on every hit; the rare id whose hash collides with
// another's goes to a small overflow map.
type idIndex struct {
	seed     maphash.Seed
	byHash   map[uint64]uint32
	arena    []byte
	refs     []uint64 // slot → arena offset << 16 | length
	overflow map[string]uint32
}

// maxIDLen bounds an id so its length fits the ref; longer ids are an
// input error reported by the caller.
const maxIDLen = 1<<16 - 1

func newIDIndex() idIndex {
	return idIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]uint32)}
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

// lookup returns the slot of id, and id's hash for a following insert.
func (x *idIndex) lookup(id string) (uint32, uint64, bool) {
	h := maphash.String(x.seed, id)
	if s, ok := x.byHash[h]; ok && x.equal(s, id) {
		return s, h, true
	}
	if x.overflow != nil {
		s, ok := x.overflow[id]
		return s, h, ok
	}
	return 0, h, false
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
	if _, taken := x.byHash[h]; taken {
		if x.overflow == nil {
			x.overflow = make(map[string]uint32)
		}
		x.overflow[id] = slot
	} else {
		x.byHash[h] = slot
	}
	return slot
}

func maphashString(x *idIndex, id string) uint64 { return maphash.String(x.seed, id) }
