package yamlconf

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Special takes over the check of a node whose Go type it knows better
// than its yaml tags say (a block decoded later into a type chosen by
// another key, say); it returns true when it handled the node.
type Special func(t reflect.Type, n *yaml.Node, path string) bool

// CheckKeys records every mapping key in n that the Go type t does not
// decode, with its path and a did-you-mean: yaml.v3's strict mode stops at
// the first and names no path. special, when not nil, may take over a node.
func (r *Reader) CheckKeys(n *yaml.Node, t reflect.Type, path string, special Special) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			r.CheckKeys(c, t, path, special)
		}
		return
	case yaml.AliasNode:
		r.CheckKeys(Deref(n), t, path, special)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if special != nil && special(t, n, path) {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // decodes itself, and says what is wrong itself
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || t == reflect.TypeFor[time.Time]() {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				r.CheckKeys(v, t, path, special)
				continue
			}
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				r.Errorf(k, JoinPath(path, k.Value), "%s", UnknownKey(k.Value, StructKeys(t)))
				continue
			}
			r.CheckKeys(v, f.Type, JoinPath(path, k.Value), special)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			r.CheckKeys(n.Content[i+1], t.Elem(), JoinPath(path, n.Content[i].Value), special)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			r.CheckKeys(c, t.Elem(), Index(path, i), special)
		}
	}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// Decode checks n's keys against v's type (CheckKeys) and, when they are
// all known, decodes n into v; a value of the wrong type is recorded with
// its line. It reports whether v was decoded without a problem.
func (r *Reader) Decode(n *yaml.Node, path string, v any, special Special) bool {
	if n == nil {
		return true
	}
	before := r.Len()
	r.CheckKeys(n, reflect.TypeOf(v), path, special)
	if r.Len() > before {
		return false
	}
	if err := n.Decode(v); err != nil {
		r.decodeError(n, path, err)
		return false
	}
	return true
}

// typeErr is yaml.v3's type error: "line 4: cannot unmarshal !!str `abc`
// into int" (the value cut to 7 bytes and "..." when longer than 10, none
// for a list or a mapping). The value may span lines.
var typeErr = regexp.MustCompile("(?s)^\\s*line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.*)$")

// decodeError records yaml.v3's type errors each on its own line, with the
// path of the value at fault (yaml.v3 gives only the line), in words for
// people who do not know YAML's tags: "cannot read the string "abc" into
// int".
func (r *Reader) decodeError(n *yaml.Node, path string, err error) {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		r.Errorf(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	for _, e := range te.Errors {
		m := typeErr.FindStringSubmatch(e)
		if m == nil {
			r.Errorf(n, path, "%s", strings.TrimSpace(e))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		at, value := path, (*yaml.Node)(nil)
		if p, v, ok := pathAt(n, path, line, m[2], strings.TrimSuffix(m[3], "...")); ok {
			at, value = p, v
		}
		r.errs = append(r.errs, &Error{File: r.File, Line: line, Path: at, Msg: "cannot read " + valueWords(m[2], value) + " into " + m[4]})
	}
}

// valueWords names a value by its YAML tag, with its text when known.
func valueWords(tag string, n *yaml.Node) string {
	var w string
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "str":
		w = "the string"
	case "int":
		w = "the integer"
	case "float":
		w = "the number"
	case "bool":
		w = "the boolean"
	default:
		w = "the !!" + tag + " value"
	}
	if n == nil {
		return w
	}
	return w + " " + Show(n)
}

// pathAt finds the value below n (at path) that a type error names, and
// its path: on the line, of the tag (str, int, seq, map, …), its text
// starting with prefix (yaml.v3 cuts a long one short). The deepest match
// wins: a mapping and its first entry can share a line.
func pathAt(n *yaml.Node, path string, line int, tag, prefix string) (string, *yaml.Node, bool) {
	n = Deref(n)
	if n == nil {
		return "", nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p, v, ok := pathAt(n.Content[i+1], JoinPath(path, n.Content[i].Value), line, tag, prefix); ok {
				return p, v, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, v, ok := pathAt(c, Index(path, i), line, tag, prefix); ok {
				return p, v, true
			}
		}
	}
	if n.Line == line && n.ShortTag() == "!!"+tag && strings.HasPrefix(n.Value, prefix) {
		return path, n, true
	}
	return "", nil, false
}

// StructKeys returns the keys a struct type decodes, sorted.
func StructKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := yamlName(f)
		if skip {
			continue
		}
		if inline && f.Type.Kind() == reflect.Struct {
			keys = append(keys, StructKeys(f.Type)...)
			continue
		}
		keys = append(keys, name)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := yamlName(f)
		if skip {
			continue
		}
		if inline && f.Type.Kind() == reflect.Struct {
			if g, ok := fieldByKey(f.Type, key); ok {
				return g, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) (name string, inline, skip bool) {
	if !f.IsExported() {
		return "", false, true
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false, true
	}
	parts := strings.Split(tag, ",")
	name = parts[0]
	for _, p := range parts[1:] {
		if p == "inline" {
			inline = true
		}
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline, false
}

// DecodeFile reads data as one YAML document into v strictly: syntax,
// unknown keys with their path and did-you-mean, values of the wrong type,
// each "file:line: path: reason". An empty file leaves v as it is.
func DecodeFile(file string, data []byte, v any) error {
	r := NewReader(file)
	if root := r.Document(data); root != nil {
		r.Decode(root, "", v, nil)
	}
	return r.Err()
}
