package backend

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/yiping-ioc/yiping/store/embedded"
	"github.com/yiping-ioc/yiping/store/influx"
)

func TestApplyEnvOverridesFile(t *testing.T) {
	c := Config{Kind: "embedded", Influx: InfluxSettings{URL: "http://file:8086", Bucket: "file/autogen", Org: "o"}}
	env := map[string]string{"YIPING_STORE": "influxdb", "YIPING_INFLUX_URL": "http://env:8086", "YIPING_INFLUX_TOKEN": "u:p"}
	c.ApplyEnv(func(k string) string { return env[k] })
	want := Config{Kind: "influxdb", Influx: InfluxSettings{URL: "http://env:8086", Token: "u:p", Org: "o", Bucket: "file/autogen"}}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestOpenKinds(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*embedded.Store); !ok {
		t.Fatalf("default kind opened %T", s)
	}
	_ = s.Close()
	// An unreachable server is not an error: points are spooled.
	s, err = Open(ctx, Config{Kind: "influxdb", DataDir: dir, Influx: InfluxSettings{URL: "http://127.0.0.1:1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*influx.Store); !ok {
		t.Fatalf("influxdb kind opened %T", s)
	}
	_ = s.Close()
	if _, err := filepath.Glob(filepath.Join(dir, "influx-spool", "spool.log")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Config{Kind: "influxdb", DataDir: dir}, nil); err == nil {
		t.Fatal("influxdb without a URL opened")
	}
	if _, err := Open(ctx, Config{Kind: "mysql", DataDir: dir}, nil); err == nil {
		t.Fatal("unknown kind opened")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "512KiB": 512 << 10, "64MiB": 64 << 20, "64 MB": 64 << 20, "2GiB": 2 << 30, "1g": 1 << 30, "off": -1, "OFF": -1,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-5", "1.5GiB", "12TiB", "99999999999GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if _, err := Open(context.Background(), Config{DataDir: t.TempDir(), MinFree: "lots"}, nil); err == nil {
		t.Error("Open with a bad min_free")
	}
	c := Config{}
	c.ApplyEnv(func(k string) string { return map[string]string{"YIPING_STORE_MIN_FREE": "1MiB"}[k] })
	if c.MinFree != "1MiB" {
		t.Errorf("YIPING_STORE_MIN_FREE not applied: %+v", c)
	}
}
