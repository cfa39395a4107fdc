// Package mapping turns a platform's own field names, codes and time formats
// into the canonical records of SPEC.md section 3, by configuration.
//
// A province's platform calls the case id 办件编号, writes the channel as
// 网办 or 窗口 and the submit time as "2026/03/02 09:15". A Mapping says so,
// per record kind, and converts each row of raw strings into canonical
// strings aligned to record.Kind.Fields. It never decides whether a value is
// valid: record.Parser stays the single authority, and a mapping only
// rewrites values into the forms the parser reads. Configuration is checked
// on Compile, and every mistake is reported with the key that holds it.
package mapping

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Config is the field mapping of one source, keyed by record kind
// ("cases", "evaluations", "tickets", "calls", "items"). Kinds that are not
// listed are read under their canonical names, unchanged.
type Config map[string]KindConfig

// KindConfig maps the rows of one record kind.
type KindConfig struct {
	// Columns maps a source column (or JSON key) to the canonical field it
	// holds, e.g. 办件编号: case_id. A canonical field with no entry is read
	// from the column of its own name. Column names match as the file
	// readers match them: without surrounding white space, case-folded.
	Columns map[string]string `yaml:"columns,omitempty" json:"columns,omitempty"`
	// Values maps, per canonical field, source values to canonical values,
	// e.g. channel: {网办: online, 窗口: window}. A value that is not listed
	// passes through unchanged, so canonical values keep working.
	Values map[string]map[string]string `yaml:"values,omitempty" json:"values,omitempty"`
	// TimeLayouts are Go time layouts ("2006/01/02 15:04"), or "unix" /
	// "unix_ms" for epoch numbers, tried in order on every time field (the
	// fields ending in _at). A value that matches none and already has the
	// canonical shape passes through to the parser.
	TimeLayouts []string `yaml:"time_layouts,omitempty" json:"time_layouts,omitempty"`
	// Times overrides TimeLayouts for single fields.
	Times map[string][]string `yaml:"times,omitempty" json:"times,omitempty"`
	// TimeZone is the IANA zone in which the source writes zone-less
	// times, when it is not the business time zone.
	TimeZone string `yaml:"time_zone,omitempty" json:"time_zone,omitempty"`
	// Defaults gives canonical values for fields that are empty or absent,
	// e.g. region_code: "620802" for a county bureau's exports that carry
	// no region column.
	Defaults map[string]string `yaml:"defaults,omitempty" json:"defaults,omitempty"`
}

// Mapping is a compiled Config. It is immutable and safe for concurrent use.
type Mapping struct {
	kinds [record.NumKinds]*Kind
}

// Kind is the compiled mapping of one record kind.
type Kind struct {
	kind     record.Kind
	source   []string // per canonical field: the source name to read
	fields   []fieldMap
	identity bool // nothing to rewrite: Apply copies
}

type fieldMap struct {
	values     map[string]string // nil: none
	layouts    []layout          // nil: not a time field or none configured
	def        string
	hasDefault bool
}

// layout is one accepted time form of a field.
type layout struct {
	text  string
	unix  int // 0: a Go layout; 1: epoch seconds; 1000: epoch milliseconds
	zoned bool
	loc   *time.Location // nil: zone-less times stay zone-less (business zone)
}

// Identity returns the mapping that reads every kind under its canonical
// names and rewrites nothing.
func Identity() *Mapping {
	m, err := Compile(nil)
	if err != nil {
		panic(err) // an empty config cannot be wrong
	}
	return m
}

// Kind returns the mapping of kind k; it is never nil.
func (m *Mapping) Kind(k record.Kind) *Kind { return m.kinds[k] }

// SourceFields returns the source names to read, one per canonical field
// in record.Kind.Fields order: the values given to Apply are aligned to
// this slice. The slice must not be modified.
func (k *Kind) SourceFields() []string { return k.source }

// Identity reports whether the kind is read unchanged under canonical names.
func (k *Kind) Identity() bool { return k.identity }

