package widget

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Input is one widget mapping being read: its fields, checked against its
// type's keys, and the reader that records problems as "file:line:
// widgets[i].key: reason".
type Input struct {
	r      *yamlconf.Reader
	node   *yaml.Node // the widget's mapping
	path   string     // widgets[i]
	typ    string
	fields map[string]yamlconf.Field
}

// Begin reads the type of widget mapping n at path (orig is the node as
// written, an alias perhaps) and checks its keys against the type's: a key
// of another type is "not used by a map widget (it takes ...)", an unknown
// one gets a did-you-mean. It returns the type's zero settings and the
// Input to read them from; ok is false when there is no type to read.
func Begin(r *yamlconf.Reader, n, orig *yaml.Node, path string) (spec Spec, in *Input, ok bool) {
	kinds := Kinds()
	all := names(kinds)
	if n == nil || n.Kind != yaml.MappingNode {
		r.Errorf(orig, path, "want a mapping with type, at and the type's fields")
		return nil, nil, false
	}
	var typeNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := yamlconf.Deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "type" {
			typeNode = yamlconf.Deref(n.Content[i+1])
			break
		}
	}
	typePath := yamlconf.JoinPath(path, "type")
	if typeNode == nil {
		r.Errorf(n, typePath, "missing; want one of %s", strings.Join(all, ", "))
		return nil, nil, false
	}
	typ, good := r.Str(typeNode, typePath)
	if !good {
		return nil, nil, false
	}
	kind, known := Lookup(typ)
	if !known {
		r.Errorf(typeNode, typePath, "unknown widget type %q%s; want one of %s", typ, yamlconf.DidYouMean(typ, all), strings.Join(all, ", "))
		return nil, nil, false
	}
	spec = kind.New()
	allowed := append([]string{"type", "title", "at"}, spec.Keys()...)
	notFor := func(key string) string {
		if usedElsewhere(kinds, key) {
			return fmt.Sprintf("not used by a %s widget (it takes %s)", typ, strings.Join(allowed, ", "))
		}
		return ""
	}
	in = &Input{r: r, node: n, path: path, typ: typ, fields: r.Fields(n, path, allowed, notFor)}
	return spec, in, true
}

// Type is the widget's type name.
func (in *Input) Type() string { return in.typ }

// Node is the widget's mapping: the line of a "missing" problem.
func (in *Input) Node() *yaml.Node { return in.node }

// Reader is the reader recording the file's problems.
func (in *Input) Reader() *yamlconf.Reader { return in.r }

// Field returns the value of key, when the widget gives it.
func (in *Input) Field(key string) (*yaml.Node, bool) {
	f, ok := in.fields[key]
	return f.Val, ok
}

// Path is the field path of key: widgets[2].rows.
func (in *Input) Path(key string) string { return yamlconf.JoinPath(in.path, key) }

// Errorf records a problem with the value of key (at n's line).
func (in *Input) Errorf(n *yaml.Node, key, format string, args ...any) {
	in.r.Errorf(n, in.Path(key), format, args...)
}

// Missing records that key is missing (at the widget's line).
func (in *Input) Missing(key, format string, args ...any) {
	in.r.Errorf(in.node, in.Path(key), "missing; "+format, args...)
}

// Int reads key as an integer within [lo, hi]; def when not given or bad.
func (in *Input) Int(key string, def, lo, hi int) int {
	if n, ok := in.Field(key); ok {
		if v, good := in.r.Int(n, in.Path(key), lo, hi); good {
			return v
		}
	}
	return def
}

// Duration reads key as a Go duration ("8s") of at least lo; def when not
// given or bad.
func (in *Input) Duration(key string, def, lo time.Duration) time.Duration {
	if n, ok := in.Field(key); ok {
		if v, good := in.r.Duration(n, in.Path(key), lo, 0); good {
			return v
		}
	}
	return def
}

// Bool reads key as true or false; false when not given or bad.
func (in *Input) Bool(key string) bool {
	if n, ok := in.Field(key); ok {
		v, _ := in.r.Bool(n, in.Path(key))
		return v
	}
	return false
}

// IndicatorID reads n as the id of an indicator of package indicator.
func (in *Input) IndicatorID(n *yaml.Node, path string) (indicator.Def, bool) {
	s, ok := in.r.Str(n, path)
	if !ok {
		return indicator.Def{}, false
	}
	d, ok := indicator.Lookup(s)
	if !ok {
		in.r.Errorf(n, path, "unknown indicator %q%s", s, yamlconf.DidYouMean(s, indicatorIDs()))
	}
	return d, ok
}

// Indicator reads the key "indicator", which the type requires: a
// widget of one indicator.
func (in *Input) Indicator() string {
	n, ok := in.Field("indicator")
	if !ok {
		in.Missing("indicator", "a %s widget shows one indicator", in.typ)
		return ""
	}
	d, _ := in.IndicatorID(n, in.Path("indicator"))
	return d.ID
}

// Indicators reads the key "indicators": lo to hi distinct indicator ids,
// rates only when ratesOnly (a gauge's scale is 0–100 %).
func (in *Input) Indicators(lo, hi int, ratesOnly bool) []string {
	path := in.Path("indicators")
	n, ok := in.Field("indicators")
	switch {
	case !ok:
		in.Missing("indicators", "a %s widget takes %d to %d indicators", in.typ, lo, hi)
		return nil
	case n.Kind != yaml.SequenceNode:
		in.r.Errorf(n, path, "want a list of indicator ids")
		return nil
	}
	if c := len(n.Content); c < lo || c > hi {
		in.r.Errorf(n, path, "%d indicators; a %s widget takes %d to %d", c, in.typ, lo, hi)
		return nil
	}
	var ids []string
	for i, e := range n.Content {
		ep := yamlconf.Index(path, i)
		if e = yamlconf.Deref(e); e == nil {
			in.r.Errorf(n, ep, "unresolvable alias")
			continue
		}
		d, ok := in.IndicatorID(e, ep)
		switch {
		case !ok:
		case slices.Contains(ids, d.ID):
			in.r.Errorf(e, ep, "%s is listed twice", d.ID)
		case ratesOnly && !d.Rate:
			in.r.Errorf(e, ep, "%s is a count; a %s shows a rate", d.ID, in.typ)
		default:
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// indicatorIDs lists the ids of package indicator.
func indicatorIDs() []string {
	all := indicator.All()
	ids := make([]string, len(all))
	for i, d := range all {
		ids[i] = d.ID
	}
	return ids
}
