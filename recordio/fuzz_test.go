package recordio

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

var fuzzFields = []string{"a", "b", "c"}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"\uFEFFa,b,c\r\n1,\"x,\"\"y\"\"\n z\",3\r\n\r\n4,5\n",
		"a,b,c\n1,x\"y,3\n\"p\"q,2,3\n4,\"5,6\n",
		"c,a\n\xff\xfe,\x81\x40\n",
		"B,a\n" + gbk(f, "兰州,城关\n"),
		"\n\na\rb,c\r\r\n\"\"\"\",\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "f.csv", CSV, fuzzFields)
		if err == nil {
			readAll(t, r, len(fuzzFields))
		}
		compareWithEncodingCSV(t, data, DefaultMaxRowBytes)
		// A tiny row limit: records over it are skipped, and the scanner
		// must stay in step with encoding/csv after them.
		compareWithEncodingCSV(t, data, 4+len(data)%29)
	})
}

// compareWithEncodingCSV checks that the record scanner splits data exactly
// as encoding/csv does, errors included, apart from the records over
// maxRow, which it skips. A tiny bufio buffer exercises the long-line path.
func compareWithEncodingCSV(t *testing.T, data []byte, maxRow int) {
	s := &csvSource{br: bufio.NewReaderSize(bytes.NewReader(data), 16), maxRow: maxRow}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	for n := 0; ; n++ {
		err := s.readRecord()
		want, cerr := cr.Read()
		if err == io.EOF || cerr == io.EOF {
			if err != cerr {
				t.Fatalf("record %d: scanner %v, encoding/csv %v", n, err, cerr)
			}
			return
		}
		var qe *quoteError
		var pe *csv.ParseError
		var tl *tooLongError
		isQ, isP := errors.As(err, &qe), errors.As(cerr, &pe)
		if errors.As(err, &tl) {
			var line int
			switch {
			case isP:
				line = pe.StartLine
			case cerr == nil:
				line, _ = cr.FieldPos(0)
			default:
				t.Fatalf("record %d: skipped as too long, encoding/csv %v", n, cerr)
			}
			if line != s.start {
				t.Fatalf("record %d: skipped as too long from line %d, encoding/csv starts it on line %d", n, s.start, line)
			}
			continue
		}
		if isQ || isP {
			if qe == nil || pe == nil || qe.bare != errors.Is(pe.Err, csv.ErrBareQuote) || s.start != pe.StartLine {
				t.Fatalf("record %d: scanner %v (line %d), encoding/csv %v", n, err, s.start, cerr)
			}
			continue
		}
		if err != nil || cerr != nil {
			t.Fatalf("record %d: scanner %v, encoding/csv %v", n, err, cerr)
		}
		var got []string
		for i := 0; i < len(s.bounds); i += 2 {
			got = append(got, string(s.rec[s.bounds[i]:s.bounds[i+1]]))
		}
		if line, _ := cr.FieldPos(0); line != s.start {
			t.Fatalf("record %d starts on line %d, encoding/csv says %d", n, s.start, line)
		}
		if strings.Join(got, "\x00|") != strings.Join(want, "\x00|") || len(got) != len(want) {
			t.Fatalf("record %d:\n got %q\nwant %q", n, got, want)
		}
	}
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"a":"x","b":5,"c":true}` + "\n" + `{"A":null,"b":-0.5e+3,"zz":[1,{"q":"\u00e9"}]}`,
		"\uFEFF{\"a\":\"\\\"hi\\n\\ud83d\\ude00\"}\r\n\r\n[1]\n5\n{\"a\":1,}\n",
		`{"a":{"b":1},"c":"` + "\xff" + `"}` + "\n{}\n",
		`{"\u0041":1,"a":2,"b":01,"c":1.e5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "f.jsonl", JSONL, fuzzFields)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, r, len(fuzzFields))
		compareWithEncodingJSON(t, data)
	})
}

// compareWithEncodingJSON checks each line against encoding/json: the
// scanner must accept exactly the valid JSON objects and deliver the same
// values.
func compareWithEncodingJSON(t *testing.T, data []byte) {
	s := newJSONLSource(nil, "f.jsonl", fuzzFields, fuzzFields, DefaultMaxRowBytes)
	for _, line := range bytes.Split(data, []byte("\n")) {
		if skipWS(line, 0) == len(line) {
			continue
		}
		rerr := s.parse(line)
		valid := json.Valid(line)
		if !utf8.Valid(line) {
			// encoding/json accepts invalid UTF-8 in strings (and
			// replaces it); the scanner rejects it. Only check that
			// what the scanner accepts is valid.
			if rerr == nil && !valid {
				t.Fatalf("%q: accepted, but not valid JSON", line)
			}
			continue
		}
		accepted := rerr == nil || rerr.Reason == "not a JSON object" ||
			strings.HasPrefix(rerr.Reason, "value is a JSON object or array")
		if accepted != valid {
			t.Fatalf("%q: scanner error %v, json.Valid %v", line, rerr, valid)
		}
		if rerr != nil {
			continue
		}
		want, nested := decodeLine(t, line)
		if nested {
			t.Fatalf("%q: nested value accepted", line)
		}
		for f := range fuzzFields {
			got := strings.TrimSpace(string(s.buf[s.bnd[2*f]:s.bnd[2*f+1]]))
			if got != want[f] {
				t.Fatalf("%q: field %s = %q, encoding/json says %q", line, fuzzFields[f], got, want[f])
			}
		}
	}
}

