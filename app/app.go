// Package app builds the serving product from its parts and runs it: the
// one place where sources → collectors → journal → engine → store/hub →
// server → screens are wired (app.go), and the one table of every HTTP
// route with who may call it (routes.go).
package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/bulletin"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/all"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/demo"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/history"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/mobile"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/reportapi"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/server"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/backend"
	"github.com/yiping-ioc/yiping/trend"
	"github.com/yiping-ioc/yiping/wall"
)

// Options is the resolved configuration of a serving process (package cli
// reads it from flags, the environment and a file).
type Options struct {
	Addr    string // listen address, default ":8080"
	DataDir string // journal, history store, spool; default "./data"
	// Location is the business time zone; nil means Asia/Shanghai.
	Location *time.Location
	// CollectorsFile, DashboardsDir and TargetsFile are the optional
	// configuration files; "" takes the built-in defaults (no sources,
	// the built-in screens, SPEC.md's targets).
	CollectorsFile, DashboardsDir, TargetsFile string
	// Demo runs the built-in demo platform and collects from it.
	Demo bool
	// RulesFile holds the special-report rules and receivers; "" takes
	// the built-in sample (report/sample.yaml).
	RulesFile string
	// HistoryEvery is how often live values are recorded into the
	// history store; default 10 s.
	HistoryEvery time.Duration
	Store        backend.Config
	// AccessDSN is the PostgreSQL database of users, sessions, screen
	// tokens and the audit log; "" keeps them in SQLite in DataDir.
	AccessDSN string
	// AllowedOrigins are the browser origins (scheme://host[:port]) the
	// screens and the console are served under, for the websocket's and
	// state-changing requests' origin check; empty: the request's own
	// host only.
	AllowedOrigins []string
	// TrustedProxies are the reverse proxies (CIDR prefixes) whose
	// X-Forwarded-For and X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer <token>"; administrators always may.
	MetricsToken string
	// Getenv reads the environment (the push intake's token); nil means
	// os.Getenv.
	Getenv func(string) string
	// ReportClock is the clock the special reports are judged by (a
	// rule's "for", silent sources, escalation, repeats, quiet hours,
	// acknowledgements and silences); nil means time.Now. Tests move it
	// to pass an escalation's half hour in a second. The supervision
	// orders (督办) are timed by it too (deadlines, reminders, overdue
	// notices), so one moved clock makes an order overdue and its special
	// report fire.
	ReportClock func() time.Time
	// DispatchEvery is how often reminders and overdue notices of
	// supervision orders are looked for and the screens' order boards
	// republished (an action on an order publishes at once); default 30 s.
	DispatchEvery time.Duration
	// BulletinsFile lists the scheduled bulletins (快报, 周报, 月报); ""
	// takes the built-in sample (bulletin/sample.yaml) on the demo and
	// schedules none otherwise.
	BulletinsFile string
	// BulletinClock is the clock the bulletins are scheduled and dated
	// by; nil is the system clock. Tests move it to an issue time.
	BulletinClock bulletin.Clock
	// Cluster makes the process one node of several (docs/CLUSTER.md);
	// zero: a single node.
	Cluster ClusterOptions
	Logger  *slog.Logger
}

// App is the serving product, built and ready to run.
type App struct {
	opts Options
	log  *slog.Logger
	loc  *time.Location

	targets     *scoring.Config
	screens     *dashboards.Set
	eng         *engine.Engine
	metrics     *prometheus.Registry
	hub         *hub.Hub
	pub         leaderOnly // what the live components publish through
	node        *node      // nil on a single node
	presenter   *live.Presenter
	feed        *live.Feed
	pulse       *live.Pulse
	jnl         *journal.Journal
	hist        store.Store
	writer      *store.Writer
	runner      *collectors.Runner
	wall        *wall.Wall
	console     *console.Console
	access      *access.Service
	accessStore *access.SQLStore
	login       *login.Login
	guard       *guard

	cal        *calendar.Calendar
	demo       *demo.Started // nil without the demo
	deliveries *notify.SQLLog
	dispatch   *notify.Dispatcher
	rules      *report.Rules
	orders     *orderState
	reports    *report.Manager
	reportAPI  *reportapi.API
	bulletins  *bulletinState
	mobile     *mobile.Mobile
	judgeNow   chan struct{}
	counts     *trend.Counts
	surgePub   *live.SurgePublisher
	intake     fiberHandler // nil when no push source is configured
	server     *server.Server
	fiber      *fiber.App // the pages and the API, behind the bridge
	handler    http.Handler

	closeOnce sync.Once
	closers   []func() // in reverse order of opening
}

