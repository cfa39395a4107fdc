package recordio

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// The benchmarks read a generated export shaped like the sample cases.csv:
// 11 columns, ~120 bytes a row, timestamps in the three forms the platform
// writes, 1% of rows quoted.
//
//	go test ./recordio -run '^$' -bench . -benchtime 5x
var caseFields = []string{"case_id", "region_code", "dept_code", "item_code", "channel", "full_online",
	"submitted_at", "accepted_at", "promised_days", "closed_at", "status"}

const benchRows = 1_000_000

var (
	benchOnce  sync.Once
	benchDir   string
	benchFiles = map[string]string{}
)

func benchFile(b *testing.B, kind string) string {
	b.Helper()
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "recordio-bench")
		if err != nil {
			panic(err)
		}
		benchDir = dir
		for _, kind := range []string{"utf8", "gbk", "jsonl"} {
			benchFiles[kind] = writeBenchFile(dir, kind)
		}
	})
	return benchFiles[kind]
}

// TestMain removes the generated files.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func writeBenchFile(dir, kind string) string {
	ext := ".csv"
	if kind == "jsonl" {
		ext = ".jsonl"
	}
	path := filepath.Join(dir, kind+ext)
	fh, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	var w io.Writer = fh
	if kind == "gbk" {
		w = simplifiedchinese.GBK.NewEncoder().Writer(fh)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	ts := func() string {
		t := base.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		switch rng.IntN(3) {
		case 0:
			return t.Format("2006-01-02 15:04:05")
		case 1:
			return t.UTC().Format(time.RFC3339)
		}
		return t.Format("2006-01-02T15:04:05.999999Z07:00")
	}
	channels := []string{"online", "mobile", "window", "self_service"}
	statuses := []string{"submitted", "accepted", "closed", "rejected", "withdrawn"}
	if kind != "jsonl" {
		bw.WriteString(strings.Join(caseFields, ",") + "\r\n")
	}
	for i := range benchRows {
		item := fmt.Sprintf("I%04d", rng.IntN(300))
		if kind == "gbk" && i%10 == 0 {
			item = "事项" + item // some non-ASCII rows
		} else if rng.IntN(100) == 0 {
			item = `"` + item + `, ""special"""` // Excel quotes only when needed
		}
		rec := []string{
			fmt.Sprintf("C1-%d", i), fmt.Sprintf("6201%02d", rng.IntN(30)), fmt.Sprintf("D%03d", rng.IntN(40)),
			item, channels[rng.IntN(4)], fmt.Sprint(rng.IntN(2)), ts(), ts(), fmt.Sprint(rng.IntN(20)), ts(),
			statuses[rng.IntN(5)],
		}
		if kind == "jsonl" {
			var sb strings.Builder
			sb.WriteByte('{')
			for j, f := range caseFields {
				if j > 0 {
					sb.WriteByte(',')
				}
				v := rec[j]
				if f == "promised_days" || f == "full_online" {
					fmt.Fprintf(&sb, "%q:%s", f, v)
				} else {
					fmt.Fprintf(&sb, "%q:%q", f, strings.Trim(v, `"`))
				}
			}
			sb.WriteString("}\n")
			bw.WriteString(sb.String())
			continue
		}
		bw.WriteString(strings.Join(rec, ",") + "\r\n")
	}
	if err := bw.Flush(); err != nil {
		panic(err)
	}
	if c, ok := w.(io.Closer); ok && w != io.Writer(fh) {
		c.Close()
	}
	fh.Close()
	return path
}

var sink int

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRead reads the whole file b.N times with read, which returns the
// number of rows, and reports rows/s, MB/s and allocations per row. The
// values are consumed (their lengths summed) so that nothing is optimised
// away; the strings are the caller's to keep as they are, so keeping them
// would cost nothing more.
func benchRead(b *testing.B, path string, read func(path string) int) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	rows := 0
	b.ResetTimer()
	for range b.N {
		rows += read(path)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	if rows != b.N*benchRows {
		b.Fatalf("read %d rows, want %d", rows, b.N*benchRows)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	// The machine may be shared; CPU time (all threads, GC included) says
	// what a row costs whatever else is running.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(rows), "B/row")
}

func readWithReader(b *testing.B) func(string) int {
	return func(path string) int {
		r, err := Open(path, caseFields)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
			for _, v := range row.Values {
				sink += len(v)
			}
			n++
		}
	}
}

func BenchmarkCSV(b *testing.B) {
	benchRead(b, benchFile(b, "utf8"), readWithReader(b))
}

func BenchmarkCSVGBK(b *testing.B) {
	benchRead(b, benchFile(b, "gbk"), readWithReader(b))
}

func BenchmarkJSONL(b *testing.B) {
	benchRead(b, benchFile(b, "jsonl"), readWithReader(b))
}

// BenchmarkXLSX reads a 20,000-row workbook written with excelize's stream
// writer (XLSX is the slow format: excelize parses XML through
// encoding/xml).
func BenchmarkXLSX(b *testing.B) {
	const rows = 20_000
	path := filepath.Join(b.TempDir(), "cases.xlsx")
	f := excelize.NewFile()
	dt, _ := f.NewStyle(&excelize.Style{NumFmt: 22})
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	header := make([]any, len(caseFields))
	for i, h := range caseFields {
		header[i] = h
	}
	sw.SetRow("A1", header)
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	for i := range rows {
		ts := excelize.Cell{StyleID: dt, Value: t0.Add(time.Duration(i) * time.Minute)}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("C1-%d", i), 620102, "D001", "I0001", "online", 1, ts, ts, 5, ts, "closed"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	read := readWithReader(b)
	b.ResetTimer()
	n := 0
	for range b.N {
		n += read(path)
	}
	if n != b.N*rows {
		b.Fatalf("%d rows, want %d", n, b.N*rows)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSVEncodingCSV is the alternative that was measured against the
// hand-written scanner: encoding/csv with ReuseRecord, plus the same column
// mapping, UTF-8 check and trimming the Reader does.
func BenchmarkCSVEncodingCSV(b *testing.B) {
	benchRead(b, benchFile(b, "utf8"), func(path string) int {
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		cr := csv.NewReader(bufio.NewReaderSize(fh, sniffSize))
		cr.ReuseRecord = true
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if err != nil {
			b.Fatal(err)
		}
		keys, _ := fieldKeys(caseFields)
		colField, _, err := mapHeader(header, caseFields, keys)
		if err != nil {
			b.Fatal(err)
		}
		values := make([]string, len(caseFields))
		n := 0
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(rec) != len(header) {
				b.Fatal("column count")
			}
			for c, f := range colField {
				if f >= 0 {
					if !utf8.ValidString(rec[c]) {
						b.Fatal("bad UTF-8")
					}
					values[f] = strings.TrimSpace(rec[c])
				}
			}
			for _, v := range values {
				sink += len(v)
			}
			n++
		}
	})
}
