package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/yiping-ioc/yiping/app"
	"github.com/yiping-ioc/yiping/store/backend"
)

type serveOptions struct {
	addr, dataDir, tz, collectorsFile string
	dashboardsDir, targetsFile        string
	rulesFile, bulletinsFile          string
	demo                              bool
	historyEvery                      time.Duration
	store                             backend.Config
	accessDSN                         string
	allowedOrigins, trustedProxies    string // comma-separated
	metricsToken                      string
	nats, node, advertise             string
	leaseTTL                          time.Duration
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	configFile := fs.String("config", os.Getenv("YIPING_CONFIG"), "configuration file, YAML: addr, data_dir, tz, demo, collectors, dashboards, targets, history_every, store{kind, influxdb{url, token, org, bucket}}, rules, bulletins, access_dsn, allowed_origins, trusted_proxies, nats, node, lease_ttl (env YIPING_CONFIG)")
	fs.StringVar(&o.addr, "addr", ":8080", "listen address (env YIPING_ADDR)")
	fs.StringVar(&o.dataDir, "data-dir", "./data", "where Yiping keeps its state: journal, history store, spool (env YIPING_DATA_DIR)")
	fs.StringVar(&o.tz, "tz", "Asia/Shanghai", "business time zone (env YIPING_TZ)")
	fs.StringVar(&o.collectorsFile, "collectors", "", "collector sources config file, YAML (env YIPING_COLLECTORS)")
	fs.StringVar(&o.dashboardsDir, "dashboards", "", "directory of wall screen definitions, YAML (default: the built-in screens; env YIPING_DASHBOARDS)")
	fs.StringVar(&o.targetsFile, "targets", "", "targets, floors, weights and tiers per region level, YAML (default: SPEC.md's; env YIPING_TARGETS)")
	fs.StringVar(&o.rulesFile, "rules", "", "special-report rules and their receivers, YAML (default: the built-in sample, report/sample.yaml; env YIPING_RULES)")
	fs.StringVar(&o.bulletinsFile, "bulletins", "", "scheduled bulletins (快报/周报/月报) printed to PDF, YAML (default: with --demo the built-in sample, bulletin/sample.yaml, else none; env YIPING_BULLETINS; printing needs Chromium: YIPING_CHROME)")
	fs.BoolVar(&o.demo, "demo", true, "run the built-in demo platform (Gansu) and collect from it (env YIPING_DEMO=0 turns it off)")
	fs.DurationVar(&o.historyEvery, "history-every", 10*time.Second, "how often indicator values are recorded into the history store")
	fs.StringVar(&o.accessDSN, "access-dsn", "", "PostgreSQL DSN of users, sessions, screen tokens and the audit log (default: SQLite in the data directory; env YIPING_ACCESS_DSN)")
	fs.StringVar(&o.allowedOrigins, "allowed-origins", "", "comma-separated browser origins the pages are served under, e.g. https://ioc.example.gov.cn (default: the request's own host; env YIPING_ALLOWED_ORIGINS)")
	fs.StringVar(&o.nats, "nats", "", "NATS server URL(s) with JetStream: run as one node of a cluster (docs/CLUSTER.md; needs --access-dsn; env YIPING_NATS)")
	fs.StringVar(&o.node, "node", "", "this node's name in the cluster (default host name and port; env YIPING_NODE)")
	fs.StringVar(&o.advertise, "advertise", "", "URL the other cluster nodes reach this node's API at when it leads (default http://<host>:<port>; env YIPING_ADVERTISE)")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 3*time.Second, "cluster leader's lease: a dead leader is replaced within about this long (env YIPING_LEASE_TTL)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated CIDR prefixes of reverse proxies whose X-Forwarded-For/-Proto are believed (env YIPING_TRUSTED_PROXIES)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: yiping serve [--addr :8080] [--data-dir ./data] [--collectors sources.yaml] [--demo=false]\n\n"+
			"Runs the command center on one port: collectors, engine, history store, API.\n"+
			"The history store is embedded unless YIPING_STORE=influxdb (with YIPING_INFLUX_URL,\n"+
			"YIPING_INFLUX_TOKEN, YIPING_INFLUX_ORG, YIPING_INFLUX_BUCKET). YIPING_INGEST_TOKEN\n"+
			"enables the push intake POST /api/ingest/{kind}; YIPING_METRICS_TOKEN lets a scraper\n"+
			"read /metrics with a bearer token. On a first start (no user yet) an administrator\n"+
			"and a screen token for the demo wall are created and printed once in the log.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "yiping serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var file serveFile
	if *configFile != "" {
		var err error
		if file, err = loadServeFile(*configFile); err != nil {
			fmt.Fprintf(stderr, "yiping serve: %v\n", err)
			return exitUsage
		}
	}
	var err error
	if o.store, err = resolve(fs, &o, file, os.Getenv); err != nil {
		fmt.Fprintf(stderr, "yiping serve: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// Connectors built from the collectors file log through the default
	// logger: make it the server's, so every line is one JSON stream.
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := o.appOptions(log)
	if err != nil {
		fmt.Fprintf(stderr, "yiping serve: %v\n", err)
		return exitUsage
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		log.Error("serve", "err", err)
		return exitFailure
	}
	if err := a.Run(ctx, nil); err != nil {
		log.Error("serve", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// appOptions turns the resolved settings into the app's options.
func (o serveOptions) appOptions(log *slog.Logger) (app.Options, error) {
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return app.Options{}, fmt.Errorf("--tz: %w", err)
	}
	var proxies []netip.Prefix
	for _, s := range splitList(o.trustedProxies) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return app.Options{}, fmt.Errorf("--trusted-proxies: %q is not a CIDR prefix or an address (e.g. 10.0.0.0/8)", s)
			}
		}
		proxies = append(proxies, p)
	}
	origins := splitList(o.allowedOrigins)
	for _, s := range origins {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return app.Options{}, fmt.Errorf("--allowed-origins: %q is not an origin; want scheme://host[:port], e.g. https://ioc.example.gov.cn", s)
		}
	}
	return app.Options{
		Addr: o.addr, DataDir: o.dataDir, Location: loc,
		CollectorsFile: o.collectorsFile, DashboardsDir: o.dashboardsDir, TargetsFile: o.targetsFile, RulesFile: o.rulesFile,
		BulletinsFile: o.bulletinsFile,
		Demo:          o.demo, HistoryEvery: o.historyEvery, Store: o.store, Getenv: os.Getenv, Logger: log,
		AccessDSN: o.accessDSN, AllowedOrigins: origins, TrustedProxies: proxies, MetricsToken: o.metricsToken,
		Cluster: app.ClusterOptions{NATS: o.nats, Node: o.node, Advertise: o.advertise, LeaseTTL: o.leaseTTL},
	}, nil
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
