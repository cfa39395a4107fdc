package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	clusterarchive "github.com/yiping-ioc/yiping/cluster/archive"
	"github.com/yiping-ioc/yiping/cluster/bus"
	"github.com/yiping-ioc/yiping/cluster/lease"
	"github.com/yiping-ioc/yiping/cluster/records"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/record"
)

// ClusterOptions make the process one node of several (issue 13,
// docs/CLUSTER.md). With NATS empty the process is a single node, exactly
// as before.
type ClusterOptions struct {
	// NATS is the NATS server URL (several comma-separated for a NATS
	// cluster); it must run JetStream.
	NATS string
	// Node names this node; default the host name and the listen port.
	Node string
	// LeaseTTL is the leader's lease: a killed leader is replaced within
	// about this long; default 3 s.
	LeaseTTL time.Duration
	// Replicas of the streams and buckets in a NATS cluster; default 1.
	Replicas int
	// Advertise is the URL other nodes reach this node's API at, when it
	// leads (followers pass it the requests only the leader can answer);
	// default http://<host name or listen host>:<port>.
	Advertise string
	// SilentAfter is how long a follower that hears no heartbeat from a
	// leader waits before it calls itself cut off; default twice the lease
	// plus a second, so a failover (about one lease) does not send every
	// screen elsewhere.
	SilentAfter time.Duration
}

// Names in NATS: subjects, streams and buckets.
const (
	hubSubject   = "yiping.hub"
	beatSubject  = "yiping.beat" // the leader's heartbeat, core NATS
	leaseBucket  = "yiping-lease"
	healthBucket = "yiping-health"
	beatEvery    = 500 * time.Millisecond
)

// node is this process's part in a cluster.
type node struct {
	o       ClusterOptions
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	records *records.Log
	applier *records.Applier
	fwd     *bus.Forwarder
	// bulletins is the bulletin archive's shared copy (cluster/archive).
	bulletins jetstream.ObjectStore
	// health holds the leader's collector health, for the next leader.
	health  jetstream.KeyValue
	follow  *bus.Follower
	elector *lease.Elector
	// term is the current leadership term, nil while following.
	term    atomic.Pointer[leaderTerm]
	started time.Time
	cut     atomic.Bool  // cut off from the cluster: screens go elsewhere
	beat    atomic.Int64 // unix nanoseconds of the last leader heartbeat heard
	// heard is the last heartbeat of another node (the leader), with its
	// advertised URL parsed.
	heard atomic.Pointer[heardBeat]
	// bg lives as long as the App (the bus, the log's consumer).
	bg context.Context
}

type leaderTerm struct {
	lease.Term
	ctx context.Context
}

// leading is the lease state the shared log and the bus fence on.
func (n *node) leading() (uint64, bool) {
	t := n.term.Load()
	if t == nil || t.ctx.Err() != nil {
		return 0, false
	}
	return t.Token, true
}

func (n *node) isLeader() bool { _, ok := n.leading(); return ok }

