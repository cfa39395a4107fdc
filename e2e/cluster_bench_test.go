//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/cluster/natstest"
	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/internal/wstest"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

// TestClusterFanout measures websocket fan-out across a cluster of Yiping
// processes on one machine (issue 13), beyond the 20,000 files one process
// may hold here: N screens spread evenly over 4 real nodes (`yiping serve
// --nats … --access-dsn …`, a real embedded nats-server with JetStream, a
// real PostgreSQL), all subscribed to one indicator topic. Each round pushes
// one call record into the leader's intake; latency per screen = the time
// its client read the message carrying the new count − the time the push
// was sent (one machine, one clock). It is the whole live path: intake →
// shared record log → the leader's engine and feed → its hub (coalesced
// flush, ≤ 200 ms) → on the leader its screens, on a follower NATS
// (cluster/bus) → the follower's hub → its screens. Screens on followers
// against screens on the leader of the same run give the cross-node
// added latency.
//
// Named peer, measured in the same run after the cluster is stopped: one
// node alone (a one-node cluster on its own nats-server and database) with
// YIPING_BENCH_CLUSTER_PEER screens (default min(N, 15,000), about what one
// process can hold under the 20,000-file limit), same rounds.
//
// Run by scripts/bench-cluster; skipped unless YIPING_BENCH_CLUSTER is set:
//
//	YIPING_BENCH_CLUSTER=50000 go test -count=1 -run '^TestClusterFanout$' -timeout 60m -v ./e2e
//
// Clients: child processes of this test binary (TestClusterFanoutClients),
// at most YIPING_BENCH_CLUSTER_PER_PROC (12,500) each, each dialing from its
// own loopback source addresses 127.(20+process).x.y, 200 per address
// (a node caps connections per client address at a quarter of its total,
// 4,000 with 20,000 files), 16 dials in flight per process; under
// `chrt --batch` (YIPING_BENCH_CLUSTER_CLIENT_BATCH=0 turns it off) as in
// hub's push swarm, so that a woken client does not preempt a server
// mid-fan-out, as screens on other machines would not. A client records
// per screen the receive time (unix ns) of the first message whose value
// reaches the round's count and reports the raw times to the parent as
// JSON on stdout.
//
// Environment: YIPING_BENCH_CLUSTER (screens), _NODES (4), _ROUNDS (20),
// _GAP_MS (2000, push to push), _PEER (screens of the single-node peer; 0:
// none), _PER_PROC (12500), _PER_ADDR (200), _CONC (16), _CLIENT_BATCH.
func TestClusterFanout(t *testing.T) {
	n := fanEnv("YIPING_BENCH_CLUSTER", 0)
	if n == 0 {
		t.Skip("set YIPING_BENCH_CLUSTER=<screens> (scripts/bench-cluster) to run the cluster fan-out benchmark")
	}
	cfg := fanConfig{
		nodes:   fanEnv("YIPING_BENCH_CLUSTER_NODES", 4),
		rounds:  fanEnv("YIPING_BENCH_CLUSTER_ROUNDS", 20),
		gap:     time.Duration(fanEnv("YIPING_BENCH_CLUSTER_GAP_MS", 2000)) * time.Millisecond,
		perProc: fanEnv("YIPING_BENCH_CLUSTER_PER_PROC", 12500),
		perAddr: fanEnv("YIPING_BENCH_CLUSTER_PER_ADDR", 200),
		conc:    fanEnv("YIPING_BENCH_CLUSTER_CONC", 16),
		batch:   os.Getenv("YIPING_BENCH_CLUSTER_CLIENT_BATCH") != "0",
	}
	peerN := min(n, 15000)
	if v, ok := os.LookupEnv("YIPING_BENCH_CLUSTER_PEER"); ok {
		peerN, _ = strconv.Atoi(v)
	}
	bin := buildYiping(t)
	pg := pgtest.Start(t)

	cl := runFanout(t, bin, pg, "cluster", cfg, n)
	var peer *fanResult
	if peerN > 0 {
		pcfg := cfg
		pcfg.nodes = 1
		peer = runFanout(t, bin, pg, "peer", pcfg, peerN)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\ncluster fan-out: %d rounds, one push every %v, topic %s\n\n", cfg.rounds, cfg.gap, fanTopic)
	fmt.Fprintf(&b, "| run | nodes | screens connected | connect all | client procs | load before → after |\n|---|---:|---:|---:|---:|---|\n")
	for _, r := range []*fanResult{cl, peer} {
		if r != nil {
			fmt.Fprintf(&b, "| %s | %d | %d of %d | %v | %d | %s → %s |\n", r.name, r.nodes, r.connected, r.screens,
				r.connectAll.Round(time.Millisecond), r.procs, r.load0, r.load1)
		}
	}
	fmt.Fprintf(&b, "\n| push → screen | receipts | missed | p50 | p90 | p99 | max | first screen (median of rounds) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(name string, d []time.Duration, missed int, first time.Duration) {
		if len(d) == 0 {
			fmt.Fprintf(&b, "| %s | 0 | %d | | | | | |\n", name, missed)
			return
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %v | %v | %v | %v | %v |\n", name, len(d), missed,
			fanMs(fanPct(d, .50)), fanMs(fanPct(d, .90)), fanMs(fanPct(d, .99)), fanMs(d[len(d)-1]), fanMs(first))
	}
	row("cluster, all screens", cl.all, cl.missed, cl.firstMedian)
	row("cluster, screens on the leader", cl.leader, cl.leaderMissed, cl.leaderFirst)
	row("cluster, screens on followers", cl.follow, cl.followMissed, cl.followFirst)
	if peer != nil {
		row("peer: one node alone", peer.all, peer.missed, peer.firstMedian)
	}
	fmt.Fprintf(&b, "\n| node | role | screens | missed | p50 | p99 | first receipt (median) | last receipt (median) | CPU while connecting | CPU over the rounds | RSS |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range []*fanResult{cl, peer} {
		if r == nil {
			continue
		}
		for _, s := range r.nodeStats {
			fmt.Fprintf(&b, "| %s %s | %s | %d | %d | %v | %v | %v | %v | %.0f%% of a core | %.0f%% of a core | %d MB |\n", r.name, s.name, s.role, s.screens,
				s.missed, fanMs(s.p50), fanMs(s.p99), fanMs(s.first), fanMs(s.last), 100*s.cpuConnect, 100*s.cpuRounds, s.rss>>20)
		}
		fmt.Fprintf(&b, "| %s clients (%d procs) | | | | | | | | %.0f%% | %.0f%% | %d MB |\n", r.name, r.procs, 100*r.clientCPUConnect, 100*r.clientCPURounds, r.clientRSS>>20)
		fmt.Fprintf(&b, "| %s test process (nats-server) | | | | | | | | %.0f%% | %.0f%% | |\n", r.name, 100*r.selfCPUConnect, 100*r.selfCPURounds)
	}
	if len(cl.leader) > 0 && len(cl.follow) > 0 {
		fmt.Fprintf(&b, "\ncross-node added latency (screens on followers − screens on the leader): p50 %+v, p90 %+v, p99 %+v; the hop alone (first follower screen − first leader screen, median of rounds): %+v\n",
			fanMs(fanPct(cl.follow, .50)-fanPct(cl.leader, .50)), fanMs(fanPct(cl.follow, .90)-fanPct(cl.leader, .90)),
			fanMs(fanPct(cl.follow, .99)-fanPct(cl.leader, .99)), fanMs(cl.hop))
	}
	if peer != nil && len(peer.all) > 0 && len(cl.all) > 0 {
		fmt.Fprintf(&b, "cluster (%d screens, %d nodes) / peer (%d screens, one node): p50 ×%.2f, p99 ×%.2f\n", cl.connected, cl.nodes, peer.connected,
			float64(fanPct(cl.all, .50))/float64(fanPct(peer.all, .50)), float64(fanPct(cl.all, .99))/float64(fanPct(peer.all, .99)))
	}
	if len(cl.leaderChanges) > 0 {
		fmt.Fprintf(&b, "leader changes during the rounds: %v\n", cl.leaderChanges)
	}
	t.Log(b.String())
	for _, r := range []*fanResult{cl, peer} {
		if r != nil && r.connected < r.screens {
			t.Errorf("%s: %d of %d screens connected", r.name, r.connected, r.screens)
		}
	}
}

var fanTopic = live.IndicatorTopic(indicator.CallVolume, string(region.Code("620000")), "month")

type fanConfig struct {
	nodes, rounds, perProc, perAddr, conc int
	gap                                   time.Duration
	batch                                 bool
}

type fanNodeStat struct {
	name, role            string
	screens               int
	cpuConnect, cpuRounds float64 // cores
	rss                   int64
	p50, p99, first, last time.Duration
	missed                int
}

type fanResult struct {
	name                               string
	nodes, screens, connected, procs   int
	connectAll                         time.Duration
	all, leader, follow                []time.Duration
	missed, leaderMissed, followMissed int
	firstMedian                        time.Duration
	leaderFirst, followFirst, hop      time.Duration // medians over the rounds
	nodeStats                          []fanNodeStat
	clientCPUConnect, clientCPURounds  float64
	clientRSS                          int64
	selfCPUConnect, selfCPURounds      float64
	leaderChanges                      []string
	load0, load1                       string
}

// fanProc is one client child process and the node its screens are on.
type fanProc struct {
	*wstest.Child
	node, screens int
	closed        int
}

func runFanout(t *testing.T, bin string, pg *pgtest.Server, name string, cfg fanConfig, n int) *fanResult {
	r := &fanResult{name: name, nodes: cfg.nodes, screens: n, load0: fanLoad()}
	ns := natstest.Start(t, natstest.Options{})
	db := "fanout_" + name
	pg.Exec("CREATE DATABASE " + db)
	dsn := pg.DSN(db)
	token := clusterToken(t, dsn)
	nodes := make([]*clusterNode, cfg.nodes)
	for i := range nodes {
		nodes[i] = startClusterNode(t, bin, fmt.Sprintf("%s%d", name, i+1), ns.ClientURL(), dsn)
	}
	for _, nd := range nodes {
		waitReady(t, nd, 90*time.Second)
	}
	waitUntil(t, "a leader", 20*time.Second, func() bool { return leaderOf(nodes) >= 0 })
	leader := leaderOf(nodes)
	for _, nd := range nodes {
		if l := nd.logText(); !strings.Contains(l, "max_conns_per_address") {
			t.Logf("%s: no listening line with its caps", nd.name)
		} else if i := strings.Index(l, `"max_conns"`); i >= 0 {
			t.Logf("%s caps: %s", nd.name, strings.SplitN(l[i:], "}", 2)[0])
		}
	}
	t.Logf("%s: %d nodes, leader %s", name, len(nodes), nodes[leader].name)

	// A first record, so the topic exists and every screen's subscription
	// starts with its value; a monitor screen of this process follows it.
	callID := 0
	push := func(prefer int) (int, time.Time, time.Duration, error) {
		callID++
		order := append([]*clusterNode{nodes[prefer]}, slices.Delete(slices.Clone(nodes), prefer, prefer+1)...)
		t0 := time.Now()
		i, err := pushCalls(order, []string{fmt.Sprintf("fan-%s-%d-%d", name, t0.UnixNano(), callID)})
		took := time.Since(t0)
		if i >= 0 {
			i = slices.Index(nodes, order[i])
		}
		return i, t0, took, err
	}
	if _, _, _, err := push(leader); err != nil {
		t.Fatal(err)
	}
	monitor := &screen{addr: nodes[0].addr, token: token, topics: []string{fanTopic}, seq: map[string]uint64{}, val: map[string]float64{}}
	mctx, mcancel := context.WithCancel(t.Context())
	defer mcancel()
	go monitor.run(mctx)
	waitUntil(t, "the first record on a screen", 30*time.Second, func() bool { return monitor.value(fanTopic) >= 1 })

	// The clients, spread evenly over the nodes.
	var procs []*fanProc
	pidx := 0
	for i := range nodes {
		share := n / len(nodes)
		if i < n%len(nodes) {
			share++
		}
		k := (share + cfg.perProc - 1) / cfg.perProc
		for j := range k {
			c := share / k
			if j < share%k {
				c++
			}
			procs = append(procs, &fanProc{node: i, screens: c, Child: startFanChild(t, cfg.batch,
				"YIPING_BENCH_CLUSTER_CLIENTS="+strconv.Itoa(c), "YIPING_BENCH_CLUSTER_ADDR="+nodes[i].addr,
				"YIPING_BENCH_CLUSTER_TOKEN="+token, "YIPING_BENCH_CLUSTER_TOPIC="+fanTopic,
				"YIPING_BENCH_CLUSTER_SRC="+strconv.Itoa(20+pidx),
				"YIPING_BENCH_CLUSTER_PER_ADDR="+strconv.Itoa(cfg.perAddr), "YIPING_BENCH_CLUSTER_CONC="+strconv.Itoa(cfg.conc))})
			pidx++
		}
	}
	r.procs = len(procs)
	cpu0, self0, cl0 := fanNodesCPU(nodes), fanCPU(os.Getpid()), fanProcsCPU(procs)
	t0 := time.Now()
	var first, last int64
	perNode := make([]int, len(nodes))
	for _, p := range procs {
		var ok, failed int
		var s, e int64
		fmt.Sscan(p.Expect(t, "READY ", 30*time.Minute), &ok, &failed, &s, &e)
		if failed > 0 {
			t.Logf("%s client of %s: %d of %d failed to connect", name, nodes[p.node].name, failed, p.screens)
		}
		r.connected += ok
		perNode[p.node] += ok
		if s > 0 && (first == 0 || s < first) {
			first = s
		}
		last = max(last, e)
	}
	r.connectAll = time.Duration(last - first)
	connWall := time.Since(t0)
	cpu1, self1, cl1 := fanNodesCPU(nodes), fanCPU(os.Getpid()), fanProcsCPU(procs)
	t.Logf("%s: %d of %d screens connected in %v (per node %v); load %s", name, r.connected, n, r.connectAll.Round(time.Millisecond), perNode, fanLoad())
	time.Sleep(3 * time.Second) // settle: the last snapshots, GC

	// The rounds.
	type round struct {
		push   time.Time
		leader int
	}
	var rounds []round
	recv := make([][]int64, len(procs)) // per process: rounds × screens
	cur := leader
	tr := time.Now()
	next := tr
	for k := range cfg.rounds {
		base := monitor.value(fanTopic)
		want := base + 1
		for _, p := range procs {
			p.Send(t, fmt.Sprintf("ARM %v", want))
		}
		for _, p := range procs {
			p.Expect(t, "ARMED", time.Minute)
		}
		time.Sleep(time.Until(next))
		took, at, postDur, err := push(cur)
		next = at.Add(cfg.gap)
		if err != nil {
			t.Fatalf("round %d: %v", k, err)
		}
		if took != cur {
			r.leaderChanges = append(r.leaderChanges, fmt.Sprintf("round %d: %s → %s", k, nodes[cur].name, nodes[took].name))
			cur = took
		}
		rounds = append(rounds, round{push: at, leader: took})
		waitUntil(t, fmt.Sprintf("round %d on the monitor", k), 30*time.Second, func() bool { return monitor.value(fanTopic) >= want })
		// Let the fan-out finish before the clients print.
		time.Sleep(time.Until(at.Add(cfg.gap * 3 / 4)))
		for _, p := range procs {
			p.Send(t, "REPORT")
		}
		for i, p := range procs {
			var res struct {
				Recv     []int64 `json:"recv"`
				Closed   int     `json:"closed"`
				CloseErr string  `json:"close_err"`
			}
			if err := json.Unmarshal([]byte(p.Expect(t, "RES ", time.Minute)), &res); err != nil {
				t.Fatal(err)
			}
			recv[i] = append(recv[i], res.Recv...)
			if res.Closed > p.closed {
				t.Logf("%s round %d: %d screens of a client of %s closed by now (%s)", name, k, res.Closed, nodes[p.node].name, res.CloseErr)
				p.closed = res.Closed
			}
		}
		if k == 0 || (k+1)%5 == 0 {
			t.Logf("%s round %d: pushed to %s (POST %v), load %s", name, k, nodes[took].name, postDur.Round(time.Millisecond), fanLoad())
		}
	}
	roundsWall := time.Since(tr)
	cpu2, self2, cl2 := fanNodesCPU(nodes), fanCPU(os.Getpid()), fanProcsCPU(procs)
	r.load1 = fanLoad()

	// Latencies. Per round and node: the first and last receipt (the
	// node's fan-out starts and ends), over the rounds their medians.
	type nodeLat struct {
		lat, firsts, lasts []time.Duration
		missed             int
	}
	nl := make([]nodeLat, len(nodes))
	var firsts, leaderFirsts, followFirsts, hops []time.Duration
	for k, rd := range rounds {
		fst, lst := make([]time.Duration, len(nodes)), make([]time.Duration, len(nodes))
		for i := range fst {
			fst[i], lst[i] = -1, -1
		}
		for i, p := range procs {
			for _, ns := range recv[i][k*p.screens : (k+1)*p.screens] {
				switch {
				case ns < 0: // not connected
					continue
				case ns == 0:
					nl[p.node].missed++
					if p.node == rd.leader {
						r.leaderMissed++
					} else {
						r.followMissed++
					}
					continue
				}
				d := time.Duration(ns - rd.push.UnixNano())
				nl[p.node].lat = append(nl[p.node].lat, d)
				if p.node == rd.leader {
					r.leader = append(r.leader, d)
				} else {
					r.follow = append(r.follow, d)
				}
				if fst[p.node] < 0 || d < fst[p.node] {
					fst[p.node] = d
				}
				lst[p.node] = max(lst[p.node], d)
			}
		}
		all, fol := time.Duration(-1), time.Duration(-1)
		for i := range nodes {
			if fst[i] < 0 {
				continue
			}
			nl[i].firsts, nl[i].lasts = append(nl[i].firsts, fst[i]), append(nl[i].lasts, lst[i])
			if all < 0 || fst[i] < all {
				all = fst[i]
			}
			if i != rd.leader && (fol < 0 || fst[i] < fol) {
				fol = fst[i]
			}
		}
		if all >= 0 {
			firsts = append(firsts, all)
		}
		if fol >= 0 {
			followFirsts = append(followFirsts, fol)
		}
		if fst[rd.leader] >= 0 {
			leaderFirsts = append(leaderFirsts, fst[rd.leader])
			if fol >= 0 {
				hops = append(hops, fol-fst[rd.leader])
			}
		}
	}
	for i := range nodes {
		r.all = append(r.all, nl[i].lat...)
		r.missed += nl[i].missed
		for _, s := range [][]time.Duration{nl[i].lat, nl[i].firsts, nl[i].lasts} {
			slices.Sort(s)
		}
	}
	for _, s := range [][]time.Duration{r.all, r.leader, r.follow, firsts, leaderFirsts, followFirsts, hops} {
		slices.Sort(s)
	}
	r.firstMedian, r.leaderFirst, r.followFirst, r.hop = fanPct(firsts, .5), fanPct(leaderFirsts, .5), fanPct(followFirsts, .5), fanPct(hops, .5)
	if len(r.leaderChanges) > 0 {
		t.Logf("%s: the lead changed during the rounds: screens are counted on the leader in the rounds their node led; the node table's role is the last one", name)
	}
	for i, nd := range nodes {
		role := "follower"
		if i == cur {
			role = "leader"
		}
		r.nodeStats = append(r.nodeStats, fanNodeStat{name: nd.name, role: role, screens: perNode[i],
			cpuConnect: float64(cpu1[i]-cpu0[i]) / float64(connWall), cpuRounds: float64(cpu2[i]-cpu1[i]) / float64(roundsWall),
			rss: fanRSS(nd.cmd.Process.Pid), p50: fanPct(nl[i].lat, .5), p99: fanPct(nl[i].lat, .99),
			first: fanPct(nl[i].firsts, .5), last: fanPct(nl[i].lasts, .5), missed: nl[i].missed})
	}
	r.clientCPUConnect, r.clientCPURounds = float64(cl1-cl0)/float64(connWall), float64(cl2-cl1)/float64(roundsWall)
	r.selfCPUConnect, r.selfCPURounds = float64(self1-self0)/float64(connWall), float64(self2-self1)/float64(roundsWall)
	for _, p := range procs {
		r.clientRSS += fanRSS(p.Cmd.Process.Pid)
	}
	for _, nd := range nodes {
		for _, l := range strings.Split(nd.logText(), "\n") {
			if strings.Contains(l, "cut off from the cluster") || strings.Contains(l, "hearing the cluster again") ||
				strings.Contains(l, "no longer leading") {
				t.Logf("%s: %s", nd.name, l)
			}
		}
	}

	// Stop the clients, then the nodes, before the next run.
	for _, p := range procs {
		p.Stop()
	}
	for _, nd := range nodes {
		nd.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, nd := range nodes {
		select {
		case <-nd.exited:
		case <-time.After(20 * time.Second):
			nd.cmd.Process.Kill()
			<-nd.exited
		}
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	return r
}

// TestClusterFanoutClients is a client child process of TestClusterFanout:
// YIPING_BENCH_CLUSTER_CLIENTS screens on one node. It prints "READY <ok>
// <failed> <first dial ns> <last subscribed ns>"; then, per round, on
// "ARM <value>" forgets the last round's times and prints ARMED, and on
// REPORT waits (≤ 10 s) until every screen has the value and prints "RES
// {"recv":[unix ns per screen, 0: not received]}". EOF on stdin ends it.
func TestClusterFanoutClients(t *testing.T) {
	k := fanEnv("YIPING_BENCH_CLUSTER_CLIENTS", 0)
	if k == 0 {
		t.Skip("a client process of TestClusterFanout")
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	addr, token, topic := os.Getenv("YIPING_BENCH_CLUSTER_ADDR"), os.Getenv("YIPING_BENCH_CLUSTER_TOKEN"), os.Getenv("YIPING_BENCH_CLUSTER_TOPIC")
	src := fanEnv("YIPING_BENCH_CLUSTER_SRC", 20)
	perAddr, conc := fanEnv("YIPING_BENCH_CLUSTER_PER_ADDR", 200), fanEnv("YIPING_BENCH_CLUSTER_CONC", 16)
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "topics": []string{topic}, "since": map[string]uint64{}})

	var want atomic.Uint64 // math.Float64bits of the value awaited; 0: none
	recv := make([]atomic.Int64, k)
	connected := make([]atomic.Bool, k)
	var pending atomic.Int64 // connected screens that have not the value yet
	var alive atomic.Int64
	var first, last atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Pointer[string]
	var closed atomic.Int64 // screens the server closed after they connected
	var closeErr atomic.Pointer[string]
	var mu sync.Mutex
	var conns []*websocket.Conn
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				a := i / perAddr
				ip := net.IPv4(127, byte(src), byte(a/250), byte(a%250+1))
				d := websocket.Dialer{
					NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).DialContext,
					HandshakeTimeout: time.Minute, ReadBufferSize: 1024, WriteBufferSize: 512,
				}
				first.CompareAndSwap(0, time.Now().UnixNano())
				conn, err := wstest.DialSubscribed(&d, "ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + token}}, sub)
				if err != nil {
					if failed.Add(1) == 1 {
						s := fmt.Sprintf("screen %d from %s: %v", i, ip, err)
						firstErr.Store(&s)
					}
					continue
				}
				connected[i].Store(true)
				now := time.Now().UnixNano()
				for e := last.Load(); now > e && !last.CompareAndSwap(e, now); e = last.Load() {
				}
				alive.Add(1)
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
				go func() {
					defer alive.Add(-1)
					for {
						_, b, err := conn.ReadMessage()
						if err != nil {
							if closed.Add(1) == 1 {
								s := fmt.Sprintf("screen %d: %v", i, err)
								closeErr.Store(&s)
							}
							return
						}
						at := time.Now().UnixNano()
						w := want.Load()
						if w == 0 || recv[i].Load() != 0 {
							continue
						}
						if v, ok := fanValue(b, topic); ok && v >= fanFloat(w) {
							if recv[i].CompareAndSwap(0, at) {
								pending.Add(-1)
							}
						}
					}
				}()
			}
		}()
	}
	for i := range k {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, *e)
	}
	fmt.Printf("READY %d %d %d %d\n", k-int(failed.Load()), failed.Load(), first.Load(), last.Load())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 2 && f[0] == "ARM":
			v, _ := strconv.ParseFloat(f[1], 64)
			want.Store(0)
			for i := range recv {
				recv[i].Store(0)
			}
			pending.Store(alive.Load())
			want.Store(fanBits(v))
			fmt.Println("ARMED")
		case len(f) == 1 && f[0] == "REPORT":
			for end := time.Now().Add(10 * time.Second); pending.Load() > 0 && time.Now().Before(end); {
				time.Sleep(20 * time.Millisecond)
			}
			out := struct {
				Recv     []int64 `json:"recv"`
				Closed   int64   `json:"closed"`
				CloseErr string  `json:"close_err,omitempty"`
			}{Recv: make([]int64, k), Closed: closed.Load()}
			if e := closeErr.Load(); e != nil {
				out.CloseErr = *e
			}
			for i := range recv {
				out.Recv[i] = recv[i].Load()
				if !connected[i].Load() {
					out.Recv[i] = -1
				}
			}
			b, _ := json.Marshal(out)
			fmt.Printf("RES %s\n", b)
		}
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
}

