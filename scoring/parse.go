package scoring

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/yamlconf"
)

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
// every problem found is returned (joined), each a *yamlconf.Error
// "file:line: path: message", e.g. "targets.yaml:12:
// levels.city.answer_rate.floor: floor 0.99 is above target 0.95 (higher
// is better)", so an administrator can go straight to the line. An empty
// file gives the defaults.
func Parse(name string, data []byte) (*Config, error) {
	p := &parser{yamlconf.NewReader(name)}
	root := p.Document(data)
	useDefaults := true
	var levelsNode, tiersNode *yaml.Node
	if root != nil && root.Kind != yaml.MappingNode {
		p.Errorf(root, "", "want a mapping with the keys levels and tiers, got %s", yamlconf.Describe(root))
		return nil, p.Err()
	}
	p.Pairs(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&useDefaults) != nil {
				p.Errorf(k, key, "want true or false, got %s", yamlconf.Show(v))
			}
		case "levels":
			levelsNode = v
		case "tiers":
			tiersNode = v
		default:
			p.Errorf(k, key, "%s", yamlconf.UnknownKey(key, []string{"defaults", "levels", "tiers"}))
		}
	})
	sections := p.levels(levelsNode)
	cfg := &Config{levels: map[string]map[string]Rule{}, tiers: defaultTiers()}
	p.merge(cfg, useDefaults, sections)
	if t, ok := p.tiers(tiersNode); ok {
		cfg.tiers = t
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parser reads one targets file; its problems go to the embedded Reader.
type parser struct {
	*yamlconf.Reader
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
	if yamlconf.IsNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "levels", "want a mapping of levels, got %s", yamlconf.Describe(n))
		return out
	}
	known := append([]string{LevelDefault}, levelNames()...)
	p.Pairs(n, "levels", func(level string, k, v *yaml.Node) {
		path := yamlconf.JoinPath("levels", level)
		if !slices.Contains(known, level) {
			p.Errorf(k, path, "unknown level%s", yamlconf.Hint(level, known))
			return
		}
		sec := map[string]*spec{}
		out[level] = sec
		if yamlconf.IsNull(v) {
			return
		}
		if v.Kind != yaml.MappingNode {
			p.Errorf(k, path, "want a mapping of indicator ids to rules, got %s", yamlconf.Describe(v))
			return
		}
		p.Pairs(v, path, func(id string, k, v *yaml.Node) {
			if s := p.rule(k, v, yamlconf.JoinPath(path, id)); s != nil {
				sec[id] = s
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
		p.Errorf(k, path, "%s", msg)
		return nil
	}
	s := &spec{def: def, key: k, path: path}
	if yamlconf.IsNull(v) {
		s.del = true
		return s
	}
	if v.Kind != yaml.MappingNode {
		p.Errorf(k, path, "want {target, floor, weight} or null, got %s", yamlconf.Describe(v))
		return nil
	}
	p.Pairs(v, path, func(field string, fk, fv *yaml.Node) {
		fp := yamlconf.JoinPath(path, field)
		f := slices.Index(fieldNames[:], field)
		if f < 0 {
			p.Errorf(fk, fp, "%s", yamlconf.UnknownKey(field, fieldNames[:]))
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
		p.Errorf(k, path, "want a number, got %s", yamlconf.Describe(v))
		return 0, false
	}
	var x float64
	pct := false
	switch v.ShortTag() {
	case "!!int", "!!float":
		if err := v.Decode(&x); err != nil {
			p.Errorf(k, path, "want a number, got %s", yamlconf.Show(v))
			return 0, false
		}
	case "!!str":
		t, isPct := strings.CutSuffix(strings.TrimSpace(v.Value), "%")
		y, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if !isPct || err != nil {
			p.Errorf(k, path, "want a number, got %s", yamlconf.Show(v))
			return 0, false
		}
		x, pct = y/100, true
	default:
		p.Errorf(k, path, "want a number, got %s", yamlconf.Show(v))
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		p.Errorf(k, path, "%s is not a finite number", yamlconf.Show(v))
		return 0, false
	}
	switch {
	case f == fWeight:
		if pct {
			p.Errorf(k, path, "a weight is a plain number, not a percentage (got %s)", yamlconf.Show(v))
			return 0, false
		}
		if x < 0 {
			p.Errorf(k, path, "weight %s is negative", num(x))
			return 0, false
		}
		if x > 1000 {
			p.Errorf(k, path, "weight %s is above 1000", num(x))
			return 0, false
		}
	case def.Rate:
		if x < 0 || x > 1 {
			if pct {
				p.Errorf(k, path, "rate %s is outside 0%%–100%%", yamlconf.Show(v))
			} else {
				p.Errorf(k, path, "rate %s is outside [0, 1] (%s is a rate: write 0.98 or 98%%)", num(x), def.ID)
			}
			return 0, false
		}
	default:
		switch {
		case pct:
			p.Errorf(k, path, "%s is a count, not a rate: a percentage does not apply (got %s)", def.ID, yamlconf.Show(v))
			return 0, false
		case x < 0:
			p.Errorf(k, path, "count %s is negative", num(x))
			return 0, false
		case x != math.Trunc(x):
			p.Errorf(k, path, "%s is a count: %s is not a whole number", def.ID, num(x))
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
		p.Errorf(k.node, k.path, "%s", msg)
	}
}

// tiers reads the tiers list; ok is false when it is absent or wrong.
func (p *parser) tiers(n *yaml.Node) ([]Tier, bool) {
	if yamlconf.IsNull(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		p.Errorf(n, "tiers", "want a list of {name, name_en, min}, got %s", yamlconf.Describe(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.Errorf(n, "tiers", "at least one tier is needed")
		return nil, false
	}
	var out []Tier
	good := true
	names := map[string]string{}
	prev, prevPath := math.Inf(1), ""
	for i, orig := range n.Content {
		path := yamlconf.Index("tiers", i)
		item := yamlconf.Deref(orig)
		if item == nil || item.Kind != yaml.MappingNode {
			p.Errorf(orig, path, "want {name, name_en, min}, got %s", yamlconf.Describe(item))
			good = false
			continue
		}
		var t Tier
		var hasName, hasMin, bad bool
		p.Pairs(item, path, func(key string, k, v *yaml.Node) {
			fp := yamlconf.JoinPath(path, key)
			switch key {
			case "name", "name_en":
				if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
					p.Errorf(k, fp, "want a name, got %s", yamlconf.Describe(v))
					bad = true
					return
				}
				if key == "name" {
					hasName = true
					t.Name = v.Value
					if strings.TrimSpace(v.Value) == "" {
						p.Errorf(k, fp, "empty name")
						bad = true
					} else if first, dup := names[v.Value]; dup {
						p.Errorf(k, fp, "duplicate name %s (also %s)", strconv.Quote(v.Value), first)
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
					p.Errorf(k, fp, "want a score from 0 to 100, got %s", yamlconf.Show(v))
					bad = true
					return
				}
				if math.IsNaN(x) || x < 0 || x > 100 {
					p.Errorf(k, fp, "min %s is outside 0–100", num(x))
					bad = true
					return
				}
				t.Min = x
				if x >= prev {
					p.Errorf(k, fp, "min %s is not below %s.min %s (tiers go from the highest down)", num(x), prevPath, num(prev))
					bad = true
				}
				prev, prevPath = x, path
			default:
				p.Errorf(k, fp, "%s", yamlconf.UnknownKey(key, []string{"name", "name_en", "min"}))
				bad = true
			}
		})
		if !hasName {
			p.Errorf(item, path, "name is missing")
			bad = true
		}
		if !hasMin {
			p.Errorf(item, path, "min is missing")
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
	return yamlconf.Closest(id, ids)
}
