package recordio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(t testing.TB, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode GBK: %v", err)
	}
	return string(b)
}

func TestCSV(t *testing.T) {
	abc := []string{"a", "b", "c"}
	// A first line of pure ASCII longer than the sniff window, so that the
	// file is judged UTF-8 before any non-ASCII byte is seen.
	longASCII := "a,b,c\n" + strings.Repeat("x,y,z\n", sniffSize/6+10)
	nLong := strings.Count(longASCII, "\n")
	var wantLong []string
	for l := 2; l <= nLong; l++ {
		wantLong = append(wantLong, strconv.Itoa(l)+": x|y|z")
	}

	tests := []struct {
		name    string
		in      string
		fields  []string
		want    []string
		missing []string
		enc     string
		err     string // constructor error, substring
	}{
		{
			name: "plain LF",
			in:   "a,b,c\n1,2,3\n4,5,6\n",
			want: []string{"2: 1|2|3", "3: 4|5|6"},
			enc:  "utf-8",
		},
		{
			name: "no final newline",
			in:   "a,b,c\n1,2,3",
			want: []string{"2: 1|2|3"},
		},
		{
			name: "CRLF",
			in:   "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
			want: []string{"2: 1|2|3", "3: 4|5|6"},
		},
		{
			name: "CR before EOF dropped",
			in:   "a,b,c\r\n1,2,3\r",
			want: []string{"2: 1|2|3"},
		},
		{
			name: "BOM",
			in:   "\uFEFFa,b,c\r\n1,2,中文\r\n",
			want: []string{"2: 1|2|中文"},
			enc:  "utf-8-bom",
		},
		{
			name: "BOM and quoted first header",
			in:   "\uFEFF\"a\",b,c\n1,2,3\n",
			want: []string{"2: 1|2|3"},
			enc:  "utf-8-bom",
		},
		{
			name: "GBK",
			in:   gbk(t, "a,b,c\r\n1,兰州市,城关区\r\n2,\"甘肃,省\",\"嘉峪关\n市\"\r\n3,x,y\r\n"),
			want: []string{"2: 1|兰州市|城关区", "3: 2|甘肃,省|嘉峪关\n市", "5: 3|x|y"},
			enc:  "gbk",
		},
		{
			name:   "GBK header",
			in:     gbk(t, "编号,名称\n1,兰州\n"),
			fields: []string{"名称", "编号"},
			want:   []string{"2: 兰州|1"},
			enc:    "gbk",
		},
		{
			name: "GBK invalid bytes",
			in:   gbk(t, "a,b,c\n1,兰州,x\n") + "2,\x81\x20,y\n" + gbk(t, "3,天水,z\n"),
			want: []string{"2: 1|兰州|x", "3: error: field b: invalid GBK text", "4: 3|天水|z"},
			enc:  "gbk",
		},
		{
			name: "quotes",
			in:   "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"\"\n",
			want: []string{`2: x, y|say "hi"|`},
		},
		{
			name: "embedded newlines keep line numbers",
			in:   "a,b,c\n1,\"two\nlines\",3\n4,\"three\r\nlines\n\n\",6\n7,8,9\n",
			want: []string{"2: 1|two\nlines|3", "4: 4|three\nlines|6", "8: 7|8|9"},
		},
		{
			name: "empty lines skipped",
			in:   "\n\r\na,b,c\n\n1,2,3\r\n\r\n\n4,5,6\n\n",
			want: []string{"5: 1|2|3", "8: 4|5|6"},
		},
		{
			name: "trimmed values",
			in:   "a , B,c\n  1 ,\t2\t, \u30003\u3000 \n\" x \",y,z\n",
			want: []string{"2: 1|2|3", "3: x|y|z"},
		},
		{
			name: "empty values",
			in:   "a,b,c\n,,\n1,,\n",
			want: []string{"2: ||", "3: 1||"},
		},
		{
			name: "column count",
			in:   "a,b,c\n1,2\n1,2,3\n1,2,3,4\n,\n5,6,7\n",
			want: []string{
				"2: error: 2 columns, header has 3",
				"3: 1|2|3",
				"4: error: 4 columns, header has 3",
				"5: error: 2 columns, header has 3",
				"6: 5|6|7",
			},
		},
		{
			name: "bad quoting continues",
			in:   "a,b,c\n1,x\"y,3\n\"p\"q,2,3\n4,5,6\n",
			want: []string{
				`2: error: field b: bad quoting: bare " in unquoted column 2`,
				`3: error: field a: bad quoting: extraneous or missing " in quoted column 1`,
				"4: 4|5|6",
			},
		},
		{
			name: "unterminated quote",
			in:   "a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n",
			want: []string{"2: 1|2|3", `3: error: field b: bad quoting: extraneous or missing " in quoted column 2`},
		},
		{
			name:    "missing and unknown columns, other order, case",
			in:      "X,C,Extra, A \n1,2,3,4\n",
			fields:  []string{"a", "b", "c"},
			want:    []string{"2: 4||2"},
			missing: []string{"b"},
		},
		{
			name: "duplicate requested column",
			in:   "a,b,A\n1,2,3\n",
			err:  `duplicate column "A"`,
		},
		{
			name:   "duplicate unrequested column ignored",
			in:     "a,note,b,note,c,,\n1,x,2,y,3,,\n",
			fields: abc,
			want:   []string{"2: 1|2|3"},
		},
		{
			name: "header bad quoting",
			in:   "a,\"b,c\n",
			err:  "header (line 1): bad quoting",
		},
		{
			name: "empty file",
			in:   "",
			want: nil,
		},
		{
			name: "blank lines only",
			in:   "\n\r\n\n",
			want: nil,
		},
		{
			name:    "header only",
			in:      "a,c\r\n",
			want:    nil,
			missing: []string{"b"},
		},
		{
			name: "invalid UTF-8 within the sniff window means GBK",
			in:   "a,b,c\n1,é,3\n2,\xff\xfe,4\n5,6,7\n",
			want: []string{"2: 1|茅|3", "3: error: field b: invalid GBK text", "4: 5|6|7"},
			enc:  "gbk",
		},
		{
			name: "invalid UTF-8 after the sniff window",
			in:   longASCII + "1,\xe4\xb8,3\n1,中,3\n",
			want: append(slices.Clip(wantLong),
				strconv.Itoa(nLong+1)+": error: field b: invalid UTF-8",
				strconv.Itoa(nLong+2)+": 1|中|3"),
			enc: "utf-8",
		},
		{
			name:   "invalid UTF-8 in an ignored column",
			in:     longASCII + "1,2,\xff\n",
			fields: []string{"a", "b"},
			want: append(
				func() (w []string) {
					for _, x := range wantLong {
						w = append(w, strings.TrimSuffix(x, "|z"))
					}
					return w
				}(), strconv.Itoa(nLong+1)+": 1|2"),
			enc: "utf-8",
		},
		{
			name: "UTF-16",
			in:   "\xff\xfea\x00,\x00",
			err:  "UTF-16",
		},
		{
			name: "long line",
			in:   "a,b,c\n1," + strings.Repeat("é", 100000) + ",3\n4,5,6\n",
			want: []string{"2: 1|" + strings.Repeat("é", 100000) + "|3", "3: 4|5|6"},
		},
		{
			name: "long quoted field",
			in:   "a,b,c\n1,\"" + strings.Repeat("x\n", 70000) + "\",3\n4,5,6\n",
			want: []string{"2: 1|" + strings.TrimSpace(strings.Repeat("x\n", 70000)) + "|3", "70003: 4|5|6"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fields := tc.fields
			if fields == nil {
				fields = abc
			}
			r, got, err := readBytes(t, []byte(tc.in), CSV, fields)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("constructor error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, got, tc.want)
			if !slices.Equal(r.Missing(), tc.missing) {
				t.Errorf("Missing() = %q, want %q", r.Missing(), tc.missing)
			}
			if tc.enc != "" && r.Encoding() != tc.enc {
				t.Errorf("Encoding() = %q, want %q", r.Encoding(), tc.enc)
			}
		})
	}
}

// A multibyte character cut by the end of the sniff window must not make a
// UTF-8 file look like GBK.
func TestCSVSniffBoundary(t *testing.T) {
	for shift := 0; shift < 4; shift++ {
		head := "a,b\n"
		pad := sniffSize - len(head) - 1 - shift // '中' is 3 bytes, starting here
		var b strings.Builder
		b.WriteString(head)
		for b.Len() < len(head)+pad-4 {
			b.WriteString("x,y\n")
		}
		for b.Len() < len(head)+pad {
			b.WriteString("z")
		}
		b.WriteString("中,1\n")
		r, err := NewReader(strings.NewReader(b.String()), "t.csv", CSV, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Encoding() != "utf-8" {
			t.Errorf("shift %d: Encoding() = %q, want utf-8", shift, r.Encoding())
		}
		got := readAll(t, r, 2)
		if last := got[len(got)-1]; !strings.Contains(last, "中|1") {
			t.Errorf("shift %d: last row %q", shift, last)
		}
	}
}

func TestCSVRowErrorFormat(t *testing.T) {
	r, err := NewReader(strings.NewReader("case_id,submitted_at\n1\n2,\xff\xff\n"), "cases.csv", CSV, []string{"case_id", "submitted_at"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if got, want := err.Error(), "cases.csv:2: 1 columns, header has 2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = r.Next()
	var re *RowError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RowError", err)
	}
	if got, want := err.Error(), "cases.csv:3: field submitted_at: invalid GBK text"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("got %v, want EOF", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after EOF got %v, want EOF again", err)
	}
}

// errReader fails after its data, like a disk error.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestCSVFatalError(t *testing.T) {
	boom := errors.New("disk on fire")
	r, err := NewReader(&errReader{data: []byte("a,b\n1,2\n3,"), err: boom}, "x.csv", CSV, []string{"a"})
	if err != nil {
		// The sniff reads ahead, so the error may show up at once.
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.csv") {
			t.Fatalf("got %v", err)
		}
		return
	}
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read x.csv") {
		t.Fatalf("got %v, want the I/O error wrapped with the name", err)
	}
	var re *RowError
	if errors.As(err, &re) {
		t.Fatal("an I/O error must not be a RowError")
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("the fatal error is not sticky: %v", err2)
	}
}

