// Package yamlconf reads Yiping's configuration files strictly: every
// problem is an Error "file:line: path: reason" (the form editors and CI
// logs link to), unknown keys are errors with a "did you mean …?" from the
// known ones, and one run reports every problem of a file, not only the
// first.
//
// Two ways in, for two kinds of file:
//
//   - A Reader walks the YAML node tree by hand (Document, Fields, Str,
//     Int, …), for files whose meaning depends on their content (a widget
//     whose keys depend on its type, a level whose indicators are ids).
//   - Decode checks a node against a Go struct's yaml tags (unknown keys,
//     with their path) and then decodes it, for files that are plain data.
//
// Both record their problems on the Reader; Err returns them sorted by line
// and capped, joined into one error. A problem found later, in the decoded
// Go value (a mapping column naming no field), is put back on its line with
// Find, which follows the keys that lead to it; AddError takes errors made
// elsewhere (another file's, a constructor's).
package yamlconf

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a configuration file.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem is the whole file
	Path string // field path such as widgets[2].indicators[1]; "" for the document
	Msg  string
}

// Error is the one-line text "file:line: path: reason": a path or reason
// that quotes a file's text could hold a line break, which is escaped so
// that each line of a joined error stays one problem.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(oneLine(e.Path))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Msg))
	return b.String()
}

var lineBreaks = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

// MaxErrors is how many errors of one file Err reports; the rest are
// counted in a last line.
const MaxErrors = 50

// Reader collects the problems of one file.
type Reader struct {
	File string
	errs []*Error
}

// NewReader returns a Reader for the named file.
func NewReader(file string) *Reader { return &Reader{File: file} }

// Errorf records a problem at node n (nil: the whole file) and path.
func (r *Reader) Errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.errs = append(r.errs, &Error{File: r.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Add records an error that was made elsewhere (another Reader's, a
// cross-file check).
func (r *Reader) Add(e *Error) { r.errs = append(r.errs, e) }

// AddError records err: each *Error it joins as it is (a problem found in
// another file this one names, say), any other error at n and path (a
// check that knows no lines, such as building what the file describes).
func (r *Reader) AddError(n *yaml.Node, path string, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			r.AddError(n, path, e)
		}
		return
	}
	if e, ok := errors.AsType[*Error](err); ok {
		r.errs = append(r.errs, e)
		return
	}
	r.Errorf(n, path, "%s", err)
}

// Len is how many problems are recorded so far: compare before and after
// reading a part to know whether the part was good.
func (r *Reader) Len() int { return len(r.errs) }

// Errors returns the recorded problems in the order they were found.
func (r *Reader) Errors() []*Error { return slices.Clone(r.errs) }

// Err returns nil when nothing is wrong, or every problem, sorted by file
// and line, at most MaxErrors per file, joined with errors.Join (each line
// of its text is one problem).
func (r *Reader) Err() error { return Join(r.errs) }

// Join sorts errs by file and line, drops exact repeats (a part read
// twice through an alias says the same thing twice), caps them at
// MaxErrors per file and joins them; nil when errs is empty.
func Join(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	seen := make(map[Error]bool, len(errs))
	errs = slices.DeleteFunc(errs, func(e *Error) bool {
		if seen[*e] {
			return true
		}
		seen[*e] = true
		return false
	})
	var out []error
	perFile := 0
	for i, e := range errs {
		if i > 0 && e.File != errs[i-1].File {
			perFile = 0
		}
		perFile++
		switch {
		case perFile <= MaxErrors:
			out = append(out, e)
		case perFile == MaxErrors+1:
			n := 0
			for _, f := range errs[i:] {
				if f.File == e.File {
					n++
				}
			}
			out = append(out, &Error{File: e.File, Msg: fmt.Sprintf("%d more errors not shown", n)})
		}
	}
	return errors.Join(out...)
}

// Document parses data as one YAML document and returns its root node,
// aliases resolved; nil when the file is empty (only comments or nothing)
// or cannot be parsed, the syntax error recorded. A second document is
// recorded as an error, and the first is still returned.
func (r *Reader) Document(data []byte) *yaml.Node {
	doc, second, err := decode(data)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		e := syntaxError(r.File, err)
		// A construct left open (an unclosed "[") fails at the end of the
		// file, a line past the text: the last line with text is where to look.
		if last := lastTextLine(data); e.Line > last {
			e.Line = last
		}
		r.errs = append(r.errs, e)
		return nil
	}
	if second != nil {
		r.Errorf(second, "", "a second YAML document; a file holds one")
	}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	root = Deref(root)
	if root != nil && root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	return root
}

