package console

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/yiping-ioc/yiping/engine"
)

// TestExportCSV: golden file of the sample's ranking export, BOM, CRLF,
// Chinese headers, the RFC 5987 file name, and rows equal to the API.
func TestExportCSV(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	for _, tc := range []struct{ name, query string }{
		{"export-on_time_rate-province.csv", "indicator=on_time_rate&period=month&region=620000&" + asOfQ},
		{"export-overdue_open-depts.csv", "indicator=overdue_open&period=month&region=620100&by=dept&" + asOfQ},
		{"export-composite-province.csv", "indicator=composite&period=month&region=620000&" + asOfQ},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b, hdr := get(t, app, "/api/export/ranking.csv?"+tc.query)
			if code != 200 {
				t.Fatalf("%d %s", code, b)
			}
			if !bytes.HasPrefix(b, []byte("\uFEFF")) || !bytes.Contains(b, []byte("\r\n")) {
				t.Error("CSV lacks the UTF-8 BOM or CRLF line ends")
			}
			cd := hdr.Get("Content-Disposition")
			if !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, "filename*=UTF-8''") {
				t.Errorf("Content-Disposition %q", cd)
			}
			_, enc, _ := strings.Cut(cd, "filename*=UTF-8''")
			if name, err := url.PathUnescape(enc); err != nil || !strings.HasSuffix(name, ".csv") || !strings.Contains(name, "甘肃省") && !strings.Contains(name, "兰州市") {
				t.Errorf("UTF-8 file name %q (%v)", name, err)
			}
			golden(t, tc.name, b)
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			checkRowsEqualAPI(t, app, tc.query, recs, false)
		})
	}
}

// checkRowsEqualAPI compares an export's rows (as strings; CSV text or
// the XLSX's raw values) with the API answer for the same view.
func checkRowsEqualAPI(t *testing.T, a *fiber.App, query string, recs [][]string, raw bool) {
	t.Helper()
	if strings.Contains(query, "indicator=composite") {
		var r compositeJSON
		getJSON(t, a, "/api/composite?"+strings.Replace(query, "indicator=composite&", "", 1), &r)
		if recs[0][0] != "排名" || recs[0][5] != "综合指数" || recs[0][6] != "等次" {
			t.Errorf("headers %q", recs[0])
		}
		if len(recs) != len(r.Rows)+2 {
			t.Fatalf("%d records for %d rows", len(recs), len(r.Rows))
		}
		for i, x := range r.Rows {
			rec := recs[i+1]
			if rec[1] != x.Unit || rec[2] != x.Name || rec[0] != rankOrDash(x.Rank) || !sameNum(rec[5], x.Score, 1, raw) || rec[6] != tierOrDash(x.Tier) {
				t.Errorf("row %d = %q, API %s %s %v %v %s", i, rec[:7], x.Unit, x.Name, rankOrDash(x.Rank), deref(x.Score), x.Tier)
			}
		}
		return
	}
	// The status words of the export, written out here rather than taken
	// from the code under test.
	wantStatusZH := map[string]string{"green": "达标", "amber": "预警", "red": "落后", "": "—"}
	var r rankingJSON
	getJSON(t, a, "/api/ranking?"+query, &r)
	wantHead := []string{"排名", "地区代码", "地区", "指标", "周期", "截至", "值", "分子", "分母", "状态", "目标值"}
	if r.By == "dept" {
		wantHead[1], wantHead[2] = "部门代码", "部门"
	}
	if got := recs[0][:len(wantHead)]; strings.Join(got, ",") != strings.Join(wantHead, ",") {
		t.Errorf("headers %q, want %q", got, wantHead)
	}
	if len(recs) != len(r.Rows)+2 {
		t.Fatalf("%d records for %d rows", len(recs), len(r.Rows))
	}
	for i, x := range append(r.Rows, r.Total) {
		rec := recs[i+1]
		rank := rankOrDash(x.Rank)
		if i == len(r.Rows) {
			rank = "本级合计"
		}
		if rec[0] != rank || rec[1] != x.Unit || rec[2] != x.Name || rec[3] != r.Indicator.Name ||
			!sameInt(rec[7], x.Numerator) || !sameInt(rec[8], x.Denominator) || !sameValue(rec[6], x.Value, r.Indicator.Rate, raw) ||
			rec[9] != wantStatusZH[x.Status.String()] {
			t.Errorf("row %d = %q, API %+v", i, rec, x)
		}
	}
}

func tierOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func rankOrDash(r *int) string {
	if r == nil {
		return "—"
	}
	return strconv.Itoa(*r)
}