// joinCluster connects to NATS and prepares the shared streams, the bus
// and the election. It runs before the hub is built (the hub forwards its
// flushes through the bus).
func (a *App) joinCluster(ctx context.Context) error {
	o := a.opts.Cluster
	if o.Node == "" {
		host, _ := os.Hostname()
		o.Node = host + portOf(a.opts.Addr)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 3 * time.Second
	}
	if o.Advertise == "" {
		o.Advertise = advertised(a.opts.Addr)
	}
	if u, err := url.Parse(o.Advertise); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("cluster: advertise %q: want http(s)://host:port", o.Advertise)
	}
	if o.SilentAfter <= 0 {
		o.SilentAfter = 2*o.LeaseTTL + time.Second
	}
	if a.opts.Demo {
		return errors.New("cluster: the demo platform runs on a single node; turn it off (--demo=false) and collect from the platform or the push intake")
	}
	if a.opts.AccessDSN == "" {
		return errors.New("cluster: users, sessions, tokens, reports and orders must be shared by the nodes: set --access-dsn (PostgreSQL)")
	}
	n := &node{o: o, log: a.component("cluster").With("node", o.Node), started: time.Now()}
	var err error
	n.nc, err = nats.Connect(o.NATS, nats.Name("yiping "+o.Node), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { n.log.Warn("NATS connection lost", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("NATS connection back", "url", c.ConnectedUrl()) }))
	if err != nil {
		return fmt.Errorf("cluster: connect to NATS %s: %w", o.NATS, err)
	}
	a.closers = append(a.closers, n.nc.Close)
	if n.js, err = jetstream.New(n.nc); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	// The bus and the log live as long as the App, not as the start.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.bg = bg
	a.closers = append(a.closers, cancel)
	// The hub's stream is a cache of the latest values, in memory: the
	// truth is the record log, and a new leader republishes every value.
	// On files, every message would wait for its fsync (a NATS server run
	// with sync_interval: always), and followers fell seconds behind.
	bo := bus.Options{Node: o.Node, Leading: n.leading, Replicas: o.Replicas, Memory: true, Logger: n.log}
	if n.fwd, err = bus.Forward(bg, n.js, hubSubject, bo); err != nil {
		return err
	}
	ro := records.Options{Node: o.Node, Leading: n.leading, Replicas: o.Replicas, Logger: n.log}
	if n.records, err = records.NewLog(ctx, n.js, n.nc.MaxPayload(), ro); err != nil {
		return err
	}
	if n.bulletins, err = clusterarchive.Ensure(ctx, n.js, "", o.Replicas); err != nil {
		return err
	}
	if n.health, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: healthBucket, Description: "Yiping: the leader's collector health, for the next leader",
		History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas,
	}); err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", healthBucket, err)
	}
	kv, err := lease.EnsureBucket(ctx, n.js, leaseBucket, o.LeaseTTL, o.Replicas)
	if err != nil {
		return err
	}
	if n.elector, err = lease.New(lease.Config{KV: kv, Node: o.Node, TTL: o.LeaseTTL, Logger: n.log}); err != nil {
		return err
	}
	// The leader's heartbeat: a follower that stops hearing it (its link
	// to NATS hangs, or no node leads) must not show its values as live.
	if _, err := n.nc.Subscribe(beatSubject, func(m *nats.Msg) {
		n.beat.Store(time.Now().UnixNano())
		var h heardBeat
		if json.Unmarshal(m.Data, &h.beat) == nil && h.Node != o.Node {
			if u, err := url.Parse(h.URL); err == nil && u.Host != "" {
				h.url = u
			}
			n.heard.Store(&h)
		}
	}); err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	a.node = n
	n.log.Info("joined the cluster", "nats", n.nc.ConnectedUrl(), "lease_ttl", o.LeaseTTL.String())
	return nil
}

// followRecords applies the shared record log to sink (the engine and the
// live tee) on this node, and waits until what the log held at the start
// is in: a node serves and leads only with a complete engine.
func (a *App) followRecords(ctx context.Context, sink record.Sink) error {
	n := a.node
	var err error
	n.applier, err = records.Follow(n.bg, n.js, sink, record.NewParser(a.loc), records.Options{Node: n.o.Node, Replicas: n.o.Replicas, Logger: n.log})
	if err != nil {
		return err
	}
	a.closers = append(a.closers, n.applier.Stop)
	started := time.Now()
	// A long log takes a while: say how far it is every 10 s.
	progress, stop := context.WithCancel(ctx)
	go every(progress, 10*time.Second, func() {
		st := n.applier.Stats()
		n.log.Info("applying the shared record log", "at_seq", st.Applied, "rows", st.Rows, "for", time.Since(started).Round(time.Second).String())
	})
	err = n.applier.CaughtUp(ctx)
	stop()
	if err != nil {
		return err
	}
	st := n.applier.Stats()
	n.log.Info("shared record log applied", "batches", st.Batches, "rows", st.Rows, "refused", st.Refused, "took", time.Since(started).String())
	// The hub's messages, from the leader, with its seqs.
	n.follow, err = bus.Follow(n.bg, n.js, hubSubject, a.hub, bus.Options{Node: n.o.Node, Replicas: n.o.Replicas, Memory: true, Logger: n.log})
	if err != nil {
		return err
	}
	a.closers = append(a.closers, n.follow.Stop)
	return nil
}

