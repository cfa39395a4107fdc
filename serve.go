package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/all"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/demo"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/feed"
	"github.com/yiping-ioc/yiping/history"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/server"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/backend"
	"github.com/yiping-ioc/yiping/ticker"
	"github.com/yiping-ioc/yiping/wall"
)

type serveOptions struct {
	addr, dataDir, tz, collectorsFile string
	dashboardsDir, targetsFile        string
	demo                              bool
	historyEvery                      time.Duration
	store                             backend.Config
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	configFile := fs.String("config", os.Getenv("YIPING_CONFIG"), "configuration file, YAML: addr, data_dir, tz, demo, collectors, dashboards, targets, history_every, store{kind, influxdb{url, token, org, bucket}} (env YIPING_CONFIG)")
	fs.StringVar(&o.addr, "addr", ":8080", "listen address (env YIPING_ADDR)")
	fs.StringVar(&o.dataDir, "data-dir", "./data", "where Yiping keeps its state: journal, history store, spool (env YIPING_DATA_DIR)")
	fs.StringVar(&o.tz, "tz", "Asia/Shanghai", "business time zone (env YIPING_TZ)")
	fs.StringVar(&o.collectorsFile, "collectors", "", "collector sources config file, YAML (env YIPING_COLLECTORS)")
	fs.StringVar(&o.dashboardsDir, "dashboards", "", "directory of wall screen definitions, YAML (default: the built-in screens; env YIPING_DASHBOARDS)")
	fs.StringVar(&o.targetsFile, "targets", "", "targets, floors, weights and tiers per region level, YAML (default: SPEC.md's; env YIPING_TARGETS)")
	fs.BoolVar(&o.demo, "demo", true, "run the built-in demo platform (Gansu) and collect from it (env YIPING_DEMO=0 turns it off)")
	fs.DurationVar(&o.historyEvery, "history-every", 10*time.Second, "how often indicator values are recorded into the history store")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: yiping serve [--addr :8080] [--data-dir ./data] [--collectors sources.yaml] [--demo=false]\n\n"+
			"Runs the command center on one port: collectors, engine, history store, API.\n"+
			"The history store is embedded unless YIPING_STORE=influxdb (with YIPING_INFLUX_URL,\n"+
			"YIPING_INFLUX_TOKEN, YIPING_INFLUX_ORG, YIPING_INFLUX_BUCKET). YIPING_INGEST_TOKEN\n"+
			"enables the push intake POST /api/ingest/{kind}.\n\nFlags:\n")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, log); err != nil {
		log.Error("serve", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// serve wires the flow sources → collectors → engine → store → server and
// runs it until ctx ends.
func serve(ctx context.Context, o serveOptions, log *slog.Logger) error {
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return fmt.Errorf("--tz: %w", err)
	}
	if err := os.MkdirAll(o.dataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	screens, targets, err := loadScreens(o)
	if err != nil {
		return err
	}
	cal := calendar.Default(loc)
	eng, err := engine.New(engine.Config{Calendar: cal, Now: time.Now().UnixNano()})
	if err != nil {
		return err
	}

	// A screen subscribes to every value it shows (the overview: ~90
	// topics, more after a drill-down into a city). Every topic here holds
	// a latest value (a number, a ticker list, a health record), so a
	// resume needs no replay ring: a snapshot of the latest value is the
	// same thing. With ~180,000 topics (indicators × regions × periods) the
	// default ring of 64 messages each held gigabytes after an hour of the
	// demo; one message each is the floor.
	reg := prometheus.NewRegistry()
	reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	h := hub.New(hub.Config{Logger: log.With("component", "hub"), MaxTopics: 1024, HistoryLen: 1, Registerer: reg})
	defer h.Close()
	// The collectors file into the engine, and hotline tickets also go to
	// the screens' live ticker.
	fd := feed.New(eng, h, time.Second, log.With("component", "feed")).WithScores(targets)
	tick := ticker.New(h, region.Default(), loc, 0)
	sink := ticker.Tee{Sink: eng, Ticker: tick, Filed: fd.Notify, Logger: log.With("component", "ticker")}
	// The journal first: every record accepted before a crash is back in
	// the engine before anything new arrives.
	// Rewritten to the last version of each record first when it has grown
	// (the old log stays if that fails: a full disk must not stop a start).
	if _, err := journal.Compact(ctx, filepath.Join(o.dataDir, "journal"), journal.CompactOptions{Logger: log.With("component", "journal")}); err != nil {
		log.Warn("journal compaction failed; replaying the log as it is", "err", err)
	}
	jnl, err := journal.Open(filepath.Join(o.dataDir, "journal"), log.With("component", "journal"))
	if err != nil {
		return err
	}
	defer jnl.Close()
	started := time.Now()
	// Through the tee: the ticker shows the newest tickets right away.
	st, err := jnl.ReplayInto(ctx, sink, record.NewParser(loc))
	if err != nil {
		return fmt.Errorf("journal replay: %w", err)
	}
	log.Info("journal replayed", "frames", st.Frames, "truncated_bytes", st.Truncated, "took", time.Since(started).String())

	// The history store.
	bcfg := o.store
	bcfg.DataDir = o.dataDir
	hist, err := backend.Open(ctx, bcfg, log.With("component", "store"))
	if err != nil {
		return err
	}
	defer hist.Close()
	writer := store.NewWriter(hist, store.WriterConfig{Logger: log.With("component", "history")})

	// Collector sources: the config file, the push intake, the demo.
	var cfg collectors.Config
	if o.collectorsFile != "" {
		if cfg, err = collectors.LoadConfig(o.collectorsFile, all.Types()); err != nil {
			return err
		}
	}
	src, ok, err := push.EnvSource(os.Getenv)
	if err != nil {
		return fmt.Errorf("push intake: %w", err)
	}
	if ok {
		cfg.Sources = append(cfg.Sources, src)
	}
	if o.demo {
		demoSources, err := startDemo(ctx, cal, log)
		if err != nil {
			return err
		}
		cfg.Sources = append(cfg.Sources, demoSources...)
	}
	cfg.Location = loc

	runner, err := collectors.NewRunner(cfg, sink, jnl, log.With("component", "collectors"), reg)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{
		Addr:      o.addr,
		Logger:    log.With("component", "server"),
		BodyLimit: push.DefaultMaxBodyBytes,
		Metrics:   promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		WebSocket: http.HandlerFunc(h.ServeWS),
	}, eng)
	if err := push.Routes(srv.App(), runner); err != nil {
		log.Info("push intake off", "reason", err.Error())
	}
	srv.App().Get("/api/collectors", runner.HealthHandler())
	wl, err := wall.New(wall.Config{
		Screens: screens, Live: eng, History: hist, Targets: targets, Location: loc,
		Sources: func() []string {
			var names []string
			for _, s := range runner.Sources() {
				names = append(names, s.Name)
			}
			return names
		},
		Logger: log.With("component", "wall"),
	})
	if err != nil {
		return err
	}
	wl.Routes(srv.App())
	con, err := console.New(console.Config{
		Live: eng, History: hist, Regions: region.Default(), Targets: targets, Location: loc,
		Logger: log.With("component", "console"),
	})
	if err != nil {
		return err
	}
	con.Routes(srv.App())
	// A newcomer opening the server's address lands on the screens.
	srv.App().Get("/", func(c *fiber.Ctx) error { return c.Redirect("/screens", fiber.StatusFound) })

	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(shut)
	}()
	rec := history.New(history.Config{Interval: o.historyEvery, Logger: log.With("component", "history")}, eng, writer)
	recCtx, stopRec := context.WithCancel(ctx)
	recorded := make(chan struct{})
	go func() { defer close(recorded); rec.Run(recCtx) }()
	// The days before the store began (a fresh install, the demo), filled
	// from the records once every polled source's first pull is in.
	bf := history.NewBackfiller(history.BackfillConfig{
		Logger: log.With("component", "backfill"),
		Ready: func() bool {
			for _, s := range runner.Health() {
				if s.Schedule != "" && s.LastSuccess.IsZero() {
					return false
				}
			}
			return true
		},
	}, eng, hist, loc)
	filled := make(chan struct{})
	go func() { defer close(filled); bf.Run(recCtx) }()
	go tickEngine(ctx, eng)
	go fd.Run(ctx)
	go publishHealth(ctx, runner, h, log)
	err = srv.ListenAndServe(ctx)
	// The recorder's last cycle must land before the store closes, and the
	// backfiller must have stopped writing.
	stopRec()
	<-recorded
	<-filled
	return err
}

