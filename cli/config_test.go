package cli

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "yiping.yaml")
	os.WriteFile(path, []byte(`addr: ":9000"
data_dir: /var/lib/yiping
demo: false
collectors: sources.yaml
dashboards: screens
targets: /etc/yiping/targets.yaml
bulletins: bulletins.yaml
history_every: 30s
store:
  kind: influxdb
  influxdb:
    url: http://127.0.0.1:8086
    token: from-file
    bucket: yiping/autogen
`), 0o644)
	file, err := loadServeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, o serveOptions)
	}{
		{"file over defaults", nil, nil, func(t *testing.T, o serveOptions) {
			if o.addr != ":9000" || o.dataDir != "/var/lib/yiping" || o.demo || o.historyEvery != 30*time.Second ||
				o.collectorsFile != filepath.Join(dir, "sources.yaml") || o.store.Kind != "influxdb" || o.store.Influx.Token != "from-file" {
				t.Errorf("%+v", o)
			}
			// Relative paths are beside the config file.
			if o.dashboardsDir != filepath.Join(dir, "screens") || o.targetsFile != "/etc/yiping/targets.yaml" {
				t.Errorf("dashboards %q targets %q", o.dashboardsDir, o.targetsFile)
			}
			if o.bulletinsFile != filepath.Join(dir, "bulletins.yaml") {
				t.Errorf("bulletins %q", o.bulletinsFile)
			}
			if o.store.DataDir != "/var/lib/yiping" {
				t.Errorf("store data dir %q", o.store.DataDir)
			}
		}},
		{"env over file", nil, map[string]string{"YIPING_ADDR": ":9100", "YIPING_DEMO": "1", "YIPING_INFLUX_TOKEN": "from-env", "YIPING_STORE": "embedded"}, func(t *testing.T, o serveOptions) {
			if o.addr != ":9100" || !o.demo || o.store.Influx.Token != "from-env" || o.store.Kind != "embedded" || o.store.Influx.URL != "http://127.0.0.1:8086" {
				t.Errorf("%+v", o)
			}
		}},
		{"flag over env", []string{"--addr", ":9200", "--demo=false", "--dashboards", "flagdir"}, map[string]string{"YIPING_ADDR": ":9100", "YIPING_DEMO": "1", "YIPING_DASHBOARDS": "envdir", "YIPING_TARGETS": "env.yaml"}, func(t *testing.T, o serveOptions) {
			if o.addr != ":9200" || o.demo || o.dashboardsDir != "flagdir" || o.targetsFile != "env.yaml" {
				t.Errorf("%+v", o)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o := serveOptions{}
			fs.StringVar(&o.addr, "addr", ":8080", "")
			fs.StringVar(&o.dataDir, "data-dir", "./data", "")
			fs.StringVar(&o.tz, "tz", "Asia/Shanghai", "")
			fs.StringVar(&o.collectorsFile, "collectors", "", "")
			fs.StringVar(&o.dashboardsDir, "dashboards", "", "")
			fs.StringVar(&o.targetsFile, "targets", "", "")
			fs.BoolVar(&o.demo, "demo", true, "")
			fs.DurationVar(&o.historyEvery, "history-every", 10*time.Second, "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			st, err := resolve(fs, &o, file, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			o.store = st
			tc.check(t, o)
		})
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("addr: \":9000\"\nstore:\n  kind: influxdb\n  influx_url: x\n"), 0o644)
	_, err := loadServeFile(path)
	if want := path + ":4: store.influx_url: unknown key (known: data_dir, influxdb, kind"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unknown key error = %v, want %q", err, want)
	}
	var out, errb strings.Builder
	if code := Run([]string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "missing.yaml") {
		t.Errorf("missing config: exit %d %s", code, errb.String())
	}
	// A bad screen or targets file stops the start, naming file and line.
	os.WriteFile(filepath.Join(dir, "screen.yaml"), []byte("kind: screen\nid: mine\nregion: \"620100\"\nwidgets:\n  - {type: tiles, at: [0, 100, 800, 200], indicators: [answer_rat]}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "targets.yaml"), []byte("levels:\n  city:\n    answer_rate: {target: 0.9, floor: 0.95}\n"), 0o644)
	// A bulletins file: a misspelt key, and a receiver the rules do not
	// define (the built-in rules define none).
	bdir := t.TempDir()
	os.WriteFile(filepath.Join(bdir, "bulletins.yaml"), []byte("bulletins:\n  - name: m\n    type: monthly\n    regions: [\"620000\"]\n    at: \"09:00\"\n    workdy: 3\n"), 0o644)
	os.WriteFile(filepath.Join(bdir, "bulletins2.yaml"), []byte("bulletins:\n  - name: m\n    type: monthly\n    regions: [\"620000\"]\n    at: \"09:00\"\n    workday: 3\n    receivers: [province-duty]\n"), 0o644)
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--bulletins", filepath.Join(bdir, "bulletins.yaml")}, []string{"bulletins.yaml:6", "did you mean workday"}},
		{[]string{"--bulletins", filepath.Join(bdir, "bulletins2.yaml")}, []string{"bulletins2.yaml:7", `unknown receiver \"province-duty\"`}},
		{[]string{"--dashboards", dir}, []string{"screen.yaml:5", "answer_rat"}},
		{[]string{"--targets", filepath.Join(dir, "targets.yaml")}, []string{"targets.yaml:3", "floor"}},
	} {
		errb.Reset()
		log := filepath.Join(t.TempDir(), "data")
		code := Run(append([]string{"serve", "--demo=false", "--addr", "127.0.0.1:0", "--data-dir", log}, tc.args...), &out, &errb)
		for _, w := range tc.want {
			if code != exitFailure || !strings.Contains(errb.String(), w) {
				t.Errorf("serve %v: exit %d, stderr %s; want %q", tc.args, code, errb.String(), w)
			}
		}
	}
	t.Setenv("YIPING_DEMO", "maybe")
	if code := Run([]string{"serve"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "YIPING_DEMO") {
		t.Errorf("bad YIPING_DEMO: exit %d %s", code, errb.String())
	}
}
