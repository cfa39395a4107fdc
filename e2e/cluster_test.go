package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/app"
	"github.com/yiping-ioc/yiping/cluster/natstest"
	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

const clusterIngestToken = "cluster-e2e-ingest-token-0123456789"

// clusterNode is one `yiping serve --nats` process.
type clusterNode struct {
	name, addr, log string
	cmd             *exec.Cmd
	exited          chan struct{}
}

func (n *clusterNode) base() string { return "http://" + n.addr }

func (n *clusterNode) logText() string { b, _ := os.ReadFile(n.log); return string(b) }

// leads reports whether the node's log says it leads now (its last
// "leading" line is after its last "no longer leading").
func (n *clusterNode) leads() bool {
	l := n.logText()
	return strings.LastIndex(l, `"msg":"leading"`) > strings.LastIndex(l, `"msg":"no longer leading"`)
}

// leaderOf is the index of the live node whose log says it leads, or -1.
func leaderOf(nodes []*clusterNode) int {
	for i, n := range nodes {
		if n.alive() && n.leads() {
			return i
		}
	}
	return -1
}

func (n *clusterNode) alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

func startClusterNode(t *testing.T, bin, name, natsURL, dsn string, extra ...string) *clusterNode {
	t.Helper()
	n := &clusterNode{name: name, addr: freeAddr(t), exited: make(chan struct{})}
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	n.log = logf.Name()
	args := append([]string{"serve", "--demo=false", "--addr", n.addr, "--data-dir", t.TempDir(), "--history-every", "1s",
		"--nats", natsURL, "--node", name, "--lease-ttl", "1s", "--access-dsn", dsn}, extra...)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = append(os.Environ(), "YIPING_INGEST_TOKEN="+clusterIngestToken, "YIPING_STORE=", "YIPING_CONFIG=")
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); logf.Close(); close(n.exited) }()
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(20 * time.Second):
			n.cmd.Process.Kill()
			<-n.exited
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, tail(n.logText(), 6000))
		}
	})
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// failoverProxy stands for the hall's reverse proxy: it sends each
// request to a node whose /readyz answers 200, checked every 100 ms.
type failoverProxy struct {
	nodes []*clusterNode
	ready []atomic.Bool
	next  atomic.Uint64
}

