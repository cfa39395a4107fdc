// Command gendata writes a synthetic platform export of any size in the SPEC.md
// section 3 schema: cases.csv, evaluations.csv, tickets.csv, calls.csv, items.csv
// (or .jsonl). It is the data source of the compute benchmark
// (scripts/bench-compute, docs/PERFORMANCE.md) and of error-path tests.
//
//	go run ./scripts/gendata --out DIR --cases N [--seed S] [--from 2026-01-01 --to 2026-12-31]
//	    [--province 620000] [--format csv|jsonl] [--bad-rate 0.001] [--encoding utf-8|gbk]
//	    [--bom] [--crlf] [--evaluations N] [--tickets N] [--calls N] [--items N]
//
// Proportions follow a province like Gansu: about 10M cases a year, evaluations
// about half of the cases, 12345 tickets about 7,500 a day for 10M cases a year
// (0.274 per case) and calls twice the tickets, items N/100 within [2,000, 90,000].
// Rates sit near SPEC.md section 11: answer rate ~95.5%, ticket satisfaction ~85%,
// items ~93% online and ~86% fully online.
//
// Every record is a pure function of (seed, file, index), so the output is the
// same for a seed whatever the scheduling; the five files are written in
// parallel, each through a 1 MiB bufio.Writer with strconv.Append* formatting.
//
// The export is taken at the end of --to (Shanghai time): nothing happens after
// it, so later closes are open cases. About 1% of ids repeat (an earlier state,
// then the final state a few thousand rows later: the later row wins), and with
// --bad-rate a fraction of rows is deliberately unreadable (bad region code,
// unknown enumeration, slashes or no offset in a date, a bare date, an empty
// required field, a bad number).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// ---------------------------------------------------------------- options

type options struct {
	out         string
	cases       int64
	seed        uint64
	from, to    time.Time // dates (00:00 business time)
	province    string
	format      string // csv | jsonl
	badRate     float64
	encoding    string // utf-8 | gbk
	bom, crlf   bool
	evaluations int64 // < 0: proportional
	tickets     int64
	calls       int64
	items       int64
	quiet       bool
}

const usageText = `usage: gendata --out DIR --cases N [--seed S] [--from YYYY-MM-DD --to YYYY-MM-DD]
       [--province 620000] [--format csv|jsonl] [--bad-rate R] [--encoding utf-8|gbk]
       [--bom] [--crlf] [--evaluations N] [--tickets N] [--calls N] [--items N] [--quiet]`

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usageText); fs.PrintDefaults() }
	o := &options{}
	var seed int64
	var from, to string
	fs.StringVar(&o.out, "out", "", "output directory (created)")
	fs.Int64Var(&o.cases, "cases", 0, "number of cases (distinct ids; repeated ids and bad rows come on top / in place)")
	fs.Int64Var(&seed, "seed", 1, "random seed; the output is a function of the seed and the options")
	fs.StringVar(&from, "from", "2026-01-01", "first day of the export (business time)")
	fs.StringVar(&to, "to", "2026-12-31", "last day of the export; the export is taken at its end")
	fs.StringVar(&o.province, "province", "620000", "province code xx0000; the Gansu code list is moved to its first two digits")
	fs.StringVar(&o.format, "format", "csv", "csv or jsonl")
	fs.Float64Var(&o.badRate, "bad-rate", 0, "fraction of deliberately unreadable rows in every file")
	fs.StringVar(&o.encoding, "encoding", "utf-8", "utf-8 or gbk (csv only)")
	fs.BoolVar(&o.bom, "bom", false, "start UTF-8 CSV files with a byte order mark (as Excel writes them)")
	fs.BoolVar(&o.crlf, "crlf", false, "end lines with CRLF")
	fs.Int64Var(&o.evaluations, "evaluations", -1, "number of evaluations (default: cases/2)")
	fs.Int64Var(&o.tickets, "tickets", -1, "number of 12345 tickets (default: 0.274 x cases, ~7,500 a day for 10M cases a year)")
	fs.Int64Var(&o.calls, "calls", -1, "number of 12345 calls (default: 2 x tickets)")
	fs.Int64Var(&o.items, "items", -1, "number of catalog items (default: cases/100 within [2000, 90000])")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.out == "" {
		return nil, errors.New("--out is required")
	}
	if o.cases <= 0 {
		return nil, errors.New("--cases must be positive")
	}
	o.seed = uint64(seed)
	var err error
	if o.from, err = time.ParseInLocation("2006-01-02", from, time.UTC); err != nil {
		return nil, fmt.Errorf("--from: %v", err)
	}
	if o.to, err = time.ParseInLocation("2006-01-02", to, time.UTC); err != nil {
		return nil, fmt.Errorf("--to: %v", err)
	}
	if o.to.Before(o.from) {
		return nil, errors.New("--to is before --from")
	}
	if len(o.province) != 6 || o.province[2:] != "0000" || o.province[0] < '1' || o.province[0] > '9' || o.province[1] < '0' || o.province[1] > '9' {
		return nil, fmt.Errorf("--province %q: want a province code like 620000", o.province)
	}
	if o.format != "csv" && o.format != "jsonl" {
		return nil, fmt.Errorf("--format %q: want csv or jsonl", o.format)
	}
	switch o.encoding {
	case "utf-8", "utf8", "UTF-8":
		o.encoding = "utf-8"
	case "gbk", "GBK":
		o.encoding = "gbk"
	default:
		return nil, fmt.Errorf("--encoding %q: want utf-8 or gbk", o.encoding)
	}
	if o.encoding == "gbk" && o.format != "csv" {
		return nil, errors.New("--encoding gbk is for csv only (JSON is UTF-8)")
	}
	if o.bom && o.encoding != "utf-8" {
		return nil, errors.New("--bom is for UTF-8 only")
	}
	if o.badRate < 0 || o.badRate > 1 || math.IsNaN(o.badRate) {
		return nil, errors.New("--bad-rate must be within [0, 1]")
	}
	if o.evaluations < 0 {
		o.evaluations = o.cases / 2
	}
	if o.tickets < 0 {
		o.tickets = int64(math.Round(float64(o.cases) * 0.27375))
	}
	if o.calls < 0 {
		o.calls = 2 * o.tickets
	}
	if o.items < 0 {
		o.items = min(max(o.cases/100, 2000), 90000)
	}
	return o, nil
}