// Apply rewrites one row of source values (aligned to SourceFields) into
// canonical values (aligned to record.Kind.Fields), appending to dst[:0]
// and returning it. The error, when a time value matches none of the
// configured layouts, is a *record.FieldError naming the canonical field.
func (k *Kind) Apply(dst, src []string) ([]string, error) {
	dst = dst[:0]
	if len(src) != len(k.source) {
		return dst, fmt.Errorf("mapping %s: got %d values, want %d", k.kind, len(src), len(k.source))
	}
	if k.identity {
		return append(dst, src...), nil
	}
	for i, v := range src {
		f := &k.fields[i]
		if v == "" {
			if f.hasDefault {
				v = f.def
			}
			dst = append(dst, v)
			continue
		}
		if f.values != nil {
			if c, ok := f.values[v]; ok {
				dst = append(dst, c)
				continue
			}
		}
		if f.layouts != nil {
			t, err := convertTime(f.layouts, v)
			if err != nil {
				return dst, &record.FieldError{Field: k.kind.Fields()[i], Reason: err.Error()}
			}
			v = t
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// naiveLayout is the zone-less canonical form the parser reads in the
// business time zone.
const naiveLayout = "2006-01-02 15:04:05"

func convertTime(ls []layout, v string) (string, error) {
	for i := range ls {
		l := &ls[i]
		if l.unix != 0 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			var t time.Time
			if l.unix == 1 {
				t = time.Unix(n, 0)
			} else {
				t = time.UnixMilli(n)
			}
			return t.UTC().Format(time.RFC3339Nano), nil
		}
		if l.zoned {
			t, err := time.Parse(l.text, v)
			if err != nil {
				continue
			}
			return t.Format(time.RFC3339Nano), nil
		}
		if l.loc != nil {
			t, err := time.ParseInLocation(l.text, v, l.loc)
			if err != nil {
				continue
			}
			return t.Format(time.RFC3339Nano), nil
		}
		t, err := time.Parse(l.text, v)
		if err != nil {
			continue
		}
		return t.Format(naiveLayout), nil
	}
	if canonicalShape(v) {
		return v, nil // the parser has the last word on it
	}
	names := make([]string, len(ls))
	for i := range ls {
		names[i] = strconv.Quote(ls[i].text)
	}
	return "", fmt.Errorf("%q matches none of the configured time layouts (%s)", v, strings.Join(names, ", "))
}

// canonicalShape reports whether v looks like one of the two canonical
// timestamp forms; whether it is one is the parser's decision.
func canonicalShape(v string) bool {
	return len(v) >= 19 && v[4] == '-' && v[7] == '-' && (v[10] == ' ' || v[10] == 'T')
}

// IsTimeField reports whether a canonical field holds a timestamp.
func IsTimeField(field string) bool { return strings.HasSuffix(field, "_at") }

// Compile checks cfg and builds the mapping. The error lists every problem
// found, each prefixed with its key (cases.columns["办件编号"]), so that a
// caller only has to add the file name; Read also adds the line.
func Compile(cfg Config) (*Mapping, error) {
	m, probs := compile(cfg)
	if len(probs) == 0 {
		return m, nil
	}
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = p.path + ": " + p.msg
	}
	sort.Strings(lines)
	errs := make([]error, len(lines))
	for i, l := range lines {
		errs[i] = errors.New(l)
	}
	return nil, errors.Join(errs...)
}

// compile builds the mapping of cfg, or says what is wrong with it.
func compile(cfg Config) (*Mapping, []problem) {
	var probs problems
	for _, name := range sortedKeys(cfg) {
		if _, ok := record.ParseKind(name); !ok {
			probs.add(at{strconv.Quote(name), []string{name}}, "unknown record kind%s", yamlconf.Hint(name, kindNames()))
		}
	}
	m := &Mapping{}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		m.kinds[k] = compileKind(k, cfg[k.String()], &probs)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return m, nil
}

func compileKind(k record.Kind, c KindConfig, probs *problems) *Kind {
	fields := k.Fields()
	kind := k.String()
	out := &Kind{kind: k, source: slices.Clone(fields), fields: make([]fieldMap, len(fields))}
	index := func(where at, field string) int {
		i := slices.Index(fields, field)
		if i < 0 {
			probs.add(where, "%q is not a field of %s%s", field, k, yamlconf.Hint(field, fields))
		}
		return i
	}
	identity := true
	var loc *time.Location
	if c.TimeZone != "" {
		l, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			probs.add(at{kind + ".time_zone", []string{kind, "time_zone"}}, "unknown zone %q", c.TimeZone)
		} else {
			loc = l
		}
	}

	mapped := map[string]string{} // canonical field -> source column
	for _, src := range sortedKeys(c.Columns) {
		where := at{fmt.Sprintf("%s.columns[%q]", k, src), []string{kind, "columns", src}}
		dst := c.Columns[src]
		name := strings.TrimSpace(src)
		if name == "" {
			probs.add(where, "empty column name")
			continue
		}
		i := index(where, dst)
		if i < 0 {
			continue
		}
		if prev, ok := mapped[dst]; ok {
			probs.add(where, "field %s is already mapped from column %q", dst, prev)
			continue
		}
		mapped[dst] = src
		out.source[i] = name
		if name != dst {
			identity = false
		}
	}
	seen := map[string]int{}
	for i, s := range out.source {
		n := normName(s)
		if j, ok := seen[n]; ok {
			probs.add(at{kind + ".columns", []string{kind, "columns"}}, "column %q would be read for both %s and %s; map %s to a column of its own",
				s, fields[j], fields[i], unmappedOf(fields, mapped, i, j))
			continue
		}
		seen[n] = i
	}

	check := newChecker(k)
	for _, field := range sortedKeys(c.Values) {
		where := at{fmt.Sprintf("%s.values.%s", k, field), []string{kind, "values", field}}
		i := index(where, field)
		if i < 0 {
			continue
		}
		vm := make(map[string]string, len(c.Values[field]))
		for _, from := range sortedKeys(c.Values[field]) {
			to := c.Values[field][from]
			if reason := check(i, to); reason != "" {
				probs.add(where.key(fmt.Sprintf("[%q]", from), from), "maps to %q, which the %s field does not accept: %s", to, field, reason)
				continue
			}
			vm[strings.TrimSpace(from)] = to
		}
		out.fields[i].values = vm
		identity = false
	}

	var common []layout
	for j, l := range c.TimeLayouts {
		ly, reason := compileLayout(l, loc)
		if reason != "" {
			probs.add(at{fmt.Sprintf("%s.time_layouts[%d]", k, j), []string{kind, "time_layouts", strconv.Itoa(j)}}, "%s", reason)
			continue
		}
		common = append(common, ly)
	}
	for i, f := range fields {
		if IsTimeField(f) && len(common) > 0 {
			out.fields[i].layouts = common
			identity = false
		}
	}
	for _, field := range sortedKeys(c.Times) {
		where := at{fmt.Sprintf("%s.times.%s", k, field), []string{kind, "times", field}}
		i := index(where, field)
		if i < 0 {
			continue
		}
		if !IsTimeField(field) {
			probs.add(where, "%s is not a time field", field)
			continue
		}
		var ls []layout
		for j, l := range c.Times[field] {
			ly, reason := compileLayout(l, loc)
			if reason != "" {
				probs.add(where.key(fmt.Sprintf("[%d]", j), strconv.Itoa(j)), "%s", reason)
				continue
			}
			ls = append(ls, ly)
		}
		if len(ls) == 0 {
			probs.add(where, "no layout given")
			continue
		}
		out.fields[i].layouts = ls
		identity = false
	}
	if c.TimeZone != "" && len(common) == 0 && len(c.Times) == 0 {
		probs.add(at{kind + ".time_zone", []string{kind, "time_zone"}}, "has no effect without time_layouts or times")
	}

	for _, field := range sortedKeys(c.Defaults) {
		where := at{fmt.Sprintf("%s.defaults.%s", k, field), []string{kind, "defaults", field}}
		i := index(where, field)
		if i < 0 {
			continue
		}
		v := c.Defaults[field]
		if reason := check(i, v); reason != "" {
			probs.add(where, "%q is not accepted by the %s field: %s", v, field, reason)
			continue
		}
		out.fields[i].def, out.fields[i].hasDefault = v, v != ""
		identity = false
	}
	out.identity = identity
	return out
}

