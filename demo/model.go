package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/region"
)

// Calibration of the simulated province. The figures of SPEC.md section 11
// are the targets; the constants below are the per-record probabilities
// that produce them once lagging counties and surges are mixed in (the
// calibration test checks the mix through the real engine).
const (
	// Workday means of new records per day for the whole province.
	casesPerWorkday   = 10000
	ticketsPerWorkday = 7700 // ~7,500 a day over a week with the weekend dip
	callsPerWorkday   = 12500
	// Rest days (weekends, official holidays) as a share of a workday.
	caseRestFactor    = 0.3
	hotlineRestFactor = 0.8
	// dayJitter is the relative standard deviation of one day's volume.
	dayJitter = 0.03

	answerRate      = 0.9555 // surges pull the province to ~95.5%
	surgeAnswerRate = 0.80
	evalShare       = 0.5 // closed cases that get a 好差评 rating

	// lifeMax bounds every record's lifecycle (submission to the last
	// change, the evaluation and its rectification included), so that a
	// record dropped from the sliding window has nothing left to say.
	lifeMax = 33 * 24 * 3600
)

// Record ids carry the simulated minute of creation and a counter within
// it (C202603020915007), so ids sort like the order of creation.
const maxPerMinute = 999

type regionInfo struct {
	code   string
	level  region.Level
	county int32 // index in model.counties, -1 above county level
	city   int32 // index in model.cities, -1 for the province
}

type countyInfo struct {
	idx     uint16   // region index of the county (or of a city without counties)
	towns   []uint16 // region indexes of its townships
	city    int32
	lagging bool
}

type dept struct{ code, name string }

// departments are the provincial and local bureaus that own service items
// and answer 12345 tickets. Codes are short pinyin initials as platforms use
// them; names are for the README and for screens that want to show them.
var departments = [...]dept{
	{"GAJ", "公安局"}, {"RSJ", "人力资源和社会保障局"}, {"SCJGJ", "市场监督管理局"},
	{"MZJ", "民政局"}, {"ZJJ", "住房和城乡建设局"}, {"WJW", "卫生健康委员会"},
	{"ZRZYJ", "自然资源局"}, {"JTYSJ", "交通运输局"}, {"NYNCJ", "农业农村局"},
	{"STHJJ", "生态环境局"}, {"SWJ", "税务局"}, {"YBJ", "医疗保障局"},
	{"GJJ", "住房公积金管理中心"}, {"JYJ", "教育局"}, {"SLJ", "水利局"},
	{"WHLYJ", "文化和旅游局"}, {"TYJRJ", "退役军人事务局"}, {"SFJ", "司法局"},
	{"YJGLJ", "应急管理局"}, {"ZWFWZX", "政务服务中心"},
}

// deptWeights: how much of the catalog and of the case load each
// department carries (public security, social security and market
// regulation dominate in every province).
var deptWeights = cumulative(14, 12, 12, 6, 7, 7, 5, 5, 6, 3, 8, 5, 3, 4, 2, 2, 2, 3, 2, 3)

// utilityUnits answer hotline tickets besides the departments.
var utilityUnits = [...]dept{{"GDGS", "供电公司"}, {"GSGS", "供水公司"}, {"RQGS", "燃气公司"}, {"GRGS", "供热公司"}}

// categories of 12345 tickets, with their share of the load.
var categories = [...]string{"劳动社保", "市场监管", "生态环境", "民政", "城乡建设", "卫生健康", "自然资源", "公安", "交通运输", "教育", "住房保障", "农业农村", "水电气暖", "文化旅游", "政务服务"}
var categoryWeights = cumulative(12, 9, 5, 5, 10, 7, 4, 6, 8, 7, 7, 5, 10, 3, 6)

// categoryUnit is the unit a ticket of each category is dispatched to
// (index into units(): departments, then utilities).
var categoryUnit = [len(categories)]int{1, 2, 9, 3, 4, 5, 6, 0, 7, 13, 4, 8, 20, 15, 19}

// surgeCategories are those where one event floods a region's hotline: a
// water or heating outage, a road closure, a smell from a plant.
var surgeCategories = [...]int{12, 12, 4, 8, 2}

