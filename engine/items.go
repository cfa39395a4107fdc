package engine

import (
	"sync"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/record"
)

// Catalog counter columns (all level counters: the catalog has no period).
const (
	iCount = iota
	iOnline
	iFullOnline
	iMobile
	iZeroVisit
	iMaxOneVisit
	iInHall
	iCompressNum
	iCompressDen
	nItemCols
)

var itemIndicators = []indSpec{
	{indicator.OnlineAvailableRate, iOnline, iCount},
	{indicator.FullOnlineItemRate, iFullOnline, iCount},
	{indicator.MobileAvailableRate, iMobile, iCount},
	{indicator.ZeroVisitRate, iZeroVisit, iCount},
	{indicator.MaxOneVisitRate, iMaxOneVisit, iCount},
	{indicator.InHallRate, iInHall, iCount},
	{indicator.TimeCompressionRatio, iCompressNum, iCompressDen},
}

// itemTable holds the newest service-item catalog and its sums per
// (region, dept).
type itemTable struct {
	mu    sync.Mutex
	keys  keys
	ids   map[string]uint32
	rows  [][nItemCols]int64 // slot → the item's contribution
	pairs []uint32
	sums  []int64 // pair*nItemCols
}

func newItemTable() *itemTable {
	return &itemTable{keys: newKeys(), ids: make(map[string]uint32)}
}

func itemRow(it *record.Item) (r [nItemCols]int64) {
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	r[iCount] = 1
	r[iOnline] = b(it.OnlineAvailable)
	r[iFullOnline] = b(it.FullOnline)
	r[iMobile] = b(it.MobileAvailable)
	r[iZeroVisit] = b(it.Visits == 0)
	r[iMaxOneVisit] = b(it.Visits <= 1)
	r[iInHall] = b(it.InHall)
	if it.LegalDays > 0 && it.PromisedDays >= 0 {
		r[iCompressNum] = int64(it.LegalDays - it.PromisedDays)
		r[iCompressDen] = int64(it.LegalDays)
	}
	return r
}

func (t *itemTable) add(pair uint32, row *[nItemCols]int64, sign int64) {
	base := int(pair) * nItemCols
	if need := base + nItemCols; need > len(t.sums) {
		t.sums = append(t.sums, make([]int64, need-len(t.sums))...)
	}
	for i, v := range row {
		t.sums[base+i] += sign * v
	}
}

// upsert files an item, replacing an earlier version with the same code.
// The caller holds t.mu.
func (t *itemTable) upsert(it *record.Item) {
	p := t.keys.pairOf(it.Region, it.Dept)
	row := itemRow(it)
	slot, ok := t.ids[it.Code]
	if ok {
		t.add(t.pairs[slot], &t.rows[slot], -1)
		t.rows[slot] = row
		t.pairs[slot] = p
	} else {
		slot = uint32(len(t.rows))
		t.ids[it.Code] = slot
		t.rows = append(t.rows, row)
		t.pairs = append(t.pairs, p)
	}
	t.add(p, &row, 1)
}

func (t *itemTable) results(byDept bool, emit func(Result)) {
	rollup(&t.keys, 0, nItemCols, itemIndicators, byDept, func(pid uint32) ([]int64, []int64) {
		base := int(pid) * nItemCols
		if base+nItemCols > len(t.sums) {
			return nil, nil
		}
		return nil, t.sums[base : base+nItemCols]
	}, emit)
}