// leaderOnly is the publisher of the live components on a cluster node:
// only the leader's hub numbers messages (cluster/bus), so a follower's
// own publishing is dropped — its hub holds the leader's values.
type leaderOnly struct {
	h  *hub.Hub
	ok func() bool
}

func (p leaderOnly) Publish(t string, data json.RawMessage) error {
	if !p.ok() {
		return nil
	}
	return p.h.Publish(t, data)
}

func (p leaderOnly) PublishJSON(t string, v any) error {
	if !p.ok() {
		return nil
	}
	return p.h.PublishJSON(t, v)
}

// runCluster runs the node's part: the election, and the watch that sends
// screens elsewhere when this node is cut off. lead runs each term.
func (a *App) runCluster(ctx context.Context, lead func(ctx context.Context)) {
	n := a.node
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.watch(ctx, a.hub) }()
	err := n.elector.Run(ctx, func(tctx context.Context, t lease.Term) {
		// Everything the previous leader acknowledged is in the log: apply
		// it before collecting from its cursors.
		if err := n.applier.CaughtUp(tctx); err != nil {
			n.log.Error("term: could not catch up with the record log; giving the term up", "err", err)
			return
		}
		a.hub.StartEpoch()
		a.feed.Forget()
		n.term.Store(&leaderTerm{Term: t, ctx: tctx})
		n.log.Info("leading", "token", t.Token)
		go n.heartbeat(tctx, t.Token)
		lead(tctx)
		n.term.Store(nil)
		n.log.Info("no longer leading", "token", t.Token, "why", fmt.Sprint(context.Cause(tctx)))
	})
	if err != nil && ctx.Err() == nil {
		n.log.Error("election stopped", "err", err)
	}
	wg.Wait()
}

// beat is the leader's heartbeat.
type beat struct {
	Node  string `json:"node"`
	Token uint64 `json:"token"`
	URL   string `json:"url"` // where its API answers (ClusterOptions.Advertise)
}

type heardBeat struct {
	beat
	url *url.URL // nil if URL is not one
}

// advertised is the default URL of a node listening on addr.
func advertised(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost" + portOf(addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host, _ = os.Hostname()
	}
	return "http://" + net.JoinHostPort(host, port)
}

// headerVia marks a request a follower passed to the leader, and the
// answer of the node that served it.
const (
	headerVia    = "Yiping-Via"
	headerServed = "Yiping-Node"
)

// toLeader serves a leader's route (route.leader): here when this node
// leads, else through the leader (found by its heartbeat), with the
// caller's cookies, CSRF token, Origin and Host, so the leader's guard
// checks the same things. A request that already came through a follower
// is not passed again (a leader that just lost its term answers 503).
func (n *node) toLeader(local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.isLeader() {
			w.Header().Set(headerServed, n.o.Node)
			local.ServeHTTP(w, r)
			return
		}
		h := n.heard.Load()
		if h == nil || h.url == nil || r.Header.Get(headerVia) != "" || n.cut.Load() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "没有可用的主节点，请稍后重试 / no leader can answer now; try again", http.StatusServiceUnavailable)
			return
		}
		u := h.url
		p := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Host = pr.In.Host
				// The caller's address for the leader's audit and limits
				// (believed when the nodes are in its --trusted-proxies),
				// and the scheme the hall's proxy saw.
				pr.SetXForwarded()
				if proto := pr.In.Header.Get("X-Forwarded-Proto"); proto != "" {
					pr.Out.Header.Set("X-Forwarded-Proto", proto)
				}
				pr.Out.Header.Set(headerVia, n.o.Node)
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				n.log.Warn("passing a request to the leader failed", "leader", u.String(), "path", r.URL.Path, "err", err)
				w.Header().Set("Retry-After", "1")
				http.Error(w, "主节点暂不可达，请稍后重试 / the leader cannot be reached; try again", http.StatusBadGateway)
			},
		}
		p.ServeHTTP(w, r)
	})
}