// Hour-of-day profiles (local time, hour 0..23): arrivals peak 9–11 and
// 14–17 and fall to almost nothing at night.
var (
	caseHours    = [24]float64{0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1, 2, 5, 9, 10, 9, 5, 4, 8, 9, 9, 7, 4, 3, 2.5, 2, 1, 0.5}
	hotlineHours = [24]float64{0.8, 0.5, 0.4, 0.3, 0.3, 0.5, 1.2, 3, 6, 9, 9.5, 8.5, 6, 5, 7.5, 8.5, 8.5, 7.5, 6, 5.5, 5, 4, 2.5, 1.5}
)

// gansuCities weighs Gansu's cities by population (10,000s, 2020 census);
// other provinces weigh cities by their number of townships.
var gansuCities = map[string]float64{
	"620100": 436, "620200": 31, "620300": 44, "620400": 151, "620500": 298, "620600": 146, "620700": 113,
	"620800": 185, "620900": 106, "621000": 218, "621100": 252, "621200": 240, "622900": 211, "623000": 69,
}

// gansuLagging are the default lagging counties of Gansu: 泾川县 (平凉),
// 岷县 (定西) and 宕昌县 (陇南), in three different cities so that the
// city rankings show them too.
var gansuLagging = []string{"620821", "621126", "621223"}

// model is everything about the simulated province that does not change
// while it runs. It is built once by New and read by every generator.
type model struct {
	seed     int64
	cal      *calendar.Calendar
	loc      *time.Location
	idZone   *time.Location // fixed offset for ids, so that they sort by time
	badRate  float64
	regions  []regionInfo
	cities   []uint16 // region indexes
	counties []countyInfo
	// countyW picks a county slot for county and township records, cityW a
	// city for city-level records.
	countyW, cityW weights
	lagging        []uint16 // county region indexes
	laggingRegion  []bool   // by region index: a lagging county or one of its townships
	surgeW         weights  // counties weighted for surges (busy ones get more)
	units          []dept
}

