package push_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/recordio/recordiotest"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// moderateSheet is a sheet of size bytes that compresses about 45 times:
// over the default of 16 times the body, under the zip-bomb ratio of 100.
func moderateSheet(size int) []byte {
	var b strings.Builder
	b.WriteString(`<worksheet><sheetData>`)
	filler := strings.Repeat(`<c t="inlineStr"><is><t>城乡建设/住房保障/公租房</t></is></c>`, 6)
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>C%d</t></is></c>%s</row>`, i, i, i, filler)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return []byte(b.String())
}

func workbook(t *testing.T, build func() ([]byte, error)) string {
	t.Helper()
	data, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestXLSXLimits posts XLSX zip bombs and workbooks over the configured
// limits: each is answered 413 at once with a sentence naming the limit,
// nothing is stored, and the request allocates a few times the body, not
// what the workbook would unzip to (a 1 GiB bomb took a minute and GBs).
func TestXLSXLimits(t *testing.T) {
	sheet := moderateSheet(2 << 20)
	tests := []struct {
		name  string
		opts  push.Options
		body  string
		limit string
	}{
		{"1 GiB of shared strings", push.Options{}, workbook(t, recordiotest.SharedStrings(1<<30).XLSX), "max_unzip_bytes"},
		{"2 GiB sheet", push.Options{}, workbook(t, recordiotest.OneRow(2<<30).XLSX), "max_unzip_bytes"},
		{"300 MiB sheet of one row", push.Options{}, workbook(t, recordiotest.OneRow(300<<20).XLSX), "max_inflate_ratio"},
		{"300 MiB of shared strings", push.Options{}, workbook(t, recordiotest.SharedStrings(300<<20).XLSX), "max_inflate_ratio"},
		{"300 MiB sheet of empty rows", push.Options{}, workbook(t, recordiotest.EmptyRows(300<<20).XLSX), "max_inflate_ratio"},
		// 16 × a 64 KiB body is 1 MiB; the sheet is 2 MiB in 50 KiB.
		{"default max_unzip_bytes", push.Options{MaxBodyBytes: 64 << 10},
			workbook(t, func() ([]byte, error) { return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", sheet) }), "max_unzip_bytes"},
		{"max_unzip_bytes", push.Options{MaxUnzipBytes: 1 << 20},
			workbook(t, func() ([]byte, error) { return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", sheet) }), "max_unzip_bytes"},
		{"max_xlsx_rows", push.Options{MaxXLSXRows: 1000},
			workbook(t, func() ([]byte, error) { return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", sheet) }), "max_xlsx_rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts, nil)
			var r reply
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r = f.post(t, "/api/ingest/cases", xlsxType, "Bearer "+token, tc.body)
			runtime.ReadMemStats(&after)
			n := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d KiB body: %d %s; %d KiB allocated", len(tc.body)>>10, r.status, r.err, n>>10)
			if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.err, tc.limit) {
				t.Fatalf("status %d %q, want 413 naming %s", r.status, r.err, tc.limit)
			}
			if limit := 16*uint64(len(tc.body)) + 16<<20; n > limit {
				t.Errorf("%d KiB allocated for a %d KiB body, want at most %d KiB", n>>10, len(tc.body)>>10, limit>>10)
			}
			if got := f.eng.Len(); got != [record.NumKinds]int{} {
				t.Errorf("stored %v", got)
			}
		})
	}
	// The moderate workbook itself is fine under the default limits (its
	// sheet has no case columns, so every row is rejected, but read).
	f := newFixture(t, push.Options{}, nil)
	body := workbook(t, func() ([]byte, error) { return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", sheet) })
	if r := f.post(t, "/api/ingest/cases", xlsxType, "Bearer "+token, body); r.status != http.StatusOK || r.answer.Rejected == 0 {
		t.Errorf("a workbook within the limits: %d %q %+v", r.status, r.err, r.answer)
	}
}
