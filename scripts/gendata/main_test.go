package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

var files = []string{"cases", "evaluations", "tickets", "calls", "items"}

func generate(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(append([]string{"--out", dir, "--quiet"}, args...), &stderr); err != nil {
		t.Fatalf("gendata %v: %v\n%s", args, err, stderr.String())
	}
	return dir
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// ---------------------------------------------------------------- a minimal SPEC.md section 3/4 reader

var (
	reTS     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})| \d{2}:\d{2}:\d{2})$`)
	reRegion = regexp.MustCompile(`^(\d{6}|\d{9})$`)
	reInt    = regexp.MustCompile(`^\d+$`)
)

type fieldKind int

const (
	kText fieldKind = iota
	kID
	kRegion
	kTime    // optional timestamp
	kTimeReq // required timestamp
	kBool
	kInt
	kIntReq
	kEnum
	kEnumOpt
)

type field struct {
	name  string
	kind  fieldKind
	enums []string
}

var schema = map[string][]field{
	"cases": {{"case_id", kID, nil}, {"region_code", kRegion, nil}, {"dept_code", kText, nil}, {"item_code", kText, nil},
		{"channel", kEnum, []string{"online", "mobile", "window", "self_service"}}, {"full_online", kBool, nil},
		{"submitted_at", kTimeReq, nil}, {"accepted_at", kTime, nil}, {"promised_days", kIntReq, nil}, {"closed_at", kTime, nil},
		{"status", kEnum, []string{"submitted", "accepted", "closed", "rejected", "withdrawn"}}},
	"evaluations": {{"eval_id", kID, nil}, {"case_id", kText, nil}, {"region_code", kRegion, nil}, {"dept_code", kText, nil},
		{"channel", kEnum, []string{"online", "mobile", "window", "self_service"}}, {"score", kEnum, []string{"1", "2", "3", "4", "5"}},
		{"evaluated_at", kTimeReq, nil}, {"rectified_at", kTime, nil}},
	"tickets": {{"ticket_id", kID, nil}, {"region_code", kRegion, nil}, {"unit_code", kText, nil}, {"category", kText, nil},
		{"kind", kEnum, []string{"consult", "help", "complaint", "report", "suggestion", "praise"}},
		{"channel", kEnum, []string{"phone", "web", "wechat", "app", "message_board", "other"}},
		{"received_at", kTimeReq, nil}, {"direct", kBool, nil}, {"assigned_at", kTime, nil}, {"deadline_days", kInt, nil},
		{"closed_at", kTime, nil}, {"callback", kEnumOpt, []string{"satisfied", "basic", "unsatisfied", "unreachable"}}},
	"calls": {{"call_id", kID, nil}, {"region_code", kRegion, nil}, {"offered_at", kTimeReq, nil}, {"answered", kBool, nil},
		{"wait_seconds", kInt, nil}},
	"items": {{"item_code", kID, nil}, {"region_code", kRegion, nil}, {"dept_code", kText, nil}, {"online_available", kBool, nil},
		{"full_online", kBool, nil}, {"mobile_available", kBool, nil}, {"in_hall", kBool, nil}, {"visits", kIntReq, nil},
		{"legal_days", kInt, nil}, {"promised_days", kInt, nil}},
}

// rowProblem returns why a row is bad by the SPEC rules, or "".
func rowProblem(file string, row []string) string {
	fs := schema[file]
	if len(row) != len(fs) {
		return fmt.Sprintf("%d fields, want %d", len(row), len(fs))
	}
	for i, f := range fs {
		v := row[i]
		bad := false
		switch f.kind {
		case kID:
			bad = v == ""
		case kRegion:
			bad = !reRegion.MatchString(v)
		case kTimeReq:
			bad = !reTS.MatchString(v)
		case kTime:
			bad = v != "" && !reTS.MatchString(v)
		case kBool:
			bad = v != "" && v != "1" && v != "0" && v != "true" && v != "false" && v != "是" && v != "否"
		case kInt:
			bad = v != "" && !reInt.MatchString(v)
		case kIntReq:
			bad = !reInt.MatchString(v)
		case kEnum, kEnumOpt:
			bad = !(f.kind == kEnumOpt && v == "")
			for _, e := range f.enums {
				if v == e {
					bad = false
				}
			}
		}
		if bad {
			return fmt.Sprintf("%s %q", f.name, v)
		}
	}
	return ""
}

// ---------------------------------------------------------------- tests

func TestHeadersCountsAndValidity(t *testing.T) {
	const n = 3000
	dir := generate(t, "--cases", strconv.Itoa(n), "--seed", "7", "--from", "2026-09-01", "--to", "2026-10-31")
	want := map[string]int{"cases": n, "evaluations": n / 2, "tickets": 821, "calls": 1642, "items": 2000}
	for _, name := range files {
		rows := readCSV(t, filepath.Join(dir, name+".csv"))
		var header []string
		for _, f := range schema[name] {
			header = append(header, f.name)
		}
		if got := strings.Join(rows[0], ","); got != strings.Join(header, ",") {
			t.Errorf("%s header = %s", name, got)
		}
		ids := map[string]bool{}
		for i, row := range rows[1:] {
			if p := rowProblem(name, row); p != "" {
				t.Errorf("%s.csv:%d: bad row with --bad-rate 0: %s", name, i+2, p)
				break
			}
			ids[row[0]] = true
		}
		if len(ids) != want[name] {
			t.Errorf("%s: %d distinct ids, want %d", name, len(ids), want[name])
		}
		if name != "calls" {
			if dups := len(rows) - 1 - len(ids); dups == 0 || dups > want[name]/20 {
				t.Errorf("%s: %d repeated ids, want about 1%%", name, dups)
			}
		}
	}
}

func TestRecordsAreConsistent(t *testing.T) {
	dir := generate(t, "--cases", "5000", "--from", "2026-09-01", "--to", "2026-10-31")
	rows := readCSV(t, filepath.Join(dir, "cases.csv"))
	last := map[string][]string{}
	for _, r := range rows[1:] {
		last[r[0]] = r
	}
	statuses := map[string]int{}
	forms := map[string]int{}
	for _, r := range last {
		st := r[10]
		statuses[st]++
		acc, clo := r[7], r[9]
		switch st {
		case "closed":
			if clo == "" || acc == "" {
				t.Fatalf("closed case without times: %v", r)
			}
		case "accepted":
			if clo != "" || acc == "" {
				t.Fatalf("accepted case: %v", r)
			}
		case "submitted":
			if acc != "" || clo != "" {
				t.Fatalf("submitted case: %v", r)
			}
		}
		for _, ts := range []string{r[6], acc, clo} {
			switch {
			case ts == "":
			case strings.HasSuffix(ts, "Z"):
				forms["Z"]++
			case strings.HasSuffix(ts, "+08:00"):
				forms["+08:00"]++
			case strings.Contains(ts, " "):
				forms["local"]++
			}
			if ts != "" && (ts < "2026-08-31" || ts > "2026-11-01") {
				t.Fatalf("time %s outside the export", ts)
			}
		}
	}
	for _, st := range []string{"submitted", "accepted", "closed", "rejected", "withdrawn"} {
		if statuses[st] == 0 {
			t.Errorf("no %s case: %v", st, statuses)
		}
	}
	if statuses["closed"] < len(last)*7/10 {
		t.Errorf("too few closed cases: %v", statuses)
	}
	for _, f := range []string{"Z", "+08:00", "local"} {
		if forms[f] == 0 {
			t.Errorf("no %s timestamps: %v", f, forms)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := generate(t, "--cases", "2000", "--seed", "42", "--bad-rate", "0.01")
	b := generate(t, "--cases", "2000", "--seed", "42", "--bad-rate", "0.01")
	c := generate(t, "--cases", "2000", "--seed", "43", "--bad-rate", "0.01")
	for _, name := range files {
		fa, _ := os.ReadFile(filepath.Join(a, name+".csv"))
		fb, _ := os.ReadFile(filepath.Join(b, name+".csv"))
		fc, _ := os.ReadFile(filepath.Join(c, name+".csv"))
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs for the same seed", name)
		}
		if bytes.Equal(fa, fc) {
			t.Errorf("%s is the same for another seed", name)
		}
	}
}

func TestBadRows(t *testing.T) {
	dir := generate(t, "--cases", "4000", "--bad-rate", "0.05")
	for _, name := range files {
		rows := readCSV(t, filepath.Join(dir, name+".csv"))
		bad := 0
		for _, r := range rows[1:] {
			if rowProblem(name, r) != "" {
				bad++
			}
		}
		n := len(rows) - 1
		if bad < n/50 || bad > n/10 {
			t.Errorf("%s: %d bad rows of %d with --bad-rate 0.05", name, bad, n)
		}
	}
}

func TestJSONLinesAndGBK(t *testing.T) {
	dir := generate(t, "--cases", "500", "--format", "jsonl")
	data, err := os.ReadFile(filepath.Join(dir, "tickets.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("tickets.jsonl:%d: %v: %s", i+1, err, l)
		}
		if len(m) != len(schema["tickets"]) || m["ticket_id"] == nil {
			t.Fatalf("tickets.jsonl:%d: %v", i+1, m)
		}
	}

	dir = generate(t, "--cases", "500", "--encoding", "gbk")
	raw, err := os.ReadFile(filepath.Join(dir, "tickets.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("劳动社保")) {
		t.Fatal("GBK file holds UTF-8 text")
	}
	utf, err := io.ReadAll(simplifiedchinese.GBK.NewDecoder().Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range categories {
		found = found || bytes.Contains(utf, []byte(","+c+","))
	}
	if !found {
		t.Fatal("no category after decoding GBK")
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--cases", "10"},
		{"--out", t.TempDir()},
		{"--out", t.TempDir(), "--cases", "10", "--format", "xml"},
		{"--out", t.TempDir(), "--cases", "10", "--from", "2026/01/01"},
		{"--out", t.TempDir(), "--cases", "10", "--province", "620100"},
		{"--out", t.TempDir(), "--cases", "10", "--format", "jsonl", "--encoding", "gbk"},
	} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestTimestampFormatting(t *testing.T) {
	// 2026-03-02T09:15:00.123456+08:00
	ts := int64(1772414100)*second + 123456
	for form, want := range map[uint8]string{
		tsOffsetMicro: "2026-03-02T09:15:00.123456+08:00",
		tsOffset:      "2026-03-02T09:15:00+08:00",
		tsZ:           "2026-03-02T01:15:00Z",
		tsZMilli:      "2026-03-02T01:15:00.123Z",
		tsLocal:       "2026-03-02 09:15:00",
		tsBadSlash:    "2026/03/02 09:15:00",
		tsBadNoZone:   "2026-03-02T09:15:00",
		tsBadBareDay:  "2026-03-02",
	} {
		if got := string(appendTS(nil, ts, form)); got != want {
			t.Errorf("form %d: %s, want %s", form, got, want)
		}
	}
	// approxDeadline: Friday 2026-03-06 10:00 + 1 weekday -> start of Tuesday 2026-03-10
	fri := int64(1772762400) * second
	if got := string(appendTS(nil, approxDeadline(fri, 1), tsOffset)); got != "2026-03-10T00:00:00+08:00" {
		t.Errorf("approxDeadline = %s", got)
	}
	if got := string(appendTS(nil, approxDeadline(fri, 0), tsOffset)); got != "2026-03-07T00:00:00+08:00" {
		t.Errorf("approxDeadline(0) = %s", got)
	}
}