// healthEvery is how often the leader stores its collectors' health for
// the next leader.
const healthEvery = 5 * time.Second

// adoptHealth gives this node's runner the run history the previous leader
// stored (collectors.Runner.Adopt), so the screens' source health carries
// over a failover. A failure is logged: health then starts afresh.
func (n *node) adoptHealth(ctx context.Context, r *collectors.Runner) {
	e, err := n.health.Get(ctx, "sources")
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return
	}
	var hs []collectors.Health
	if err == nil {
		err = json.Unmarshal(e.Value(), &hs)
	}
	if err != nil {
		n.log.Warn("the previous leader's collector health is not readable; it starts afresh", "err", err)
		return
	}
	r.Adopt(hs)
}

// shareHealth stores the runner's health every healthEvery until ctx ends.
func (n *node) shareHealth(ctx context.Context, r *collectors.Runner) {
	every(ctx, healthEvery, func() {
		b, err := json.Marshal(r.Health())
		if err == nil {
			_, err = n.health.Put(ctx, "sources", b)
		}
		if err != nil && ctx.Err() == nil {
			n.log.Debug("storing the collectors' health", "err", err)
		}
	})
}

// compactEvery is how often the leader looks whether the shared record
// log has grown enough to be compacted (records.CompactOptions).
const compactEvery = 10 * time.Minute

// compactRecords compacts the shared record log when it has doubled since
// its last compaction, at the term's start and then every compactEvery,
// until ctx ends. Writes wait meanwhile.
func (n *node) compactRecords(ctx context.Context) {
	compact := func() {
		if _, err := n.records.Compact(ctx, records.CompactOptions{}); err != nil && ctx.Err() == nil {
			n.log.Error("compacting the shared record log failed; it stays as it was", "err", err)
		}
	}
	compact()
	every(ctx, compactEvery, compact)
}

// heartbeat tells the followers that a leader is alive, until ctx ends.
func (n *node) heartbeat(ctx context.Context, token uint64) {
	data, _ := json.Marshal(beat{Node: n.o.Node, Token: token, URL: n.o.Advertise})
	publish := func() {
		if err := n.nc.Publish(beatSubject, data); err != nil {
			n.log.Debug("heartbeat", "err", err)
		}
	}
	publish()
	every(ctx, beatEvery, publish)
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// retry calls fn until it succeeds, logging each failure and waiting 5 s
// before the next try; it reports false if ctx ended first. For what a
// new leader must have done before it acts (reload, sync).
func retry(ctx context.Context, log *slog.Logger, what string, fn func() error) bool {
	for {
		err := fn()
		if err == nil {
			return true
		}
		log.Warn(what+" failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Second):
		}
	}
}

// watch marks the node cut off when it cannot hear the cluster: no NATS
// connection, or (following) no leader heartbeat for SilentAfter. Its screens are then closed with
// hub.CloseCutOff, so they reconnect through their proxy to a node that
// hears the cluster, its /readyz fails and its /ws refuses upgrades:
// nothing here shows a stale value as live.
func (n *node) watch(ctx context.Context, h *hub.Hub) {
	every(ctx, 250*time.Millisecond, func() {
		cut, why := n.cutOff()
		if cut == n.cut.Swap(cut) {
			return
		}
		if cut {
			closed := h.DisconnectAll()
			n.log.Warn("cut off from the cluster: screens sent elsewhere", "why", why, "screens", closed)
		} else {
			n.log.Info("hearing the cluster again")
		}
	})
}

func (n *node) cutOff() (bool, string) {
	if !n.nc.IsConnected() {
		return true, "no NATS connection"
	}
	if n.isLeader() {
		return false, ""
	}
	last := n.started
	if b := n.beat.Load(); b != 0 {
		last = time.Unix(0, b)
	}
	if silent := time.Since(last); silent > n.o.SilentAfter {
		return true, "no leader heard for " + silent.Round(time.Millisecond).String()
	}
	return false, ""
}

// readiness of the node: ready when it hears the cluster.
func (n *node) ready() error {
	if n.cut.Load() {
		_, why := n.cutOff()
		return fmt.Errorf("cut off from the cluster: %s", why)
	}
	return nil
}

// notCut refuses websocket upgrades while the node is cut off: a screen
// must land on a node that hears the cluster.
func (a *App) notCut(next http.Handler) http.Handler {
	if a.node == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.node.ready(); err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// leaderIntake answers pushes on a node that does not lead at once, before
// the body is read: only the leader collects. The sender retries, through
// its proxy or on another node.
func (a *App) leaderIntake(h fiber.Handler) fiber.Handler {
	if a.node == nil {
		return h
	}
	return func(c *fiber.Ctx) error {
		if !a.node.isLeader() {
			c.Set("Retry-After", "1")
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
				"error": "此节点不是主节点，请重发 / this node does not lead the cluster; send again (to the leader)",
			})
		}
		return h(c)
	}
}