// New builds the product: it reads the configuration files (a bad one
// stops the start naming file, line and field), replays the journal into
// the engine, opens the history store and prepares every component. ctx
// bounds the start and runs the demo platform, if any, until it ends.
// Close releases what New opened when Run is not called.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	if opts.Addr == "" {
		opts.Addr = ":8080"
	}
	if opts.DataDir == "" {
		opts.DataDir = "./data"
	}
	if opts.HistoryEvery <= 0 {
		opts.HistoryEvery = 10 * time.Second
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.ReportClock == nil {
		opts.ReportClock = time.Now
	}
	if opts.DispatchEvery <= 0 {
		opts.DispatchEvery = scanEvery
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Location == nil {
		if opts.Location, err = time.LoadLocation("Asia/Shanghai"); err != nil {
			return nil, fmt.Errorf("business time zone: %w", err)
		}
	}
	a := &App{opts: opts, log: opts.Logger, loc: opts.Location}
	defer func() {
		if err != nil {
			a.Close() // what was opened before the failure
		}
	}()
	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := a.loadFiles(); err != nil {
		return nil, err
	}
	cal := calendar.Default(a.loc)
	a.cal = cal
	a.judgeNow = make(chan struct{}, 1)
	if a.eng, err = engine.New(engine.Config{Calendar: cal, Now: time.Now().UnixNano()}); err != nil {
		return nil, err
	}

	if opts.Cluster.NATS != "" {
		if err := a.joinCluster(ctx); err != nil {
			return nil, err
		}
	}
	a.metrics = prometheus.NewRegistry()
	a.metrics.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	// A screen subscribes to every value it shows. Every topic holds a
	// latest value (a number, a ranking, a ticker list, a health record),
	// so a resume needs no replay ring: a snapshot of the latest value is
	// the same thing. With ~190,000 topics (indicators × regions ×
	// periods, rankings) the default ring of 64 messages each held
	// gigabytes after an hour of the demo; one message each is the floor.
	hcfg := hub.Config{
		Logger: a.component("hub"), MaxTopics: 1024, HistoryLen: 1, Registerer: a.metrics,
		AllowedOrigins: opts.AllowedOrigins,
		// The router authenticated the upgrade request; the hub asks
		// about every topic.
		Principal: func(r *http.Request) any { p, _ := access.FromContext(r.Context()); return p },
		Authorize: topicAllowed,
	}
	a.pub.ok = func() bool { return true }
	if a.node != nil {
		// The leader's flushes go to every node; the others apply them.
		hcfg.OnFlush = a.node.fwd.OnFlush
		a.pub.ok = a.node.isLeader
	}
	a.hub = hub.New(hcfg)
	a.pub.h = a.hub
	a.closers = append(a.closers, a.hub.Close)
	a.presenter = live.NewPresenter(a.targets, region.Default(), a.loc)
	a.feed = live.NewFeed(live.FeedConfig{Engine: a.eng, Publisher: a.pub, Presenter: a.presenter, Changed: a.pokeJudge, Logger: a.component("feed")})
	tick := live.NewTicker(a.pub, region.Default(), a.loc, 0)
	a.counts = trend.NewCounts(trend.CountsConfig{Calendar: cal})
	a.surgePub = live.NewSurgePublisher(live.SurgePublisherConfig{Detector: a.counts, Publisher: a.pub, Presenter: a.presenter, Logger: a.component("surges")})
	// The collectors file into the engine through the tee: hotline
	// tickets also go to the screens' live ticker, and every batch pokes
	// the feed, so a pushed record reaches the screens at once.
	sink := live.Tee{Sink: a.eng, Ticker: tick, Tickets: a.counts.Add, Filed: a.feed.Notify, Logger: a.component("ticker")}

	if a.node == nil {
		if err := a.openJournal(ctx, sink); err != nil {
			return nil, err
		}
	} else {
		if err := a.followRecords(ctx, sink); err != nil {
			return nil, err
		}
		a.node.registerMetrics(a.metrics)
	}
	bcfg := opts.Store
	bcfg.DataDir = opts.DataDir
	if a.hist, err = backend.Open(ctx, bcfg, a.component("store")); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { a.hist.Close() })
	a.writer = store.NewWriter(a.hist, store.WriterConfig{Logger: a.component("history")})

	if err := a.buildCollectors(ctx, cal, sink); err != nil {
		return nil, err
	}
	a.pulse = live.NewPulse(live.PulseConfig{Publisher: a.pub, Health: a.runner.Health, Location: a.loc, Logger: a.component("pulse")})
	if err := a.buildAccess(ctx); err != nil {
		return nil, err
	}
	if err := a.buildReports(ctx); err != nil {
		return nil, err
	}
	if err := a.buildDispatch(ctx); err != nil {
		return nil, err
	}
	if err := a.buildBulletins(); err != nil {
		return nil, err
	}
	if err := a.buildPages(); err != nil {
		return nil, err
	}
	if a.handler, err = a.routesHandler(); err != nil {
		return nil, err
	}
	if a.server, err = server.New(server.Config{Addr: opts.Addr, Handler: a.handler, Logger: a.component("server")}); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) component(name string) *slog.Logger { return a.log.With("component", name) }

