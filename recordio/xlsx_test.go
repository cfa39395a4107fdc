package recordio

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// makeXLSX builds a workbook in memory; fill gets the file and the name of
// its first sheet.
func makeXLSX(t testing.TB, fill func(f *excelize.File, sheet string)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f, "Sheet1")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func style(t testing.TB, f *excelize.File, s *excelize.Style) int {
	t.Helper()
	id, err := f.NewStyle(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// set writes values into a row, applying a style to the cells whose value
// is a styled.
type styled struct {
	v     any
	style int
}

func setRow(t testing.TB, f *excelize.File, sheet string, row int, vals ...any) {
	t.Helper()
	for i, v := range vals {
		cell, _ := excelize.CoordinatesToCellName(i+1, row)
		st := 0
		if s, ok := v.(styled); ok {
			v, st = s.v, s.style
		}
		if v == nil {
			continue
		}
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
		if st != 0 {
			if err := f.SetCellStyle(sheet, cell, cell, st); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func strp(s string) *string { return &s }

func TestXLSX(t *testing.T) {
	fields := []string{"case_id", "submitted_at", "promised_days", "full_online", "ratio", "region_code"}
	local := time.FixedZone("CST", 8*3600) // the wall time is what Excel keeps
	data := makeXLSX(t, func(f *excelize.File, sh string) {
		dt22 := style(t, f, &excelize.Style{NumFmt: 22})                                   // m/d/yy hh:mm
		dt14 := style(t, f, &excelize.Style{NumFmt: 14})                                   // date only
		cust := style(t, f, &excelize.Style{CustomNumFmt: strp(`yyyy/m/d h:mm:ss`)})       // custom date
		cn := style(t, f, &excelize.Style{CustomNumFmt: strp(`yyyy"年"m"月"d"日" hh:mm:ss`)}) // Chinese
		two := style(t, f, &excelize.Style{NumFmt: 2})                                     // 0.00
		pct := style(t, f, &excelize.Style{NumFmt: 10})                                    // 0.00%
		txt := style(t, f, &excelize.Style{NumFmt: 49})                                    // @
		dur := style(t, f, &excelize.Style{NumFmt: 46})                                    // [h]:mm:ss
		sci := style(t, f, &excelize.Style{NumFmt: 11})                                    // 0.00E+00

		setRow(t, f, sh, 1, " Case_ID ", "SUBMITTED_AT", "promised_days", "full_online", "ratio", "note", "region_code")
		setRow(t, f, sh, 2, "C1", styled{time.Date(2026, 10, 2, 10, 0, 0, 0, local), dt22}, 5, true, styled{0.5, pct}, "x", 620802)
		setRow(t, f, sh, 3, "C2", styled{46297.99999999, cust}, styled{5, two}, false, 0.1+0.2, nil, "620800")
		// row 4 left out: a gap in the sheet
		setRow(t, f, sh, 5, "  C3  ", styled{time.Date(2026, 10, 2, 0, 0, 0, 0, local), dt14}, styled{0, sci}, 1, styled{1.25, dur})
		setRow(t, f, sh, 6, "C4", styled{time.Date(2026, 9, 30, 23, 59, 59, 0, local), cn}, styled{"3", txt}, "是", -0.000001)
		setRow(t, f, sh, 7, "C5", styled{"2026-10-02 10:00:00", dt22}, styled{12345678, two})
		setRow(t, f, sh, 8, nil, nil, nil, nil, nil, "only an unknown column")
		setRow(t, f, sh, 9, "C6", nil, styled{123456789012, two}, nil, styled{3.14159265358979, two}, nil, styled{620802001, txt})
		if _, err := f.NewSheet("Other"); err != nil {
			t.Fatal(err)
		}
		setRow(t, f, "Other", 1, "case_id")
		setRow(t, f, "Other", 2, "not me")
	})
	r, got, err := readBytes(t, data, XLSX, fields)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, got, []string{
		"2: C1|2026-10-02 10:00:00|5|true|0.5|620802",
		"3: C2|2026-10-03 00:00:00|5|false|0.3|620800",
		"5: C3|2026-10-02 00:00:00|0|1|1.25|",
		"6: C4|2026-09-30 23:59:59|3|是|-0.000001|",
		"7: C5|2026-10-02 10:00:00|12345678|||",
		"8: |||||",
		"9: C6||123456789012||3.14159265358979|620802001",
	})
	if m := r.Missing(); m != nil {
		t.Errorf("Missing() = %q", m)
	}
	if r.Encoding() != "" {
		t.Errorf("Encoding() = %q", r.Encoding())
	}
}

func TestXLSXHeader(t *testing.T) {
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		fill    func(f *excelize.File, sh string)
		want    []string
		missing []string
		err     string
	}{
		{
			name: "empty sheet",
			fill: func(f *excelize.File, sh string) {},
		},
		{
			name:    "header only, missing column",
			fill:    func(f *excelize.File, sh string) { setRow(t, f, sh, 1, "a", "C") },
			missing: []string{"b"},
		},
		{
			name: "header below blank rows",
			fill: func(f *excelize.File, sh string) {
				setRow(t, f, sh, 3, nil, "c", "b", "a")
				setRow(t, f, sh, 4, "ignored", 3, 2, 1)
				setRow(t, f, sh, 6, nil, nil, nil, "z")
			},
			want: []string{"4: 1|2|3", "6: z||"},
		},
		{
			name: "duplicate column",
			fill: func(f *excelize.File, sh string) { setRow(t, f, sh, 1, "a", "b", "B") },
			err:  `duplicate column "B"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, got, err := readBytes(t, makeXLSX(t, tc.fill), XLSX, abc)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
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
		})
	}
}

func TestXLSXOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "items.xlsx")
	data := makeXLSX(t, func(f *excelize.File, sh string) {
		setRow(t, f, sh, 1, "item_code", "visits")
		setRow(t, f, sh, 2, "I0001", 0)
	})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, []string{"item_code", "visits"})
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, readAll(t, r, 2), []string{"2: I0001|0"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Next(); err == nil {
		t.Fatal("Next after Close must fail")
	}
}

func TestXLSXGarbage(t *testing.T) {
	for _, in := range []string{"", "not a zip", "PK\x03\x04garbage"} {
		if _, err := NewReader(strings.NewReader(in), "bad.xlsx", XLSX, []string{"a"}); err == nil || !strings.Contains(err.Error(), "bad.xlsx") {
			t.Errorf("%q: error %v, want one naming the file", in, err)
		}
	}
}

func TestDateFormat(t *testing.T) {
	for code, want := range map[string]bool{
		"General": false, "0.00": false, "0.00E+00": false, "0%": false, "@": false, `"d"0`: false,
		"[Red]0.00": false, "#,##0": false, "[h]:mm:ss": false,
		"yyyy-mm-dd": true, "m/d/yy h:mm": true, "hh:mm:ss": true, `[$-804]yyyy"年"m"月"d"日"`: true,
		`上午/下午h"时"mm"分"`: true, "e/m/d": true, "mmm": true,
	} {
		if got := dateFormat(code); got != want {
			t.Errorf("dateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}