// ClusterStatus is the answer of GET /api/cluster: what this node knows of
// its cluster, for operators ("mode": "single" on a single node).
type ClusterStatus struct {
	Mode     string `json:"mode"` // "single" or "cluster"
	Node     string `json:"node,omitempty"`
	Leading  bool   `json:"leading"`
	Term     uint64 `json:"term,omitempty"` // this node's lease token while it leads
	Leader   string `json:"leader,omitempty"`
	LeaderAt string `json:"leader_url,omitempty"`
	// LastHeartbeat is when the leader was last heard (RFC 3339), empty
	// if never.
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
	CutOff        bool   `json:"cut_off"`
	CutOffWhy     string `json:"cut_off_why,omitempty"`
	// Records: the shared record log as this node applies it.
	Records *records.Stats `json:"records,omitempty"`
	// Bus: the leader's hub messages applied here; Forward: this node's
	// hub messages sent to the others (while it leads).
	Bus     *bus.FollowStats  `json:"bus,omitempty"`
	Forward *bus.ForwardStats `json:"forward,omitempty"`
}

// clusterStatus answers GET /api/cluster.
func (a *App) clusterStatus(w http.ResponseWriter, _ *http.Request) {
	st := ClusterStatus{Mode: "single"}
	if n := a.node; n != nil {
		st.Mode, st.Node = "cluster", n.o.Node
		if tok, ok := n.leading(); ok {
			st.Leading, st.Term, st.Leader, st.LeaderAt = true, tok, n.o.Node, n.o.Advertise
		} else if h := n.heard.Load(); h != nil {
			st.Leader, st.LeaderAt = h.Node, h.URL
		}
		if b := n.beat.Load(); b != 0 {
			st.LastHeartbeat = time.Unix(0, b).In(a.loc).Format(time.RFC3339)
		}
		st.CutOff = n.cut.Load()
		if st.CutOff {
			_, st.CutOffWhy = n.cutOff()
		}
		rs, bs, fs := n.applier.Stats(), n.follow.Stats(), n.fwd.Stats()
		st.Records, st.Bus, st.Forward = &rs, &bs, &fs
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// registerMetrics exposes the node's cluster state on /metrics.
func (n *node) registerMetrics(reg prometheus.Registerer) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yiping_cluster_leader", Help: "1 while this node holds the cluster's lease."},
			func() float64 { return b(n.isLeader()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yiping_cluster_cut_off", Help: "1 while this node is cut off from its cluster (its screens sent elsewhere)."},
			func() float64 { return b(n.cut.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yiping_cluster_records_applied_seq", Help: "Stream sequence of the last shared-log message this node applied."},
			func() float64 { return float64(n.applier.Stats().Applied) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "yiping_cluster_records_refused_total", Help: "Shared-log batches refused by the fence (a deposed leader's late writes)."},
			func() float64 { return float64(n.applier.Stats().Refused) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "yiping_cluster_bus_applied_total", Help: "Hub messages from the leader applied here."},
			func() float64 { return float64(n.follow.Stats().Applied) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "yiping_cluster_forward_dropped_total", Help: "Hub messages this node could not forward (queue full or refused)."},
			func() float64 { f := n.fwd.Stats(); return float64(f.Dropped + f.Failed) }),
	)
}