func TestFieldsAndFormat(t *testing.T) {
	if _, err := NewReader(strings.NewReader("a\n"), "t.csv", CSV, []string{"a", " A "}); err == nil {
		t.Error("a field requested twice must be an error")
	}
	if _, err := NewReader(strings.NewReader("a\n"), "t.csv", CSV, []string{""}); err == nil {
		t.Error("an empty field name must be an error")
	}
	for path, want := range map[string]Format{"x/cases.csv": CSV, "C.CSV": CSV, "a.xlsx": XLSX, "a.jsonl": JSONL, "a.ndjson": JSONL, "a.json": JSONL} {
		if got, err := FormatOf(path); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
	for _, path := range []string{"cases.xls", "cases", "cases.txt"} {
		if _, err := FormatOf(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("FormatOf(%q) error %v, want one naming the file", path, err)
		}
	}
	if _, err := Open("testdata/nope.csv", []string{"a"}); err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("Open of a missing file: %v", err)
	}
}

// The sample exports of the shared data set, copied to testdata so that the
// test runs from a plain clone.
func TestSampleFiles(t *testing.T) {
	tests := []struct {
		file   string
		fields []string
		rows   int
	}{
		{"cases.csv", []string{"case_id", "region_code", "dept_code", "item_code", "channel", "full_online",
			"submitted_at", "accepted_at", "promised_days", "closed_at", "status"}, 3052},
		{"calls.csv", []string{"call_id", "region_code", "offered_at", "answered", "wait_seconds"}, 6000},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			r, err := Open(path, tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if m := r.Missing(); m != nil {
				t.Errorf("Missing() = %q", m)
			}
			got := readAll(t, r, len(tc.fields))
			if len(got) != tc.rows {
				t.Errorf("%d rows, want %d", len(got), tc.rows)
			}
			for _, g := range got {
				if strings.Contains(g, "error") {
					t.Errorf("unexpected %s", g)
				}
			}
			// Cross-check with encoding/csv.
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs[1:] {
				if want := strconv.Itoa(i+2) + ": " + strings.Join(rec, "|"); got[i] != want {
					t.Fatalf("row %d: got %q, want %q", i, got[i], want)
				}
			}
		})
	}
}
