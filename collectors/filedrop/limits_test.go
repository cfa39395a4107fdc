package filedrop_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/collectors/filedrop"
	"github.com/yiping-ioc/yiping/recordio/recordiotest"
)

// TestXLSXOverLimits: an XLSX zip bomb, or a workbook over the source's
// limits, is archived unread with a report naming the limit, at once (it
// used to be inflated: a minute and gigabytes), and not retried.
func TestXLSXOverLimits(t *testing.T) {
	var sheet strings.Builder
	sheet.WriteString(`<worksheet><sheetData>`)
	for range 100 {
		sheet.WriteString(`<row><c t="inlineStr"><is><t>x</t></is></c></row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	tests := []struct {
		name  string
		opts  filedrop.Options
		build func() ([]byte, error)
		limit string
	}{
		{"1 GiB of shared strings", filedrop.Options{}, recordiotest.SharedStrings(1 << 30).XLSX, "max_unzip_bytes"},
		{"300 MiB sheet", filedrop.Options{}, recordiotest.OneRow(300 << 20).XLSX, "max_inflate_ratio"},
		{"max_unzip_bytes", filedrop.Options{MaxUnzipBytes: 1 << 20}, recordiotest.SharedStrings(2 << 20).XLSX, "max_unzip_bytes"},
		{"max_xlsx_rows", filedrop.Options{MaxXLSXRows: 50}, func() ([]byte, error) {
			return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", []byte(sheet.String()))
		}, "max_xlsx_rows"},
		// Row numbers are only seen while reading: the rows before stay.
		{"a row numbered beyond max_xlsx_rows", filedrop.Options{MaxXLSXRows: 50}, func() ([]byte, error) {
			return recordiotest.WithPart(nil, "xl/worksheets/sheet1.xml", []byte(`<worksheet><sheetData>`+
				`<row r="1"><c r="A1" t="inlineStr"><is><t>case_id</t></is></c></row>`+
				`<row r="1000"><c r="A1000" t="inlineStr"><is><t>C1</t></is></c></row></sheetData></worksheet>`))
		}, "max_xlsx_rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, tc.opts, nil)
			if err := os.WriteFile(f.path("cases_bomb.xlsx"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			f.poll(t)
			res := f.poll(t)
			if res.Rejected != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), tc.limit) {
				t.Fatalf("result = %+v, want one rejected file naming %s", res, tc.limit)
			}
			if got := f.archived(t); !slices.Equal(got, []string{"cases_bomb.xlsx", "cases_bomb.xlsx.rejects.csv"}) {
				t.Fatalf("archive = %v", got)
			}
			ents, _ := os.ReadDir(f.path("archive"))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".rejects.csv") {
					rep := readReport(t, f.path("archive/"+e.Name()))
					if len(rep) != 2 || !strings.Contains(rep[1][2], tc.limit) {
						t.Errorf("report %q does not name %s", rep, tc.limit)
					}
				}
			}
			if h := f.runner.Health()[0]; !strings.Contains(h.LastError, "cases_bomb.xlsx") || !strings.Contains(h.LastError, tc.limit) {
				t.Errorf("health does not name the file and the limit: %+v", h)
			}
		})
	}
}
