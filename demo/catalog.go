package demo

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/yiping-ioc/yiping/region"
)

// Catalog sizes: the province's own items (SPEC.md section 11: 2,050), and
// the local items of each city and county.
const (
	provincialItems = 2050
	cityItems       = 120
	countyItems     = 60
)

// Catalog rates (SPEC.md section 11: >93% online, 86% fully online); the
// lagging counties' local items are behind.
const (
	onlineRate          = 0.935
	fullGivenOnline     = 0.93
	lagOnlineRate       = 0.85
	lagFullGivenOnline  = 0.80
	mobileGivenOnline   = 0.75
	inHallRate          = 0.95
	itemRevisionsPerDay = 12 // catalog edits per workday, in office hours
)

var legalChoices = [...]int16{5, 10, 15, 20, 30, 60}

// itemID is the part of an item that never changes; cases read it without
// the catalog's lock.
type itemID struct {
	code   string
	region uint16
	dept   uint8
	full   bool // fully online when the catalog was built (cases follow it)
}

// itemRec is the part that catalog edits change.
type itemRec struct {
	updated                      int64 // unix seconds
	legal                        int16 // -1: none
	promised                     int16 // -1: none
	visits                       uint8
	online, full, mobile, inHall bool
}

// catalog is the service-item catalog: built once from the seed, then
// edited a few times a day (promised days shortened, an item put on the
// app, an item made fully online or suspended online).
type catalog struct {
	guarded
	m     *model
	ids   []itemID // sorted by code; the index is the item's seq
	items []itemRec
	log   []key
	// byRegion lists each region's own items; cases pick from their
	// region's (or county's) items and the province's.
	byRegion map[uint16][]uint32
	next     int64 // next minute to generate edits for
}

