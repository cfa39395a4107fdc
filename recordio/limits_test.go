package recordio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/recordio/recordiotest"
)

// readLimited opens data under lim and reads it to the end, returning every
// outcome and the fatal error, if any.
func readLimited(t *testing.T, lim Limits, data []byte, f Format, fields []string) (got []string, err error) {
	t.Helper()
	r, err := lim.NewReader(bytes.NewReader(data), "t."+f.String(), f, fields)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return got, nil
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			return got, err
		}
		got = append(got, outcome(row, err))
	}
}

// TestXLSXZipBombs: a workbook of a few MB whose shared strings or sheet
// inflate to hundreds of MB or GBs is refused, naming the limit, before
// excelize inflates it; it costs a few MB of allocation where it took a
// minute and gigabytes.
func TestXLSXZipBombs(t *testing.T) {
	strings1, oneRow, emptyRows := recordiotest.SharedStrings, recordiotest.OneRow, recordiotest.EmptyRows
	noRatio := Limits{MaxInflateRatio: 1 << 30}
	tests := []struct {
		name  string
		lim   Limits
		bomb  recordiotest.Bomb
		limit string // named in the error
	}{
		{"1 GiB of shared strings", Limits{}, strings1(1 << 30), "max_unzip_bytes"},
		{"2 GiB sheet", Limits{}, oneRow(2 << 30), "max_unzip_bytes"},
		{"300 MB of shared strings", Limits{}, strings1(300 << 20), "max_inflate_ratio"},
		{"300 MB sheet of one row", Limits{}, oneRow(300 << 20), "max_inflate_ratio"},
		{"300 MB sheet of empty rows", Limits{}, emptyRows(300 << 20), "max_inflate_ratio"},
		// With the ratio check off, the other checks still hold.
		{"100 MB of shared strings, no ratio", noRatio, strings1(100 << 20), "max_unzip_bytes"},
		{"300 MB sheet of one row, no ratio", noRatio, oneRow(300 << 20), "max_row_bytes"},
		{"300 MB sheet of empty rows, no ratio", noRatio, emptyRows(300 << 20), "max_xlsx_rows"},
		{"a small max_unzip_bytes", Limits{MaxUnzipBytes: 16 << 20}, strings1(20 << 20), "max_unzip_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := bombXLSX(t, tc.bomb)
			var err error
			n := allocated(func() { _, err = readLimited(t, tc.lim, data, XLSX, []string{"a", "b"}) })
			t.Logf("%d KiB of zip: %v; %d KiB allocated", len(data)>>10, err, n>>10)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit || !strings.Contains(err.Error(), tc.limit) {
				t.Fatalf("error %v, want a *LimitError naming %s", err, tc.limit)
			}
			// The zip itself is read twice (a copy for excelize would be a
			// third); inflating is bounded by the scan's 64 KiB buffer.
			if limit := 4*uint64(len(data)) + 4<<20; n > limit {
				t.Errorf("%d KiB allocated, want at most %d KiB", n>>10, limit>>10)
			}
		})
	}
}

// TestXLSXLimitsOnRealWorkbook: the limits apply to ordinary workbooks too,
// and a workbook within them reads as before.
func TestXLSXLimitsOnRealWorkbook(t *testing.T) {
	data := seedXLSX(t) // a header and two data rows (rows 1, 2 and 4)
	fields := []string{"a", "c"}
	if got, err := readLimited(t, Limits{MaxXLSXRows: 4, MaxRowBytes: 4 << 10}, data, XLSX, fields); err != nil || len(got) != 2 {
		t.Fatalf("within the limits: %q, %v", got, err)
	}
	tests := []struct {
		lim   Limits
		limit string
	}{
		{Limits{MaxXLSXRows: 2}, "max_xlsx_rows"}, // three row elements
		{Limits{MaxXLSXRows: 3}, "max_xlsx_rows"}, // the last is numbered 4
		{Limits{MaxRowBytes: 40}, "max_row_bytes"},
		{Limits{MaxUnzipBytes: int64(len(data)) - 1}, "max_unzip_bytes"}, // the file itself
		{Limits{MaxUnzipBytes: int64(len(data)) + 1}, "max_unzip_bytes"}, // what it unzips to
	}
	for _, tc := range tests {
		_, err := readLimited(t, tc.lim, data, XLSX, fields)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != tc.limit {
			t.Errorf("%+v: error %v, want one naming %s", tc.lim, err, tc.limit)
		}
	}
	// A row numbered beyond the limit, which the scan does not see (it
	// counts row elements), stops the reading at the limit.
	parts := unzipParts(t, data)
	far := withSheet(t, parts, []byte(`<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>a</t></is></c></row>`+
		`<row r="100"><c t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>`))
	got, err := readLimited(t, Limits{MaxXLSXRows: 50}, far, XLSX, fields)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "max_xlsx_rows" || le.Line != 51 {
		t.Errorf("row 100 of 50: %q, %v", got, err)
	}
}

// TestLongRowsSmallLimit: the limit is the caller's, and a header over it
// makes the file unreadable.
func TestLongRowsSmallLimit(t *testing.T) {
	lim := Limits{MaxRowBytes: 8}
	got, err := readLimited(t, lim, []byte("a,b,c\n1,2,3\n123,456,789\n\"1\n2\n3\",4,5\n1,2,3\n"), CSV, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, got, []string{"2: 1", "3: error: row longer than max_row_bytes (8 bytes); skipped", "4: 1\n2\n3", "7: 1"})
	if _, err := lim.NewReader(strings.NewReader("aaaa,bbbb,cccc\n"), "h.csv", CSV, []string{"a"}); err == nil ||
		!strings.Contains(err.Error(), "header (line 1): row longer than max_row_bytes") {
		t.Errorf("long header: %v", err)
	}
}