func newModel(cfg *Config) (*model, error) {
	m := &model{seed: cfg.Seed, cal: cfg.Calendar, loc: cfg.Calendar.Location(), badRate: cfg.BadRate}
	_, off := cfg.Start.In(m.loc).Zone()
	m.idZone = time.FixedZone("id", off)
	m.units = append(append([]dept(nil), departments[:]...), utilityUnits[:]...)
	tab := cfg.Regions
	prov := region.Code(cfg.Province)
	if _, err := region.ParseCode(cfg.Province); err != nil || prov.Level() != region.Province {
		return nil, fmt.Errorf("demo: province %q: want a province code like 620000", cfg.Province)
	}
	if _, ok := tab.Name(prov); !ok {
		return nil, fmt.Errorf("demo: province %s is not in the region table", prov)
	}
	add := func(c region.Code, county, city int32) uint16 {
		m.regions = append(m.regions, regionInfo{code: string(c), level: c.Level(), county: county, city: city})
		return uint16(len(m.regions) - 1)
	}
	add(prov, -1, -1)
	var cityWeights, countyWeights []float64
	for _, c := range tab.Children(prov) {
		ci := int32(len(m.cities))
		m.cities = append(m.cities, add(c, -1, ci))
		w, ok := gansuCities[string(c)]
		kids := tab.Children(c)
		slots := []region.Code{c} // a city without counties is its own slot
		if len(kids) > 0 && kids[0].Level() == region.County {
			slots = kids
		}
		if !ok {
			w = 0
		}
		towns := 0
		var slotW []float64
		for _, k := range slots {
			slot := int32(len(m.counties))
			ki := countyInfo{idx: m.cities[ci], city: ci}
			if k == c {
				m.regions[ki.idx].county = slot
			} else {
				ki.idx = add(k, slot, ci)
			}
			for _, t := range tab.Children(k) {
				if t.Level() == region.Township {
					ki.towns = append(ki.towns, add(t, slot, ci))
				}
			}
			// A county's share of its city: its townships (a proxy for
			// size), with urban districts (codes xxyy01..xxyy20) busier.
			sw := float64(max(len(ki.towns), 3))
			if n := k[4:6]; k.Level() == region.County && n >= "01" && n <= "20" {
				sw *= 1.5
			}
			slotW = append(slotW, sw)
			towns += len(ki.towns)
			m.counties = append(m.counties, ki)
		}
		if !ok {
			w = float64(max(towns, 5))
		}
		cityWeights = append(cityWeights, w)
		total := 0.0
		for _, x := range slotW {
			total += x
		}
		for _, x := range slotW {
			countyWeights = append(countyWeights, w*x/total)
		}
	}
	if len(m.cities) == 0 {
		return nil, fmt.Errorf("demo: province %s has no cities in the region table", prov)
	}
	if len(m.regions) > 1<<16 {
		return nil, fmt.Errorf("demo: province %s has %d divisions, more than the demo indexes", prov, len(m.regions))
	}
	m.cityW = cumulative(cityWeights...)
	m.countyW = cumulative(countyWeights...)
	m.surgeW = m.countyW

	lag := cfg.Lagging
	if lag == nil {
		lag = m.defaultLagging(cfg.Province)
	}
	m.laggingRegion = make([]bool, len(m.regions))
	for _, code := range lag {
		found := false
		for i := range m.counties {
			c := &m.counties[i]
			if m.regions[c.idx].code == code && m.regions[c.idx].level == region.County {
				c.lagging, found = true, true
				m.lagging = append(m.lagging, c.idx)
				m.laggingRegion[c.idx] = true
				for _, t := range c.towns {
					m.laggingRegion[t] = true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("demo: lagging county %q is not a county of %s", code, prov)
		}
	}
	return m, nil
}

// defaultLagging names Gansu's three lagging counties, or for another
// province picks three counties of different cities from the seed.
func (m *model) defaultLagging(province string) []string {
	if province == "620000" {
		return gansuLagging
	}
	r := newRng(m.seed, streamSetup, 1)
	var out []string
	used := map[int32]bool{}
	for tries := 0; len(out) < 3 && tries < 1000; tries++ {
		c := m.counties[r.intn(int64(len(m.counties)))]
		if used[c.city] || m.regions[c.idx].level != region.County {
			continue
		}
		used[c.city] = true
		out = append(out, m.regions[c.idx].code)
	}
	slices.Sort(out)
	return out
}

// Region levels of a record, as shares: province, city, township; the rest
// is county.
type levelMix struct{ province, city, township float64 }

var (
	caseLevels   = levelMix{0.02, 0.05, 0.15}
	ticketLevels = levelMix{0.03, 0.07, 0.15}
	callLevels   = levelMix{0.25, 0.75, 0} // calls reach the provincial and city hotline centers
)

// pickRegion draws a region index with the level mix.
func (m *model) pickRegion(r *rng, mix levelMix) uint16 {
	u := r.f()
	switch {
	case u < mix.province:
		return 0
	case u < mix.province+mix.city:
		return m.cities[r.pick(m.cityW)]
	}
	c := &m.counties[r.pick(m.countyW)]
	if u < mix.province+mix.city+mix.township && len(c.towns) > 0 {
		return c.towns[r.intn(int64(len(c.towns)))]
	}
	return c.idx
}

// inCounty draws the county itself or one of its townships.
func (m *model) inCounty(r *rng, ci int) uint16 {
	c := &m.counties[ci]
	if len(c.towns) > 0 && r.chance(0.2) {
		return c.towns[r.intn(int64(len(c.towns)))]
	}
	return c.idx
}

// ---------------------------------------------------------------- time

const (
	minute = 60
	hour   = 3600
	day    = 86400
)

func (m *model) dayOf(t int64) calendar.Date { return m.cal.DayOf(t * 1e9) }

func (m *model) dayStart(d calendar.Date) int64 { return m.cal.StartOfDay(d) / 1e9 }

func (m *model) isWorkday(d calendar.Date) bool { return m.cal.IsWorkday(d) }

// nthWorkday returns the k-th working day strictly after t's date (k ≥ 1),
// the day whose end is the SPEC.md section 4 deadline of k working days.
func (m *model) nthWorkday(t int64, k int) calendar.Date {
	return m.cal.DayOf(m.cal.Deadline(t*1e9, k)) - 1
}

// Office hours, in seconds after local midnight.
const (
	officeOpen  = 8*hour + 30*minute
	officeClose = 17*hour + 30*minute
)

// officeTime returns a random instant during office hours of day d, at
// least gap after t, or false when d is not a working day or its office
// hours are over by then.
func (m *model) officeTime(r *rng, d calendar.Date, t, gap int64) (int64, bool) {
	if !m.isWorkday(d) {
		return 0, false
	}
	s := m.dayStart(d)
	lo := max(s+officeOpen, t+gap)
	hi := s + officeClose
	if lo >= hi {
		return 0, false
	}
	// Skewed early: work done in the morning of a day is more common than
	// at closing time, and it keeps "today" slots away from the deadline.
	x := r.f()
	return lo + int64(x*x*float64(hi-lo)), true
}

// workTime returns an office-hours instant on the k-th working day after
// t's date (k = 0: t's own date if there is office time left, else the
// next working day), at least gap after t.
func (m *model) workTime(r *rng, t int64, k int, gap int64) int64 {
	for ; ; k++ {
		d := m.dayOf(t)
		if k > 0 {
			d = m.nthWorkday(t, k)
		}
		if x, ok := m.officeTime(r, d, t, gap); ok {
			return x
		}
	}
}

// sameDay returns an instant gap..gap+spread after t but before the end of
// t's day: a 即办件 (0 working days) closes the day it is accepted.
func (m *model) sameDay(r *rng, t, gap, spread int64) int64 {
	end := m.dayStart(m.dayOf(t)+1) - 1
	return min(t+gap+r.intn(spread), max(end, t+1))
}

// appendTime appends unix seconds as RFC 3339 with the business zone's
// offset, a form record.Parser reads exactly.
func (m *model) appendTime(b []byte, t int64) []byte {
	return time.Unix(t, 0).In(m.loc).AppendFormat(b, time.RFC3339)
}

// appendID appends prefix, the creation minute in the id zone
// (YYYYMMDDhhmm) and the three-digit counter within the minute.
func (m *model) appendID(b []byte, prefix byte, minuteIdx int64, n uint16) []byte {
	b = append(b, prefix)
	b = time.Unix(minuteIdx*minute, 0).In(m.idZone).AppendFormat(b, "200601021504")
	return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

// Random streams: every generator draws from its own stream, keyed by the
// simulated minute or day, so that kinds are generated independently (and
// in parallel) and each minute is reproducible on its own.
const (
	streamSetup uint64 = iota + 1
	streamCatalog
	streamCase
	streamTicket
	streamCall
	streamItemRev
	streamDay
	streamSurge
)

// Surge is an hour or two in which one category of 12345 tickets floods one
// county (a burst water main, a heating outage): several times that
// region's usual daily count of the category. The hotline trend rules
// (SPEC.md section 8) are meant to catch it.
type Surge struct {
	Region   string    // county code
	Category string    // ticket category
	Start    time.Time // first minute
	End      time.Time // first minute after it
	Tickets  int       // extra tickets over the surge
}

type surge struct {
	county     int
	category   int
	start, end int64 // unix seconds, minute aligned
	tickets    int
}

// surgeProb is the chance that a given day has a surge.
const surgeProb = 0.45

// surgeOn returns the surge of day d, if any: a pure function of the seed
// and the date.
func (m *model) surgeOn(d calendar.Date) (surge, bool) {
	r := newRng(m.seed, streamSurge, uint64(int64(d)+1<<20))
	if !r.chance(surgeProb) {
		return surge{}, false
	}
	s := surge{county: r.pick(m.surgeW), category: surgeCategories[r.intn(int64(len(surgeCategories)))]}
	s.start = m.dayStart(d) + r.between(9*60, 18*60)*minute
	s.end = s.start + r.between(60, 120)*minute
	// The county's usual daily count of the category, from the shares the
	// generators use; a surge brings 4–8 times that within the hour or two.
	share := (m.countyW[s.county] - prevCum(m.countyW, s.county)) / m.countyW[len(m.countyW)-1]
	catShare := (categoryWeights[s.category] - prevCum(categoryWeights, s.category)) / categoryWeights[len(categoryWeights)-1]
	base := ticketsPerWorkday * (1 - ticketLevels.province - ticketLevels.city) * share * catShare
	s.tickets = max(30, int(base*float64(r.between(4, 8))))
	return s, true
}

func prevCum(w weights, i int) float64 {
	if i == 0 {
		return 0
	}
	return w[i-1]
}

// dayFactor is the day's volume relative to a workday for a kind: the rest
// day factor and a little day-to-day noise.
func (m *model) dayFactor(d calendar.Date, stream uint64, rest float64) float64 {
	r := newRng(m.seed, streamDay, uint64(int64(d))<<8|stream)
	f := 1 + dayJitter*r.norm()
	if !m.isWorkday(d) {
		f *= rest
	}
	return max(f, 0.1)
}

// localClock gives the local date and hour of a minute.
func (m *model) localClock(t int64) (calendar.Date, int) {
	lt := time.Unix(t, 0).In(m.loc)
	return m.dayOf(t), lt.Hour()
}

func sum24(p *[24]float64) float64 {
	s := 0.0
	for _, x := range p {
		s += x
	}
	return s
}
