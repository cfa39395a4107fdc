package collectors_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/all"
	"github.com/yiping-ioc/yiping/collectors/filedrop"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/record"
)

// TestSamples loads every connector's embedded sample configuration: the
// documentation stays valid.
func TestSamples(t *testing.T) {
	t.Setenv("YIPING_INGEST_TOKEN", "sample-token-0123456789")
	t.Setenv("GS_API_TOKEN", "sample-api-token")
	dir := t.TempDir()
	samples := map[string]string{
		"httppull": httppull.Sample,
		"push":     push.Sample,
		"filedrop": strings.ReplaceAll(filedrop.Sample, "/var/lib/yiping/drop/kongtong", filepath.Join(dir, "drop")),
	}
	for name, doc := range samples {
		t.Run(name, func(t *testing.T) {
			cfg, err := collectors.ParseConfig([]byte(doc), filepath.Join(dir, name+".yaml"), all.Types())
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Sources) != 1 || cfg.Sources[0].Connector == nil || cfg.Sources[0].Type != name {
				t.Fatalf("sources = %+v", cfg.Sources)
			}
		})
	}
}

const full = `
timeout: 2m
retry_backoff: 10s
sources:
  - name: gs-cases
    type: httppull
    schedule: "*/30 * * * * *"
    mapping:
      cases:
        columns: {bjbh: case_id}
        values:
          channel: {网办: online}
    httppull:
      kind: cases
      url: http://127.0.0.1:1/api/cases
      bearer_token: pull-token-AAAA
      headers: {X-App-Key: header-key-BBBB}
  - name: push
    type: push
    push:
      token: push-token-CCCC-0123456789
  - name: drop
    type: filedrop
    schedule: "@every 15s"
    mapping_file: gansu.yaml
    filedrop:
      dir: drop
`

func writeFull(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gansu.yaml"), []byte("tickets:\n  columns: {工单编号: ticket_id}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "collectors.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	path := writeFull(t)
	cfg, err := collectors.LoadConfig(path, all.Types())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 3 || cfg.Timeout.Minutes() != 2 {
		t.Fatalf("config = %+v", cfg)
	}
	if _, ok := cfg.Sources[1].Connector.(collectors.Receiver); !ok {
		t.Error("push source is not a Receiver")
	}
	if o := cfg.Sources[0].Options.(*httppull.Options); o.PageSize != 500 || o.SinceParam != "updated_since" {
		t.Errorf("httppull defaults not applied: %+v", o)
	}
	if m := cfg.Sources[2].Mapping; m["tickets"].Columns["工单编号"] != "ticket_id" {
		t.Errorf("mapping_file not loaded: %+v", m)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "drop", "archive")); err != nil {
		t.Errorf("relative dir not resolved against the config file: %v", err)
	}
	// Loading a printed config gives the same config back (secrets aside).
	if !strings.Contains(cfg.String(), "kind: cases") || !strings.Contains(cfg.String(), "retry_backoff: 10s") {
		t.Errorf("String() =\n%s", cfg)
	}
}

