package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func computeDir(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(append([]string{"compute", "--data", dir}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func copySample(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "sample", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var sampleArgs = []string{"--as-of", "2026-10-09T12:00:00+08:00", "--period", "week", "--by", "dept"}

// TestComputeSameInEveryFormat converts the sample to GBK CSV with CRLF,
// UTF-8 with BOM, JSON lines and XLSX: every form must give the very same
// document as the plain CSV.
func TestComputeSameInEveryFormat(t *testing.T) {
	files := []string{"cases.csv", "evaluations.csv", "tickets.csv", "calls.csv", "items.csv"}
	_, want, _ := computeDir(t, copySample(t, files...), sampleArgs...)
	if !strings.Contains(want, `"results"`) {
		t.Fatal("reference run printed no results")
	}
	convert := map[string]func(t *testing.T, src, dstDir, base string){
		"gbk-crlf": func(t *testing.T, src, dstDir, base string) {
			b, _ := os.ReadFile(src)
			b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
			g, err := simplifiedchinese.GBK.NewEncoder().Bytes(b)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dstDir, base+".csv"), g, 0o644)
		},
		"utf8-bom": func(t *testing.T, src, dstDir, base string) {
			b, _ := os.ReadFile(src)
			os.WriteFile(filepath.Join(dstDir, base+".csv"), append([]byte("\xef\xbb\xbf"), b...), 0o644)
		},
		"jsonl": func(t *testing.T, src, dstDir, base string) {
			rows := readCSV(t, src)
			var buf bytes.Buffer
			for _, r := range rows[1:] {
				obj := map[string]string{}
				for i, h := range rows[0] {
					obj[h] = r[i]
				}
				line, _ := json.Marshal(obj)
				buf.Write(line)
				buf.WriteByte('\n')
			}
			os.WriteFile(filepath.Join(dstDir, base+".jsonl"), buf.Bytes(), 0o644)
		},
		"xlsx": func(t *testing.T, src, dstDir, base string) {
			rows := readCSV(t, src)
			f := excelize.NewFile()
			sw, err := f.NewStreamWriter("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				cells := make([]any, len(r))
				for j, v := range r {
					cells[j] = v
				}
				cell, _ := excelize.CoordinatesToCellName(1, i+1)
				if err := sw.SetRow(cell, cells); err != nil {
					t.Fatal(err)
				}
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := f.SaveAs(filepath.Join(dstDir, base+".xlsx")); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, conv := range convert {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range files {
				conv(t, filepath.Join("testdata", "sample", f), dir, strings.TrimSuffix(f, ".csv"))
			}
			code, got, stderr := computeDir(t, dir, sampleArgs...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got != want {
				t.Errorf("output differs from the plain CSV run (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestComputeReportsBadRows(t *testing.T) {
	dir := t.TempDir()
	cases := "case_id,region_code,dept_code,item_code,channel,full_online,submitted_at,accepted_at,promised_days,closed_at,status,extra\n" +
		"C1,620802,D1,I1,online,1,2026-10-08 09:00:00,2026-10-08 10:00:00,0,2026-10-08 11:00:00,closed,x\n" +
		"C2,62080,D1,I1,online,1,2026-10-08 09:00:00,,0,,submitted,x\n" +
		"C3,620802,D1,I1,fax,1,2026-10-08 09:00:00,,0,,submitted,x\n" +
		"C4,620802,D1,I1,window,0,2026/10/08 09:00:00,,0,,submitted,x\n" +
		"C5,620802,D1,I1,window,0,2026-10-08 09:00:00,,,,submitted,x\n" +
		"C6,620802,D1,I1,window,0\n" +
		"C1,620802,D1,I1,online,1,2026-10-08 09:00:00,2026-10-08 10:00:00,0,,closed,x\n"
	os.WriteFile(filepath.Join(dir, "cases.csv"), []byte(cases), 0o644)
	calls := "call_id,region_code,offered_at\nK1,620100,2026-10-08 09:00:00\n"
	os.WriteFile(filepath.Join(dir, "calls.csv"), []byte(calls), 0o644)
	code, out, stderr := computeDir(t, dir, "--as-of", "2026-10-09 12:00:00", "--period", "day")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitPartial, stderr)
	}
	for _, want := range []string{
		"cases.csv:3: field region_code:",
		"cases.csv:4: field channel:",
		"cases.csv:5: field submitted_at:",
		"cases.csv:6: field promised_days:",
		"cases.csv:7:",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "calls.csv:1: field answered") {
		t.Errorf("optional columns reported as missing: %s", stderr)
	}
	var doc computeDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	// C1's second version (reopened) replaced the first: one case, open,
	// not yet due on the 9th; the bad rows are not counted and their
	// regions do not appear.
	for _, r := range doc.Results {
		if r.Region == "620000" && r.Indicator == "case_volume" && r.Numerator != 0 {
			t.Errorf("case_volume on 10-09 = %v, want 0 (submitted the 8th)", r.Numerator)
		}
	}
}

func TestComputeArguments(t *testing.T) {
	dir := copySample(t, "calls.csv")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"compute"}, exitUsage, "required"},
		{[]string{"compute", "--data", dir, "--as-of", "2026-10-09", "--period", "month"}, exitUsage, "--as-of"},
		{[]string{"compute", "--data", dir, "--as-of", "2026-10-09 12:00:00", "--period", "fortnight"}, exitUsage, "--period"},
		{[]string{"compute", "--data", dir, "--as-of", "2026-10-09 12:00:00", "--period", "day", "--by", "unit"}, exitUsage, "--by"},
		{[]string{"compute", "--data", filepath.Join(dir, "nope"), "--as-of", "2026-10-09 12:00:00", "--period", "day"}, exitUsage, "--data"},
		{[]string{"compute", "--help"}, exitOK, "Usage"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"--help"}, exitOK, "Commands"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := Run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.msg) {
			t.Errorf("%v: exit %d (%s%s), want %d mentioning %q", tc.args, code, out.String(), errb.String(), tc.code, tc.msg)
		}
	}
}

func TestComputeMissingRequiredColumn(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "calls.csv"), []byte("call_id,region_code,answered\nK1,620100,1\nK2,620100,0\n"), 0o644)
	code, out, stderr := computeDir(t, dir, "--as-of", "2026-10-09 12:00:00", "--period", "day")
	if code != exitPartial || !strings.Contains(stderr, "field offered_at: missing required column; all 2 rows skipped") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(out, `"results": [`) {
		t.Errorf("no document printed: %q", out)
	}
}
