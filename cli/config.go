package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/store/backend"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// serveFile is the serve configuration file (YAML, or JSON): the same
// settings as the flags and environment variables, for deployments that
// keep configuration in one place. Precedence: an explicit flag, then the
// environment, then the file, then the default.
type serveFile struct {
	Addr         string         `yaml:"addr"`
	DataDir      string         `yaml:"data_dir"`
	TZ           string         `yaml:"tz"`
	Demo         *bool          `yaml:"demo"`
	Collectors   string         `yaml:"collectors"`
	HistoryEvery time.Duration  `yaml:"history_every"`
	Dashboards   string         `yaml:"dashboards"`
	Targets      string         `yaml:"targets"`
	Rules        string         `yaml:"rules"`
	Bulletins    string         `yaml:"bulletins"`
	Store        backend.Config `yaml:"store"`
	// Access: the PostgreSQL DSN of users, sessions, tokens and audit
	// (default SQLite in data_dir), the allowed browser origins and the
	// trusted reverse proxies.
	AccessDSN      string   `yaml:"access_dsn"`
	AllowedOrigins []string `yaml:"allowed_origins"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Cluster (docs/CLUSTER.md): the NATS URL, this node's name, the
	// leader's lease.
	NATS      string        `yaml:"nats"`
	Node      string        `yaml:"node"`
	Advertise string        `yaml:"advertise"`
	LeaseTTL  time.Duration `yaml:"lease_ttl"`
}

// loadServeFile reads the file strictly: an unknown key is an error naming
// the file, line and key with a did-you-mean, so a misspelt setting is
// never silently ignored.
func loadServeFile(path string) (serveFile, error) {
	var f serveFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("config: %w", err)
	}
	if err := yamlconf.DecodeFile(path, b, &f); err != nil {
		return f, fmt.Errorf("config: %w", err)
	}
	// Files named in the config are found beside it.
	for _, p := range []*string{&f.Collectors, &f.Dashboards, &f.Targets, &f.Rules, &f.Bulletins} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(path), *p)
		}
	}
	return f, nil
}

// resolve fills o and the store settings from, in order of precedence, the
// flags the user set, the environment, the file and the defaults already in
// o.
func resolve(fs *flag.FlagSet, o *serveOptions, f serveFile, getenv func(string) string) (backend.Config, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	str := func(dst *string, flagName, env, file string) {
		switch {
		case set[flagName]:
		case getenv(env) != "":
			*dst = getenv(env)
		case file != "":
			*dst = file
		}
	}
	str(&o.addr, "addr", "YIPING_ADDR", f.Addr)
	str(&o.dataDir, "data-dir", "YIPING_DATA_DIR", f.DataDir)
	str(&o.tz, "tz", "YIPING_TZ", f.TZ)
	str(&o.collectorsFile, "collectors", "YIPING_COLLECTORS", f.Collectors)
	str(&o.dashboardsDir, "dashboards", "YIPING_DASHBOARDS", f.Dashboards)
	str(&o.targetsFile, "targets", "YIPING_TARGETS", f.Targets)
	str(&o.rulesFile, "rules", "YIPING_RULES", f.Rules)
	str(&o.bulletinsFile, "bulletins", "YIPING_BULLETINS", f.Bulletins)
	str(&o.accessDSN, "access-dsn", "YIPING_ACCESS_DSN", f.AccessDSN)
	str(&o.nats, "nats", "YIPING_NATS", f.NATS)
	str(&o.node, "node", "YIPING_NODE", f.Node)
	str(&o.advertise, "advertise", "YIPING_ADVERTISE", f.Advertise)
	list := func(dst *string, flagName, env string, file []string) {
		switch {
		case set[flagName]:
		case getenv(env) != "":
			*dst = getenv(env)
		case len(file) > 0:
			*dst = strings.Join(file, ",")
		}
	}
	list(&o.allowedOrigins, "allowed-origins", "YIPING_ALLOWED_ORIGINS", f.AllowedOrigins)
	list(&o.trustedProxies, "trusted-proxies", "YIPING_TRUSTED_PROXIES", f.TrustedProxies)
	o.metricsToken = getenv("YIPING_METRICS_TOKEN")
	if !set["demo"] {
		switch v := getenv("YIPING_DEMO"); {
		case v != "":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return backend.Config{}, fmt.Errorf("YIPING_DEMO=%q: want 1/0 or true/false", v)
			}
			o.demo = b
		case f.Demo != nil:
			o.demo = *f.Demo
		}
	}
	if !set["lease-ttl"] {
		switch v := getenv("YIPING_LEASE_TTL"); {
		case v != "":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return backend.Config{}, fmt.Errorf("YIPING_LEASE_TTL=%q: want a duration such as 3s", v)
			}
			o.leaseTTL = d
		case f.LeaseTTL > 0:
			o.leaseTTL = f.LeaseTTL
		}
	}
	if !set["history-every"] && f.HistoryEvery > 0 {
		o.historyEvery = f.HistoryEvery
	}
	st := f.Store
	st.ApplyEnv(getenv)
	st.DataDir = o.dataDir
	return st, nil
}
