package engine

import "github.com/yiping-ioc/yiping/region"

// keys interns the regions and departments one record kind has seen and the
// (region, dept) pairs its records are filed under. Counters are kept per
// pair at the record's own region; roll-up to ancestors happens on read.
type keys struct {
	codes   []string  // node → region code
	anc     [][]int32 // node → itself and its ancestors, nearest first
	nodeIdx map[string]int32
	depts   []string // dept → code; 0 is ""
	deptIdx map[string]int32
	pairs   []pair
	// byNode[node][dept] is 1 + the pair's id, 0 for none: every pair
	// that ever held a record stays, as a region "appears" in a source
	// (SPEC.md section 7) once a record of it has been read, even if a
	// later version moved the record elsewhere. Slices rather than a map
	// keyed by the pair: this look-up is on every upsert.
	byNode  [][]uint32
	scratch []region.Code
}

type pair struct{ node, dept int32 }

func newKeys() keys {
	return keys{
		nodeIdx: make(map[string]int32),
		depts:   []string{""},
		deptIdx: map[string]int32{"": 0},
	}
}

// node interns a region code that the parser has already validated.
func (k *keys) node(code string) int32 {
	if n, ok := k.nodeIdx[code]; ok {
		return n
	}
	n := int32(len(k.codes))
	k.codes = append(k.codes, code)
	k.nodeIdx[code] = n
	k.anc = append(k.anc, nil)
	chain := []int32{n}
	k.scratch = region.Code(code).Ancestors(k.scratch[:0])
	anc := make([]region.Code, len(k.scratch))
	copy(anc, k.scratch)
	for _, a := range anc {
		chain = append(chain, k.node(string(a)))
	}
	k.anc[n] = chain
	return n
}

func (k *keys) dept(code string) int32 {
	if d, ok := k.deptIdx[code]; ok {
		return d
	}
	d := int32(len(k.depts))
	k.depts = append(k.depts, code)
	k.deptIdx[code] = d
	return d
}

// pairOf returns the pair id of a record filed at region code with dept.
func (k *keys) pairOf(code, dept string) uint32 {
	n := k.node(code)
	d := k.dept(dept)
	if int(n) < len(k.byNode) && int(d) < len(k.byNode[n]) && k.byNode[n][d] != 0 {
		return k.byNode[n][d] - 1
	}
	if int(n) >= len(k.byNode) {
		k.byNode = append(k.byNode, make([][]uint32, int(n)+1-len(k.byNode))...)
	}
	if row := k.byNode[n]; int(d) >= len(row) {
		k.byNode[n] = append(row, make([]uint32, int(d)+1-len(row))...)
	}
	p := uint32(len(k.pairs))
	k.pairs = append(k.pairs, pair{n, d})
	k.byNode[n][d] = p + 1
	return p
}
