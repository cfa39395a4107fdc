// Package backend opens the configured store: the embedded one by default,
// InfluxDB when asked. It is the one place that knows both implementations.
//
// Configuration comes from the config file (Config, with json/yaml/toml
// tags) and is overridden by the environment (ApplyEnv):
//
//	YIPING_STORE          embedded (default) or influxdb
//	YIPING_INFLUX_URL     e.g. http://127.0.0.1:8086
//	YIPING_INFLUX_TOKEN   API token (2.x), user:password (1.8 with auth), or empty
//	YIPING_INFLUX_ORG     organization (2.x; ignored by 1.8)
//	YIPING_INFLUX_BUCKET  bucket (2.x) or database/retention-policy (1.8)
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/embedded"
	"github.com/yiping-ioc/yiping/store/influx"
)

// Kinds of store.
const (
	KindEmbedded = "embedded"
	KindInfluxDB = "influxdb"
)

// Config selects and configures the store.
type Config struct {
	// Kind is KindEmbedded (default, also for "") or KindInfluxDB.
	Kind string `json:"kind" yaml:"kind" toml:"kind"`
	// DataDir holds the embedded database (DataDir/store) and the InfluxDB
	// spool (DataDir/influx-spool). Default "data".
	DataDir string         `json:"data_dir" yaml:"data_dir" toml:"data_dir"`
	Influx  InfluxSettings `json:"influxdb" yaml:"influxdb" toml:"influxdb"`
}

// InfluxSettings are the connection settings of the InfluxDB store.
type InfluxSettings struct {
	URL    string `json:"url" yaml:"url" toml:"url"`
	Token  string `json:"token" yaml:"token" toml:"token"`
	Org    string `json:"org" yaml:"org" toml:"org"`
	Bucket string `json:"bucket" yaml:"bucket" toml:"bucket"`
}

// ApplyEnv overrides c with the YIPING_STORE and YIPING_INFLUX_* variables
// that are set (non-empty). getenv is os.Getenv outside tests.
func (c *Config) ApplyEnv(getenv func(string) string) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Kind, "YIPING_STORE")
	set(&c.Influx.URL, "YIPING_INFLUX_URL")
	set(&c.Influx.Token, "YIPING_INFLUX_TOKEN")
	set(&c.Influx.Org, "YIPING_INFLUX_ORG")
	set(&c.Influx.Bucket, "YIPING_INFLUX_BUCKET")
}

// Open opens the configured store. logger may be nil (slog.Default()).
func Open(ctx context.Context, c Config, logger *slog.Logger) (store.Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	dir := c.DataDir
	if dir == "" {
		dir = "data"
	}
	switch strings.ToLower(strings.TrimSpace(c.Kind)) {
	case "", KindEmbedded:
		return embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dir, "store"), Logger: logger})
	case KindInfluxDB, "influx":
		if c.Influx.URL == "" {
			return nil, fmt.Errorf("backend: YIPING_STORE=influxdb needs YIPING_INFLUX_URL (or influxdb.url in the config file)")
		}
		return influx.Open(ctx, influx.Config{
			URL: c.Influx.URL, Token: c.Influx.Token, Org: c.Influx.Org, Bucket: c.Influx.Bucket,
			SpoolDir: filepath.Join(dir, "influx-spool"), Logger: logger,
		})
	}
	return nil, fmt.Errorf("backend: unknown store kind %q (want %q or %q)", c.Kind, KindEmbedded, KindInfluxDB)
}
