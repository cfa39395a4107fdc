package report

import (
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Composite is the pseudo-indicator a bottom rule ranks by to use the
// composite score (综合指数) of SPEC.md §6.
const Composite = "composite"

// Limits of the rules file: generous for real use, small enough that a
// hostile file cannot make the evaluator loop for long.
const (
	maxRules     = 1000
	maxRegions   = 5000
	maxSteps     = 10
	maxRounds    = 10
	maxDuration  = 30 * 24 * time.Hour
	maxReceivers = 50
)

// The keys a rules file has, top level and per rule.
var (
	topKeys = []string{"defaults", "quiet_hours", "receivers", "rules"}
	// commonKeys are the keys of defaults and of every rule.
	commonKeys = []string{"severity", "for", "repeat", "quiet", "escalate", "escalate_repeat", "receivers", "min_count"}
	ruleKeys   = []string{"name", "title", "type"}
	typeKeys   = map[Type][]string{
		Threshold:     {"indicator", "period", "level", "regions", "worse_than"},
		Drop:          {"indicator", "period", "level", "regions", "points"},
		Bottom:        {"indicator", "period", "level", "regions", "bottom"},
		Overdue:       {"period", "level", "regions", "above"},
		Silent:        {"sources", "after", "regions"},
		Surge:         {"level", "regions", "min_score", "categories"},
		OrdersOverdue: {"level", "regions", "at_least"},
	}
	quietKeys = []string{"start", "end", "days"}
	stepKeys  = []string{"after", "to"}
)

var ruleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// Parse reads a rules file. Every problem is reported, each a
// *yamlconf.Error "file:line: path: reason" (unknown keys and names with
// a did-you-mean), joined into one error. An empty file has no rules.
//
// The defaults section gives each rule the keys it does not set itself:
// severity (warning), for (0), repeat (4h), quiet, escalate,
// escalate_repeat, receivers and min_count (1).
func Parse(name string, data []byte) (*Rules, error) {
	p := &parser{Reader: yamlconf.NewReader(name)}
	out := &Rules{File: name, Quiet: map[string]QuietHours{}}
	root := p.Document(data)
	if root == nil {
		return out, p.Err()
	}
	if root.Kind != yaml.MappingNode {
		p.Errorf(root, "", "want a mapping with the keys %s, got %s", strings.Join(topKeys, ", "), yamlconf.Describe(root))
		return nil, p.Err()
	}
	f := p.Fields(root, "", topKeys, nil)
	if v, ok := f["quiet_hours"]; ok {
		out.Quiet = p.quietHours(v.Val)
	}
	if v, ok := f["receivers"]; ok && !yamlconf.IsNull(v.Val) {
		out.Receivers = notify.ReadReceivers(p.Reader, v.Val, "receivers")
	}
	base := Rule{Severity: Warning, Repeat: 4 * time.Hour, MinCount: 1}
	if v, ok := f["defaults"]; ok && !yamlconf.IsNull(v.Val) {
		if p.Mapping(v.Val, "defaults", "a mapping of rule keys") {
			df := p.Fields(v.Val, "defaults", commonKeys, func(k string) string {
				if slices.Contains(ruleKeys, k) || ownerOf(k) != "" {
					return "not a default: set it on each rule"
				}
				return ""
			})
			p.common(df, "defaults", &base)
		}
	}
	if v, ok := f["rules"]; ok && !yamlconf.IsNull(v.Val) {
		nodes, _ := p.Seq(v.Val, "rules", "rules", 0, maxRules)
		first := map[string]int{}
		for i, n := range nodes {
			at := yamlconf.Index("rules", i)
			r, ok := p.rule(n, at, base)
			if !ok {
				continue
			}
			if line, dup := first[r.Name]; dup {
				p.Errorf(n, yamlconf.JoinPath(at, "name"), "duplicate rule name %q (first on line %d)", r.Name, line)
				continue
			}
			first[r.Name] = n.Line
			for _, q := range r.Quiet {
				if _, ok := out.Quiet[q]; !ok {
					p.Errorf(n, yamlconf.JoinPath(at, "quiet"), "unknown quiet hours %q%s", q, yamlconf.Hint(q, sortedKeys(out.Quiet)))
				}
			}
			out.Rules = append(out.Rules, r)
		}
	}
	// With a receivers section, every receiver a rule names is defined
	// in it; without one, the server checks the names against the
	// receivers it is given (Rules.UnknownReceivers).
	if _, ok := f["receivers"]; ok {
		defined := make([]string, 0, len(out.Receivers))
		for _, rc := range out.Receivers {
			defined = append(defined, rc.Name)
		}
		for i, r := range out.Rules {
			for level, names := range r.Receivers {
				for _, name := range names {
					if !slices.Contains(defined, name) {
						fv, _ := yamlconf.Find(root, "rules", strconv.Itoa(i), "receivers", level)
						p.Errorf(fv.Val, yamlconf.JoinPath(yamlconf.Index("rules", i), "receivers."+level), "unknown receiver %q%s", name, yamlconf.Hint(name, defined))
					}
				}
			}
		}
	}
	if len(base.Quiet) > 0 {
		for _, q := range base.Quiet {
			if _, ok := out.Quiet[q]; !ok {
				fv, _ := yamlconf.Find(root, "defaults", "quiet")
				p.Errorf(fv.Key, "defaults.quiet", "unknown quiet hours %q%s", q, yamlconf.Hint(q, sortedKeys(out.Quiet)))
			}
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

type parser struct {
	*yamlconf.Reader
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// ownerOf names the rule types that have key, for "not a key of this type".
func ownerOf(key string) string {
	var ts []string
	for _, t := range allTypes {
		if slices.Contains(typeKeys[Type(t)], key) {
			ts = append(ts, t)
		}
	}
	return strings.Join(ts, ", ")
}

// rule reads one rule onto a copy of the defaults.
func (p *parser) rule(n *yaml.Node, at string, base Rule) (Rule, bool) {
	r := base
	r.Quiet = slices.Clone(base.Quiet)
	r.Escalate = slices.Clone(base.Escalate)
	if !p.Mapping(n, at, "a rule (a mapping with name, type, ...)") {
		return r, false
	}
	before := p.Len()
	// The type decides which keys are allowed, so it is read first.
	allowed := slices.Concat(ruleKeys, commonKeys)
	if tf, ok := yamlconf.Find(n, "type"); ok {
		if t, ok := p.OneOf(tf.Val, yamlconf.JoinPath(at, "type"), allTypes); ok {
			r.Type = Type(t)
			allowed = slices.Concat(allowed, typeKeys[r.Type])
		}
	} else {
		p.Errorf(n, at, "missing type; want one of %s", strings.Join(allTypes, ", "))
	}
	if r.Type == "" {
		// Report only keys no type has.
		for _, t := range allTypes {
			allowed = append(allowed, typeKeys[Type(t)]...)
		}
	}
	f := p.Fields(n, at, allowed, func(k string) string {
		if o := ownerOf(k); o != "" {
			return "not a key of a " + string(r.Type) + " rule (rules of type " + o + " have it)"
		}
		return ""
	})
	if v, ok := f["name"]; ok {
		if s, ok := p.Str(v.Val, yamlconf.JoinPath(at, "name")); ok {
			if ruleName.MatchString(s) {
				r.Name = s
			} else {
				p.Errorf(v.Val, yamlconf.JoinPath(at, "name"), "%q: want lower-case letters, digits, - and _, starting with a letter, at most 64", s)
			}
		}
	} else {
		p.Errorf(n, at, "missing name")
	}
	if v, ok := f["title"]; ok {
		r.Title = p.title(v.Val, yamlconf.JoinPath(at, "title"))
	} else {
		p.Errorf(n, at, "missing title (zh and en)")
	}
	p.common(f, at, &r)
	p.specific(f, n, at, &r)
	return r, p.Len() == before
}

// title reads {zh, en} or a plain string (Chinese, also used in English).
func (p *parser) title(n *yaml.Node, at string) Text {
	if n.Kind == yaml.ScalarNode {
		s, _ := p.Str(n, at)
		return Text{ZH: s, EN: s}
	}
	if !p.Mapping(n, at, "{zh: ..., en: ...} or a string") {
		return Text{}
	}
	f := p.Fields(n, at, []string{"zh", "en"}, nil)
	var t Text
	if v, ok := f["zh"]; ok {
		t.ZH, _ = p.Str(v.Val, yamlconf.JoinPath(at, "zh"))
	} else {
		p.Errorf(n, at, "missing zh")
	}
	t.EN = t.ZH
	if v, ok := f["en"]; ok {
		t.EN, _ = p.Str(v.Val, yamlconf.JoinPath(at, "en"))
	}
	return t
}

// common reads the keys defaults and rules share.
func (p *parser) common(f map[string]yamlconf.Field, at string, r *Rule) {
	if v, ok := f["severity"]; ok {
		if s, ok := p.OneOf(v.Val, yamlconf.JoinPath(at, "severity"), severityNames); ok {
			r.Severity, _ = ParseSeverity(s)
		}
	}
	if v, ok := f["for"]; ok {
		r.For, _ = p.Duration(v.Val, yamlconf.JoinPath(at, "for"), 0, maxDuration)
	}
	if v, ok := f["repeat"]; ok {
		// 0 never repeats; below a minute would flood the receivers.
		if d, ok := p.Duration(v.Val, yamlconf.JoinPath(at, "repeat"), 0, maxDuration); ok {
			if d > 0 && d < time.Minute {
				p.Errorf(v.Val, yamlconf.JoinPath(at, "repeat"), "%s is too short; want 0 (never) or at least 1m", v.Val.Value)
			} else {
				r.Repeat = d
			}
		}
	}
	if v, ok := f["quiet"]; ok {
		r.Quiet = p.strings(v.Val, yamlconf.JoinPath(at, "quiet"), "quiet hours names", 0, 20)
	}
	if v, ok := f["escalate"]; ok {
		r.Escalate = p.steps(v.Val, yamlconf.JoinPath(at, "escalate"))
	}
	if v, ok := f["escalate_repeat"]; ok {
		r.EscalateRepeat, _ = p.Int(v.Val, yamlconf.JoinPath(at, "escalate_repeat"), 0, maxRounds)
	}
	if v, ok := f["receivers"]; ok {
		r.Receivers = p.receivers(v.Val, yamlconf.JoinPath(at, "receivers"))
	}
	if v, ok := f["min_count"]; ok {
		if c, ok := p.Int(v.Val, yamlconf.JoinPath(at, "min_count"), 1, math.MaxInt32); ok {
			r.MinCount = int64(c)
		}
	}
}

// specific reads the keys of the rule's type and checks the required ones.
func (p *parser) specific(f map[string]yamlconf.Field, n *yaml.Node, at string, r *Rule) {
	need := func(key string) (yamlconf.Field, bool) {
		v, ok := f[key]
		if !ok && r.Type != "" {
			p.Errorf(n, at, "missing %s (a %s rule needs it)", key, r.Type)
		}
		return v, ok
	}
	var def indicator.Def
	hasDef := false
	switch r.Type {
	case Threshold, Drop, Bottom:
		if v, ok := need("indicator"); ok {
			def, hasDef = p.indicator(v.Val, yamlconf.JoinPath(at, "indicator"), r)
		}
	case Overdue:
		r.Indicator = indicator.OverdueOpen
		def, hasDef = indicator.Lookup(indicator.OverdueOpen)
	}
	switch r.Type {
	case Threshold, Drop, Bottom, Overdue:
		v, ok := f["period"]
		switch {
		case ok:
			s, _ := p.Str(v.Val, yamlconf.JoinPath(at, "period"))
			if pp, err := engine.ParsePeriod(s); err == nil {
				r.Period = pp
			} else {
				p.Errorf(v.Val, yamlconf.JoinPath(at, "period"), "unknown period %q%s", s, yamlconf.Hint(s, []string{"day", "week", "month", "quarter", "year"}))
			}
		case r.Type == Overdue || (hasDef && !def.Periodic && r.Type != Drop):
			// overdue_open and the catalog describe the instant: any
			// period's results carry them.
			r.Period = engine.Day
		default:
			p.Errorf(n, at, "missing period (day, week, month, quarter or year)")
		}
	}
	if v, ok := f["level"]; ok {
		if s, ok := p.OneOf(v.Val, yamlconf.JoinPath(at, "level"), levelNames); ok {
			r.Level, _ = levelByName(s)
		}
	}
	if v, ok := f["regions"]; ok {
		for i, s := range p.strings(v.Val, yamlconf.JoinPath(at, "regions"), "region codes", 1, maxRegions) {
			if _, err := region.ParseCode(s); err != nil {
				p.Errorf(v.Val.Content[i], yamlconf.Index(yamlconf.JoinPath(at, "regions"), i), "%s", err)
				continue
			}
			r.Regions = append(r.Regions, s)
		}
	}
	switch r.Type {
	case Threshold, Drop, Overdue, OrdersOverdue:
		if r.Level == 0 && len(r.Regions) == 0 && f["level"].Key == nil && f["regions"].Key == nil {
			p.Errorf(n, at, "missing level or regions: say which regions the rule watches")
		}
	case Bottom:
		if _, ok := need("level"); ok && r.Level == region.Province {
			p.Errorf(f["level"].Val, yamlconf.JoinPath(at, "level"), "provinces have no parent to be ranked in; want city, county or township")
		}
	case Silent:
		if len(r.Regions) > 1 {
			p.Errorf(f["regions"].Val, yamlconf.JoinPath(at, "regions"), "a silent rule files its report under one region; give one")
		}
	}
	switch r.Type {
	case Threshold:
		if v, ok := need("worse_than"); ok && hasDef {
			r.WorseThan = p.bound(v.Val, yamlconf.JoinPath(at, "worse_than"), def)
		}
	case Drop:
		if v, ok := need("points"); ok {
			hi := math.MaxInt32 * 1.0
			if hasDef && def.Rate {
				hi = 100
			}
			if x, ok := p.Float(v.Val, yamlconf.JoinPath(at, "points"), 0, hi); ok {
				if x == 0 {
					p.Errorf(v.Val, yamlconf.JoinPath(at, "points"), "want more than 0")
				}
				r.Points = x
			}
		}
	case Bottom:
		if v, ok := need("bottom"); ok {
			r.BottomN, _ = p.Int(v.Val, yamlconf.JoinPath(at, "bottom"), 1, 100)
		}
	case Overdue:
		if v, ok := need("above"); ok {
			if a, ok := p.Int(v.Val, yamlconf.JoinPath(at, "above"), 0, math.MaxInt32); ok {
				r.Above = int64(a)
			}
		}
	case Silent:
		if v, ok := need("after"); ok {
			r.After, _ = p.Duration(v.Val, yamlconf.JoinPath(at, "after"), time.Minute, maxDuration)
		}
		if v, ok := f["sources"]; ok {
			for i, s := range p.strings(v.Val, yamlconf.JoinPath(at, "sources"), "source names or patterns", 1, 200) {
				if _, err := path.Match(s, ""); err != nil {
					p.Errorf(v.Val.Content[i], yamlconf.Index(yamlconf.JoinPath(at, "sources"), i), "bad pattern %q: want a name or a pattern such as demo-*", s)
					continue
				}
				r.Sources = append(r.Sources, s)
			}
		}
	case OrdersOverdue:
		r.AtLeast = 1
		if v, ok := f["at_least"]; ok {
			if a, ok := p.Int(v.Val, yamlconf.JoinPath(at, "at_least"), 1, math.MaxInt32); ok {
				r.AtLeast = int64(a)
			}
		}
	case Surge:
		if v, ok := f["min_score"]; ok {
			r.MinScore, _ = p.Float(v.Val, yamlconf.JoinPath(at, "min_score"), 0, 1e6)
		}
		if v, ok := f["categories"]; ok {
			r.Categories = p.strings(v.Val, yamlconf.JoinPath(at, "categories"), "ticket categories", 1, 1000)
		}
	}
}

// indicator reads an indicator id; composite only for bottom rules.
func (p *parser) indicator(n *yaml.Node, at string, r *Rule) (indicator.Def, bool) {
	s, ok := p.Str(n, at)
	if !ok {
		return indicator.Def{}, false
	}
	if s == Composite && r.Type == Bottom {
		r.Indicator = s
		return indicator.Def{ID: Composite, Periodic: true}, false
	}
	def, ok := indicator.Lookup(s)
	if !ok {
		ids := make([]string, 0, len(indicator.All())+1)
		for _, d := range indicator.All() {
			ids = append(ids, d.ID)
		}
		if r.Type == Bottom {
			ids = append(ids, Composite)
		}
		p.Errorf(n, at, "unknown indicator %q%s", s, didYouMeanOrNothing(s, ids))
		return def, false
	}
	r.Indicator = s
	return def, true
}

// didYouMeanOrNothing is a did-you-mean without the list of 25 ids.
func didYouMeanOrNothing(s string, ids []string) string {
	if h := yamlconf.DidYouMean(s, ids); h != "" {
		return h
	}
	return " (see indicator ids in SPEC.md §5)"
}

// bound reads worse_than: floor, target, a number, or a percentage for a
// rate ("90%").
func (p *parser) bound(n *yaml.Node, at string, def indicator.Def) Bound {
	if n.Kind == yaml.ScalarNode && (n.Value == string(BoundFloor) || n.Value == string(BoundTarget)) {
		if !def.HasGoal() {
			p.Errorf(n, at, "%s has no target or floor (a volume); give a number", def.ID)
			return Bound{}
		}
		return Bound{Kind: BoundKind(n.Value)}
	}
	x, ok := p.number(n, at, def.Rate)
	if !ok {
		return Bound{}
	}
	return Bound{Kind: BoundValue, Value: x}
}

// number reads a figure of an indicator: a rate as a fraction (0.9) or a
// percentage ("90%") within [0, 1]; a count as a number ≥ 0.
func (p *parser) number(n *yaml.Node, at string, rate bool) (float64, bool) {
	want := "floor, target or a number"
	if rate {
		want = "floor, target, a fraction such as 0.9 or a percentage such as 90%"
	}
	if n.Kind != yaml.ScalarNode {
		p.Errorf(n, at, "want %s, got %s", want, yamlconf.Describe(n))
		return 0, false
	}
	var x float64
	switch n.ShortTag() {
	case "!!int", "!!float":
		if err := n.Decode(&x); err != nil {
			p.Errorf(n, at, "want %s, got %s", want, yamlconf.Show(n))
			return 0, false
		}
	default:
		t, pct := strings.CutSuffix(strings.TrimSpace(n.Value), "%")
		y, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if !pct || !rate || err != nil {
			p.Errorf(n, at, "want %s, got %s%s", want, yamlconf.Show(n), yamlconf.DidYouMean(n.Value, []string{"floor", "target"}))
			return 0, false
		}
		x = y / 100
	}
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		p.Errorf(n, at, "%s is not a finite number", yamlconf.Show(n))
		return 0, false
	case rate && (x < 0 || x > 1):
		p.Errorf(n, at, "%s is not a rate; want 0 to 1 or 0%% to 100%%", yamlconf.Show(n))
		return 0, false
	case x < 0:
		p.Errorf(n, at, "%s is negative", yamlconf.Show(n))
		return 0, false
	}
	return x, true
}

// strings reads a list of non-empty strings.
func (p *parser) strings(n *yaml.Node, at, what string, lo, hi int) []string {
	nodes, ok := p.Seq(n, at, what, lo, hi)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(nodes))
	for i, e := range nodes {
		s, ok := p.Str(e, yamlconf.Index(at, i))
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			p.Errorf(e, yamlconf.Index(at, i), "empty")
			continue
		}
		out = append(out, s)
	}
	return out
}

// steps reads an escalation ladder: after strictly growing, each level
// above the one before.
func (p *parser) steps(n *yaml.Node, at string) []Step {
	if yamlconf.IsNull(n) {
		return nil
	}
	nodes, ok := p.Seq(n, at, "steps {after, to}", 0, maxSteps)
	if !ok {
		return nil
	}
	var out []Step
	for i, e := range nodes {
		sp := yamlconf.Index(at, i)
		if !p.Mapping(e, sp, "a step {after: 30m, to: city}") {
			continue
		}
		f := p.Fields(e, sp, stepKeys, nil)
		var s Step
		okA, okT := false, false
		if v, ok := f["after"]; ok {
			s.After, okA = p.Duration(v.Val, yamlconf.JoinPath(sp, "after"), time.Minute, maxDuration)
		} else {
			p.Errorf(e, sp, "missing after")
		}
		if v, ok := f["to"]; ok {
			var name string
			if name, okT = p.OneOf(v.Val, yamlconf.JoinPath(sp, "to"), []string{"city", "province", "county"}); okT {
				s.To, _ = levelByName(name)
			}
		} else {
			p.Errorf(e, sp, "missing to (county, city or province)")
		}
		if !okA || !okT {
			continue
		}
		if k := len(out); k > 0 {
			if s.After <= out[k-1].After {
				p.Errorf(e, yamlconf.JoinPath(sp, "after"), "%s is not after the step before (%s)", s.After, out[k-1].After)
				continue
			}
			if s.To >= out[k-1].To {
				p.Errorf(e, yamlconf.JoinPath(sp, "to"), "%s is not above the step before (%s)", s.To, out[k-1].To)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// receivers reads level → receiver names.
func (p *parser) receivers(n *yaml.Node, at string) map[string][]string {
	out := map[string][]string{}
	if yamlconf.IsNull(n) {
		return out
	}
	if !p.Mapping(n, at, "a mapping of levels (county, city, province, township) to receiver names") {
		return out
	}
	p.Pairs(n, at, func(key string, k, v *yaml.Node) {
		kp := yamlconf.JoinPath(at, key)
		if !slices.Contains(levelNames, key) {
			p.Errorf(k, kp, "unknown level%s", yamlconf.Hint(key, levelNames))
			return
		}
		if yamlconf.IsNull(v) {
			out[key] = nil
			return
		}
		out[key] = p.strings(v, kp, "receiver names", 0, maxReceivers)
	})
	return out
}

// quietHours reads name → list of ranges.
func (p *parser) quietHours(n *yaml.Node) map[string]QuietHours {
	out := map[string]QuietHours{}
	if yamlconf.IsNull(n) {
		return out
	}
	if !p.Mapping(n, "quiet_hours", "a mapping of names to lists of ranges") {
		return out
	}
	p.Pairs(n, "quiet_hours", func(name string, k, v *yaml.Node) {
		at := yamlconf.JoinPath("quiet_hours", name)
		if !ruleName.MatchString(name) {
			p.Errorf(k, at, "%q: want lower-case letters, digits, - and _, starting with a letter", name)
			return
		}
		nodes, ok := p.Seq(v, at, "ranges {start, end, days}", 1, 50)
		if !ok {
			return
		}
		q := QuietHours{Name: name}
		for i, e := range nodes {
			if r, ok := p.quietRange(e, yamlconf.Index(at, i)); ok {
				q.Ranges = append(q.Ranges, r)
			}
		}
		out[name] = q
	})
	return out
}

func (p *parser) quietRange(n *yaml.Node, at string) (QuietRange, bool) {
	r := QuietRange{Days: AllDays}
	if !p.Mapping(n, at, `a range {start: "22:00", end: "07:00", days: all|working|non_working}`) {
		return r, false
	}
	before := p.Len()
	f := p.Fields(n, at, quietKeys, nil)
	if v, ok := f["days"]; ok {
		if s, ok := p.OneOf(v.Val, yamlconf.JoinPath(at, "days"), []string{string(AllDays), string(WorkingDays), string(NonWorkingDays)}); ok {
			r.Days = Days(s)
		}
	}
	s, hasS := f["start"]
	e, hasE := f["end"]
	switch {
	case !hasS && !hasE:
		r.Whole = true
	case hasS != hasE:
		p.Errorf(n, at, "give both start and end, or neither for whole days")
	default:
		r.Start, _ = p.clock(s.Val, yamlconf.JoinPath(at, "start"))
		r.End, _ = p.clock(e.Val, yamlconf.JoinPath(at, "end"))
		if p.Len() == before && r.Start == r.End%1440 {
			p.Errorf(e.Val, yamlconf.JoinPath(at, "end"), "the range is empty (start equals end); leave both out for whole days")
		}
	}
	return r, p.Len() == before
}

// clock reads "HH:MM" (24:00 allowed as an end).
func (p *parser) clock(n *yaml.Node, at string) (int, bool) {
	s, ok := p.Str(n, at)
	if !ok {
		return 0, false
	}
	h, m, found := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !found || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		p.Errorf(n, at, "%q: want a time of day such as \"07:00\" or \"22:30\"", s)
		return 0, false
	}
	return hh*60 + mm, true
}