// loadScreens reads the wall screen definitions and the targets, the
// built-in ones unless files are configured; a bad file stops the start
// with its file, line and field.
func loadScreens(o serveOptions) (*dashboards.Set, *scoring.Config, error) {
	screens, err := dashboards.Default()
	if o.dashboardsDir != "" {
		screens, err = dashboards.LoadDir(o.dashboardsDir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dashboards: %w", err)
	}
	targets := scoring.Default()
	if o.targetsFile != "" {
		if targets, err = scoring.Load(o.targetsFile); err != nil {
			return nil, nil, fmt.Errorf("targets: %w", err)
		}
	}
	return screens, targets, nil
}

// startDemo runs the built-in demo platform on a loopback port and returns
// HTTP-pull sources that collect from it, so the product is alive on first
// run without any platform to connect.
func startDemo(ctx context.Context, cal *calendar.Calendar, log *slog.Logger) ([]collectors.Source, error) {
	dp, err := demo.New(demo.Config{Seed: 1, Calendar: cal, Logger: log.With("component", "demo")})
	if err != nil {
		return nil, fmt.Errorf("demo platform: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo platform: %w", err)
	}
	dsrv := &http.Server{Handler: dp.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go dsrv.Serve(ln)
	go func() { <-ctx.Done(); dsrv.Close() }()
	go dp.Run(ctx)
	base := "http://" + ln.Addr().String()
	var sources []collectors.Source
	for k := record.Kind(0); k < record.NumKinds; k++ {
		opts := *httppull.Defaults()
		opts.Kind, opts.URL, opts.Records, opts.PageSize = k.String(), base+"/api/v1/"+k.String(), "records", demo.MaxLimit
		name := "demo-" + k.String()
		conn, err := httppull.New(opts, collectors.Env{Name: name, Logger: log.With("source", name)})
		if err != nil {
			return nil, fmt.Errorf("demo source %s: %w", name, err)
		}
		sources = append(sources, collectors.Source{Name: name, Type: "httppull", Schedule: "@every 10s", Options: &opts, Connector: conn})
	}
	log.Info("demo platform", "url", base)
	return sources, nil
}

// publishHealth puts every source's health on its hub topic, so screens
// can show a "data delayed" state when a source stops, and the server's
// clock on "sys:clock": the heartbeat by which a screen knows its
// connection still carries data.
func publishHealth(ctx context.Context, runner *collectors.Runner, h *hub.Hub, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		now := time.Now()
		if err := h.PublishJSON("sys:clock", map[string]any{"unix_ms": now.UnixMilli(), "time": now.Format(time.RFC3339)}); err != nil {
			log.Error("publish clock", "err", err)
		}
		for _, s := range runner.Health() {
			if err := h.PublishJSON(hub.HealthTopic(s.Source), s); err != nil {
				log.Error("publish health", "source", s.Source, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tickEngine keeps the engine's clock on the wall clock, so deadlines
// passing move cases into overdue while nothing else happens.
func tickEngine(ctx context.Context, eng *engine.Engine) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			eng.Advance(now.UnixNano())
		}
	}
}