// loadFiles reads the screens and the targets, the built-in ones unless
// files are configured.
func (a *App) loadFiles() error {
	var err error
	if a.opts.DashboardsDir != "" {
		a.screens, err = dashboards.LoadDir(a.opts.DashboardsDir)
	} else {
		a.screens, err = dashboards.Default()
	}
	if err != nil {
		return fmt.Errorf("dashboards: %w", err)
	}
	a.targets = scoring.Default()
	if a.opts.TargetsFile != "" {
		if a.targets, err = scoring.Load(a.opts.TargetsFile); err != nil {
			return fmt.Errorf("targets: %w", err)
		}
	}
	return nil
}

// openJournal compacts and replays the journal: every record accepted
// before a crash is back in the engine before anything new arrives.
func (a *App) openJournal(ctx context.Context, sink record.Sink) error {
	dir := filepath.Join(a.opts.DataDir, "journal")
	// Rewritten to the last version of each record first when it has
	// grown (the old log stays if that fails: a full disk must not stop a
	// start).
	if _, err := journal.Compact(ctx, dir, journal.CompactOptions{Logger: a.component("journal")}); err != nil {
		a.log.Warn("journal compaction failed; replaying the log as it is", "err", err)
	}
	jnl, err := journal.Open(dir, a.component("journal"))
	if err != nil {
		return err
	}
	a.jnl = jnl
	a.closers = append(a.closers, func() { jnl.Close() })
	started := time.Now()
	st, err := jnl.ReplayInto(ctx, sink, record.NewParser(a.loc))
	if err != nil {
		return fmt.Errorf("journal replay: %w", err)
	}
	a.log.Info("journal replayed", "frames", st.Frames, "truncated_bytes", st.Truncated, "took", time.Since(started).String())
	return nil
}

// buildCollectors reads the sources: the collectors file, the push intake
// (YIPING_INGEST_TOKEN), the demo platform.
func (a *App) buildCollectors(ctx context.Context, cal *calendar.Calendar, sink record.Sink) error {
	var cfg collectors.Config
	var err error
	if a.opts.CollectorsFile != "" {
		if cfg, err = collectors.LoadConfig(a.opts.CollectorsFile, all.Types()); err != nil {
			return err
		}
	}
	src, ok, err := push.EnvSource(a.opts.Getenv)
	if err != nil {
		return fmt.Errorf("push intake: %w", err)
	}
	if ok {
		cfg.Sources = append(cfg.Sources, src)
	}
	if a.opts.Demo {
		if a.demo, err = demo.Start(ctx, cal, a.log); err != nil {
			return err
		}
		cfg.Sources = append(cfg.Sources, a.demo.Sources...)
	}
	cfg.Location = a.loc
	// NewRunner names its component itself.
	var jnl collectors.Journal = a.jnl
	if a.node != nil {
		// The leader's collectors write to the shared log, which every
		// node (this one too) applies to its engine in the log's order.
		jnl, sink = a.node.records, record.Discard{}
	}
	if a.runner, err = collectors.NewRunner(cfg, sink, jnl, a.log, a.metrics); err != nil {
		return err
	}
	if h, err := push.Handler(a.runner); err == nil {
		a.intake = a.leaderIntake(h)
	} else {
		a.log.Info("push intake off", "reason", err.Error())
	}
	return nil
}