// TestHideConfigSecrets: tokens and headers never show, whether the
// configuration is printed, formatted or logged.
func TestHideConfigSecrets(t *testing.T) {
	cfg, err := collectors.LoadConfig(writeFull(t), all.Types())
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"pull-token-AAAA", "header-key-BBBB", "push-token-CCCC"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "options", cfg.Sources[0].Options, "token", cfg.Sources[1].Options.(*push.Options).Token)
	outputs := map[string]string{
		"String":   cfg.String(),
		"%v":       fmt.Sprintf("%v", cfg.Sources[0].Options),
		"%+v":      fmt.Sprintf("%+v", *cfg.Sources[0].Options.(*httppull.Options)),
		"%#v":      fmt.Sprintf("%#v", cfg.Sources[1].Options.(*push.Options).Token),
		"slog":     logged.String(),
		"JSONtext": string(must(collectors.Secret("x").MarshalJSON())),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows the secret %q:\n%s", name, s, out)
			}
		}
	}
	if n := strings.Count(cfg.String(), "<secret>"); n != 3 {
		t.Errorf("String() shows <secret> %d times, want 3:\n%s", n, cfg)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestConfigErrors: every problem reads "file:line: path: reason", on the
// line of the key at fault, with a did-you-mean for a misspelt name.
func TestConfigErrors(t *testing.T) {
	t.Setenv("YIPING_INGEST_TOKEN", "")
	tests := []struct {
		name string
		doc  string
		want []string // each follows the file name in the error
	}{
		{"unknown top-level key", "sources: []\nretries: 3\n", []string{`:2: retries: unknown key (known: max_backoff, retry_backoff, sources, timeout)`}},
		{"misspelt top-level key", "sources: []\ntimout: 3s\n", []string{`:2: timout: unknown key (did you mean timeout?)`}},
		{"unknown source key", "sources:\n  - name: a\n    type: push\n    shedule: x\n", []string{`:4: sources[0].shedule: unknown key (did you mean schedule?)`}},
		{"misspelt options block", "sources:\n  - name: a\n    type: httppull\n    htppull: {}\n", []string{`:4: sources[0].htppull: unknown key (did you mean httppull?)`}},
		{"unknown option", "sources:\n  - name: a\n    type: httppull\n    schedule: '@every 1s'\n    httppull:\n      kind: cases\n      url: http://x/\n      pagesize: 5\n",
			[]string{`:8: sources[0].httppull.pagesize: unknown key (did you mean page_size?)`}},
		{"block of another type", "sources:\n  - name: a\n    type: push\n    filedrop: {dir: x}\n", []string{`:4: sources[0].filedrop: block "filedrop" does not match the source's type "push"`}},
		{"unknown type", "sources:\n  - {name: a, type: ftp, schedule: '@every 1s'}\n", []string{`:2: sources[0].type: unknown type "ftp" (known: ` + knownTypes() + `)`}},
		{"misspelt type", "sources:\n  - name: a\n    type: httpull\n", []string{`:3: sources[0].type: unknown type "httpull" (did you mean httppull?)`}},
		{"bad schedule", "sources:\n  - name: a\n    type: filedrop\n    schedule: '*/5 * * * *'\n    filedrop: {dir: DIR}\n", []string{`:4: sources[0].schedule: "*/5 * * * *": expected exactly 6 fields`}},
		{"missing schedule", "sources:\n  - {name: a, type: filedrop, filedrop: {dir: DIR}}\n", []string{`:2: sources[0].schedule: required`}},
		{"push with schedule", "sources:\n  - {name: a, type: push, schedule: '@every 1s', push: {token: 0123456789abcdef}}\n", []string{`:2: sources[0].schedule: a push source receives records and is not polled; remove the schedule`}},
		{"push without token", "sources:\n  - {name: a, type: push}\n", []string{`:2: sources[0].push: no token: set token, or the environment variable YIPING_INGEST_TOKEN`}},
		{"duplicate names", "sources:\n  - {name: a, type: push, push: {token: 0123456789abcdef}}\n  - {name: a, type: push, push: {token: 0123456789abcdeg}}\n", []string{`:3: sources[1].name: "a" is used twice (first on line 2)`}},
		{"bad name", "sources:\n  - {name: 'a/b', type: push, push: {token: 0123456789abcdef}}\n", []string{`:2: sources[0].name: "a/b": want letters`}},
		{"mapping error names the key", "sources:\n  - name: a\n    type: push\n    push: {token: 0123456789abcdef}\n    mapping:\n      cases: {values: {channel: {网办: web}}}\n",
			[]string{`:6: sources[0].mapping.cases.values.channel["网办"]: maps to "web"`}},
		{"unknown mapping key", "sources:\n  - name: a\n    type: push\n    mapping:\n      cases: {colums: {}}\n", []string{`:5: sources[0].mapping.cases.colums: unknown key (did you mean columns?)`}},
		{"mapping and mapping_file", "sources:\n  - {name: a, type: push, push: {token: 0123456789abcdef}, mapping_file: m.yaml, mapping: {cases: {}}}\n", []string{`:2: sources[0].mapping_file: give mapping or mapping_file, not both`}},
		{"missing mapping file", "sources:\n  - name: a\n    type: push\n    push: {token: 0123456789abcdef}\n    mapping_file: nowhere.yaml\n", []string{`:5: sources[0].mapping_file: mapping: open `}},
		{"bad option value", "sources:\n  - {name: a, type: httppull, schedule: '@every 1s', httppull: {kind: case, url: 'http://x/'}}\n", []string{`:2: sources[0].httppull: kind "case"`}},
		{"wrong value type", "sources:\n  - name: a\n    type: httppull\n    schedule: '@every 1s'\n    httppull: {kind: cases, url: 'http://x/', page_size: many}\n", []string{`:5: sources[0].httppull.page_size: cannot read the string "many" into int`}},
		{"wrong duration", "timeout: soon\nsources: []\n", []string{`:1: timeout: cannot read the string "soon" into time.Duration`}},
		{"several at once", "retries: 1\nsources:\n  - {name: a, type: push, shedule: x}\n  - {name: b, type: httppull, httppull: {pagesize: 1}}\n",
			[]string{`:1: retries: unknown key`, `:3: sources[0].shedule: unknown key`, `:4: sources[1].httppull.pagesize: unknown key`}},
		{"syntax", "sources:\n  - {name: a\n", []string{`:2: YAML: did not find expected ',' or '}'`}},
		{"empty", "# nothing yet\n", []string{`: empty configuration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			doc := strings.ReplaceAll(tt.doc, "DIR", filepath.Join(dir, "drop"))
			name := filepath.Join(dir, "collectors.yaml")
			_, err := collectors.ParseConfig([]byte(doc), name, all.Types())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), name+w) {
					t.Errorf("error\n%v\ndoes not contain\n%s%s", err, name, w)
				}
			}
		})
	}
}

// TestMappingFileErrors: a problem in a source's mapping file is reported
// at its own file and line.
func TestMappingFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gansu.yaml"), []byte("cases:\n  columns:\n    办件编号: case_idd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "sources:\n  - {name: a, type: push, push: {token: 0123456789abcdef}, mapping_file: gansu.yaml}\n"
	_, err := collectors.ParseConfig([]byte(doc), filepath.Join(dir, "collectors.yaml"), all.Types())
	want := filepath.Join(dir, "gansu.yaml") + `:3: cases.columns["办件编号"]: "case_idd" is not a field of cases (did you mean case_id?)`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n%v\nwant\n%s", err, want)
	}
}

// TestProgrammaticSource: a source can be built in code, without a file.
func TestProgrammaticSource(t *testing.T) {
	p, err := push.New(push.Options{Token: "0123456789abcdef"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := collectors.Config{Sources: []collectors.Source{{Name: "push", Type: "push", Connector: p}}}
	r, err := collectors.NewRunner(cfg, nopSink{}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Health(); len(h) != 1 || h[0].Source != "push" {
		t.Fatalf("health = %+v", h)
	}
}

type nopSink struct{}

func (nopSink) UpsertCases([]record.Case)             {}
func (nopSink) UpsertEvaluations([]record.Evaluation) {}
func (nopSink) UpsertTickets([]record.Ticket)         {}
func (nopSink) UpsertCalls([]record.Call)             {}
func (nopSink) UpsertItems([]record.Item)             {}

// TestJSONConfig: a JSON document, tab-indented as editors write it, is
// read like YAML.
func TestJSONConfig(t *testing.T) {
	doc := "{\n\t\"timeout\": \"2m\",\n\t\"sources\": [\n\t\t{\n\t\t\t\"name\": \"p\",\n\t\t\t\"type\": \"push\",\n" +
		"\t\t\t\"push\": {\"token\": \"0123456789abcdef\"},\n\t\t\t\"mapping\": {\"cases\": {\"columns\": {\"办件编号\": \"case_id\"}}}\n\t\t}\n\t]\n}\n"
	cfg, err := collectors.ParseConfig([]byte(doc), filepath.Join(t.TempDir(), "collectors.json"), all.Types())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout.Minutes() != 2 || len(cfg.Sources) != 1 || cfg.Sources[0].Mapping["cases"].Columns["办件编号"] != "case_id" {
		t.Fatalf("config = %+v", cfg)
	}
}

// knownTypes is the sorted list of registered connector types, as the
// loader names them: adding a connector changes it without a test edit.
func knownTypes() string {
	var names []string
	for name := range all.Types() {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
