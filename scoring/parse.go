package scoring

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/suggest"
)

// Error is one problem in a targets file. Its text is
// "file:line: path: message", e.g.
// "targets.yaml:12: levels.city.answer_rate.floor: floor 0.99 is above
// target 0.95 (higher is better)", so an administrator can go straight to
// the line.
type Error struct {
	File string
	Line int
	Path string // the key path: levels.city.answer_rate.floor, tiers[1].min
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads a targets file (see Parse).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a targets file (YAML) and merges it onto the defaults: each
// field (target, floor, weight) given for an indicator replaces that field
// only; the section "default" applies to every level, then each level's
// own section; an indicator set to null has no rule at that level; a
// top-level "defaults: false" starts from no rules at all; "tiers", when
// given, replaces the tiers as a whole. The file is checked strictly and
// every problem found is returned (joined), each an *Error naming name,
// the line and the key. An empty file gives the defaults.
func Parse(name string, data []byte) (*Config, error) {
	p := &parser{name: name}
	root, err := p.decode(data)
	if err != nil {
		return nil, err
	}
	useDefaults := true
	var levelsNode, tiersNode *yaml.Node
	if root != nil {
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: name, Line: root.Line, Msg: "want a mapping with the keys levels and tiers, got " + kindName(root)}
		}
		p.pairs(root, "", func(k, v *yaml.Node) {
			switch k.Value {
			case "defaults":
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&useDefaults) != nil {
					p.errf(k, "defaults", "want true or false, got %s", show(v))
				}
			case "levels":
				levelsNode = v
			case "tiers":
				tiersNode = v
			default:
				p.errf(k, k.Value, "unknown key (known: defaults, levels, tiers)")
			}
		})
	}
	sections := p.levels(levelsNode)
	cfg := &Config{levels: map[string]map[string]Rule{}, tiers: defaultTiers()}
	p.merge(cfg, useDefaults, sections)
	if t, ok := p.tiers(tiersNode); ok {
		cfg.tiers = t
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

type parser struct {
	name string
	errs []*Error
	seen map[Error]bool
}

func (p *parser) errf(n *yaml.Node, path, format string, args ...any) {
	e := Error{File: p.name, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	if p.seen == nil {
		p.seen = map[Error]bool{}
	}
	if p.seen[e] {
		return
	}
	p.seen[e] = true
	p.errs = append(p.errs, &e)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decode parses the YAML into its root node (nil for an empty document).
// The YAML library is trusted not to panic, but a targets file is input
// and a panic would take the server down, so one is turned into an error.
func (p *parser) decode(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: p.name, Msg: fmt.Sprintf("unreadable YAML (%v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, p.yamlErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlErr(err)
		}
		return nil, &Error{File: p.name, Line: extra.Line, Msg: "a targets file holds one YAML document; found a second"}
	}
	n := deref(&doc)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = deref(n.Content[0])
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	return n, nil
}

func (p *parser) yamlErr(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: p.name, Line: line, Msg: m[2]}
	}
	return &Error{File: p.name, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "the value " + show(n)
	}
	return "something else"
}

// show quotes a scalar for a message, cut short if long.
func show(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

// pairs calls fn for each key of a mapping, reporting duplicate and
// non-scalar keys instead.
func (p *parser) pairs(n *yaml.Node, path string, fn func(k, v *yaml.Node)) {
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			p.errf(k, path, "a key must be a plain name, got %s", kindName(k))
			continue
		}
		if f, dup := first[k.Value]; dup {
			p.errf(k, kp, "duplicate key (first at line %d)", f.Line)
			continue
		}
		first[k.Value] = k
		fn(k, v)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Field indexes of a rule in a spec.
const (
	fTarget = iota
	fFloor
	fWeight
)

var fieldNames = [3]string{"target", "floor", "weight"}

// spec is what one section of the file says about one indicator.
type spec struct {
	def  indicator.Def
	key  *yaml.Node
	path string // levels.city.answer_rate
	del  bool   // null: no rule
	bad  bool   // a field was rejected; skip the checks across fields
	val  [3]float64
	set  [3]*yaml.Node // key node of each given field
}

// levels reads the levels mapping: section name → indicator id → spec.
func (p *parser) levels(n *yaml.Node) map[string]map[string]*spec {
	out := map[string]map[string]*spec{}
	if isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "levels", "want a mapping of levels, got %s", kindName(n))
		return out
	}
	known := append([]string{LevelDefault}, levelNames()...)
	p.pairs(n, "levels", func(k, v *yaml.Node) {
		path := "levels." + k.Value
		if !slices.Contains(known, k.Value) {
			p.errf(k, path, "unknown level (known: %s)", strings.Join(known, ", "))
			return
		}
		sec := map[string]*spec{}
		out[k.Value] = sec
		if isNull(v) {
			return
		}
		if v.Kind != yaml.MappingNode {
			p.errf(k, path, "want a mapping of indicator ids to rules, got %s", kindName(v))
			return
		}
		p.pairs(v, path, func(k, v *yaml.Node) {
			if s := p.rule(k, v, path+"."+k.Value); s != nil {
				sec[k.Value] = s
			}
		})
	})
	return out
}