// lastTextLine is the 1-based number of the last line of data that holds
// more than white space.
func lastTextLine(data []byte) int {
	text := bytes.TrimRight(data, " \t\r\n")
	return bytes.Count(text, []byte("\n")) + 1
}

// decode reads the file's first YAML document and tells whether a second
// follows. The YAML library is not this project's code; should it ever
// panic on some input, that input is still only a bad file.
func decode(data []byte) (doc *yaml.Node, second *yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			doc, second, err = nil, nil, fmt.Errorf("yaml: the YAML parser failed on this file: %v", p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		return nil, nil, err
	}
	var d2 yaml.Node
	if err := dec.Decode(&d2); err == nil {
		return &d, &d2, nil
	} else if !errors.Is(err, io.EOF) {
		return &d, nil, err
	}
	return &d, nil, nil
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 syntax error into an Error. yaml.v3 (v3.0.1)
// numbers the lines of its parser errors ("did not find expected ...") from
// 0 and of its scanner errors from 1, and gives no line for a parser error
// on the first line; this puts both on the 1-based line of the construct
// that failed (the unclosed "[", the line that broke the mapping).
func syntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	parserErr := func(m string) bool {
		for _, pre := range []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"} {
			if strings.HasPrefix(m, pre) {
				return true
			}
		}
		return false
	}
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserErr(m[2]) {
			line++
		}
		return &Error{File: file, Line: line, Msg: "YAML: " + m[2]}
	}
	if parserErr(msg) {
		return &Error{File: file, Line: 1, Msg: "YAML: " + msg}
	}
	return &Error{File: file, Msg: "YAML: " + msg}
}

// Deref follows aliases (*name) to the anchored node; nil when an alias
// does not resolve. Aliases cannot form a cycle in yaml.v3, but the walk is
// bounded anyway.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// JoinPath appends key to a field path: JoinPath("widgets[2]", "at").
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends an index to a field path: Index("widgets", 2).
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Field is one key of a mapping and its value (aliases resolved).
type Field struct {
	Key, Val *yaml.Node
}

// Mapping checks that n is a mapping and records what was wanted if not.
func (r *Reader) Mapping(n *yaml.Node, path, want string) bool {
	if n == nil || n.Kind != yaml.MappingNode {
		r.Errorf(n, path, "want %s", want)
		return false
	}
	return true
}

// Fields reads mapping n: the value of each allowed key. It records keys
// that are not allowed (with a did-you-mean, or the list of known keys),
// duplicates and non-scalar keys. notFor, when not nil, gives the reason
// for a key that is known elsewhere (a field another widget type uses), ""
// for a key unknown altogether.
func (r *Reader) Fields(n *yaml.Node, path string, allowed []string, notFor func(string) string) map[string]Field {
	out := map[string]Field{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), Deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			r.Errorf(n.Content[i], path, "a key must be a plain name, got %s", Describe(n.Content[i]))
			continue
		}
		name := k.Value
		if prev, dup := out[name]; dup {
			r.Errorf(k, JoinPath(path, name), "duplicate key (first on line %d)", prev.Key.Line)
			continue
		}
		if !slices.Contains(allowed, name) {
			why := ""
			if notFor != nil {
				why = notFor(name)
			}
			if why == "" {
				why = UnknownKey(name, allowed)
			}
			r.Errorf(k, JoinPath(path, name), "%s", why)
			continue
		}
		if v == nil {
			r.Errorf(k, JoinPath(path, name), "unresolvable alias")
			continue
		}
		out[name] = Field{k, v}
	}
	return out
}

// Pairs calls fn for every key and value of mapping n in document order,
// with the key as a string; it records non-scalar keys, duplicates and
// unresolvable aliases and skips them. For mappings whose keys are data
// (region levels, indicator ids) rather than a fixed set.
func (r *Reader) Pairs(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), Deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			r.Errorf(n.Content[i], path, "a key must be a plain name, got %s", Describe(n.Content[i]))
			continue
		}
		if line, dup := first[k.Value]; dup {
			r.Errorf(k, JoinPath(path, k.Value), "duplicate key (first on line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		if v == nil {
			r.Errorf(k, JoinPath(path, k.Value), "unresolvable alias")
			continue
		}
		fn(k.Value, k, v)
	}
}

// UnknownKey is the message for a key not in known: "unknown key (did you
// mean x?)" or "unknown key (known: a, b, c)".
func UnknownKey(name string, known []string) string {
	return "unknown key" + Hint(name, known)
}