// ---------------------------------------------------------------- random numbers

// rng is splitmix64: tiny, fast, and seedable per record, so that every record
// is a pure function of (seed, stream, index).
type rng struct{ s uint64 }

func newRng(seed, stream, k uint64) rng {
	r := rng{s: seed*0x9E3779B97F4A7C15 ^ stream*0xD1B54A32D192ED03 ^ (k+1)*0xBF58476D1CE4E5B9}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float in [0, 1)
func (r *rng) f() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn in [0, n)
func (r *rng) intn(n int64) int64 {
	if n <= 1 {
		return 0
	}
	return int64((r.next() >> 1) % uint64(n))
}

// pick an index from cumulative weights
func (r *rng) pick(cum []float64) int {
	u := r.f() * cum[len(cum)-1]
	return sort.SearchFloat64s(cum, u+1e-300)
}

func cumulative(w ...float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// streams
const (
	stCase = iota + 1
	stEval
	stTicket
	stCall
	stItem
)

// ---------------------------------------------------------------- regions

type city struct {
	code     string
	weight   float64 // population, 10k
	counties []string
}

// Gansu (GB/T 2260); 620171 is the Lanzhou New Area code used by the platform.
var gansu = []city{
	{"620100", 440, []string{"620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123", "620171"}},
	{"620200", 31, []string{"620201"}},
	{"620300", 44, []string{"620302", "620321"}},
	{"620400", 150, []string{"620402", "620403", "620421", "620422", "620423"}},
	{"620500", 300, []string{"620502", "620503", "620521", "620522", "620523", "620524", "620525"}},
	{"620600", 145, []string{"620602", "620621", "620622", "620623"}},
	{"620700", 113, []string{"620702", "620721", "620722", "620723", "620724", "620725"}},
	{"620800", 185, []string{"620802", "620821", "620822", "620823", "620825", "620826", "620881"}},
	{"620900", 106, []string{"620902", "620921", "620922", "620923", "620924", "620981", "620982"}},
	{"621000", 216, []string{"621002", "621021", "621022", "621023", "621024", "621025", "621026", "621027"}},
	{"621100", 250, []string{"621102", "621121", "621122", "621123", "621124", "621125", "621126"}},
	{"621200", 240, []string{"621202", "621221", "621222", "621223", "621224", "621225", "621226", "621227", "621228"}},
	{"622900", 211, []string{"622901", "622921", "622922", "622923", "622924", "622925", "622926", "622927"}},
	{"623000", 69, []string{"623001", "623021", "623022", "623023", "623024", "623025", "623026", "623027"}},
}

type county struct {
	code      []byte
	city      int
	townships int64 // townships are code + 001..townships
}

type regions struct {
	province  []byte
	cities    [][]byte
	cityCum   []float64
	counties  []county
	countyCum []float64
}

func newRegions(province string) *regions {
	g := &regions{province: []byte(province)}
	fix := func(c string) []byte { return []byte(province[:2] + c[2:]) }
	var cw, kw []float64
	for ci, c := range gansu {
		g.cities = append(g.cities, fix(c.code))
		cw = append(cw, c.weight)
		for i, k := range c.counties {
			w := c.weight / float64(len(c.counties))
			if i == 0 && len(c.counties) > 1 {
				w *= 2 // the central district is busier
			}
			g.counties = append(g.counties, county{code: fix(k), city: ci, townships: 5 + int64(len(k)*7+i*3+ci)%16})
			kw = append(kw, w)
		}
	}
	g.cityCum = cumulative(cw...)
	g.countyCum = cumulative(kw...)
	return g
}

// region levels of a record
const (
	lvProvince = iota
	lvCity
	lvCounty
	lvTownship
)

// appendRegion draws a region with level shares pProv, pCity, pTown (rest county).
func (g *regions) appendRegion(b []byte, r *rng, pProv, pCity, pTown float64) []byte {
	u := r.f()
	switch {
	case u < pProv:
		return append(b, g.province...)
	case u < pProv+pCity:
		return append(b, g.cities[r.pick(g.cityCum)]...)
	}
	c := &g.counties[r.pick(g.countyCum)]
	b = append(b, c.code...)
	if u < pProv+pCity+pTown {
		n := 1 + r.intn(c.townships)
		b = append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	}
	return b
}

// ---------------------------------------------------------------- time

const (
	second      = int64(1_000_000) // times are unix microseconds
	minute      = 60 * second
	hour        = 60 * minute
	day         = 24 * hour
	zoneOffset  = 8 * hour // business time zone Asia/Shanghai (no DST since 1991)
	unixToLocal = zoneOffset
)

// calendar of the export: per-day cumulative shares for cases and for the hotline.
type calendar struct {
	firstDay  int64 // local days since 1970-01-01
	days      int64
	end       int64 // export time: start of the day after --to, unix micros
	caseStart []int64
	hotStart  []int64
	caseHours []float64
	hotHours  []float64
}

func weekday(localDay int64) int { return int((localDay + 4) % 7) } // 0 = Sunday; 1970-01-01 was a Thursday

func newCalendar(o *options) *calendar {
	first := o.from.Unix() / 86400
	last := o.to.Unix() / 86400
	c := &calendar{firstDay: first, days: last - first + 1}
	c.end = (last+1)*day - zoneOffset
	c.caseHours = cumulative(0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1, 2, 5, 9, 10, 9, 5, 4, 8, 9, 9, 7, 4, 3, 2.5, 2, 1, 0.5)
	c.hotHours = cumulative(0.8, 0.5, 0.4, 0.3, 0.3, 0.5, 1.2, 3, 6, 8, 8.5, 8, 6, 5, 7, 7.5, 7.5, 7, 6, 5.5, 5, 4, 2.5, 1.5)
	return c
}

// starts splits n records over the days with weekend weight w: start[d] = first index of day d.
func (c *calendar) starts(n int64, weekend float64) []int64 {
	w := make([]float64, c.days)
	total := 0.0
	for d := range c.days {
		x := 1.0
		if wd := weekday(c.firstDay + d); wd == 0 || wd == 6 {
			x = weekend
		}
		w[d] = x
		total += x
	}
	s := make([]int64, c.days+1)
	acc := 0.0
	for d := range c.days {
		s[d] = int64(math.Round(acc / total * float64(n)))
		acc += w[d]
	}
	s[c.days] = n
	return s
}

// when gives the time of record k out of the day split `starts` with an hour profile.
func (c *calendar) when(r *rng, k int64, starts []int64, hours []float64) int64 {
	d := int64(sort.Search(len(starts), func(i int) bool { return starts[i] > k })) - 1
	if d < 0 {
		d = 0
	}
	h := int64(r.pick(hours))
	return (c.firstDay+d)*day - zoneOffset + h*hour + r.intn(hour)
}

// approxDeadline: start of the day after the n-th weekday after t's local day
// (official holidays are not modelled here; n = 0: start of the next day).
func approxDeadline(t int64, n int64) int64 {
	d := (t + unixToLocal) / day
	for i := int64(0); i < n; {
		d++
		if wd := weekday(d); wd != 0 && wd != 6 {
			i++
		}
	}
	return (d+1)*day - zoneOffset
}

// timestamp forms
const (
	tsOffsetMicro = iota // 2026-03-02T09:15:00.123456+08:00
	tsOffset             // 2026-03-02T09:15:00+08:00
	tsZ                  // 2026-03-02T01:15:00Z
	tsZMilli             // 2026-03-02T01:15:00.123Z
	tsLocal              // 2026-03-02 09:15:00 (business time)
	// bad forms
	tsBadSlash   // 2026/03/02 09:15:00
	tsBadNoZone  // 2026-03-02T09:15:00
	tsBadBareDay // 2026-03-02
)

var tsFormCum = cumulative(45, 15, 17, 3, 20)

func (r *rng) tsForm() uint8 { return uint8(r.pick(tsFormCum)) }

func civil(days int64) (y, m, d int64) { // days since 1970-01-01 -> date (Hinnant)
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func app2(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendTS(b []byte, t int64, form uint8) []byte {
	if form == tsZ || form == tsZMilli {
		// UTC
	} else {
		t += unixToLocal
	}
	secs := t / second
	micro := t % second
	if micro < 0 {
		micro += second
		secs--
	}
	days := secs / 86400
	sod := secs % 86400
	if sod < 0 {
		sod += 86400
		days--
	}
	y, m, d := civil(days)
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	sep := byte('-')
	if form == tsBadSlash {
		sep = '/'
	}
	b = append(b, sep)
	b = app2(b, m)
	b = append(b, sep)
	b = app2(b, d)
	if form == tsBadBareDay {
		return b
	}
	if form == tsLocal || form == tsBadSlash {
		b = append(b, ' ')
	} else {
		b = append(b, 'T')
	}
	b = app2(b, sod/3600)
	b = append(b, ':')
	b = app2(b, sod/60%60)
	b = append(b, ':')
	b = app2(b, sod%60)
	switch form {
	case tsOffsetMicro:
		b = append(b, '.')
		for p := int64(100000); p > 0; p /= 10 {
			b = append(b, byte('0'+micro/p%10))
		}
		b = append(b, "+08:00"...)
	case tsOffset:
		b = append(b, "+08:00"...)
	case tsZ:
		b = append(b, 'Z')
	case tsZMilli:
		b = append(b, '.', byte('0'+micro/100000), byte('0'+micro/10000%10), byte('0'+micro/1000%10), 'Z')
	}
	return b
}

// ---------------------------------------------------------------- output

// rowWriter writes one row at a time as CSV or JSON lines; values never need
// CSV quoting (no comma, quote or line break is ever generated).
type rowWriter struct {
	w       *bufio.Writer
	jsonl   bool
	keys    [][]byte // JSON: `"name":`
	line    []byte
	field   int
	eol     []byte
	rows    int64
	counter *atomic.Int64
	pending int64
	err     error
}

func newRowWriter(f io.Writer, o *options, header []string, counter *atomic.Int64) *rowWriter {
	rw := &rowWriter{w: bufio.NewWriterSize(f, 1<<20), jsonl: o.format == "jsonl", counter: counter, eol: []byte("\n")}
	if o.crlf {
		rw.eol = []byte("\r\n")
	}
	for _, h := range header {
		rw.keys = append(rw.keys, []byte(`"`+h+`":`))
	}
	if !rw.jsonl {
		if o.bom {
			rw.w.WriteString("\uFEFF")
		}
		for i, h := range header {
			if i > 0 {
				rw.w.WriteByte(',')
			}
			rw.w.WriteString(h)
		}
		rw.w.Write(rw.eol)
	}
	return rw
}

func (rw *rowWriter) begin() {
	rw.line = rw.line[:0]
	rw.field = 0
	if rw.jsonl {
		rw.line = append(rw.line, '{')
	}
}

func (rw *rowWriter) sep() {
	if rw.jsonl {
		if rw.field > 0 {
			rw.line = append(rw.line, ',')
		}
		rw.line = append(rw.line, rw.keys[rw.field]...)
	} else if rw.field > 0 {
		rw.line = append(rw.line, ',')
	}
	rw.field++
}

// str writes a text value (empty = null).
func (rw *rowWriter) str(v []byte) {
	rw.sep()
	if rw.jsonl {
		if len(v) == 0 {
			rw.line = append(rw.line, "null"...)
			return
		}
		rw.line = append(rw.line, '"')
		rw.line = append(rw.line, v...)
		rw.line = append(rw.line, '"')
		return
	}
	rw.line = append(rw.line, v...)
}

// strStart/strEnd bracket a text value appended in place to rw.line.
func (rw *rowWriter) strStart() {
	rw.sep()
	if rw.jsonl {
		rw.line = append(rw.line, '"')
	}
}

func (rw *rowWriter) strEnd() {
	if rw.jsonl {
		rw.line = append(rw.line, '"')
	}
}

func (rw *rowWriter) null() {
	rw.sep()
	if rw.jsonl {
		rw.line = append(rw.line, "null"...)
	}
}

func (rw *rowWriter) ts(t int64, form uint8) {
	if t == 0 {
		rw.null()
		return
	}
	rw.strStart()
	rw.line = appendTS(rw.line, t, form)
	rw.strEnd()
}

func (rw *rowWriter) num(v int64) {
	rw.sep()
	rw.line = strconv.AppendInt(rw.line, v, 10)
}

// boolean forms: 1/0 mostly, sometimes true/false or 是/否 (CSV); JSON true/false.
const (
	boolDigit = iota
	boolWord
	boolChinese
)

var boolFormCum = cumulative(96, 3, 1)

func (r *rng) boolForm() uint8 { return uint8(r.pick(boolFormCum)) }

func (rw *rowWriter) boolean(v bool, form uint8, enc *encoded) {
	rw.sep()
	if rw.jsonl {
		if v {
			rw.line = append(rw.line, "true"...)
		} else {
			rw.line = append(rw.line, "false"...)
		}
		return
	}
	switch {
	case form == boolWord && v:
		rw.line = append(rw.line, "true"...)
	case form == boolWord:
		rw.line = append(rw.line, "false"...)
	case form == boolChinese && v:
		rw.line = append(rw.line, enc.yes...)
	case form == boolChinese:
		rw.line = append(rw.line, enc.no...)
	case v:
		rw.line = append(rw.line, '1')
	default:
		rw.line = append(rw.line, '0')
	}
}

func (rw *rowWriter) end() {
	if rw.jsonl {
		rw.line = append(rw.line, '}')
	}
	rw.line = append(rw.line, rw.eol...)
	if _, err := rw.w.Write(rw.line); err != nil && rw.err == nil {
		rw.err = err
	}
	rw.rows++
	if rw.pending++; rw.pending == 4096 {
		rw.counter.Add(rw.pending)
		rw.pending = 0
	}
}

func (rw *rowWriter) flush() error {
	rw.counter.Add(rw.pending)
	rw.pending = 0
	if err := rw.w.Flush(); err != nil && rw.err == nil {
		rw.err = err
	}
	return rw.err
}

// encoded holds the non-ASCII constants in the output encoding.
type encoded struct {
	yes, no    []byte
	categories [][]byte
}

var categories = []string{"劳动社保", "市场监管", "生态环境", "民政", "城乡建设", "卫生健康", "自然资源", "公安", "交通运输", "教育", "住房保障", "农业农村", "水电气暖", "文化旅游", "政务服务"}

func newEncoded(encoding string) (*encoded, error) {
	conv := func(s string) ([]byte, error) { return []byte(s), nil }
	if encoding == "gbk" {
		e := simplifiedchinese.GBK.NewEncoder()
		conv = func(s string) ([]byte, error) { return e.Bytes([]byte(s)) }
	}
	enc := &encoded{}
	var err error
	if enc.yes, err = conv("是"); err != nil {
		return nil, err
	}
	if enc.no, err = conv("否"); err != nil {
		return nil, err
	}
	for _, c := range categories {
		b, err := conv(c)
		if err != nil {
			return nil, err
		}
		enc.categories = append(enc.categories, b)
	}
	return enc, nil
}

// ---------------------------------------------------------------- generator

type gen struct {
	o    *options
	g    *regions
	cal  *calendar
	enc  *encoded
	rows atomic.Int64

	caseStarts, evalStarts, ticketStarts, callStarts []int64
}

// delayed rows: the final version of a repeated id comes a few rows later.
type delayed[T any] struct {
	at  int64
	rec T
}

type queue[T any] struct{ q []delayed[T] }

func (q *queue[T]) push(at int64, rec T) {
	q.q = append(q.q, delayed[T]{at, rec})
	for i := len(q.q) - 1; i > 0 && q.q[i].at < q.q[i-1].at; i-- {
		q.q[i], q.q[i-1] = q.q[i-1], q.q[i]
	}
}

// due pops the records due at or before index k.
func (q *queue[T]) due(k int64, emit func(T)) {
	n := 0
	for n < len(q.q) && q.q[n].at <= k {
		emit(q.q[n].rec)
		n++
	}
	if n > 0 {
		q.q = append(q.q[:0], q.q[n:]...)
	}
}

func (q *queue[T]) drain(emit func(T)) { q.due(math.MaxInt64, emit) }

// ---------------------------------------------------------------- cases

var (
	caseChannels   = [][]byte{[]byte("online"), []byte("mobile"), []byte("window"), []byte("self_service")}
	caseChannelCum = cumulative(45, 35, 15, 5)
	caseStatuses   = [][]byte{[]byte("submitted"), []byte("accepted"), []byte("closed"), []byte("rejected"), []byte("withdrawn")}
	promisedDays   = []int64{0, 1, 3, 5, 10, 20}
	promisedCum    = cumulative(25, 10, 27, 20, 14, 4)
)

const (
	stSubmitted = iota
	stAccepted
	stClosed
	stRejected
	stWithdrawn
)

type caseRec struct {
	k          int64
	region     [12]byte
	regionLen  uint8
	dept, item int32
	channel    uint8
	fullOnline bool
	boolForm   uint8
	sub        int64
	acc, clo   int64 // 0 = empty
	pd         int64
	status     uint8
	forms      [3]uint8
	bad        uint8 // 0 = good, else a bad kind
	hasPrev    bool
	prev       struct {
		acc, clo int64
		status   uint8
	}
	delay int64
}

// genCase is a pure function of (seed, k): evaluations regenerate their case.
func (gn *gen) genCase(k int64) caseRec {
	r := newRng(gn.o.seed, stCase, uint64(k))
	c := caseRec{k: k}
	c.regionLen = uint8(len(gn.g.appendRegion(c.region[:0], &r, 0.01, 0.02, 0.12)))
	c.dept = int32(1 + r.intn(52))
	c.item = int32(1 + r.intn(gn.o.items))
	c.channel = uint8(r.pick(caseChannelCum))
	switch c.channel {
	case 0, 1:
		c.fullOnline = r.f() < 0.86
	default:
		c.fullOnline = r.f() < 0.03
	}
	c.boolForm = r.boolForm()
	c.sub = gn.cal.when(&r, k, gn.caseStarts, gn.cal.caseHours)
	c.pd = promisedDays[r.pick(promisedCum)]
	c.forms = [3]uint8{r.tsForm(), r.tsForm(), r.tsForm()}
	end := gn.cal.end

	// acceptance
	u := r.f()
	accDelay := 5*minute + r.intn(2*hour)
	if c.pd > 0 && r.f() < 0.4 {
		accDelay = 2*hour + r.intn(30*hour)
	}
	if r.f() < 0.005 { // accepted a little before the submission time (clock skew)
		accDelay = -(1 + r.intn(90)) * minute
	}
	acc := c.sub + accDelay
	switch {
	case u < 0.025:
		c.status = stWithdrawn
		if r.f() < 0.8 && acc < end {
			c.acc = acc
		}
	case u < 0.045:
		c.status = stRejected
		if r.f() < 0.7 && acc < end {
			c.acc = acc
		}
	case u < 0.049 || acc >= end:
		c.status = stSubmitted
	default:
		c.acc = acc
		dl := approxDeadline(acc, c.pd)
		v := r.f()
		var clo int64
		switch {
		case v < 0.015: // never closed: overdue open
		case v < 0.075: // late
			clo = dl + r.intn(10*day)
		case v < 0.078: // exactly at midnight of the deadline (late: closed_at < deadline fails)
			clo = dl
		case v < 0.081: // the last second before the deadline
			clo = dl - second
		case v < 0.083: // closed before accepted (data quirk)
			clo = acc - (1+r.intn(60))*minute
		default: // on time, early more often
			x := r.f()
			clo = acc + minute + int64(x*x*float64(dl-acc-2*minute))
		}
		if clo != 0 && clo < end {
			c.clo = clo
			c.status = stClosed
		} else {
			c.status = stAccepted
		}
	}
	// a repeated id: an earlier state first, the final state later
	if r.f() < 0.01 {
		c.hasPrev = true
		c.delay = 1 + r.intn(5000)
		c.prev.acc, c.prev.clo, c.prev.status = c.acc, 0, stAccepted
		switch c.status {
		case stClosed:
			if r.f() < 0.4 { // corrected close time
				c.prev.clo = c.clo + (r.intn(4*day) - 2*day)
				c.prev.status = stClosed
			}
		case stAccepted, stSubmitted:
			c.prev.acc, c.prev.status = 0, stSubmitted
		case stRejected:
			c.prev.status = stSubmitted
			c.prev.acc = 0
		case stWithdrawn:
			if c.acc == 0 {
				c.prev.status = stSubmitted
			}
		}
	}
	if gn.o.badRate > 0 && r.f() < gn.o.badRate {
		c.bad = uint8(1 + r.intn(8))
		c.hasPrev = false
	}
	return c
}

var caseHeader = []string{"case_id", "region_code", "dept_code", "item_code", "channel", "full_online", "submitted_at", "accepted_at", "promised_days", "closed_at", "status"}

// appendCode appends prefix + n zero-padded to width digits (D001, I000042).
func appendCode(b []byte, prefix byte, n int64, width int) []byte {
	b = append(b, prefix)
	for p, i := int64(10), 1; i < width; p, i = p*10, i+1 {
		if n < p {
			b = append(b, '0')
		}
	}
	return strconv.AppendInt(b, n, 10)
}

func (gn *gen) writeCase(rw *rowWriter, c *caseRec, prev bool, buf []byte) []byte {
	acc, clo, status := c.acc, c.clo, c.status
	if prev {
		acc, clo, status = c.prev.acc, c.prev.clo, c.prev.status
	}
	rw.begin()
	// case_id
	if c.bad == 1 {
		rw.null()
	} else {
		rw.strStart()
		rw.line = strconv.AppendInt(append(rw.line, 'C'), c.k, 10)
		rw.strEnd()
	}
	// region_code
	switch c.bad {
	case 2:
		rw.str(append(buf[:0], c.region[:5]...)) // 5 digits
	case 3:
		rw.str(append(append(buf[:0], c.region[:4]...), "XX"...))
	default:
		rw.str(c.region[:c.regionLen])
	}
	rw.str(appendCode(buf[:0], 'D', int64(c.dept), 3))
	rw.str(appendCode(buf[:0], 'I', int64(c.item), 6))
	if c.bad == 4 {
		rw.str([]byte("fax"))
	} else {
		rw.str(caseChannels[c.channel])
	}
	rw.boolean(c.fullOnline, c.boolForm, gn.enc)
	switch c.bad {
	case 5:
		rw.ts(c.sub, tsBadSlash)
	case 6:
		rw.ts(c.sub, tsBadNoZone)
	case 7:
		rw.null()
	default:
		rw.ts(c.sub, c.forms[0])
	}
	rw.ts(acc, c.forms[1])
	if c.bad == 8 {
		rw.str([]byte("-1"))
	} else {
		rw.num(c.pd)
	}
	rw.ts(clo, c.forms[2])
	rw.str(caseStatuses[status])
	rw.end()
	return buf
}

func (gn *gen) writeCases(rw *rowWriter) error {
	var q queue[caseRec]
	buf := make([]byte, 0, 64)
	emit := func(c caseRec) { buf = gn.writeCase(rw, &c, false, buf) }
	for k := range gn.o.cases {
		q.due(k, emit)
		c := gn.genCase(k)
		if c.hasPrev {
			buf = gn.writeCase(rw, &c, true, buf)
			q.push(k+c.delay, c)
			continue
		}
		buf = gn.writeCase(rw, &c, false, buf)
	}
	q.drain(emit)
	return rw.flush()
}

// ---------------------------------------------------------------- evaluations

var (
	scoreCum   = cumulative(1.3, 2.2, 4.5, 12, 80) // 1..5
	evalHeader = []string{"eval_id", "case_id", "region_code", "dept_code", "channel", "score", "evaluated_at", "rectified_at"}
)

type evalRec struct {
	j, caseK int64
	c        caseRec
	score    int64
	ev, rect int64
	forms    [2]uint8
	bad      uint8
	hasPrev  bool
	delay    int64
}

func (gn *gen) genEval(j int64) evalRec {
	r := newRng(gn.o.seed, stEval, uint64(j))
	n, e := gn.o.cases, gn.o.evaluations
	step := max(n/max(e, 1), 1)
	k := min(j*n/max(e, 1)+r.intn(step), n-1)
	ev := evalRec{j: j, caseK: k, c: gn.genCase(k)}
	base := ev.c.sub
	if ev.c.clo != 0 {
		base = max(ev.c.clo, ev.c.sub)
	} else if ev.c.acc != 0 {
		base = max(ev.c.acc, ev.c.sub)
	}
	t := base + minute + r.intn(3*day)
	if t >= gn.cal.end {
		t = base + r.intn(max(gn.cal.end-base, 1))
	}
	ev.ev = t
	ev.score = int64(1 + r.pick(scoreCum))
	ev.forms = [2]uint8{r.tsForm(), r.tsForm()}
	if ev.score <= 2 {
		dl := approxDeadline(t, 3)
		v := r.f()
		var rect int64
		switch {
		case v < 0.08: // not rectified
		case v < 0.20:
			rect = dl + r.intn(5*day)
		case v < 0.21:
			rect = dl
		default:
			rect = t + hour + r.intn(dl-t-2*hour)
		}
		if rect < gn.cal.end {
			ev.rect = rect
		}
	}
	if r.f() < 0.01 {
		ev.hasPrev = true
		ev.delay = 1 + r.intn(3000)
	}
	if gn.o.badRate > 0 && r.f() < gn.o.badRate {
		ev.bad = uint8(1 + r.intn(6))
		ev.hasPrev = false
	}
	return ev
}

func (gn *gen) writeEval(rw *rowWriter, e *evalRec, prev bool, buf []byte) []byte {
	rw.begin()
	if e.bad == 1 {
		rw.null()
	} else {
		rw.strStart()
		rw.line = strconv.AppendInt(append(rw.line, 'E'), e.j, 10)
		rw.strEnd()
	}
	rw.strStart()
	rw.line = strconv.AppendInt(append(rw.line, 'C'), e.caseK, 10)
	rw.strEnd()
	if e.bad == 2 {
		rw.str([]byte("6201"))
	} else {
		rw.str(e.c.region[:e.c.regionLen])
	}
	rw.str(appendCode(buf[:0], 'D', int64(e.c.dept), 3))
	if e.bad == 3 {
		rw.str([]byte("phone_call"))
	} else {
		rw.str(caseChannels[e.c.channel])
	}
	switch {
	case e.bad == 4:
		rw.num(6)
	case prev:
		rw.num(min(e.score+1, 5)) // the first rating was changed
	default:
		rw.num(e.score)
	}
	switch e.bad {
	case 5:
		rw.ts(e.ev, tsBadBareDay)
	case 6:
		rw.ts(e.ev, tsBadSlash)
	default:
		rw.ts(e.ev, e.forms[0])
	}
	if prev {
		rw.null()
	} else {
		rw.ts(e.rect, e.forms[1])
	}
	rw.end()
	return buf
}

func (gn *gen) writeEvals(rw *rowWriter) error {
	var q queue[evalRec]
	buf := make([]byte, 0, 64)
	emit := func(e evalRec) { buf = gn.writeEval(rw, &e, false, buf) }
	for j := range gn.o.evaluations {
		q.due(j, emit)
		e := gn.genEval(j)
		if e.hasPrev {
			buf = gn.writeEval(rw, &e, true, buf)
			q.push(j+e.delay, e)
			continue
		}
		buf = gn.writeEval(rw, &e, false, buf)
	}
	q.drain(emit)
	return rw.flush()
}

// ---------------------------------------------------------------- tickets

var (
	kinds          = [][]byte{[]byte("consult"), []byte("help"), []byte("complaint"), []byte("report"), []byte("suggestion"), []byte("praise")}
	kindCum        = cumulative(35, 22, 25, 7, 7, 4)
	kindDirect     = []float64{0.70, 0.35, 0.10, 0.05, 0.40, 0.80}
	kindDays       = []int64{1, 3, 5, 5, 10, 1}
	ticketChannels = [][]byte{[]byte("phone"), []byte("web"), []byte("wechat"), []byte("app"), []byte("message_board"), []byte("other")}
	ticketChanCum  = cumulative(70, 8, 9, 6, 5, 2)
	callbacks      = [][]byte{[]byte("satisfied"), []byte("basic"), []byte("unsatisfied"), []byte("unreachable"), nil}
	callbackCum    = cumulative(58, 15, 13, 7, 7)
	deadlineDays   = []int64{1, 2, 7, 15}
	ticketHeader   = []string{"ticket_id", "region_code", "unit_code", "category", "kind", "channel", "received_at", "direct", "assigned_at", "deadline_days", "closed_at", "callback"}
)

type ticketRec struct {
	k             int64
	region        [12]byte
	regionLen     uint8
	unit          int64
	category      uint8
	kind, channel uint8
	rec, asg, clo int64
	direct        bool
	boolForm      uint8
	dd            int64 // 0 = empty
	callback      uint8
	forms         [3]uint8
	bad           uint8
	hasPrev       bool
	delay         int64
}

func (gn *gen) genTicket(k int64) ticketRec {
	r := newRng(gn.o.seed, stTicket, uint64(k))
	t := ticketRec{k: k}
	t.regionLen = uint8(len(gn.g.appendRegion(t.region[:0], &r, 0.03, 0.07, 0.12)))
	t.unit = 1 + r.intn(80)
	t.category = uint8(r.intn(int64(len(categories))))
	t.kind = uint8(r.pick(kindCum))
	t.channel = uint8(r.pick(ticketChanCum))
	t.rec = gn.cal.when(&r, k, gn.ticketStarts, gn.cal.hotHours)
	t.direct = r.f() < kindDirect[t.kind]
	t.boolForm = r.boolForm()
	t.forms = [3]uint8{r.tsForm(), r.tsForm(), r.tsForm()}
	t.callback = 4
	end := gn.cal.end
	var clo int64
	if t.direct {
		clo = t.rec + minute + r.intn(30*minute)
	} else if r.f() < 0.97 {
		asg := t.rec + 5*minute + r.intn(6*hour)
		if asg < end {
			t.asg = asg
			n := kindDays[t.kind]
			if r.f() < 0.15 {
				t.dd = deadlineDays[r.intn(int64(len(deadlineDays)))]
				n = t.dd
			}
			dl := approxDeadline(asg, n)
			v := r.f()
			switch {
			case v < 0.02: // stuck
			case v < 0.09:
				clo = dl + r.intn(8*day)
			case v < 0.093:
				clo = dl
			default:
				x := r.f()
				clo = asg + minute + int64(x*float64(dl-asg-2*minute))
			}
		}
	}
	if clo != 0 && clo < end {
		t.clo = clo
		t.callback = uint8(r.pick(callbackCum))
	}
	if r.f() < 0.01 {
		t.hasPrev = true
		t.delay = 1 + r.intn(3000)
	}
	if gn.o.badRate > 0 && r.f() < gn.o.badRate {
		t.bad = uint8(1 + r.intn(6))
		t.hasPrev = false
	}
	return t
}

func (gn *gen) writeTicket(rw *rowWriter, t *ticketRec, prev bool, buf []byte) []byte {
	rw.begin()
	if t.bad == 1 {
		rw.null()
	} else {
		rw.strStart()
		rw.line = strconv.AppendInt(append(rw.line, 'T'), t.k, 10)
		rw.strEnd()
	}
	if t.bad == 2 {
		rw.str([]byte("62000"))
	} else {
		rw.str(t.region[:t.regionLen])
	}
	rw.str(appendCode(buf[:0], 'U', t.unit, 3))
	rw.str(gn.enc.categories[t.category])
	if t.bad == 3 {
		rw.str([]byte("inquiry"))
	} else {
		rw.str(kinds[t.kind])
	}
	rw.str(ticketChannels[t.channel])
	switch t.bad {
	case 4:
		rw.ts(t.rec, tsBadSlash)
	case 5:
		rw.ts(t.rec, tsBadNoZone)
	case 6:
		rw.null()
	default:
		rw.ts(t.rec, t.forms[0])
	}
	rw.boolean(t.direct, t.boolForm, gn.enc)
	rw.ts(t.asg, t.forms[1])
	if t.dd == 0 {
		rw.null()
	} else {
		rw.num(t.dd)
	}
	if prev { // the first export had it still open
		rw.null()
		rw.null()
	} else {
		rw.ts(t.clo, t.forms[2])
		rw.str(callbacks[t.callback])
	}
	rw.end()
	return buf
}

func (gn *gen) writeTickets(rw *rowWriter) error {
	var q queue[ticketRec]
	buf := make([]byte, 0, 64)
	emit := func(t ticketRec) { buf = gn.writeTicket(rw, &t, false, buf) }
	for k := range gn.o.tickets {
		q.due(k, emit)
		t := gn.genTicket(k)
		if t.hasPrev {
			buf = gn.writeTicket(rw, &t, true, buf)
			q.push(k+t.delay, t)
			continue
		}
		buf = gn.writeTicket(rw, &t, false, buf)
	}
	q.drain(emit)
	return rw.flush()
}

// ---------------------------------------------------------------- calls

var callHeader = []string{"call_id", "region_code", "offered_at", "answered", "wait_seconds"}

func (gn *gen) writeCalls(rw *rowWriter) error {
	var region []byte
	for k := range gn.o.calls {
		r := newRng(gn.o.seed, stCall, uint64(k))
		// calls reach the provincial and the city hotline centers
		region = gn.g.appendRegion(region[:0], &r, 0.30, 0.70, 0)
		t := gn.cal.when(&r, k, gn.callStarts, gn.cal.hotHours)
		form := r.tsForm()
		answered := r.f() < 0.955
		var wait int64
		if answered {
			wait = int64(-7 * math.Log(1-r.f())) // exponential, mean 7 s: ~88% within 15 s
		} else {
			wait = 5 + r.intn(175)
		}
		noWait := r.f() < 0.01
		bf := r.boolForm()
		bad := uint8(0)
		if gn.o.badRate > 0 && r.f() < gn.o.badRate {
			bad = uint8(1 + r.intn(5))
		}
		rw.begin()
		if bad == 1 {
			rw.null()
		} else {
			rw.strStart()
			rw.line = strconv.AppendInt(append(rw.line, 'K'), k, 10)
			rw.strEnd()
		}
		if bad == 2 {
			rw.str([]byte("6200001"))
		} else {
			rw.str(region)
		}
		switch bad {
		case 3:
			rw.ts(t, tsBadSlash)
		case 4:
			rw.ts(t, tsBadBareDay)
		default:
			rw.ts(t, form)
		}
		if bad == 5 {
			rw.str([]byte("maybe"))
		} else {
			rw.boolean(answered, bf, gn.enc)
		}
		if noWait {
			rw.null()
		} else {
			rw.num(wait)
		}
		rw.end()
	}
	return rw.flush()
}

// ---------------------------------------------------------------- items

var (
	itemHeader = []string{"item_code", "region_code", "dept_code", "online_available", "full_online", "mobile_available", "in_hall", "visits", "legal_days", "promised_days"}
	legalDays  = []int64{5, 10, 15, 20, 30, 60}
)

func (gn *gen) writeItems(rw *rowWriter) error {
	var region, buf []byte
	type item struct{ k int64 }
	write := func(k int64, prev bool) {
		r := newRng(gn.o.seed, stItem, uint64(k))
		region = gn.g.appendRegion(region[:0], &r, 0.10, 0.20, 0.10)
		dept := 1 + r.intn(52)
		online := r.f() < 0.93
		full := online && r.f() < 0.925
		mobile := online && r.f() < 0.65
		inHall := r.f() < 0.90
		var visits int64
		switch {
		case full:
		case online && r.f() < 0.3:
		case online:
			visits = 1
		case r.f() < 0.8:
			visits = 1
		default:
			visits = 2
		}
		legal := int64(0)
		if r.f() < 0.8 {
			legal = legalDays[r.intn(int64(len(legalDays)))]
		}
		promised := int64(-1)
		if legal > 0 {
			if r.f() < 0.95 {
				promised = int64(math.Round(float64(legal) * (0.05 + 0.55*r.f())))
			}
		} else if r.f() < 0.9 {
			promised = r.intn(21)
		}
		bf := r.boolForm()
		bad := uint8(0)
		if gn.o.badRate > 0 && r.f() < gn.o.badRate {
			bad = uint8(1 + r.intn(4))
		}
		if prev { // the previous catalog entry: not yet online
			online, full, mobile = false, false, false
			visits = 1
		}
		rw.begin()
		if bad == 1 {
			rw.null()
		} else {
			rw.str(appendCode(buf[:0], 'I', k+1, 6))
		}
		if bad == 2 {
			rw.str([]byte("62-100"))
		} else {
			rw.str(region)
		}
		rw.str(appendCode(buf[:0], 'D', dept, 3))
		rw.boolean(online, bf, gn.enc)
		rw.boolean(full, bf, gn.enc)
		rw.boolean(mobile, bf, gn.enc)
		rw.boolean(inHall, bf, gn.enc)
		switch bad {
		case 3:
			rw.null()
		case 4:
			rw.str([]byte("one"))
		default:
			rw.num(visits)
		}
		if legal == 0 {
			rw.null()
		} else {
			rw.num(legal)
		}
		if promised < 0 {
			rw.null()
		} else {
			rw.num(promised)
		}
		rw.end()
	}
	var q queue[item]
	emit := func(it item) { write(it.k, false) }
	for k := range gn.o.items {
		q.due(k, emit)
		r := newRng(gn.o.seed, stItem+100, uint64(k))
		if r.f() < 0.01 {
			write(k, true)
			q.push(k+1+r.intn(500), item{k})
			continue
		}
		write(k, false)
	}
	q.drain(emit)
	return rw.flush()
}

// ---------------------------------------------------------------- main

type fileJob struct {
	name   string
	header []string
	rows   int64 // expected, for progress
	write  func(*rowWriter) error
}

func run(args []string, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	enc, err := newEncoded(o.encoding)
	if err != nil {
		return err
	}
	gn := &gen{o: o, g: newRegions(o.province), cal: newCalendar(o), enc: enc}
	gn.caseStarts = gn.cal.starts(o.cases, 0.3)
	gn.ticketStarts = gn.cal.starts(o.tickets, 0.65)
	gn.callStarts = gn.cal.starts(o.calls, 0.65)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	ext := "." + o.format
	jobs := []fileJob{
		{"cases", caseHeader, o.cases * 101 / 100, gn.writeCases},
		{"evaluations", evalHeader, o.evaluations * 101 / 100, gn.writeEvals},
		{"tickets", ticketHeader, o.tickets * 101 / 100, gn.writeTickets},
		{"calls", callHeader, o.calls, gn.writeCalls},
		{"items", itemHeader, o.items * 101 / 100, gn.writeItems},
	}
	var total int64
	for _, j := range jobs {
		total += j.rows
	}
	start := time.Now()
	done := make(chan struct{})
	var mon sync.WaitGroup
	if !o.quiet {
		mon.Add(1)
		go func() { // progress every ~10%
			defer mon.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			next := int64(1)
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					n := gn.rows.Load()
					if n*10 >= next*total && next < 10 {
						for n*10 >= (next+1)*total && next < 9 {
							next++
						}
						fmt.Fprintf(stderr, "gendata: %3d%%  %d rows  %.1fs\n", next*10, n, time.Since(start).Seconds())
						next++
					}
				}
			}
		}()
	}
	errs := make([]error, len(jobs))
	rows := make([]int64, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(o.out, j.name+ext)
			f, err := os.Create(path)
			if err != nil {
				errs[i] = err
				return
			}
			rw := newRowWriter(f, o, j.header, &gn.rows)
			err = j.write(rw)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", path, err)
			}
			rows[i] = rw.rows
		}()
	}
	wg.Wait()
	close(done)
	mon.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var all int64
	for i, j := range jobs {
		all += rows[i]
		if !o.quiet {
			fmt.Fprintf(stderr, "gendata: %-16s %10d rows\n", j.name+ext, rows[i])
		}
	}
	if !o.quiet {
		el := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "gendata: %d rows in %.1fs (%.0f rows/s) -> %s\n", all, el, float64(all)/el, o.out)
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(2)
	}
}
