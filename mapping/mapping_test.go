package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// gansu is a mapping in the shape a provincial platform needs.
const gansu = `
cases:
  columns:
    办件编号: case_id
    行政区划: region_code
    部门编码: dept_code
    事项编码: item_code
    办理渠道: channel
    是否全程网办: full_online
    申请时间: submitted_at
    受理时间: accepted_at
    承诺时限: promised_days
    办结时间: closed_at
    办件状态: status
  values:
    channel: {网办: online, 窗口: window, 掌上办: mobile, 自助: self_service}
    status: {已提交: submitted, 已受理: accepted, 已办结: closed, 不予受理: rejected, 撤件: withdrawn}
  time_layouts: ["2006/01/02 15:04", "2006/01/02 15:04:05", "20060102150405"]
  times:
    closed_at: ["2006/01/02 15:04", "2006-01-02T15:04:05Z07:00"]
tickets:
  time_zone: Asia/Urumqi
  time_layouts: ["2006/01/02 15:04"]
  defaults:
    region_code: "620802"
calls:
  times:
    offered_at: [unix_ms]
`

func mustCompile(t *testing.T, doc string) *Mapping {
	t.Helper()
	m, _, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSourceFields(t *testing.T) {
	m := mustCompile(t, gansu)
	got := m.Kind(record.KindCase).SourceFields()
	want := []string{"办件编号", "行政区划", "部门编码", "事项编码", "办理渠道", "是否全程网办", "申请时间", "受理时间", "承诺时限", "办结时间", "办件状态"}
	if !slices.Equal(got, want) {
		t.Errorf("cases source fields = %q, want %q", got, want)
	}
	if got := m.Kind(record.KindEvaluation).SourceFields(); !slices.Equal(got, record.KindEvaluation.Fields()) {
		t.Errorf("unmapped kind reads %q, want canonical names", got)
	}
	if !m.Kind(record.KindEvaluation).Identity() || m.Kind(record.KindCase).Identity() {
		t.Error("identity flags wrong")
	}
}

func TestApply(t *testing.T) {
	m := mustCompile(t, gansu)
	tests := []struct {
		name      string
		kind      record.Kind
		in        []string
		want      []string
		wantField string // error expected on this field
	}{
		{
			name: "values and local layouts",
			kind: record.KindCase,
			in:   []string{"GS1", "620802", "D1", "I1", "网办", "是", "2026/03/02 09:15", "2026/03/02 10:00:30", "5", "2026/03/05 16:00", "已办结"},
			want: []string{"GS1", "620802", "D1", "I1", "online", "是", "2026-03-02 09:15:00", "2026-03-02 10:00:30", "5", "2026-03-05 16:00:00", "closed"},
		},
		{
			name: "compact layout, empty stays null, field override with offset",
			kind: record.KindCase,
			in:   []string{"GS2", "620802", "", "", "窗口", "", "20260302091500", "", "0", "2026-03-05T16:00:00+08:00", "撤件"},
			want: []string{"GS2", "620802", "", "", "window", "", "2026-03-02 09:15:00", "", "0", "2026-03-05T16:00:00+08:00", "withdrawn"},
		},
		{
			name: "canonical values pass through",
			kind: record.KindCase,
			in:   []string{"GS3", "620802", "", "", "mobile", "1", "2026-03-02 09:15:00", "2026-03-02T09:15:00Z", "0", "", "accepted"},
			want: []string{"GS3", "620802", "", "", "mobile", "1", "2026-03-02 09:15:00", "2026-03-02T09:15:00Z", "0", "", "accepted"},
		},
		{
			name: "unknown value is left for the parser",
			kind: record.KindCase,
			in:   []string{"GS4", "620802", "", "", "邮寄", "", "2026/03/02 09:15", "", "0", "", "已提交"},
			want: []string{"GS4", "620802", "", "", "邮寄", "", "2026-03-02 09:15:00", "", "0", "", "submitted"},
		},
		{
			name:      "time matching no layout",
			kind:      record.KindCase,
			in:        []string{"GS5", "620802", "", "", "网办", "", "03/02/2026", "", "0", "", "已提交"},
			wantField: "submitted_at",
		},
		{
			name: "source zone becomes an offset; default fills the region",
			kind: record.KindTicket,
			in:   []string{"T1", "", "U1", "户籍", "consult", "phone", "2026/03/02 09:15", "1", "", "", "", ""},
			want: []string{"T1", "620802", "U1", "户籍", "consult", "phone", "2026-03-02T09:15:00+06:00", "1", "", "", "", ""},
		},
		{
			name: "epoch milliseconds",
			kind: record.KindCall,
			in:   []string{"K1", "620802", "1772414100000", "1", "12"},
			want: []string{"K1", "620802", "2026-03-02T01:15:00Z", "1", "12"},
		},
		{
			name: "identity kind copies",
			kind: record.KindItem,
			in:   []string{"I1", "620000", "D", "是", "否", "1", "0", "0", "20", "5"},
			want: []string{"I1", "620000", "D", "是", "否", "1", "0", "0", "20", "5"},
		},
	}
	p := record.NewParser(testkit.Shanghai(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Kind(tt.kind).Apply(nil, tt.in)
			if tt.wantField != "" {
				var fe *record.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("Apply error = %v, want a field error on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Apply =\n %q\nwant\n %q", got, tt.want)
			}
			if tt.name == "unknown value is left for the parser" {
				if _, err := p.Case(got); err == nil || !strings.Contains(err.Error(), "channel") {
					t.Errorf("parser accepted %q: %v", got, err)
				}
			}
		})
	}
}

