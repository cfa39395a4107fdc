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