// rule reads one indicator's rule: {target, floor, weight} or null.
func (p *parser) rule(k, v *yaml.Node, path string) *spec {
	def, ok := indicator.Lookup(k.Value)
	if !ok {
		msg := "unknown indicator"
		if s := closestIndicator(k.Value); s != "" {
			msg += "; did you mean " + s + "?"
		}
		p.errf(k, path, "%s", msg)
		return nil
	}
	s := &spec{def: def, key: k, path: path}
	if isNull(v) {
		s.del = true
		return s
	}
	if v.Kind != yaml.MappingNode {
		p.errf(k, path, "want {target, floor, weight} or null, got %s", kindName(v))
		return nil
	}
	p.pairs(v, path, func(fk, fv *yaml.Node) {
		fp := path + "." + fk.Value
		f := slices.Index(fieldNames[:], fk.Value)
		if f < 0 {
			p.errf(fk, fp, "unknown key (known: target, floor, weight)")
			s.bad = true
			return
		}
		x, ok := p.number(fk, fv, fp, def, f)
		if !ok {
			s.bad = true
			return
		}
		s.val[f], s.set[f] = x, fk
	})
	return s
}

// number reads and checks one field: a finite number; rates within [0, 1]
// (a percentage such as 98% is accepted for a rate); counts whole and not
// negative; weights in [0, 1000].
func (p *parser) number(k, v *yaml.Node, path string, def indicator.Def, f int) (float64, bool) {
	if v.Kind != yaml.ScalarNode {
		p.errf(k, path, "want a number, got %s", kindName(v))
		return 0, false
	}
	var x float64
	pct := false
	switch v.ShortTag() {
	case "!!int", "!!float":
		if err := v.Decode(&x); err != nil {
			p.errf(k, path, "want a number, got %s", show(v))
			return 0, false
		}
	case "!!str":
		t, isPct := strings.CutSuffix(strings.TrimSpace(v.Value), "%")
		y, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if !isPct || err != nil {
			p.errf(k, path, "want a number, got %s", show(v))
			return 0, false
		}
		x, pct = y/100, true
	default:
		p.errf(k, path, "want a number, got %s", show(v))
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		p.errf(k, path, "%s is not a finite number", show(v))
		return 0, false
	}
	switch {
	case f == fWeight:
		if pct {
			p.errf(k, path, "a weight is a plain number, not a percentage (got %s)", show(v))
			return 0, false
		}
		if x < 0 {
			p.errf(k, path, "weight %s is negative", num(x))
			return 0, false
		}
		if x > 1000 {
			p.errf(k, path, "weight %s is above 1000", num(x))
			return 0, false
		}
	case def.Rate:
		if x < 0 || x > 1 {
			if pct {
				p.errf(k, path, "rate %s is outside 0%%–100%%", show(v))
			} else {
				p.errf(k, path, "rate %s is outside [0, 1] (%s is a rate: write 0.98 or 98%%)", num(x), def.ID)
			}
			return 0, false
		}
	default:
		switch {
		case pct:
			p.errf(k, path, "%s is a count, not a rate: a percentage does not apply (got %s)", def.ID, show(v))
			return 0, false
		case x < 0:
			p.errf(k, path, "count %s is negative", num(x))
			return 0, false
		case x != math.Trunc(x):
			p.errf(k, path, "%s is a count: %s is not a whole number", def.ID, num(x))
			return 0, false
		}
	}
	return x, true
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// merge builds each level's rules: the defaults (or none), then the
// "default" section, then the level's own section, field by field; and
// checks every rule the file touched.
func (p *parser) merge(cfg *Config, useDefaults bool, sections map[string]map[string]*spec) {
	base := &Config{}
	if useDefaults {
		base = Default()
	}
	type errKey struct {
		node      *yaml.Node
		path, msg string
	}
	var order []errKey
	at := map[errKey][]string{}
	report := func(n *yaml.Node, path, msg, level string) {
		k := errKey{n, path, msg}
		if _, ok := at[k]; !ok {
			order = append(order, k)
		}
		at[k] = append(at[k], level)
	}
	for _, l := range levelNames() {
		rules := map[string]Rule{}
		for id, r := range base.levels[l] {
			rules[id] = r
		}
		type touched struct {
			isNew bool
			bad   bool
			last  *spec
			src   [3]*spec // the section that set each field
		}
		tc := map[string]*touched{}
		for _, d := range indicator.All() {
			for _, sec := range []string{LevelDefault, l} {
				s := sections[sec][d.ID]
				if s == nil {
					continue
				}
				if s.del {
					delete(rules, d.ID)
					delete(tc, d.ID)
					continue
				}
				r, existed := rules[d.ID]
				if !existed {
					r.Weight = 1 // a new rule counts in the composite unless told
				}
				t := tc[d.ID]
				if t == nil {
					t = &touched{isNew: !existed}
					tc[d.ID] = t
				}
				for f := range 3 {
					if s.set[f] == nil {
						continue
					}
					t.src[f] = s
					switch f {
					case fTarget:
						r.Target = s.val[f]
					case fFloor:
						r.Floor = s.val[f]
					case fWeight:
						r.Weight = s.val[f]
					}
				}
				t.last, t.bad = s, t.bad || s.bad
				rules[d.ID] = r
			}
			t := tc[d.ID]
			if t == nil {
				continue
			}
			if t.bad {
				delete(rules, d.ID)
				continue
			}
			r := rules[d.ID]
			if t.isNew && (t.src[fTarget] == nil || t.src[fFloor] == nil) {
				report(t.last.key, t.last.path, "no rule to merge onto: a new rule needs both target and floor", l)
				delete(rules, d.ID)
				continue
			}
			if (!d.LowerIsBetter && r.Floor <= r.Target) || (d.LowerIsBetter && r.Floor >= r.Target) {
				continue
			}
			// Blame the field set closest to the level: its own section
			// before "default", the floor before the target.
			blame, field := t.last, -1
			own := "levels." + l + "."
			for _, f := range []int{fFloor, fTarget} {
				s := t.src[f]
				if s == nil {
					continue
				}
				if field < 0 || (!strings.HasPrefix(blame.path, own) && strings.HasPrefix(s.path, own)) {
					blame, field = s, f
				}
			}
			// Name where the other side came from when it is elsewhere.
			side := func(f int) string {
				v := r.Floor
				if f == fTarget {
					v = r.Target
				}
				s := fieldNames[f] + " " + num(v)
				if o := t.src[f]; o != nil && f != field && o != blame {
					s += fmt.Sprintf(" (line %d)", o.set[f].Line)
				}
				return s
			}
			msg := side(fFloor) + " is above " + side(fTarget) + " (higher is better)"
			if d.LowerIsBetter {
				msg = side(fFloor) + " is below " + side(fTarget) + " (lower is better)"
			}
			if field < 0 {
				report(blame.key, blame.path, msg, l)
			} else {
				report(blame.set[field], blame.path+"."+fieldNames[field], msg, l)
			}
			delete(rules, d.ID)
		}
		cfg.levels[l] = rules
	}
	for _, k := range order {
		msg := k.msg
		if strings.HasPrefix(k.path, "levels."+LevelDefault+".") {
			msg += " at " + strings.Join(at[k], ", ")
		}
		p.errf(k.node, k.path, "%s", msg)
	}
}

// tiers reads the tiers list; ok is false when it is absent or wrong.
func (p *parser) tiers(n *yaml.Node) ([]Tier, bool) {
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "tiers", "want a list of {name, name_en, min}, got %s", kindName(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.errf(n, "tiers", "at least one tier is needed")
		return nil, false
	}
	var out []Tier
	good := true
	names := map[string]string{}
	prev, prevPath := math.Inf(1), ""
	for i, item := range n.Content {
		path := fmt.Sprintf("tiers[%d]", i)
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.errf(item, path, "want {name, name_en, min}, got %s", kindName(item))
			good = false
			continue
		}
		var t Tier
		var hasName, hasMin, bad bool
		p.pairs(item, path, func(k, v *yaml.Node) {
			fp := path + "." + k.Value
			switch k.Value {
			case "name", "name_en":
				if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
					p.errf(k, fp, "want a name, got %s", kindName(v))
					bad = true
					return
				}
				if k.Value == "name" {
					hasName = true
					t.Name = v.Value
					if strings.TrimSpace(v.Value) == "" {
						p.errf(k, fp, "empty name")
						bad = true
					} else if first, dup := names[v.Value]; dup {
						p.errf(k, fp, "duplicate name %s (also %s)", strconv.Quote(v.Value), first)
						bad = true
					} else {
						names[v.Value] = path
					}
				} else {
					t.NameEN = v.Value
				}
			case "min":
				hasMin = true
				var x float64
				if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&x) != nil {
					p.errf(k, fp, "want a score from 0 to 100, got %s", show(v))
					bad = true
					return
				}
				if math.IsNaN(x) || x < 0 || x > 100 {
					p.errf(k, fp, "min %s is outside 0–100", num(x))
					bad = true
					return
				}
				t.Min = x
				if x >= prev {
					p.errf(k, fp, "min %s is not below %s.min %s (tiers go from the highest down)", num(x), prevPath, num(prev))
					bad = true
				}
				prev, prevPath = x, path
			default:
				p.errf(k, fp, "unknown key (known: name, name_en, min)")
				bad = true
			}
		})
		if !hasName {
			p.errf(item, path, "name is missing")
			bad = true
		}
		if !hasMin {
			p.errf(item, path, "min is missing")
			bad = true
		}
		if bad {
			good = false
			continue
		}
		if strings.TrimSpace(t.NameEN) == "" {
			t.NameEN = t.Name
		}
		out = append(out, t)
	}
	return out, good
}

// closestIndicator names the indicator id most likely misspelt as id, or "".
func closestIndicator(id string) string {
	ids := make([]string, 0, len(indicator.All()))
	for _, d := range indicator.All() {
		ids = append(ids, d.ID)
	}
	return suggest.Closest(id, ids)
}
