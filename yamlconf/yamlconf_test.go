package yamlconf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type sample struct {
	Addr  string        `yaml:"addr"`
	Every time.Duration `yaml:"every"`
	Store struct {
		Kind   string `yaml:"kind"`
		Influx struct {
			URL string `yaml:"url"`
		} `yaml:"influxdb"`
	} `yaml:"store"`
	List []struct {
		Name string `yaml:"name"`
	} `yaml:"list"`
}

func TestDecodeFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error, in order; none: no error
	}{
		{"good", "addr: :9\nevery: 5s\nstore: {kind: influxdb, influxdb: {url: http://x}}\n", nil},
		{"empty", "# nothing\n", nil},
		{"unknown top", "adr: :9\n", []string{"f.yaml:1: adr: unknown key (did you mean addr?)"}},
		{"unknown nested", "store:\n  kind: x\n  influx: {}\n", []string{"f.yaml:3: store.influx: unknown key (did you mean influxdb?)"}},
		{"unknown in list", "list:\n  - name: a\n  - nam: b\n", []string{"f.yaml:3: list[1].nam: unknown key (did you mean name?)"}},
		{"unknown far", "zzzzzzzz: 1\n", []string{"unknown key (known: addr, every, list, store)"}},
		{"wrong type", "every: soon\n", []string{"f.yaml:1: "}},
		{"syntax", "addr: [1,\n", []string{"f.yaml:1: YAML: did not find expected node content"}}, // the open "[", not the end of the file
		{"two errors", "adr: 1\nstore: {knd: 2}\n", []string{"f.yaml:1: adr", "f.yaml:2: store.knd"}},
		{"two documents", "addr: a\n---\naddr: b\n", []string{"f.yaml:2: a second YAML document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := DecodeFile("f.yaml", []byte(tc.in), &v)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (after offset %d)", msg, w, at)
				}
				at += i + len(w)
			}
		})
	}
}

func TestReaderScalars(t *testing.T) {
	r := NewReader("s.yaml")
	root := r.Document([]byte("a: 3\nb: x\nc: 2.5\nd: yes\ne: true\nf: 90s\ng: [1, 2]\nk: {x: 1, y: 2, x: 3}\n"))
	f := r.Fields(root, "", []string{"a", "b", "c", "d", "e", "f", "g", "k"}, nil)
	if v, ok := r.Int(f["a"].Val, "a", 1, 5); !ok || v != 3 {
		t.Errorf("Int = %d, %v", v, ok)
	}
	if _, ok := r.Int(f["a"].Val, "a", 4, 5); ok {
		t.Error("Int out of range accepted")
	}
	if _, ok := r.Int(f["b"].Val, "b", 0, 9); ok {
		t.Error("Int of a string accepted")
	}
	if v, ok := r.Float(f["c"].Val, "c", 0, 10); !ok || v != 2.5 {
		t.Errorf("Float = %v, %v", v, ok)
	}
	if _, ok := r.Bool(f["d"].Val, "d"); ok {
		t.Error(`"yes" read as a boolean (YAML 1.2 says string)`)
	}
	if v, ok := r.Bool(f["e"].Val, "e"); !ok || !v {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if v, ok := r.Duration(f["f"].Val, "f", time.Second, time.Hour); !ok || v != 90*time.Second {
		t.Errorf("Duration = %v, %v", v, ok)
	}
	if _, ok := r.Duration(f["f"].Val, "f", 0, time.Minute); ok {
		t.Error("Duration over the bound accepted")
	}
	if s, ok := r.Seq(f["g"].Val, "g", "numbers", 1, 2); !ok || len(s) != 2 {
		t.Errorf("Seq = %v, %v", s, ok)
	}
	if _, ok := r.Seq(f["g"].Val, "g", "numbers", 3, 4); ok {
		t.Error("Seq length out of range accepted")
	}
	if _, ok := r.OneOf(f["b"].Val, "b", []string{"y", "z"}); ok {
		t.Error("OneOf accepted a value not listed")
	}
	var keys []string
	r.Pairs(f["k"].Val, "k", func(key string, _, _ *yaml.Node) { keys = append(keys, key) })
	if strings.Join(keys, ",") != "x,y" {
		t.Errorf("Pairs keys = %v", keys)
	}
	err := r.Err()
	if err == nil {
		t.Fatal("no errors recorded")
	}
	for _, w := range []string{"s.yaml:1: a: 3 is out of range; want 4 to 5", "s.yaml:2: b: want an integer", "s.yaml:4: d: want true or false", "s.yaml:8: k.x: duplicate key (first on line 8)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("errors lack %q:\n%v", w, err)
		}
	}
}

