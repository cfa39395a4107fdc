package bulletin

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Config is a bulletins file: the bulletins to issue. sample.yaml shows
// every key with its meaning.
type Config struct {
	File      string
	Bulletins []*Bulletin
}

// Bulletin is one configured bulletin: what it reports, for which
// regions, and when it is issued (see RunAt for the rules).
type Bulletin struct {
	// Name identifies the bulletin in the archive and the logs:
	// [a-z][a-z0-9_-]{0,63}.
	Name string
	Type Type
	// Title is the bulletin's title without its period, such as
	// 甘肃省政务服务数据月报; empty means the region's name followed by
	// 政务服务数据 and the type's name.
	Title string
	// Regions are the GB/T 2260 codes of the regions a bulletin is made
	// for, one bulletin each: the region's own values and the ranking of
	// its children.
	Regions []string
	// Indicators are the indicators reported with their rankings, in
	// order; the composite score always uses every weighted indicator.
	Indicators []string
	// Bottom is how many units at the bottom of each ranking are listed
	// as lagging (besides every unit below its target); 0 lists none.
	Bottom int
	// Workday is the N-th working day of a weekly or monthly rule; Before
	// the day a monthly bulletin must precede (0: not that rule).
	Workday int
	Before  int
	// SkipRestDays leaves out the 快报 of days that are not working days.
	SkipRestDays bool
	// Cron is a daily bulletin's five-field schedule, when it has one
	// instead of a time of day.
	Cron string
	// Receivers name the notification receivers (those of the rules
	// file) told of every issue: a link, and the PDF by e-mail. The app
	// checks the names (Config.UnknownReceivers).
	Receivers []string

	receiverLines []int // the line of each receiver, for errors

	at   clockTime
	cron cron.Schedule
}

// At returns the time of day a bulletin is issued ("09:00"), "" for one
// with a cron schedule.
func (b *Bulletin) At() string {
	if b.cron != nil {
		return ""
	}
	return b.at.String()
}

// DefaultIndicators are the indicators a bulletin reports when its file
// names none: those the assessment documents set a target for (weight 2
// in the catalog), in catalog order.
func DefaultIndicators() []string {
	var out []string
	for _, d := range indicator.All() {
		if d.Goal.Weight >= 2 {
			out = append(out, d.ID)
		}
	}
	return out
}

// DefaultBottom is how many bottom units of each ranking are listed as
// lagging when a bulletin does not say.
const DefaultBottom = 3

// Limits of a bulletins file.
const (
	maxBulletins  = 200
	maxRegions    = 500
	maxTitleRunes = 60
	maxReceivers  = 50
)

var (
	topKeys    = []string{"bulletins"}
	commonKeys = []string{"name", "type", "title", "regions", "indicators", "bottom", "at", "receivers"}
	typeKeys   = map[Type][]string{
		Daily:   {"cron", "skip_rest_days"},
		Weekly:  {"workday"},
		Monthly: {"workday", "before"},
	}
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	timeRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)
)

//go:embed sample.yaml
var sampleYAML []byte

// Default returns the built-in bulletins (sample.yaml): the province's
// daily, weekly and monthly bulletins and two cities' monthly ones.
func Default() *Config {
	c, err := Parse("bulletin/sample.yaml", sampleYAML)
	if err != nil {
		panic(err) // TestSampleFile reads the same file
	}
	return c
}

