package filedrop_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/filedrop"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
	"github.com/yiping-ioc/yiping/mapping"
	"github.com/yiping-ioc/yiping/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	dir    string
	eng    *engine.Engine
	runner *collectors.Runner
}

func newFixture(t *testing.T, opts filedrop.Options, m mapping.Config) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.eng = testengine.New(t, "2026-03-31 18:00:00")
	opts.Dir = "drop"
	fd, err := filedrop.New(opts, collectors.Env{Name: "drop", Dir: f.dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := collectors.Config{Location: testkit.Shanghai(t), Sources: []collectors.Source{{Name: "drop", Type: "filedrop", Schedule: "@every 1h", Connector: fd, Mapping: m}}}
	if f.runner, err = collectors.NewRunner(cfg, f.eng, nil, quiet, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, "drop", name) }

func (f *fixture) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(f.path(name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) poll(t *testing.T) collectors.Result {
	t.Helper()
	res, err := f.runner.RunNow(context.Background(), "drop")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// archived returns the archive's file names with the timestamp prefix cut.
func (f *fixture) archived(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(f.path("archive"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		stamp, name, ok := strings.Cut(e.Name(), "_")
		if _, err := time.Parse("20060102T150405.000", stamp); !ok || err != nil {
			t.Errorf("archived file %q has no timestamp prefix", e.Name())
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

const callsCSV = "call_id,region_code,offered_at,answered,wait_seconds\n" +
	"K1,620802,2026-03-02 09:15:00,1,12\n" +
	"K2,620802,2026-03-02 09:16:00,yes,12\n" + // line 3: bad boolean
	"K3,620802,2026-03-02 09:17:00,0,\n" +
	"K4,6208,2026-03-02 09:18:00,0,\n" // line 5: bad region

func TestStableIngestArchive(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	f.write(t, "calls_0302.csv", callsCSV)
	if res := f.poll(t); res.Accepted != 0 || !exists(f.path("calls_0302.csv")) {
		t.Fatalf("first sight of a file ingested it: %+v", res)
	}
	res := f.poll(t)
	if res.Accepted != 2 || res.Rejected != 2 {
		t.Fatalf("result = %+v, want 2 accepted, 2 rejected", res)
	}
	if exists(f.path("calls_0302.csv")) {
		t.Fatal("file left in the drop directory")
	}
	if got := f.archived(t); !slices.Equal(got, []string{"calls_0302.csv", "calls_0302.csv.rejects.csv"}) {
		t.Fatalf("archive = %v", got)
	}
	matches, _ := filepath.Glob(f.path("archive/*.rejects.csv"))
	report := readReport(t, matches[0])
	want := [][]string{{"line", "field", "reason"}, {"3", "answered"}, {"5", "region_code"}}
	if len(report) != 3 {
		t.Fatalf("report = %q", report)
	}
	for i, w := range want {
		if report[i][0] != w[0] || report[i][1] != w[1] || report[i][2] == "" {
			t.Errorf("report line %d = %q, want %q and a reason", i, report[i], w)
		}
	}
	if n := f.eng.Len()[record.KindCall]; n != 2 {
		t.Errorf("engine holds %d calls", n)
	}
	if res := f.poll(t); res.Accepted != 0 {
		t.Errorf("an archived file was read again: %+v", res)
	}
}

func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\uFEFF") {
		t.Error("report has no BOM for Excel")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestGrowingFile: a file still being copied is not read half-way.
func TestGrowingFile(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	lines := strings.SplitAfter(callsCSV, "\n")
	f.write(t, "calls.csv", lines[0]+lines[1])
	f.poll(t)
	fh, err := os.OpenFile(f.path("calls.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(lines[3])
	fh.Close()
	if res := f.poll(t); res.Accepted != 0 {
		t.Fatalf("a growing file was read: %+v", res)
	}
	if res := f.poll(t); res.Accepted != 2 {
		t.Fatalf("the complete file gave %+v, want both rows", res)
	}
}

func TestIgnoredFiles(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	names := []string{"README.txt", ".calls.csv", "~$calls.xlsx", "foo.csv", "calls.csv.part"}
	for _, n := range names {
		f.write(t, n, callsCSV)
	}
	os.Mkdir(f.path("calls_dir.csv"), 0o750)
	f.poll(t)
	f.poll(t)
	for _, n := range names {
		if !exists(f.path(n)) {
			t.Errorf("%s was taken", n)
		}
	}
	if got := f.archived(t); len(got) != 0 {
		t.Errorf("archive = %v", got)
	}
}

func TestUnreadableFile(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	f.write(t, "cases.xlsx", "this is not a workbook")
	f.poll(t)
	res := f.poll(t)
	if res.Rejected != 1 || len(res.Errors) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if got := f.archived(t); !slices.Equal(got, []string{"cases.xlsx", "cases.xlsx.rejects.csv"}) {
		t.Fatalf("archive = %v", got)
	}
	if h := f.runner.Health()[0]; !strings.Contains(h.LastError, "cases.xlsx") {
		t.Errorf("health does not name the file: %+v", h)
	}
}

// TestOrder: of two exports, the older is applied first, so the newer
// version of a record wins.
func TestOrder(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	head := "call_id,region_code,offered_at,answered,wait_seconds\n"
	f.write(t, "calls_a.csv", head+"K1,620802,2026-03-02 09:15:00,1,100\n") // newer
	f.write(t, "calls_b.csv", head+"K1,620802,2026-03-02 09:15:00,1,5\n")   // older
	now := time.Now()
	os.Chtimes(f.path("calls_a.csv"), now, now)
	os.Chtimes(f.path("calls_b.csv"), now.Add(-time.Hour), now.Add(-time.Hour))
	f.poll(t)
	f.poll(t)
	rs, _ := f.eng.Results(engine.Month, false)
	found := false
	for _, r := range rs {
		if r.Indicator == "answer_15s_rate" && r.Region == "620802" {
			found = true
			if r.Numerator != 0 || r.Denominator != 1 {
				t.Fatalf("the older export won: %+v", r)
			}
		}
	}
	if !found {
		t.Fatal("no answer_15s_rate for 620802")
	}
}

// TestCatalog: an items file replaces the catalog; an items file with no
// readable row keeps it.
func TestCatalog(t *testing.T) {
	f := newFixture(t, filedrop.Options{}, nil)
	head := "item_code,region_code,dept_code,online_available,full_online,mobile_available,in_hall,visits,legal_days,promised_days\n"
	f.write(t, "items_1.csv", head+"I1,620802,D,1,1,1,1,0,20,5\nI2,620802,D,1,0,0,1,1,20,10\nI3,620802,D,0,0,0,1,2,,\n")
	f.poll(t)
	f.poll(t)
	if n := f.eng.Len()[record.KindItem]; n != 3 {
		t.Fatalf("catalog has %d items, want 3", n)
	}
	f.write(t, "items_2.csv", head+"I2,620802,D,1,1,1,1,0,20,5\n")
	f.poll(t)
	f.poll(t)
	if n := f.eng.Len()[record.KindItem]; n != 1 {
		t.Fatalf("catalog has %d items after a snapshot of 1, want 1", n)
	}
	f.write(t, "items_3.csv", head+"I9,bad,D,1,1,1,1,0,20,5\n")
	f.poll(t)
	if res := f.poll(t); len(res.Errors) != 1 || f.eng.Len()[record.KindItem] != 1 {
		t.Fatalf("an unreadable catalog replaced the catalog: %+v, %d items", res, f.eng.Len()[record.KindItem])
	}
}

// TestMappedWorkbook drops an XLSX export with Chinese file and column
// names, the way a county bureau sends it.
func TestMappedWorkbook(t *testing.T) {
	m := mapping.Config{"tickets": {
		Columns: map[string]string{"工单编号": "ticket_id", "区划代码": "region_code", "承办单位": "unit_code", "诉求类别": "category",
			"诉求性质": "kind", "来源渠道": "channel", "受理时间": "received_at", "是否直办": "direct"},
		Values: map[string]map[string]string{
			"kind":    {"咨询": "consult", "求助": "help", "投诉": "complaint"},
			"channel": {"电话": "phone", "微信": "wechat"},
		},
		TimeLayouts: []string{"2006/01/02 15:04"},
	}}
	f := newFixture(t, filedrop.Options{Patterns: map[string][]string{"tickets": {"工单*"}}}, m)
	x := excelize.NewFile()
	rows := [][]any{
		{"工单编号", "区划代码", "承办单位", "诉求类别", "诉求性质", "来源渠道", "受理时间", "是否直办"},
		{"T1", "620802", "U1", "户籍", "咨询", "电话", "2026/03/02 09:15", "是"},
		{"T2", "620802", "U2", "供暖", "投诉", "微信", "2026/03/02 10:00", "否"},
		{"T3", "620802", "U2", "供暖", "表扬信", "微信", "2026/03/02 10:00", "否"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.SaveAs(f.path("工单_0302.xlsx")); err != nil {
		t.Fatal(err)
	}
	f.write(t, "tickets.csv", "ticket_id\nX\n") // default pattern replaced: ignored
	f.poll(t)
	res := f.poll(t)
	if res.Accepted != 2 || res.Rejected != 1 {
		t.Fatalf("result = %+v", res)
	}
	if !exists(f.path("tickets.csv")) {
		t.Error("a file outside the configured patterns was taken")
	}
	matches, _ := filepath.Glob(f.path("archive/*.rejects.csv"))
	if len(matches) != 1 {
		t.Fatalf("reports: %v", matches)
	}
	if r := readReport(t, matches[0]); r[1][0] != "4" || r[1][1] != "kind" {
		t.Errorf("report = %q", r)
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []filedrop.Options{
		{},
		{Dir: "x", Patterns: map[string][]string{"case": {"a*"}}},
		{Dir: "x", Patterns: map[string][]string{"cases": {"[a"}}},
		{Dir: "x", Patterns: map[string][]string{"cases": {}}},
	}
	for _, o := range tests {
		if _, err := filedrop.New(o, collectors.Env{Dir: t.TempDir()}); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}