// buildAccess opens the store of users, sessions, screen tokens and the
// audit log, and on a first start (no user yet) creates an administrator
// and a screen token for the demo wall, printing their secrets once.
func (a *App) buildAccess(ctx context.Context) error {
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: a.opts.DataDir, DSN: a.opts.AccessDSN})
	if err != nil {
		return fmt.Errorf("access store: %w", err)
	}
	a.accessStore = st
	a.closers = append(a.closers, func() { st.Close() })
	if a.access, err = access.New(access.Config{Store: st, Logger: a.component("access"), Regions: region.Default()}); err != nil {
		return err
	}
	a.guard = &guard{svc: a.access, screens: a.screens, trusted: a.opts.TrustedProxies, origins: a.opts.AllowedOrigins,
		intakeOK: push.Authorizer(a.runner)}
	if a.opts.MetricsToken != "" {
		a.guard.metricsToken, a.guard.hasMetrics = sha256.Sum256([]byte(a.opts.MetricsToken)), true
	}
	if a.login, err = login.New(login.Config{Service: a.access, Secure: a.guard.secure, ClientAddr: a.guard.clientAddr, Logger: a.component("login")}); err != nil {
		return err
	}
	first, err := a.access.FirstStart(ctx)
	if err != nil {
		return err
	}
	if first != nil {
		// Printed once: only hashes are kept.
		a.log.Warn("first start: created the administrator and a screen token for the demo wall; keep these, they are not shown again",
			"user", first.AdminName, "password", first.AdminPassword,
			"wall", "http://localhost"+portOf(a.opts.Addr)+"/playlists/"+first.Playlist+"?token="+first.Token,
			"token_id", first.TokenID,
			"change_password", "yiping user passwd "+first.AdminName)
	}
	return nil
}

// portOf is ":8080" of an address such as ":8080" or "0.0.0.0:8080".
func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i:]
	}
	return ""
}

// buildPages prepares the wall screens and the console.
func (a *App) buildPages() error {
	var err error
	a.wall, err = wall.New(wall.Config{
		Screens: a.screens, Live: a.eng, History: a.hist, Presenter: a.presenter, Reports: a.reportBoard, Surges: a.surgePub.Board, Orders: a.orderBoard,
		Sources: func() []string {
			var names []string
			for _, s := range a.runner.Sources() {
				names = append(names, s.Name)
			}
			return names
		},
		Logger: a.component("wall"),
	})
	if err != nil {
		return err
	}
	a.console, err = console.New(console.Config{
		Live: a.eng, History: a.hist, Regions: region.Default(), Targets: a.targets, Location: a.loc,
		SessionAPI: login.SessionPath, CanIssue: canIssue, Report: a.issueReport, Logger: a.component("console"),
	})
	return err
}

// Handler returns the product's HTTP handler, for tests that serve it on
// their own listener.
func (a *App) Handler() http.Handler { return a.handler }