func newFailoverProxy(t *testing.T, nodes []*clusterNode) (*httptest.Server, *failoverProxy) {
	p := &failoverProxy{nodes: nodes, ready: make([]atomic.Bool, len(nodes))}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		c := &http.Client{Timeout: 500 * time.Millisecond}
		for ctx.Err() == nil {
			for i, n := range nodes {
				resp, err := c.Get(n.base() + "/readyz")
				ok := err == nil && resp.StatusCode == 200
				if resp != nil {
					resp.Body.Close()
				}
				p.ready[i].Store(ok)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv, p
}

// allReady reports whether the proxy sees every node ready.
func (p *failoverProxy) allReady() bool {
	for i := range p.ready {
		if !p.ready[i].Load() {
			return false
		}
	}
	return true
}

func (p *failoverProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range len(p.nodes) {
		i := int(p.next.Add(1)) % len(p.nodes)
		if p.ready[i].Load() {
			u, _ := url.Parse(p.nodes[i].base())
			httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
			return
		}
	}
	http.Error(w, "no node is ready", http.StatusBadGateway)
}

// screen is a websocket client that, like wall.js, reconnects (through
// the proxy) and resumes with the last seq of each topic it holds.
type screen struct {
	addr, token string
	topics      []string
	mu          sync.Mutex
	seq         map[string]uint64
	val         map[string]float64
	reconnects  int // sessions that ended after they had received values
	got         bool
	problems    []string
	closes      []int // close codes seen
}

func (s *screen) run(ctx context.Context) {
	for ctx.Err() == nil {
		s.session(ctx)
		s.mu.Lock()
		if s.got && ctx.Err() == nil {
			s.reconnects++
		}
		s.got = false
		s.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *screen) session(ctx context.Context) {
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	conn, resp, err := d.DialContext(ctx, "ws://"+s.addr+"/ws", http.Header{"Authorization": {"Bearer " + s.token}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { conn.Close() })
	s.mu.Lock()
	since := map[string]uint64{}
	for t, q := range s.seq {
		since[t] = q
	}
	s.mu.Unlock()
	if err := conn.WriteJSON(map[string]any{"op": "subscribe", "topics": s.topics, "since": since}); err != nil {
		return
	}
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if ok := asClose(err, &ce); ok {
				s.mu.Lock()
				s.closes = append(s.closes, ce.Code)
				s.mu.Unlock()
			}
			return
		}
		var m struct {
			Op    string          `json:"op"`
			Topic string          `json:"topic"`
			Seq   uint64          `json:"seq"`
			Snap  bool            `json:"snapshot"`
			Data  json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &m) != nil || m.Op != "" || m.Seq == 0 {
			continue
		}
		var v struct {
			Value *float64 `json:"value"`
		}
		json.Unmarshal(m.Data, &v)
		s.mu.Lock()
		if last := s.seq[m.Topic]; m.Seq <= last {
			s.problems = append(s.problems, fmt.Sprintf("%s: seq %d after %d (snapshot %v, %d bytes, via %s)", m.Topic, m.Seq, last, m.Snap, len(m.Data), conn.RemoteAddr()))
		} else if old, ok := s.val[m.Topic]; ok && v.Value != nil && *v.Value < old {
			// A count only grows: a smaller value is a stale one.
			s.problems = append(s.problems, fmt.Sprintf("%s: value %v after %v (seq %d)", m.Topic, *v.Value, old, m.Seq))
		}
		s.seq[m.Topic] = m.Seq
		s.got = true
		if v.Value != nil {
			s.val[m.Topic] = *v.Value
		}
		s.mu.Unlock()
	}
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	if ok {
		*ce = c
	}
	return ok
}

func (s *screen) value(topic string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.val[topic]
}

// pushCalls pushes one batch of call records to the first node that
// takes it, trying them in turn like a platform with a list of addresses;
// it returns the node that took it.
func pushCalls(nodes []*clusterNode, ids []string) (int, error) {
	var b strings.Builder
	b.WriteString("call_id,region_code,offered_at,answered,wait_seconds\n")
	at := time.Now().Add(-time.Minute).Format(time.RFC3339)
	for _, id := range ids {
		fmt.Fprintf(&b, "%s,620802,%s,1,3\n", id, at)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	var last error
	for try := 0; try < 200; try++ {
		for i, n := range nodes {
			if !n.alive() {
				continue
			}
			req, _ := http.NewRequest("POST", n.base()+"/api/ingest/calls", strings.NewReader(b.String()))
			req.Header.Set("Authorization", "Bearer "+clusterIngestToken)
			req.Header.Set("Content-Type", "text/csv")
			resp, err := c.Do(req)
			if err != nil {
				last = err
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return i, nil
			}
			last = fmt.Errorf("%s: %d %s", n.name, resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1, fmt.Errorf("no node took the batch: %v", last)
}

// TestClusterKillLeaderMidIngest runs three real nodes on a real NATS
// server and PostgreSQL, kills the leader with SIGKILL while records are
// pushed, and checks that no record is lost or counted twice on the
// survivors, and that the screens behind the proxy go on with no step
// back in seq or value. Then it cuts a node off NATS: its screens are
// closed with 4503 and it stops answering /readyz and /ws. Last, a node
// that joins afterwards builds the same state from the shared log.
func TestClusterKillLeaderMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers, NATS and PostgreSQL")
	}
	bin := buildYiping(t)
	ns := natstest.Start(t, natstest.Options{})
	// Each node reaches NATS through its own TCP relay, which the test can
	// cut to partition that node alone.
	relays := make([]*relay, 3)
	for i := range relays {
		relays[i] = startRelay(t, strings.TrimPrefix(ns.ClientURL(), "nats://"))
	}
	pg := pgtest.Start(t)
	pg.Exec("CREATE DATABASE cluster_e2e")
	dsn := pg.DSN("cluster_e2e")
	token := clusterToken(t, dsn)

	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		nodes[i] = startClusterNode(t, bin, fmt.Sprintf("n%d", i+1), "nats://"+relays[i].addr(), dsn)
	}
	for _, n := range nodes {
		waitReady(t, n, 90*time.Second)
	}
	leaderIdx := func() int { return leaderOf(nodes) }
	waitUntil(t, "a leader", 10*time.Second, func() bool { return leaderIdx() >= 0 })
	first := leaderIdx()
	t.Logf("leader: %s", nodes[first].name)

	checkLeaderRoutes(t, dsn, nodes, first)

	topic := live.IndicatorTopic(indicator.CallVolume, string(region.Code("620000")), "day")
	proxy, fp := newFailoverProxy(t, nodes)
	// Screens spread evenly (round robin) once the proxy sees every node.
	waitUntil(t, "the proxy to see every node ready", 10*time.Second, fp.allReady)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var screens []*screen
	var wg sync.WaitGroup
	for range 12 {
		s := &screen{addr: strings.TrimPrefix(proxy.URL, "http://"), token: token, topics: []string{topic}, seq: map[string]uint64{}, val: map[string]float64{}}
		screens = append(screens, s)
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx) }()
	}

	// Three pushers send 3 × 30 batches of 10 calls at once; the leader is
	// killed with SIGKILL while they are in flight, after 30 batches.
	const pushers, batches, per = 3, 30, 10
	var done atomic.Int32
	errs := make(chan error, pushers)
	var pw sync.WaitGroup
	for p := range pushers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for b := range batches {
				ids := make([]string, per)
				for i := range ids {
					ids[i] = fmt.Sprintf("ce-%d-%03d-%02d", p, b, i)
				}
				if _, err := pushCalls(nodes, ids); err != nil {
					errs <- err
					return
				}
				// Some of the same records again, as a platform resending
				// after an error would: they must not count twice.
				if b%7 == 3 {
					if _, err := pushCalls(nodes, ids[:5]); err != nil {
						errs <- err
						return
					}
				}
				done.Add(1)
				time.Sleep(15 * time.Millisecond)
			}
		}()
	}
	waitUntil(t, "a third of the batches", 60*time.Second, func() bool { return done.Load() >= pushers*batches/3 })
	killedAt := time.Now()
	nodes[first].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[first].exited
	before := done.Load()
	waitUntil(t, "a batch accepted after the kill", 30*time.Second, func() bool { return done.Load() > before+1 })
	t.Logf("failover: a batch accepted %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	pw.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := float64(pushers * batches * per)
	second := leaderIdx()
	if second < 0 || second == first {
		t.Fatalf("no new leader after the kill (first %d, now %d)", first, second)
	}
	t.Logf("new leader: %s", nodes[second].name)
	// Before it schedules bulletins, the new leader learns what the
	// previous one archived (cluster/archive), so no period goes twice.
	waitUntil(t, "the new leader to sync the bulletin archive", 10*time.Second, func() bool {
		return strings.Contains(nodes[second].logText(), `"msg":"bulletin archive synced with the cluster"`)
	})

	// Every survivor's hub, read directly, and every screen behind the
	// proxy end with exactly the count pushed.
	for i, n := range nodes {
		if i == first {
			continue
		}
		direct := &screen{addr: n.addr, token: token, topics: []string{topic}, seq: map[string]uint64{}, val: map[string]float64{}}
		dctx, dcancel := context.WithTimeout(ctx, 15*time.Second)
		go direct.run(dctx)
		waitUntil(t, n.name+" shows every record once", 15*time.Second, func() bool { return direct.value(topic) == want })
		dcancel()
	}
	for i, s := range screens {
		waitUntil(t, fmt.Sprintf("screen %d shows every record once", i), 15*time.Second, func() bool { return s.value(topic) == want })
	}
	moved := 0
	for i, s := range screens {
		s.mu.Lock()
		if len(s.problems) > 0 {
			t.Errorf("screen %d: %v", i, s.problems)
		}
		if s.reconnects > 0 {
			moved++
		}
		s.mu.Unlock()
	}
	for i, s := range screens {
		t.Logf("screen %d: %d reconnects, closes %v", i, s.reconnects, s.closes)
	}
	t.Logf("%d of %d screens reconnected through the proxy after the kill", moved, len(screens))
	for _, n := range nodes {
		for _, l := range strings.Split(n.logText(), "\n") {
			if strings.Contains(l, "cut off") || strings.Contains(l, "dropped") || strings.Contains(l, "slow") {
				t.Logf("%s: %s", n.name, l)
			}
		}
	}
	if moved == 0 {
		t.Error("no screen was on the killed node: the proxy spread nothing")
	}

	// A partition: cut the follower's link to NATS. It must close its
	// screens with 4503 and refuse /readyz and /ws until the link is back.
	var cut int
	for i := range nodes {
		if i != first && i != second {
			cut = i
		}
	}
	direct := &screen{addr: nodes[cut].addr, token: token, topics: []string{topic}, seq: map[string]uint64{}, val: map[string]float64{}}
	go direct.session(ctx)
	waitUntil(t, "a screen on the node to cut", 10*time.Second, func() bool { return direct.value(topic) == want })
	cutAt := time.Now()
	relays[cut].cut()
	waitUntil(t, "the cut-off node closes its screens with 4503", 15*time.Second, func() bool {
		direct.mu.Lock()
		defer direct.mu.Unlock()
		return len(direct.closes) > 0 && direct.closes[0] == hub.CloseCutOff
	})
	t.Logf("partitioned node closed its screens %s after the cut", time.Since(cutAt).Round(time.Millisecond))
	if code, body := get(t, nodes[cut].base()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "cut off") {
		t.Errorf("/readyz of a cut-off node: %d %s", code, body)
	}
	_, resp, err := (&websocket.Dialer{}).Dial("ws://"+nodes[cut].addr+"/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a cut-off node took a websocket: %v %v", err, resp)
	}
	relays[cut].restore()
	waitReady(t, nodes[cut], 15*time.Second)

	// A node that joins later (a replacement for the dead one) builds its
	// engine from the shared record log: the same count, before it is
	// ready.
	late := startClusterNode(t, bin, "n4", ns.ClientURL(), dsn)
	waitReady(t, late, 60*time.Second)
	lateScreen := &screen{addr: late.addr, token: token, topics: []string{topic}, seq: map[string]uint64{}, val: map[string]float64{}}
	go lateScreen.run(ctx)
	waitUntil(t, "the late node shows every record once", 15*time.Second, func() bool { return lateScreen.value(topic) == want })

	// What the late node tells an operator of its cluster.
	c, _ := signIn(t, late.base(), "ops")
	var st app.ClusterStatus
	var body string
	// The leader's heartbeat comes every 500 ms; the node may be ready
	// before it heard one.
	waitUntil(t, "the late node to hear the leader", 5*time.Second, func() bool {
		var code int
		code, body = getWith(t, c, late.base()+"/api/cluster")
		st = app.ClusterStatus{}
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("/api/cluster: %d %s", code, body)
		}
		return st.Leader != ""
	})
	if st.Mode != "cluster" || st.Node != "n4" || st.Leading || st.Leader != nodes[second].name || st.CutOff ||
		st.Records == nil || st.Records.Applied == 0 || st.Records.Rows == 0 || st.Bus == nil || st.Bus.Applied == 0 {
		t.Errorf("/api/cluster of the late node: %s", body)
	}

	// The next leader carries on the collectors' health: stop the leader
	// (no push comes after) and the push source has still succeeded, not
	// "never", on the node that takes over.
	_, js := natstest.Connect(t, ns, "e2e")
	waitUntil(t, "the leader to store its collectors' health", 15*time.Second, func() bool {
		kv, err := js.KeyValue(ctx, "yiping-health")
		if err != nil {
			return false
		}
		e, err := kv.Get(ctx, "sources")
		return err == nil && strings.Contains(string(e.Value()), `"last_success"`)
	})
	nodes[second].cmd.Process.Signal(syscall.SIGTERM)
	<-nodes[second].exited
	all := append(nodes, late)
	waitUntil(t, "a third leader", 15*time.Second, func() bool { i := leaderOf(all); return i >= 0 && i != second })
	third := all[leaderOf(all)]
	oc, _ := signIn(t, third.base(), "ops")
	code, body := getWith(t, oc, third.base()+"/api/collectors")
	var hs struct {
		Sources []struct {
			Source      string `json:"source"`
			LastSuccess string `json:"last_success"`
			Runs        int    `json:"runs"`
		} `json:"sources"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &hs) != nil || len(hs.Sources) != 1 || hs.Sources[0].LastSuccess == "" || hs.Sources[0].Runs != 0 {
		t.Errorf("%s's collector health after taking over: %d %s", third.name, code, body)
	}
	cancel()
	wg.Wait()
}

// checkLeaderRoutes: the special reports' API answers from the leader
// whichever node is asked. A silence added through a follower (session
// cookie, CSRF token and Origin of that follower) is held by the leader's
// report manager, and both nodes list it.
func checkLeaderRoutes(t *testing.T, dsn string, nodes []*clusterNode, leader int) {
	t.Helper()
	ctx := t.Context()
	st, err := access.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := access.New(access.Config{Store: st, Regions: region.Default()})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []access.NewUser{
		{Name: "duty", Role: access.RoleOperator, Region: "620000", Password: password},
		{Name: "ops", Role: access.RoleAdmin, Region: "620000", Password: password},
	} {
		if _, err := svc.AddUser(ctx, access.Actor{Name: "e2e"}, u); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()
	st.Close()
	follower := nodes[(leader+1)%len(nodes)]
	c, csrf := signIn(t, follower.base(), "duty")
	body := `{"rule":"answer-rate-floor","region":"620000","duration":"1h","comment":"e2e via a follower"}`
	req, _ := http.NewRequest("POST", follower.base()+"/api/silences", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Origin", follower.base())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("silence through a follower: %d %s", resp.StatusCode, b)
	}
	if by := resp.Header.Get("Yiping-Node"); by != nodes[leader].name {
		t.Fatalf("silence answered by %q, want the leader %s", by, nodes[leader].name)
	}
	for _, n := range []*clusterNode{nodes[leader], follower} {
		c, _ := signIn(t, n.base(), "duty")
		code, list := getWith(t, c, n.base()+"/api/silences")
		if code != 200 || !strings.Contains(list, "e2e via a follower") {
			t.Fatalf("%s lists silences %d %s", n.name, code, list)
		}
	}
}

func clusterToken(t *testing.T, dsn string) string {
	t.Helper()
	ctx := t.Context()
	st, err := access.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := access.New(access.Config{Store: st, Regions: region.Default()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	secret, _, err := svc.AddToken(ctx, access.Actor{Name: "e2e"}, access.NewToken{Playlist: "hall", Region: "620000", Note: "cluster e2e"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func waitReady(t *testing.T, n *clusterNode, within time.Duration) {
	t.Helper()
	waitUntil(t, n.name+" ready", within, func() bool {
		if !n.alive() {
			t.Fatalf("%s exited; log:\n%s", n.name, tail(n.logText(), 6000))
		}
		code, _ := get(t, n.base()+"/readyz")
		return code == 200
	})
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	testkit.WaitWithin(t, what, within, cond)
}

// relay is a TCP relay whose connections can be cut and refused: a
// network partition between one node and NATS, on loopback.
type relay struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func startRelay(t *testing.T, target string) *relay {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{l: l, target: target}
	t.Cleanup(func() { l.Close(); r.cut() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			if r.down {
				r.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				r.mu.Unlock()
				c.Close()
				continue
			}
			r.conns = append(r.conns, c, u)
			r.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return r
}

func (r *relay) addr() string { return r.l.Addr().String() }

func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = true
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *relay) restore() {
	r.mu.Lock()
	r.down = false
	r.mu.Unlock()
}
