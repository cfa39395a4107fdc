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
//	YIPING_STORE_MIN_FREE free space the embedded store leaves on its disk
//	                      (default 64MiB; bytes or KiB/MiB/GiB, "off")
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
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
	// MinFree is the free space the embedded store leaves on its disk
	// (embedded.Config.MinFreeBytes): "64MiB" (the default when empty),
	// a number of bytes, KiB, MiB or GiB, or "off".
	MinFree string `json:"min_free" yaml:"min_free" toml:"min_free"`
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
	set(&c.MinFree, "YIPING_STORE_MIN_FREE")
}

// ParseSize reads a size in bytes: a number, optionally followed by B,
// KiB, MiB or GiB (KB, MB and GB are taken as the same). "off" gives -1.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "off") {
		return -1, nil
	}
	num := strings.TrimRightFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	mult := map[string]int64{"": 1, "b": 1, "kib": 1 << 10, "kb": 1 << 10, "k": 1 << 10,
		"mib": 1 << 20, "mb": 1 << 20, "m": 1 << 20, "gib": 1 << 30, "gb": 1 << 30, "g": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || mult == 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: want bytes, or a number of KiB, MiB or GiB (64MiB), or off", s)
	}
	return n * mult, nil
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
		cfg := embedded.Config{Dir: filepath.Join(dir, "store"), Logger: logger}
		if c.MinFree != "" {
			n, err := ParseSize(c.MinFree)
			if err != nil {
				return nil, fmt.Errorf("backend: min_free (YIPING_STORE_MIN_FREE): %w", err)
			}
			cfg.MinFreeBytes = n
			if n == 0 {
				cfg.MinFreeBytes = -1 // 0 means the default in embedded.Config
			}
		}
		return embedded.Open(ctx, cfg)
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