func unmappedOf(fields []string, mapped map[string]string, i, j int) string {
	if _, ok := mapped[fields[i]]; !ok {
		return fields[i]
	}
	return fields[j]
}

// compileLayout checks a Go layout: it must keep the date and the time of
// day to the minute (a bare date is a bad value in SPEC.md section 3, and
// the mapping does not guess a time for it).
func compileLayout(s string, loc *time.Location) (layout, string) {
	switch s {
	case "":
		return layout{}, "empty layout"
	case "unix":
		return layout{text: s, unix: 1}, ""
	case "unix_ms":
		return layout{text: s, unix: 1000}, ""
	}
	ref := time.Date(2001, 2, 3, 16, 5, 0, 0, time.UTC)
	back, err := time.Parse(s, ref.Format(s))
	if err != nil || !back.Equal(ref) {
		return layout{}, fmt.Sprintf("layout %q does not keep the date and time to the minute (write it as Go does: 2006-01-02 15:04:05)", s)
	}
	// A layout prints a zone when the same wall clock in two zones formats
	// differently.
	other := time.Date(2001, 2, 3, 16, 5, 0, 0, time.FixedZone("", 5*3600+1800))
	l := layout{text: s, zoned: ref.Format(s) != other.Format(s)}
	if !l.zoned {
		l.loc = loc
	}
	return l, ""
}