// fanValue is data.value of a message of topic.
func fanValue(b []byte, topic string) (float64, bool) {
	var m struct {
		Topic string `json:"topic"`
		Data  struct {
			Value *float64 `json:"value"`
		} `json:"data"`
	}
	if json.Unmarshal(b, &m) != nil || m.Topic != topic || m.Data.Value == nil {
		return 0, false
	}
	return *m.Data.Value, true
}

func fanBits(v float64) uint64  { return math.Float64bits(v) }
func fanFloat(b uint64) float64 { return math.Float64frombits(b) }

// startFanChild runs the clients' test as a child process, under
// SCHED_BATCH with batch; it is stopped (killed if need be) with t.
func startFanChild(t *testing.T, batch bool, env ...string) *wstest.Child {
	t.Helper()
	var wrap []string
	if batch {
		wrap = []string{"chrt", "--batch", "0"}
	}
	c := wstest.StartChild(t, "TestClusterFanoutClients", wrap, env...)
	t.Cleanup(func() { c.Stdin.Close(); c.Cmd.Process.Kill(); c.Cmd.Wait() })
	return c
}

func fanEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// fanCPU is the CPU time (user + system) of process pid, from /proc.
func fanCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func fanRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func fanNodesCPU(nodes []*clusterNode) []time.Duration {
	out := make([]time.Duration, len(nodes))
	for i, nd := range nodes {
		out[i] = fanCPU(nd.cmd.Process.Pid)
	}
	return out
}

// fanProcsCPU sums the client processes' CPU (chrt execs the test binary
// in place, so the pid is the client's).
func fanProcsCPU(ps []*fanProc) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += fanCPU(p.Cmd.Process.Pid)
	}
	return d
}

func fanLoad() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func fanPct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p*float64(len(d))+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

func fanMs(d time.Duration) time.Duration {
	if d > 10*time.Millisecond || d < -10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