// Run starts the collectors and every background loop, serves on l (nil:
// the configured address) until ctx ends, then stops everything in order:
// the collectors, the last history cycle, the store. It closes the App.
func (a *App) Run(ctx context.Context, l net.Listener) error {
	defer a.Close()
	if l == nil {
		var err error
		if l, err = a.server.Listen(); err != nil {
			return err
		}
	}
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	run := func(ctx context.Context, f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	// What every node runs, and what only the node that collects runs: on
	// a single node both, on a cluster node the second only while it leads.
	always := []func(context.Context){a.engineClock, a.revalidate}
	leader := []func(context.Context){a.feed.Run, a.pulse.Run, a.judge, a.surgePub.Run, a.dispatchLoop, a.runBulletins}
	rec := history.New(history.Config{Interval: a.opts.HistoryEvery, Logger: a.component("history")}, a.eng, a.writer)
	// The days before the store began (a fresh install, the demo), filled
	// from the records once every polled source's first pull is in; on a
	// cluster node's own embedded store at once, its engine holding every
	// record of the shared log since it started.
	ready := a.firstPullsDone
	if a.node != nil && !a.sharedStore() {
		ready = nil
	}
	bf := history.NewBackfiller(history.BackfillConfig{Logger: a.component("backfill"), Ready: ready}, a.eng, a.hist, a.loc)
	switch {
	case a.node == nil:
		always = append(always, rec.Run)
		leader = append(leader, bf.Run)
	case a.sharedStore():
		leader = append(leader, rec.Run, bf.Run) // one writer for the shared store
	default:
		// An embedded store is each node's own: each records what its
		// engine (the same records, in the same order) holds.
		always = append(always, rec.Run, bf.Run)
	}
	for _, f := range always {
		run(loops, f)
	}
	if a.node == nil {
		if err := a.runner.Start(ctx); err != nil {
			stop()
			wg.Wait()
			l.Close()
			return err
		}
		defer a.stopCollectors()
		for _, f := range leader {
			run(loops, f)
		}
	} else {
		run(loops, func(ctx context.Context) {
			a.runCluster(ctx, func(term context.Context) {
				a.node.adoptHealth(term, a.runner)
				if err := a.runner.Start(term); err != nil {
					a.log.Error("collectors", "err", err)
					return
				}
				var tw sync.WaitGroup
				shareHealth := func(ctx context.Context) { a.node.shareHealth(ctx, a.runner) }
				for _, f := range append(leader, a.node.compactRecords, shareHealth) {
					tw.Add(1)
					go func() { defer tw.Done(); f(term) }()
				}
				<-term.Done()
				a.stopCollectors()
				tw.Wait()
			})
		})
	}

	err := a.server.Serve(ctx, l)
	// The recorder's last cycle must land before the store closes, and
	// the backfiller must have stopped writing.
	stop()
	wg.Wait()
	// Notifications queued or being retried get a few seconds; what is
	// left is logged as dropped and sent again by the report manager's
	// log after the next start.
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cerr := a.dispatch.Close(shut); cerr != nil {
		a.log.Warn("closing the notification dispatcher", "err", cerr)
	}
	return err
}

// stopCollectors stops the runs in progress, for at most 10 s.
func (a *App) stopCollectors() {
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.runner.Stop(shut)
}

// sharedStore reports whether the history store is shared by the nodes
// (InfluxDB) rather than each node's own (embedded).
func (a *App) sharedStore() bool {
	return strings.EqualFold(strings.TrimSpace(a.opts.Store.Kind), backend.KindInfluxDB)
}

// firstPullsDone reports whether every polled source has succeeded once.
func (a *App) firstPullsDone() bool {
	for _, s := range a.runner.Health() {
		if s.Schedule != "" && s.LastSuccess.IsZero() {
			return false
		}
	}
	return true
}

// engineClock keeps the engine's clock on the wall clock, so deadlines
// passing move cases into overdue while nothing else happens. It is the
// engine clock's one owner; everything else reads the engine's Now.
func (a *App) engineClock(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			a.eng.Advance(now.UnixNano())
		}
	}
}

// revalidate closes, within seconds, the websockets of sessions that ended
// and screen tokens that were revoked (also by the CLI, in another
// process): every 2 s it asks which connected principals are no longer
// valid, all of them at once (one store query per kind and 1,000 ids,
// cheap for thousands of screens). When ctx ends it writes the last uses
// of sessions and tokens the access service still holds in memory, before
// the store closes.
func (a *App) revalidate(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.access.Close()
			return
		case <-t.C:
		}
		var ps []*access.Principal
		for _, p := range a.hub.Principals() {
			if pr, ok := p.(*access.Principal); ok {
				ps = append(ps, pr)
			}
		}
		gone := map[any]bool{}
		for _, p := range a.access.Invalid(ctx, ps) {
			gone[p] = true
		}
		if len(gone) > 0 {
			n := a.hub.Disconnect(func(p any) bool { return gone[p] })
			a.log.Info("closed websockets whose access ended", "clients", n)
		}
	}
}

// Close releases what New opened, in reverse order. It is safe to call
// more than once.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	})
}

// ready reports whether the server can take traffic (/readyz): it must be
// able to store what it is sent. A full disk fails it until space returns.
func (a *App) ready() error {
	if (a.jnl == nil && a.node == nil) || a.hist == nil {
		return errors.New("starting")
	}
	if a.node != nil {
		if err := a.node.ready(); err != nil {
			return err
		}
	} else if err := a.jnl.Healthy(); err != nil {
		return err
	}
	return store.Healthy(a.hist)
}