// sameInt compares an exported integer ("—" or empty for null).
func sameInt(s string, v *int64) bool {
	if v == nil {
		return s == "—" || s == ""
	}
	return s == strconv.FormatInt(*v, 10)
}

// sameValue compares an exported indicator value: counts are integers.
func sameValue(s string, v *float64, rate, raw bool) bool {
	if !rate && v != nil {
		n := int64(*v)
		return sameInt(s, &n)
	}
	return sameNum(s, v, 1, raw)
}

// sameNum compares an exported number: CSV text as the page shows it (2
// decimals, "%" for rates), or a raw XLSX value (the number itself).
func sameNum(s string, v *float64, scale float64, raw bool) bool {
	if v == nil {
		return s == "—" || s == ""
	}
	if !raw {
		if pct, ok := strings.CutSuffix(s, "%"); ok {
			return pct == strconv.FormatFloat(*v*100, 'f', 2, 64)
		}
		return s == strconv.FormatFloat(*v*scale, 'f', 2, 64)
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && abs(f-*v) <= 1e-12*abs(*v)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestExportXLSX: the workbook holds the same rows as the API, numbers as
// numbers (rates as fractions), nulls as empty cells.
func TestExportXLSX(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	for _, q := range []string{
		"indicator=on_time_rate&period=month&region=620000&" + asOfQ,
		"indicator=case_volume&period=day&region=620100&level=township&" + asOfQ,
		"indicator=composite&period=month&region=620000&" + asOfQ,
	} {
		code, b, hdr := get(t, app, "/api/export/ranking.xlsx?"+q)
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		if !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") || !strings.Contains(hdr.Get("Content-Disposition"), ".xlsx") {
			t.Errorf("headers %v", hdr)
		}
		recs := readXLSX(t, b)
		checkRowsEqualAPI(t, app, q, recs, true)
	}
}

// readXLSX returns the first sheet's raw cell values.
func readXLSX(t testing.TB, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	width := len(rows[0])
	for i := range rows {
		for len(rows[i]) < width {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// TestDefuse: text that a spreadsheet would read as a formula gets a
// leading quote; anything else is left alone.
func TestDefuse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://evil","x")`, `'=HYPERLINK("http://evil","x")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"民政厅", "民政厅"},
		{"620100", "620100"},
		{"a=b", "a=b"},
		{"", ""},
		{"—", "—"},
	} {
		if got := defuse(tc.in); got != tc.want {
			t.Errorf("defuse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestExportCSVDefusesFormulas: department codes that start like a
// formula (they come from the platforms and the push intake) are written
// to the CSV export as text, while numbers stay numbers; the XLSX export
// writes them as text cells as they are.
func TestExportCSVDefusesFormulas(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	hostile := []string{`=HYPERLINK("http://evil","x")`, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"}
	live := &fakeLive{now: now.UnixNano(), rs: []engine.Result{rateResult("on_time_rate", "620000", 9, 10)}}
	for i, d := range hostile {
		r := rateResult("on_time_rate", "620000", int64(i), 10)
		r.Dept = d
		live.rs = append(live.rs, r)
	}
	app := fakeConsole(t, live, &fakeHistory{}, now)
	q := "indicator=on_time_rate&region=620000&by=dept"
	code, b, _ := get(t, app, "/api/export/ranking.csv?"+q)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range recs[1 : len(recs)-1] {
		code, name := rec[1], rec[2]
		if !strings.HasPrefix(code, "'") || name != code {
			t.Errorf("department cells %q, %q: want a leading quote", code, name)
		}
		seen[strings.TrimPrefix(code, "'")] = true
		if _, err := strconv.ParseFloat(strings.TrimSuffix(rec[6], "%"), 64); err != nil {
			t.Errorf("value %q is no longer a number", rec[6])
		}
	}
	for _, d := range hostile {
		// encoding/csv's CRLF mode drops a carriage return inside a field.
		if d = strings.ReplaceAll(d, "\r", ""); !seen[d] {
			t.Errorf("department %q missing from the export", d)
		}
	}
	code, b, _ = get(t, app, "/api/export/ranking.xlsx?"+q)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	rows := readXLSX(t, b)
	var cells []string
	for _, r := range rows[1 : len(rows)-1] {
		cells = append(cells, r[1])
	}
	slices.Sort(cells)
	want := slices.Clone(hostile)
	slices.Sort(want)
	if !slices.Equal(cells, want) {
		t.Errorf("XLSX department cells %q, want %q as they are", cells, want)
	}
}
