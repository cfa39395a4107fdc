package recordio

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestJSONL(t *testing.T) {
	abc := []string{"a", "b", "c"}
	long := strings.Repeat("长", 50000)
	tests := []struct {
		name   string
		in     string
		fields []string
		want   []string
	}{
		{
			name: "types",
			in: `{"a":"x","b":5,"c":true}` + "\n" +
				`{"a":" y ","b":0.5,"c":false}` + "\n" +
				`{"a":null,"b":-1.5e+3,"c":null}` + "\n" +
				`{"a":"","b":0E+00,"c":5.0}`,
			want: []string{"1: x|5|true", "2: y|0.5|false", "3: |-1.5e+3|", "4: |0E+00|5.0"},
		},
		{
			name: "missing and unknown keys, any order, any case",
			in: `{"c":3,"zz":[1,{"q":null}],"A":1}` + "\n" +
				`{"B":2,"a":1}` + "\n" +
				`{"a":1,"B":2,"c":3,"d":{}}` + "\n" +
				`{}`,
			want: []string{"1: 1||3", "2: 1|2|", "3: 1|2|3", "4: ||"},
		},
		{
			name: "escapes",
			in:   `{"a":"say \"hi\"\n","b":"\u4e2d\u6587","c":"\ud83d\ude00 \/ \\"}`,
			want: []string{`1: say "hi"|中文|😀 / \`},
		},
		{
			name: "escaped key",
			in:   `{"\u0061":1,"b\u0000":2}`,
			want: []string{"1: 1||"},
		},
		{
			name: "whitespace, CRLF, blank lines, BOM",
			in:   "\uFEFF { \"a\" : 1 , \"b\":\t2 } \r\n\r\n   \n\t\n{\"c\":3}\r\n",
			want: []string{"1: 1|2|", "5: ||3"},
		},
		{
			name: "duplicate key: last wins",
			in:   `{"a":1,"A":2,"b":3,"b":null}`,
			want: []string{"1: 2||"},
		},
		{
			name: "nested value of a requested field",
			in:   `{"a":1,"b":{"x":1},"c":[1]}` + "\n" + `{"a":2}`,
			want: []string{"1: error: field b: value is a JSON object or array, want a string, number, boolean or null", "2: 2||"},
		},
		{
			name: "not an object",
			in:   "[1,2]\n\"a\"\n5\nnull\n{\"a\":1}",
			want: []string{
				"1: error: not a JSON object",
				"2: error: not a JSON object",
				"3: error: not a JSON object",
				"4: error: not a JSON object",
				"5: 1||",
			},
		},
		{
			name: "invalid JSON",
			in: strings.Join([]string{
				`{"a":1,}`,
				`{"a" 1}`,
				`{"a":01}`,
				`{"a":"x`,
				`{"a":1} x`,
				`{a:1}`,
				`{"a":tru}`,
				`{"a":"\x"}`,
				"{\"a\":\"tab\there\"}",
				`{"a":1.}`,
				`{"a":-}`,
				`{"a":[1,]}`,
				`{"a":1`,
				`nope`,
				`{"a":"ok"}`,
			}, "\n"),
			want: []string{
				"1: error: invalid JSON: expected a string key at column 8",
				"2: error: invalid JSON: expected ':' at column 6",
				"3: error: invalid JSON: expected ',' or '}' at column 7",
				"4: error: invalid JSON: unterminated string at column 6",
				"5: error: invalid JSON: data after the object at column 9",
				"6: error: invalid JSON: expected a string key at column 2",
				"7: error: invalid JSON: invalid value at column 6",
				"8: error: invalid JSON: bad escape at column 7",
				"9: error: invalid JSON: control character in string at column 10",
				"10: error: invalid JSON: invalid number at column 8",
				"11: error: invalid JSON: invalid value at column 7",
				"12: error: invalid JSON: invalid value at column 9",
				"13: error: invalid JSON: expected ',' or '}' at column 7",
				"14: error: invalid JSON: expected '{' at column 1",
				"15: ok||",
			},
		},
		{
			name: "invalid UTF-8",
			in:   "{\"a\":1,\"b\":\"\xff\"}\n{\"zz\":\"\xc3\"}\n{\"a\":2}",
			want: []string{"1: error: field b: invalid UTF-8", "2: error: invalid UTF-8", "3: 2||"},
		},
		{
			name: "long line",
			in:   `{"a":"` + long + `","b":1}` + "\n" + `{"a":2}`,
			want: []string{"1: " + long + "|1|", "2: 2||"},
		},
		{
			name: "empty",
			in:   "",
			want: nil,
		},
		{
			name: "blank only",
			in:   "\n \r\n",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fields := tc.fields
			if fields == nil {
				fields = abc
			}
			r, got, err := readBytes(t, []byte(tc.in), JSONL, fields)
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, got, tc.want)
			if r.Missing() != nil || r.Encoding() != "" {
				t.Errorf("Missing() = %q, Encoding() = %q; want nil, empty", r.Missing(), r.Encoding())
			}
		})
	}
}

// special8 must agree with the byte table for every byte in every position.
func TestSpecial8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', 0x7f, 0xff, 0x21, 0x80} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := false
				for _, b := range w {
					want = want || strStop[b]
				}
				if got := special8(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("%q: special8 = %v, want %v", w, got, want)
				}
			}
		}
	}
}