func newCatalog(m *model, published int64) *catalog {
	c := &catalog{m: m, byRegion: map[uint16][]uint32{}}
	r := newRng(m.seed, streamCatalog, 0)
	type draft struct {
		id  itemID
		rec itemRec
	}
	var drafts []draft
	addRegion := func(reg uint16, n int) {
		lag := m.laggingRegion[reg]
		counter := map[uint8]int{}
		for range n {
			dp := uint8(r.pick(deptWeights))
			counter[dp]++
			code := fmt.Sprintf("%s-%s-%04d", m.regions[reg].code, departments[dp].code, counter[dp])
			it := itemRec{legal: -1, promised: -1, inHall: r.chance(inHallRate)}
			on, full := onlineRate, fullGivenOnline
			if lag {
				on, full = lagOnlineRate, lagFullGivenOnline
			}
			it.online = r.chance(on)
			it.full = it.online && r.chance(full)
			it.mobile = it.online && r.chance(mobileGivenOnline)
			switch {
			case it.full:
			case it.online && r.chance(0.2):
			case !it.online && r.chance(0.02):
				it.visits = 2
			default:
				it.visits = 1
			}
			if r.chance(0.8) {
				it.legal = legalChoices[r.intn(int64(len(legalChoices)))]
				it.promised = compress(&r, it.legal)
			} else if r.chance(0.9) {
				it.promised = int16(r.intn(21))
			}
			it.updated = published - r.intn(180*day)
			drafts = append(drafts, draft{itemID{code: code, region: reg, dept: dp, full: it.full}, it})
		}
	}
	addRegion(0, provincialItems)
	for _, ci := range m.cities {
		addRegion(ci, cityItems)
	}
	for i := range m.counties {
		if k := m.counties[i].idx; m.regions[k].level == region.County {
			addRegion(k, countyItems)
		}
	}
	slices.SortFunc(drafts, func(a, b draft) int {
		switch {
		case a.id.code < b.id.code:
			return -1
		case a.id.code > b.id.code:
			return 1
		}
		return 0
	})
	for i, d := range drafts {
		c.ids = append(c.ids, d.id)
		c.items = append(c.items, d.rec)
		c.byRegion[d.id.region] = append(c.byRegion[d.id.region], uint32(i))
		c.log = append(c.log, key{d.rec.updated, uint32(i)})
	}
	slices.SortFunc(c.log, func(a, b key) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	return c
}

// compress returns a promised time limit shortened from the legal one, as
// the platforms advertise (承诺时限压缩).
func compress(r *rng, legal int16) int16 {
	return max(1, int16(float64(legal)*(0.05+0.45*r.f())+0.5))
}

// pickFor returns an item for a case in region reg: one of the region's
// own (a township uses its county's) or a provincial one.
func (c *catalog) pickFor(r *rng, reg uint16) uint32 {
	own := reg
	m := c.m
	if ri := m.regions[reg]; ri.level == region.Township {
		own = m.counties[ri.county].idx
	}
	list := c.byRegion[own]
	if len(list) == 0 || r.chance(0.4) {
		list = c.byRegion[0]
	}
	return list[r.intn(int64(len(list)))]
}

// advance applies the catalog edits of the minutes before h.
func (c *catalog) advance(h int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	for ; c.next*minute < h; c.next++ {
		t0 := c.next * minute
		d := m.dayOf(t0)
		off := t0 - m.dayStart(d)
		if !m.isWorkday(d) || off < officeOpen || off >= officeClose {
			continue
		}
		r := newRng(m.seed, streamItemRev, uint64(c.next))
		n := r.poisson(itemRevisionsPerDay / float64((officeClose-officeOpen)/minute))
		at := make([]int64, n)
		for j := range at {
			at[j] = t0 + r.intn(minute)
		}
		slices.Sort(at)
		for _, t := range at {
			c.edit(&r, t, t0)
		}
	}
	c.h = h / minute * minute
}

// edit changes one item at t, in the minute starting at t0. Edits come in
// time order, so the log stays sorted by (updated_at, code) except for two
// edits in the same second, which insertion puts in place.
func (c *catalog) edit(r *rng, t, t0 int64) {
	pick := func(ok func(*itemRec) bool) (uint32, bool) {
		for range 50 {
			i := uint32(r.intn(int64(len(c.items))))
			// An item edited earlier in this minute is left alone, so
			// that its changes have distinct times within the minute.
			if it := &c.items[i]; it.updated < t0 && ok(it) {
				return i, true
			}
		}
		return 0, false
	}
	var (
		i  uint32
		ok bool
	)
	switch u := r.f(); {
	case u < 0.5:
		if i, ok = pick(func(it *itemRec) bool { return it.legal > 0 }); ok {
			c.items[i].promised = compress(r, c.items[i].legal)
		}
	case u < 0.8:
		if i, ok = pick(func(it *itemRec) bool { return it.online && !it.mobile }); ok {
			c.items[i].mobile = true
		}
	case u < 0.9:
		// Made fully online, and (below) as often one suspended online for
		// a system upgrade, so the rates stay where they are calibrated.
		if i, ok = pick(func(it *itemRec) bool { return it.online && !it.full }); ok {
			c.items[i].full, c.items[i].visits = true, 0
		}
	default:
		if i, ok = pick(func(it *itemRec) bool { return it.full }); ok {
			c.items[i].full, c.items[i].visits = false, 1
		}
	}
	if !ok {
		return
	}
	c.items[i].updated = t
	c.log = append(c.log, key{t, i})
	for j := len(c.log) - 1; j > 0 && c.log[j].less(c.log[j-1]); j-- {
		c.log[j], c.log[j-1] = c.log[j-1], c.log[j]
	}
}

func (c *catalog) keys() []key { return c.log }

func (c *catalog) latest(seq uint32) (int64, bool) {
	if int(seq) >= len(c.items) {
		return 0, false
	}
	return c.items[seq].updated, true
}

func (c *catalog) id(seq uint32) (string, bool) {
	if int(seq) >= len(c.ids) {
		return "", false
	}
	return c.ids[seq].code, true
}

func (c *catalog) fields(dst []string, seq uint32) []string {
	id, it := &c.ids[seq], &c.items[seq]
	opt := func(v int16) string {
		if v < 0 {
			return ""
		}
		return strconv.Itoa(int(v))
	}
	return append(dst, id.code, c.m.regions[id.region].code, departments[id.dept].code,
		boolStr(it.online), boolStr(it.full), boolStr(it.mobile), boolStr(it.inHall),
		strconv.Itoa(int(it.visits)), opt(it.legal), opt(it.promised))
}