// decodeLine decodes an object with encoding/json the way the scanner
// should: keys case-insensitive, last one wins, literal numbers, null empty.
func decodeLine(t *testing.T, line []byte) (vals []string, nested bool) {
	vals = make([]string, len(fuzzFields))
	var m []struct{ k, v string }
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tk, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		m = append(m, struct{ k, v string }{tk.(string), string(raw)})
	}
	for _, kv := range m {
		for f, name := range fuzzFields {
			if strings.ToLower(strings.TrimSpace(kv.k)) != name {
				continue
			}
			switch kv.v[0] {
			case '"':
				var s string
				json.Unmarshal([]byte(kv.v), &s)
				vals[f] = strings.TrimSpace(s)
			case 'n':
				vals[f] = ""
			case '{', '[':
				nested = true
			default:
				vals[f] = kv.v
			}
		}
	}
	return vals, nested
}

// seedXLSX is a small valid workbook with a date and a number.
func seedXLSX(t testing.TB) []byte {
	return makeXLSX(t, func(f *excelize.File, sh string) {
		dt := style(t, f, &excelize.Style{NumFmt: 22})
		setRow(t, f, sh, 1, "a", "b", "c")
		setRow(t, f, sh, 2, "x", styled{time.Date(2026, 10, 2, 10, 0, 0, 0, time.UTC), dt}, 5)
		setRow(t, f, sh, 4, true, 0.5, "中")
	})
}

func FuzzXLSX(f *testing.F) {
	f.Add(seedXLSX(f))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "f.xlsx", XLSX, fuzzFields)
		if err != nil {
			return
		}
		defer r.Close()
		readAll(t, r, len(fuzzFields))
	})
}

// FuzzXLSXSheet fuzzes the worksheet XML inside an otherwise valid workbook:
// random bytes for a whole .xlsx almost never get past the zip checksums, so
// FuzzXLSX alone would not reach excelize's row parser.
func FuzzXLSXSheet(f *testing.F) {
	seed := seedXLSX(f)
	parts := unzipParts(f, seed)
	f.Add(parts["xl/worksheets/sheet1.xml"])
	f.Add([]byte(`<worksheet><sheetData><row r="3"><c r="A3" t="inlineStr"><is><t>a</t></is></c></row><row r="1048577"/></sheetData></worksheet>`))
	f.Add([]byte(`<worksheet><sheetData><row><c r="ZZZZ1" s="9999" t="s"><v>99</v></c><c t="b"><v>1</v></c><c t="d"><v>2026-10-02T10:00:00Z</v></c></row></sheetData></worksheet>`))
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>b</t></is></c></row><row r="2">` +
		`<c s="1"><v>-1</v></c></row><row r="3"><c s="1"><v>1E+308</v></c></row><row r="4"><c s="1"><v>2958466</v></c></row>` +
		`<row r="5"><c s="1"><v>NaN</v></c></row><row r="6"><c s="1" t="str"><v>x</v></c></row><row r="7"><c s="1"><v>0</v></c></row>` +
		`<row r="8"><c s="1"><v>60</v></c></row><row r="9"><c s="1"><v>-1E-300</v></c></row></sheetData></worksheet>`))
	f.Fuzz(func(t *testing.T, sheet []byte) {
		r, err := NewReader(bytes.NewReader(withSheet(t, parts, sheet)), "f.xlsx", XLSX, fuzzFields)
		if err != nil {
			return
		}
		defer r.Close()
		readAll(t, r, len(fuzzFields))
	})
}

// withSheet zips parts back into a workbook, with sheet as the first
// worksheet.
func withSheet(t testing.TB, parts map[string][]byte, sheet []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		if name == "xl/worksheets/sheet1.xml" {
			body = sheet
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzipParts(t testing.TB, data []byte) map[string][]byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name] = b
	}
	return parts
}

// Odd numbers in a date-formatted cell must come out as something, never
// crash the reader.
func TestXLSXOddDates(t *testing.T) {
	parts := unzipParts(t, seedXLSX(t))
	sheet := `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>b</t></is></c></row>`
	for i, v := range []string{"-1", "1E+308", "2958466", "NaN", "0", "60", "61", "-1E-300", "46297.5"} {
		sheet += fmt.Sprintf(`<row r="%d"><c s="1"><v>%s</v></c></row>`, i+2, v)
	}
	sheet += `</sheetData></worksheet>`
	r, got, err := readBytes(t, withSheet(t, parts, []byte(sheet)), XLSX, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Missing() != nil || len(got) != 9 {
		t.Fatalf("Missing %q, got %q", r.Missing(), got)
	}
	t.Logf("%q", got)
	if got[8] != "10: 2026-10-02 12:00:00" {
		t.Errorf("got %q", got[8])
	}
}

func TestJSONDepth(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		// The line's object is level 1, so the value adds depth-1 levels.
		line := []byte(`{"z":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`)
		s := newJSONLSource(nil, "f.jsonl", fuzzFields, fuzzFields, DefaultMaxRowBytes)
		if got, want := s.parse(line) == nil, json.Valid(line); got != want {
			t.Errorf("depth %d: accepted %v, json.Valid %v", depth, got, want)
		}
	}
}