// Load reads a bulletins file (see Parse).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bulletin: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a bulletins file strictly: every problem is reported as
// "file:line: path: reason" (unknown keys with a did-you-mean), all of
// them joined into one error. An empty file configures no bulletin.
func Parse(name string, data []byte) (*Config, error) {
	r := yamlconf.NewReader(name)
	out := &Config{File: name}
	root := r.Document(data)
	if root == nil {
		return out, r.Err()
	}
	if !r.Mapping(root, "", "a mapping with the key bulletins") {
		return nil, r.Err()
	}
	f := r.Fields(root, "", topKeys, nil)
	if v, ok := f["bulletins"]; ok && !yamlconf.IsNull(v.Val) {
		nodes, _ := r.Seq(v.Val, "bulletins", "bulletins", 0, maxBulletins)
		first := map[string]int{}
		for i, n := range nodes {
			at := yamlconf.Index("bulletins", i)
			b, ok := readBulletin(r, n, at)
			if !ok {
				continue
			}
			if line, dup := first[b.Name]; dup {
				r.Errorf(n, yamlconf.JoinPath(at, "name"), "duplicate bulletin name %q (first on line %d)", b.Name, line)
				continue
			}
			first[b.Name] = n.Line
			out.Bulletins = append(out.Bulletins, b)
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// UnknownReceivers reports the receivers the bulletins name that are not
// in known, as "file:line: bulletins[i].receivers[j]: unknown receiver
// "x" (did you mean …)", or nil.
func (c *Config) UnknownReceivers(known []string) error {
	var errs []error
	for i, b := range c.Bulletins {
		for j, name := range b.Receivers {
			if slices.Contains(known, name) {
				continue
			}
			line := 0
			if j < len(b.receiverLines) {
				line = b.receiverLines[j]
			}
			where := yamlconf.Index(yamlconf.JoinPath(yamlconf.Index("bulletins", i), "receivers"), j)
			hint := yamlconf.Hint(name, known)
			if len(known) == 0 {
				hint = " (no receiver is configured: define receivers in the rules file, --rules)"
			}
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown receiver %q%s", c.File, line, where, name, hint))
		}
	}
	return errors.Join(errs...)
}

// Lookup returns the bulletin named name.
func (c *Config) Lookup(name string) (*Bulletin, bool) {
	for _, b := range c.Bulletins {
		if b.Name == name {
			return b, true
		}
	}
	return nil, false
}

func readBulletin(r *yamlconf.Reader, n *yaml.Node, path string) (*Bulletin, bool) {
	if !r.Mapping(n, path, "a mapping with the keys name, type, regions and when to issue") {
		return nil, false
	}
	start := r.Len()
	b := &Bulletin{Bottom: DefaultBottom}
	// The type decides which keys are allowed: read it first.
	var allKeys []string
	allKeys = append(allKeys, commonKeys...)
	for _, t := range Types() {
		for _, k := range typeKeys[t] {
			if !slices.Contains(allKeys, k) {
				allKeys = append(allKeys, k)
			}
		}
	}
	f := r.Fields(n, path, allKeys, nil)
	key := func(k string) string { return yamlconf.JoinPath(path, k) }
	if v, ok := f["type"]; ok {
		s, ok := r.OneOf(v.Val, key("type"), []string{string(Daily), string(Weekly), string(Monthly)})
		if !ok {
			return nil, false
		}
		b.Type = Type(s)
	} else {
		r.Errorf(n, key("type"), "missing; want daily, weekly or monthly")
		return nil, false
	}
	for k, v := range f {
		if !slices.Contains(commonKeys, k) && !slices.Contains(typeKeys[b.Type], k) {
			r.Errorf(v.Key, key(k), "not a key of a %s bulletin (its keys: %s)", b.Type,
				strings.Join(append(slices.Clone(commonKeys), typeKeys[b.Type]...), ", "))
		}
	}

	if v, ok := f["name"]; ok {
		if s, ok := r.Str(v.Val, key("name")); ok {
			if !nameRE.MatchString(s) {
				r.Errorf(v.Val, key("name"), "%q: want lower-case letters, digits, - and _, starting with a letter, at most 64", s)
			}
			b.Name = s
		}
	} else {
		r.Errorf(n, key("name"), "missing")
	}
	if v, ok := f["title"]; ok {
		if s, ok := r.Str(v.Val, key("title")); ok {
			if c := utf8.RuneCountInString(s); c == 0 || c > maxTitleRunes || strings.ContainsAny(s, "\r\n") {
				r.Errorf(v.Val, key("title"), "want one line of 1 to %d characters", maxTitleRunes)
			}
			b.Title = s
		}
	}
	if v, ok := f["regions"]; ok {
		nodes, _ := r.Seq(v.Val, key("regions"), "region codes", 1, maxRegions)
		seen := map[string]bool{}
		for i, rn := range nodes {
			p := yamlconf.Index(key("regions"), i)
			s, ok := r.Str(rn, p)
			if !ok {
				continue
			}
			if _, err := region.ParseCode(s); err != nil {
				r.Errorf(rn, p, "%q is not a region code (6 or 9 digits, GB/T 2260)", s)
				continue
			}
			if seen[s] {
				r.Errorf(rn, p, "region %s listed twice", s)
				continue
			}
			seen[s] = true
			b.Regions = append(b.Regions, s)
		}
	} else {
		r.Errorf(n, key("regions"), "missing; want a list of region codes")
	}
	if v, ok := f["indicators"]; ok {
		var ids []string
		for _, d := range indicator.All() {
			ids = append(ids, d.ID)
		}
		nodes, _ := r.Seq(v.Val, key("indicators"), "indicator ids", 1, len(ids))
		for i, in := range nodes {
			p := yamlconf.Index(key("indicators"), i)
			s, ok := r.Str(in, p)
			if !ok {
				continue
			}
			if _, known := indicator.Lookup(s); !known {
				r.Errorf(in, p, "unknown indicator %q%s", s, yamlconf.Hint(s, ids))
				continue
			}
			if slices.Contains(b.Indicators, s) {
				r.Errorf(in, p, "indicator %s listed twice", s)
				continue
			}
			b.Indicators = append(b.Indicators, s)
		}
	} else {
		b.Indicators = DefaultIndicators()
	}
	if v, ok := f["bottom"]; ok {
		if x, ok := r.Int(v.Val, key("bottom"), 0, 50); ok {
			b.Bottom = x
		}
	}
	if v, ok := f["receivers"]; ok && !yamlconf.IsNull(v.Val) {
		nodes, _ := r.Seq(v.Val, key("receivers"), "receiver names", 0, maxReceivers)
		for i, rn := range nodes {
			p := yamlconf.Index(key("receivers"), i)
			s, ok := r.Str(rn, p)
			if !ok {
				continue
			}
			if slices.Contains(b.Receivers, s) {
				r.Errorf(rn, p, "receiver %s listed twice", s)
				continue
			}
			b.Receivers = append(b.Receivers, s)
			b.receiverLines = append(b.receiverLines, rn.Line)
		}
	}

	at, hasAt := f["at"]
	cronField, hasCron := f["cron"]
	switch {
	case hasAt && hasCron:
		r.Errorf(cronField.Key, key("cron"), "set either at or cron, not both")
	case hasAt:
		if s, ok := r.Str(at.Val, key("at")); ok {
			m := timeRE.FindStringSubmatch(s)
			if m == nil {
				r.Errorf(at.Val, key("at"), "%q: want a time of day HH:MM, 00:00 to 23:59 (quote it: at: \"09:00\")", s)
			} else {
				h, _ := strconv.Atoi(m[1])
				mi, _ := strconv.Atoi(m[2])
				b.at = clockTime{h, mi}
			}
		}
	case hasCron && b.Type == Daily:
		if s, ok := r.Str(cronField.Val, key("cron")); ok {
			sched, err := parseCron(s)
			if err != nil {
				r.Errorf(cronField.Val, key("cron"), "%q: %v (want five fields: minute hour day-of-month month day-of-week)", s, err)
			} else {
				b.cron, b.Cron = sched, s
			}
		}
	case b.Type == Daily:
		r.Errorf(n, key("at"), "missing; want the time of day (at: \"08:30\") or a cron schedule")
	default:
		r.Errorf(n, key("at"), "missing; want the time of day, such as at: \"09:00\"")
	}
	if v, ok := f["skip_rest_days"]; ok && b.Type == Daily {
		if x, ok := r.Bool(v.Val, key("skip_rest_days")); ok {
			b.SkipRestDays = x
		}
	}
	wd, hasWD := f["workday"]
	before, hasBefore := f["before"]
	switch b.Type {
	case Weekly:
		b.Workday = 1
		if hasWD {
			if x, ok := r.Int(wd.Val, key("workday"), 1, 7); ok {
				b.Workday = x
			}
		}
	case Monthly:
		switch {
		case hasWD && hasBefore:
			r.Errorf(before.Key, key("before"), "set either workday or before, not both")
		case hasWD:
			if x, ok := r.Int(wd.Val, key("workday"), 1, 20); ok {
				b.Workday = x
			}
		case hasBefore:
			if x, ok := r.Int(before.Val, key("before"), 2, 28); ok {
				b.Before = x
			}
		default:
			r.Errorf(n, key("workday"), "missing; a monthly bulletin needs workday: N (the N-th working day) or before: D (the last working day before the D-th)")
		}
	}
	return b, r.Len() == start
}