// normName is how the file readers compare column names (recordio): trimmed,
// without a byte-order mark, case-folded.
func normName(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF")))
}

// newChecker returns a function that tells whether the parser accepts
// value v in field i of kind k, by parsing a known-good row with v put in:
// the parser, not this package, decides what is valid.
func newChecker(k record.Kind) func(i int, v string) string {
	p := record.NewParser(time.UTC)
	return func(i int, v string) string {
		row := slices.Clone(sampleRows[k])
		row[i] = v
		err := p.Check(k, row)
		var fe *record.FieldError
		if errors.As(err, &fe) {
			return fe.Reason
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}
}

// sampleRows are rows every parser accepts, one per kind.
var sampleRows = [record.NumKinds][]string{
	{"C1", "620000", "", "", "online", "0", "2026-01-05 09:00:00", "", "0", "", "submitted"},
	{"E1", "", "620000", "", "online", "5", "2026-01-05 09:00:00", ""},
	{"T1", "620000", "", "", "consult", "phone", "2026-01-05 09:00:00", "0", "", "", "", ""},
	{"K1", "620000", "2026-01-05 09:00:00", "1", "10"},
	{"I1", "620000", "", "1", "1", "1", "1", "0", "", ""},
}

// at is where a problem is: its path as errors print it
// (cases.columns["办件编号"]) and the keys that lead to it from the top of
// the document (cases, columns, 办件编号; a list index in decimal), by
// which Read finds its line.
type at struct {
	path string
	keys []string
}

// key is the place one key below: suffix is how the path prints it.
func (a at) key(suffix, key string) at {
	return at{a.path + suffix, append(slices.Clip(a.keys), key)}
}

// problem is one mistake in a Config.
type problem struct {
	at
	msg string
}

// problems collects the mistakes of a Config.
type problems []problem

func (ps *problems) add(where at, format string, args ...any) {
	*ps = append(*ps, problem{where, fmt.Sprintf(format, args...)})
}

// kindNames lists the record kinds, for a did-you-mean.
func kindNames() []string {
	out := make([]string, record.NumKinds)
	for k := range record.NumKinds {
		out[k] = record.Kind(k).String()
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