func TestApplyReusesDst(t *testing.T) {
	m := mustCompile(t, gansu)
	k := m.Kind(record.KindCall)
	dst := make([]string, 0, 8)
	in := []string{"K1", "620802", "1772414100000", "1", "12"}
	got, _ := k.Apply(dst, in)
	if &got[0] != &dst[:1][0] {
		t.Error("Apply did not reuse dst")
	}
	if _, err := k.Apply(nil, in[:3]); err == nil {
		t.Error("Apply accepted a short row")
	}
	allocs := testing.AllocsPerRun(100, func() {
		got, _ = m.Kind(record.KindEvaluation).Apply(got, []string{"E", "", "620000", "", "online", "5", "2026-03-02 09:00:00", ""})
	})
	if allocs > 0 {
		t.Errorf("identity Apply allocates %.0f times", allocs)
	}
}

// TestCompileErrors: every problem is "file:line: path: reason", on the
// line of the key that holds it.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error, each with its line and key
	}{
		{"unknown kind", `case: {}`, []string{`m.yaml:1: "case": unknown record kind (did you mean cases?)`}},
		{"unknown kind far", "\nfoo: {}", []string{`m.yaml:2: "foo": unknown record kind (known: cases, evaluations, tickets, calls, items)`}},
		{"unknown target", `cases: {columns: {办件编号: case_idd}}`, []string{`m.yaml:1: cases.columns["办件编号"]: "case_idd" is not a field of cases (did you mean case_id?)`}},
		{"unknown target on its line", "cases:\n  columns:\n    编号: case_id\n    区划: regin_code\n", []string{`m.yaml:4: cases.columns["区划"]: "regin_code" is not a field of cases (did you mean region_code?)`}},
		{"value on its line", "cases:\n  values:\n    channel:\n      网办: online\n      窗口: windw\n", []string{`m.yaml:5: cases.values.channel["窗口"]: maps to "windw"`}},
		{"layout in a list", "cases:\n  times:\n    closed_at:\n      - 2006/01/02 15:04\n      - 2006\n", []string{`m.yaml:5: cases.times.closed_at[1]: layout "2006" does not keep`}},
		{"unknown key", "cases:\n  colums: {a: case_id}\n", []string{`m.yaml:2: cases.colums: unknown key (did you mean columns?)`}},
		{"wrong type", "calls:\n  time_layouts: unix\n", []string{`m.yaml:2: calls.time_layouts: cannot read the string "unix" into []string`}},
		{"two columns one field", `cases: {columns: {编号: case_id, 办件编号: case_id}}`, []string{`cases.columns["编号"]: field case_id is already mapped from column "办件编号"`}},
		{"column clash", `cases: {columns: {region_code: dept_code}}`, []string{`cases.columns: column "region_code" would be read for both region_code and dept_code; map region_code`}},
		{"bad value target", `cases: {values: {channel: {网办: onlin}}}`, []string{`cases.values.channel["网办"]: maps to "onlin", which the channel field does not accept: unknown value "onlin"`}},
		{"bad value field", `tickets: {values: {chanel: {电话: phone}}}`, []string{`tickets.values.chanel: "chanel" is not a field of tickets`}},
		{"bool target", `items: {values: {in_hall: {Y: "yes"}}}`, []string{`items.values.in_hall["Y"]: maps to "yes"`}},
		{"date-only layout", `cases: {time_layouts: ["2006-01-02"]}`, []string{`cases.time_layouts[0]: layout "2006-01-02" does not keep the date and time`}},
		{"times on non-time field", `cases: {times: {status: ["2006-01-02 15:04"]}}`, []string{`cases.times.status: status is not a time field`}},
		{"bad zone", `calls: {time_zone: Mars/Olympus, time_layouts: ["2006/01/02 15:04"]}`, []string{`calls.time_zone: unknown zone "Mars/Olympus"`}},
		{"zone without layouts", `calls: {time_zone: Asia/Urumqi}`, []string{`calls.time_zone: has no effect`}},
		{"bad default", `cases: {defaults: {region_code: "62"}}`, []string{`cases.defaults.region_code: "62" is not accepted by the region_code field`}},
		{"several at once", `{cases: {columns: {a: b}}, calls: {defaults: {answered: maybe}}}`, []string{`cases.columns["a"]`, `calls.defaults.answered`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse("m.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("Parse accepted a bad config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

// TestCompileKeys: a Config built in code has no lines; Compile's errors
// still name the key.
func TestCompileKeys(t *testing.T) {
	_, err := Compile(Config{"case": {}, "calls": {Defaults: map[string]string{"answerd": "1"}}})
	want := `"case": unknown record kind (did you mean cases?)` + "\n" +
		`calls.defaults.answerd: "answerd" is not a field of calls (did you mean answered?)`
	if err == nil || err.Error() != want {
		t.Fatalf("Compile error\n%v\nwant\n%s", err, want)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "gansu.yaml")
	if err := os.WriteFile(good, []byte(gansu), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, cfg, err := LoadFile(good); err != nil || len(cfg) != 3 {
		t.Fatalf("LoadFile(good) = %v, %d kinds", err, len(cfg))
	}
	tests := []struct{ name, doc, want string }{
		{"unknown key is an error", "cases:\n  colums: {a: case_id}\n", ":2: cases.colums: unknown key (did you mean columns?)"},
		{"compile error names the file", "cases:\n  columns: {a: nope}\n", `:2: cases.columns["a"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadFile(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadFile error = %v, want the path and %q", err, tt.want)
			}
		})
	}
}

// TestParsedTimes checks the end-to-end meaning of converted times: what
// the parser reads from the mapping's output is the instant the source
// meant.
func TestParsedTimes(t *testing.T) {
	sh := testkit.Shanghai(t)
	m := mustCompile(t, gansu)
	p := record.NewParser(sh)
	row, err := m.Kind(record.KindTicket).Apply(nil, []string{"T1", "", "", "", "consult", "phone", "2026/03/02 09:15", "", "2026/03/02 10:00", "", "", ""})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.Ticket(row)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 2, 9, 15, 0, 0, mustLoc(t, "Asia/Urumqi"))
	if got := time.Unix(0, tk.Received); !got.Equal(want) {
		t.Errorf("received = %v, want %v", got, want)
	}
	row, err = m.Kind(record.KindCase).Apply(nil, []string{"C", "620802", "", "", "网办", "", "2026/03/02 09:15", "", "1", "", "已提交"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Case(row)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := time.Unix(0, c.Submitted), time.Date(2026, 3, 2, 9, 15, 0, 0, sh); !got.Equal(want) {
		t.Errorf("submitted = %v, want %v (business zone)", got, want)
	}
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