// Hint is what to add to "unknown <something>" for a name not in known:
// " (did you mean x?)" when one is close, else " (known: a, b, c)".
func Hint(name string, known []string) string {
	if s := DidYouMean(name, known); s != "" {
		return s
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// DidYouMean is " (did you mean X?)" for the candidate s most likely
// misspells, or "".
func DidYouMean(s string, candidates []string) string {
	if best := Closest(s, candidates); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}

// Find follows keys down from n: a mapping's key by its text, a list's
// entry by its index written in decimal; aliases are followed. It returns
// the last step's Field (Key: the mapping key, or the list entry; Val: its
// value) and whether every key was found. When one is missing, the Field
// is the deepest step found (zero when none was), so a problem found after
// decoding (in a Go value, by key path) can still be put on the nearest line.
func Find(n *yaml.Node, keys ...string) (Field, bool) {
	var at Field
	cur := Deref(n)
	for _, key := range keys {
		next, ok := step(cur, key)
		if !ok {
			return at, false
		}
		at, cur = next, next.Val
	}
	return at, true
}

// step finds one key in a mapping or one index in a list.
func step(n *yaml.Node, key string) (Field, bool) {
	switch {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := Deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
				return Field{k, Deref(n.Content[i+1])}, true
			}
		}
	case n.Kind == yaml.SequenceNode:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
			e := Deref(n.Content[i])
			return Field{e, e}, e != nil
		}
	}
	return Field{}, false
}

// Describe names what a node is, for "want …, got …" messages: "a
// mapping", "a list", "nothing", or the value "…" of a scalar.
func Describe(n *yaml.Node) string {
	n = Deref(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return "the value " + Show(n)
}

// Show quotes a scalar's text for a message, cut short when long (a
// pasted blob should not flood the error); other nodes are described.
func Show(n *yaml.Node) string {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return Describe(n)
	}
	v := n.Value
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	return strconv.Quote(v)
}

// IsNull reports whether n is absent or an explicit null (~, null, empty).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// Str reads a scalar as a string. Plain numbers are taken as written, so
// region: 620000 needs no quotes.
func (r *Reader) Str(n *yaml.Node, path string) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		r.Errorf(n, path, "want a string")
		return "", false
	}
	return n.Value, true
}

// OneOf reads a string that must be one of allowed.
func (r *Reader) OneOf(n *yaml.Node, path string, allowed []string) (string, bool) {
	s, ok := r.Str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		r.Errorf(n, path, "%q%s; want one of %s", s, DidYouMean(s, allowed), strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// Int reads an integer scalar within [lo, hi].
func (r *Reader) Int(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		r.Errorf(n, path, "want an integer from %d to %d", lo, hi)
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < int64(lo) || v > int64(hi) {
		r.Errorf(n, path, "%s is out of range; want %d to %d", n.Value, lo, hi)
		return 0, false
	}
	return int(v), true
}

// Float reads a number (integer or decimal) within [lo, hi].
func (r *Reader) Float(n *yaml.Node, path string, lo, hi float64) (float64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		r.Errorf(n, path, "want a number from %g to %g", lo, hi)
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || v != v || v < lo || v > hi {
		r.Errorf(n, path, "%s is out of range; want %g to %g", n.Value, lo, hi)
		return 0, false
	}
	return v, true
}

// Bool reads true or false.
func (r *Reader) Bool(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		r.Errorf(n, path, "want true or false")
		return false, false
	}
	return v, true
}

// Duration reads a Go duration ("8s", "1m30s") within [lo, hi]; hi ≤ 0
// means no upper bound.
func (r *Reader) Duration(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := r.Str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.Errorf(n, path, "%q is not a duration; want a form such as 8s, 5m or 1h30m", s)
		return 0, false
	}
	if d < lo {
		r.Errorf(n, path, "%s is too short; want at least %s", s, lo)
		return 0, false
	}
	if hi > 0 && d > hi {
		r.Errorf(n, path, "%s is too long; want at most %s", s, hi)
		return 0, false
	}
	return d, true
}

// Seq checks that n is a list of lo to hi entries and returns them, aliases
// resolved (an unresolvable entry is recorded and left out).
func (r *Reader) Seq(n *yaml.Node, path, what string, lo, hi int) ([]*yaml.Node, bool) {
	if n == nil || n.Kind != yaml.SequenceNode {
		r.Errorf(n, path, "want a list of %s", what)
		return nil, false
	}
	if c := len(n.Content); c < lo || c > hi {
		r.Errorf(n, path, "%d entries; want %d to %d %s", c, lo, hi, what)
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for i, e := range n.Content {
		if d := Deref(e); d != nil {
			out = append(out, d)
		} else {
			r.Errorf(e, Index(path, i), "unresolvable alias")
			ok = false
		}
	}
	return out, ok
}