func TestJoinCaps(t *testing.T) {
	var errs []*Error
	for i := range MaxErrors + 7 {
		errs = append(errs, &Error{File: "a", Line: MaxErrors + 7 - i, Msg: "x"})
	}
	err := Join(errs)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || lines[0] != "a:1: x" || lines[MaxErrors] != "a: 7 more errors not shown" {
		t.Errorf("Join = %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if Join(nil) != nil {
		t.Error("Join(nil) != nil")
	}
}

func FuzzDecodeFile(f *testing.F) {
	f.Add("addr: a\nstore: {kind: x}\nlist: [{name: a}]\n")
	f.Add("a: &x [*x]\n")
	f.Add("<<: {addr: 1}\n")
	f.Fuzz(func(t *testing.T, in string) {
		var v sample
		_ = DecodeFile("f.yaml", []byte(in), &v) // must not panic
	})
}

func TestFind(t *testing.T) {
	r := NewReader("f.yaml")
	root := r.Document([]byte("a:\n  b: [x, {c: 1}]\nd: &d {e: 2}\nf: *d\n"))
	for _, tc := range []struct {
		keys     []string
		ok       bool
		line     int    // of the Field's Key
		val      string // the value's text, when a scalar
		deepHalf string // for a miss: the key text of the deepest step found
	}{
		{[]string{"a"}, true, 1, "", ""},
		{[]string{"a", "b", "0"}, true, 2, "x", ""},
		{[]string{"a", "b", "1", "c"}, true, 2, "1", ""},
		{[]string{"f", "e"}, true, 3, "2", ""}, // through the alias to the anchor
		{[]string{"a", "b", "7"}, false, 2, "", "b"},
		{[]string{"a", "zz", "c"}, false, 1, "", "a"},
		{[]string{"nope"}, false, 0, "", ""},
	} {
		f, ok := Find(root, tc.keys...)
		if ok != tc.ok {
			t.Errorf("Find(%v) ok = %v", tc.keys, ok)
			continue
		}
		if tc.line == 0 {
			if f.Key != nil {
				t.Errorf("Find(%v) = line %d, want nothing", tc.keys, f.Key.Line)
			}
			continue
		}
		if f.Key == nil || f.Key.Line != tc.line {
			t.Errorf("Find(%v) = %+v, want line %d", tc.keys, f.Key, tc.line)
			continue
		}
		if tc.val != "" && f.Val.Value != tc.val {
			t.Errorf("Find(%v) value = %q, want %q", tc.keys, f.Val.Value, tc.val)
		}
		if tc.deepHalf != "" && f.Key.Value != tc.deepHalf {
			t.Errorf("Find(%v) stopped at %q, want %q", tc.keys, f.Key.Value, tc.deepHalf)
		}
	}
	if _, ok := Find(nil, "a"); ok {
		t.Error("Find(nil) found something")
	}
}

func TestDescribe(t *testing.T) {
	r := NewReader("f.yaml")
	root := r.Document([]byte("m: {a: 1}\nl: [1]\ns: hello\nn: ~\nlong: " + strings.Repeat("字", 50) + "\n"))
	f := r.Fields(root, "", []string{"m", "l", "s", "n", "long"}, nil)
	for _, tc := range []struct{ key, describe, show string }{
		{"m", "a mapping", "a mapping"},
		{"l", "a list", "a list"},
		{"s", `the value "hello"`, `"hello"`},
		{"n", `the value "~"`, `"~"`},
		{"long", `the value "` + strings.Repeat("字", 40) + `…"`, `"` + strings.Repeat("字", 40) + `…"`},
	} {
		if got := Describe(f[tc.key].Val); got != tc.describe {
			t.Errorf("Describe(%s) = %s, want %s", tc.key, got, tc.describe)
		}
		if got := Show(f[tc.key].Val); got != tc.show {
			t.Errorf("Show(%s) = %s, want %s", tc.key, got, tc.show)
		}
	}
	if Describe(nil) != "nothing" {
		t.Errorf("Describe(nil) = %s", Describe(nil))
	}
}

func TestHint(t *testing.T) {
	known := []string{"cases", "calls", "items"}
	for _, tc := range []struct{ in, want string }{
		{"case", " (did you mean cases?)"},
		{"xyz", " (known: cases, calls, items)"},
	} {
		if got := Hint(tc.in, known); got != tc.want {
			t.Errorf("Hint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTypeErrorPath: yaml.v3 names only the line of a value of the wrong
// type; the error also gets the value's path.
func TestTypeErrorPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"every: soon\n", `f.yaml:1: every: cannot read the string "soon" into time.Duration`},
		{"list:\n  - name: a\n  - name: [b]\n", "f.yaml:3: list[1].name: cannot read a list into string"},
		{"store: {kind: x, influxdb: {url: [1]}}\n", "f.yaml:1: store.influxdb.url: cannot read a list into string"},
		{"every: averyveryverylongvalue\n", `f.yaml:1: every: cannot read the string "averyveryverylongvalue" into time.Duration`},
	} {
		var v sample
		err := DecodeFile("f.yaml", []byte(tc.in), &v)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestAddError(t *testing.T) {
	other := NewReader("other.yaml")
	other.Errorf(&yaml.Node{Line: 3}, "a", "bad")
	r := NewReader("f.yaml")
	root := r.Document([]byte("x: 1\ny: 2\n"))
	y, _ := Find(root, "y")
	r.AddError(y.Key, "y", errors.Join(other.Err(), errors.New("no good"), nil))
	r.AddError(y.Key, "y", nil)
	want := "f.yaml:2: y: no good\nother.yaml:3: a: bad"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err = %v, want\n%s", err, want)
	}
}

func TestPlainKeysAndRepeats(t *testing.T) {
	r := NewReader("f.yaml")
	root := r.Document([]byte("? [a]\n: 1\nb: 2\n"))
	r.Fields(root, "", []string{"b"}, nil)
	r.Errorf(root, "b", "same")
	r.Errorf(root, "b", "same") // said twice (an alias read twice), shown once
	want := "f.yaml:1: a key must be a plain name, got a list\nf.yaml:1: b: same"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err = %v, want\n%s", err, want)
	}
}

// TestOneLine: a value with line breaks, quoted in a message or a path,
// does not break the one-problem-per-line form of Err.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"every: \"a\\nb\"\n":                   `f.yaml:1: every: cannot read the string "a\nb" into time.Duration`,
		"list: [{name: x, \"n\\nm\": 1}]\n":    `f.yaml:1: list[0].n\nm: unknown key (known: name)`,
		"every: |\n  multi\n  line\n  value\n": `f.yaml:1: every: cannot read the string "multi\nline\nvalue\n" into time.Duration`,
	} {
		var v sample
		if err := DecodeFile("f.yaml", []byte(in), &v); err == nil || err.Error() != want {
			t.Errorf("%q: error\n%v\nwant\n%s", in, err, want)
		}
	}
}
