package lease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/yiping-ioc/yiping/cluster/natstest"
)

const (
	testTTL   = time.Second
	testRenew = 250 * time.Millisecond // TTL/4 (default)
	// expirySlack is how late JetStream may remove an aged message: its
	// expiry timer fires no more often than every 250 ms and compares
	// against a clock cached every 100 ms.
	expirySlack = 350 * time.Millisecond
)

// node is one elector with its own NATS connection, recording its terms.
type node struct {
	name string
	nc   *nats.Conn
	el   *Elector
	stop context.CancelFunc
	done chan struct{}

	mu    sync.Mutex
	terms []termRec
}

type termRec struct {
	term       Term
	start, end time.Time // end: when the term context was done
	cause      error
}

func (n *node) record() []termRec {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]termRec(nil), n.terms...)
}

// current returns the node's running term, if any.
func (n *node) current() (termRec, bool) {
	r := n.record()
	if len(r) > 0 && r[len(r)-1].end.IsZero() {
		return r[len(r)-1], true
	}
	return termRec{}, false
}

type cluster struct {
	t      testing.TB
	srv    *server.Server
	bucket string
	nodes  []*node
	fence  *Fence // the shared resource's fence, admitted by every term start
}

func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, srv: natstest.Start(t, natstest.Options{Dir: t.TempDir(), Port: -1, Lazy: true}), bucket: "leases", fence: &Fence{}}
	t.Cleanup(c.srv.Shutdown)
	nc := c.connect("setup")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := EnsureBucket(ctx, js, c.bucket, testTTL, 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		c.start(fmt.Sprintf("n%d", i+1))
	}
	return c
}

func (c *cluster) connect(name string) *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.srv.ClientURL(), nats.Name(name),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

func (c *cluster) start(name string) *node {
	c.t.Helper()
	nc := c.connect(name)
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	kv, err := js.KeyValue(ctx, c.bucket)
	cancel()
	if err != nil {
		c.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{c.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	el, err := New(Config{KV: kv, Node: name, TTL: testTTL, RenewInterval: testRenew, Logger: log})
	if err != nil {
		c.t.Fatal(err)
	}
	n := &node{name: name, nc: nc, el: el, done: make(chan struct{})}
	rctx, rcancel := context.WithCancel(context.Background())
	n.stop = rcancel
	go func() {
		defer close(n.done)
		err := el.Run(rctx, func(ctx context.Context, term Term) {
			n.mu.Lock()
			i := len(n.terms)
			n.terms = append(n.terms, termRec{term: term, start: time.Now()})
			n.mu.Unlock()
			if err := c.fence.Admit(term.Token); err != nil {
				c.t.Errorf("%s: new term %v refused by fence: %v", name, term, err)
			}
			<-ctx.Done()
			n.mu.Lock()
			n.terms[i].end = time.Now()
			n.terms[i].cause = context.Cause(ctx)
			n.mu.Unlock()
		})
		if err != nil {
			c.t.Errorf("%s: Run: %v", name, err)
		}
	}()
	c.nodes = append(c.nodes, n)
	c.t.Cleanup(func() { n.stop(); <-n.done })
	return n
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// leaders returns the nodes currently inside a term.
func (c *cluster) leaders(except ...*node) []*node {
	var out []*node
next:
	for _, n := range c.nodes {
		for _, x := range except {
			if n == x {
				continue next
			}
		}
		if _, ok := n.current(); ok {
			out = append(out, n)
		}
	}
	return out
}

// waitLeader polls until exactly one node (other than except) is in a term.
func (c *cluster) waitLeader(within time.Duration, except ...*node) (*node, termRec) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if l := c.leaders(except...); len(l) == 1 {
			r, _ := l[0].current()
			return l[0], r
		} else if len(l) > 1 {
			c.t.Fatalf("%d simultaneous leaders", len(l))
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no leader within %v", within)
	return nil, termRec{}
}

// assertSingle checks for a while that there is never more than one leader.
func (c *cluster) assertSingle(d time.Duration) {
	c.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if l := c.leaders(); len(l) > 1 {
			c.t.Fatalf("%d simultaneous leaders", len(l))
		}
	}
}

func TestOneLeaderAmongThree(t *testing.T) {
	c := newCluster(t, 3)
	l, r := c.waitLeader(5 * time.Second)
	// Hold through several renewals and beyond the TTL: still one leader,
	// the same term.
	c.assertSingle(testTTL + 2*testRenew)
	if r2, ok := l.current(); !ok || r2.term != r.term {
		t.Fatalf("leader changed while renewing: %v -> %v (ok=%v)", r.term, r2.term, ok)
	}
	got, err := l.el.Leader(context.Background())
	if err != nil || got != r.term {
		t.Fatalf("Leader() = %v, %v; want %v", got, err, r.term)
	}
	t.Logf("leader %v", r.term)
}

func TestKilledLeaderReplacedWithinLease(t *testing.T) {
	c := newCluster(t, 3)
	old, r := c.waitLeader(5 * time.Second)
	killed := time.Now()
	close(old.el.hardStop) // like kill -9: no more renewals, key left behind
	<-old.done
	// Bound: the last renewal was at most one RenewInterval before the kill,
	// the key then lives TTL (+ JetStream expiry slack), and the watch (expiry
	// markers) or the RetryInterval poll notices it.
	bound := testTTL + testRenew + expirySlack + testRenew
	nl, nr := c.waitLeader(bound+time.Second, old)
	failover := nr.start.Sub(killed)
	t.Logf("failover after kill: %v (TTL %v, bound %v), token %d -> %d", failover, testTTL, bound, r.term.Token, nr.term.Token)
	if failover > bound {
		t.Errorf("failover %v > bound %v", failover, bound)
	}
	if nl == old || nr.term.Token <= r.term.Token {
		t.Errorf("new term %v after %v: want another node and a larger token", nr.term, r.term)
	}
	if err := c.fence.Admit(r.term.Token); !errors.Is(err, ErrStale) {
		t.Errorf("fence admitted the killed leader's token %d: %v", r.term.Token, err)
	}
	c.assertSingle(testRenew)
}

func TestPartitionedLeaderStepsDownBeforeNewTerm(t *testing.T) {
	c := newCluster(t, 3)
	old, r := c.waitLeader(5 * time.Second)
	partitioned := time.Now()
	old.nc.Close() // the leader can no longer reach NATS; its process lives on
	nl, nr := c.waitLeader(testTTL+testRenew+expirySlack+testRenew+time.Second, old)
	// Wait for the old term's end to be recorded (it must already be).
	var oldRec termRec
	for _, x := range old.record() {
		if x.term == r.term {
			oldRec = x
		}
	}
	if oldRec.end.IsZero() {
		t.Fatalf("old leader %v still in its term when %v started", r.term, nr.term)
	}
	gap := nr.start.Sub(oldRec.end)
	t.Logf("partitioned %v: old term ended after %v (cause %v), new term %v started %v later",
		r.term, oldRec.end.Sub(partitioned), oldRec.cause, nr.term, gap)
	if !errors.Is(oldRec.cause, ErrLeaseExpired) {
		t.Errorf("old term cause %v, want ErrLeaseExpired", oldRec.cause)
	}
	// The old term must end at most TTL-Margin after its last renewal was
	// sent, i.e. before the partition + TTL - Margin (+ scheduling tolerance).
	if lim := testTTL - testTTL/5 + 50*time.Millisecond; oldRec.end.Sub(partitioned) > lim {
		t.Errorf("old term ended %v after the partition, want <= %v", oldRec.end.Sub(partitioned), lim)
	}
	// Ordering: the old term is over before the new one starts, by about the
	// Margin (TTL/5 = 200 ms); allow 50 ms of scheduling tolerance.
	if gap < testTTL/5-50*time.Millisecond {
		t.Errorf("new term started only %v after the old one ended (want >= Margin-50ms)", gap)
	}
	if nl == old || nr.term.Token <= r.term.Token {
		t.Errorf("new term %v after %v: want another node, larger token", nr.term, r.term)
	}
	if err := c.fence.Admit(r.term.Token); !errors.Is(err, ErrStale) {
		t.Errorf("fence admitted the partitioned leader's token: %v", err)
	}
}

func TestResignIsImmediate(t *testing.T) {
	c := newCluster(t, 3)
	old, r := c.waitLeader(5 * time.Second)
	stopped := time.Now()
	old.stop()
	<-old.done // Run returns after fn returned and the key was deleted
	_, nr := c.waitLeader(testTTL, old)
	took := nr.start.Sub(stopped)
	t.Logf("failover after resign: %v, token %d -> %d", took, r.term.Token, nr.term.Token)
	// Immediate: the followers watch the key's deletion; well under a TTL.
	if took > testRenew {
		t.Errorf("failover after clean resign took %v, want < %v", took, testRenew)
	}
	var oldRec termRec
	for _, x := range old.record() {
		if x.term == r.term {
			oldRec = x
		}
	}
	if !errors.Is(oldRec.cause, ErrResigned) || oldRec.end.After(nr.start) {
		t.Errorf("old term: cause %v, ended %v vs new start %v", oldRec.cause, oldRec.end, nr.start)
	}
	if nr.term.Token <= r.term.Token {
		t.Errorf("token not increasing: %d -> %d", r.term.Token, nr.term.Token)
	}
}

// TestNATSRestart: the only NATS server restarts (file storage kept). The
// leader cannot renew during the outage and steps down; after the restart a
// leader is elected again with a larger token.
func TestNATSRestart(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.Start(t, natstest.Options{Dir: dir, Port: -1, Lazy: true})
	port := srv.Addr().(*net.TCPAddr).Port
	c := &cluster{t: t, srv: srv, bucket: "leases", fence: &Fence{}}
	nc := c.connect("setup")
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := EnsureBucket(ctx, js, c.bucket, testTTL, 1); err != nil {
		t.Fatal(err)
	}
	c.start("n1")
	c.start("n2")
	_, r := c.waitLeader(5 * time.Second)
	srv.Shutdown()
	srv.WaitForShutdown()
	// Every term ends within TTL-Margin (+ tolerance) while NATS is down.
	deadline := time.Now().Add(testTTL)
	for len(c.leaders()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("a leader kept its term while NATS was down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.srv = natstest.Start(t, natstest.Options{Dir: dir, Port: port, Lazy: true})
	t.Cleanup(c.srv.Shutdown)
	_, nr := c.waitLeader(10 * time.Second)
	t.Logf("NATS restart: %v -> %v", r.term, nr.term)
	if nr.term.Token <= r.term.Token {
		t.Errorf("token not increasing across a NATS restart: %d -> %d", r.term.Token, nr.term.Token)
	}
}

func TestConfigValidation(t *testing.T) {
	kv := jetstream.KeyValue(nil)
	if _, err := New(Config{KV: kv, Node: "a", TTL: time.Second}); err == nil {
		t.Error("nil KV accepted")
	}
	c := newCluster(t, 0)
	nc := c.connect("x")
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(context.Background(), c.bucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{KV: kv, TTL: time.Second},
		{KV: kv, Node: "a", TTL: 50 * time.Millisecond},
		{KV: kv, Node: "a", TTL: time.Second, RenewInterval: 500 * time.Millisecond},
		{KV: kv, Node: "a", TTL: time.Second, Margin: time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
	// A TTL different from the bucket's is refused by Run.
	el, err := New(Config{KV: kv, Node: "a", TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := el.Run(context.Background(), func(context.Context, Term) {}); err == nil {
		t.Error("Run accepted a TTL different from the bucket's")
	}
}

// BenchmarkFailover kills (kill -9 style) the leader of 3 electors 10 times
// and reports the time until the next term starts, against the TTL.
func BenchmarkFailover(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c := newCluster(b, 3)
		var times []time.Duration
		var dead []*node
		for k := 0; k < 10; k++ {
			l, _ := c.waitLeader(5*time.Second, dead...)
			// Sweep the kill's phase across the renew cycle: after one
			// renewal plus k/10 of an interval.
			time.Sleep(testRenew + time.Duration(k)*testRenew/10)
			killed := time.Now()
			close(l.el.hardStop)
			<-l.done
			dead = append(dead, l)
			c.start(fmt.Sprintf("r%d", k)) // keep 3 live electors
			_, nr := c.waitLeader(5*time.Second, dead...)
			times = append(times, nr.start.Sub(killed))
		}
		sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
		b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(times[len(times)-1].Milliseconds()), "max-ms")
		b.ReportMetric(float64(testTTL.Milliseconds()), "ttl-ms")
		b.Logf("failover over 10 kills (TTL %v, renew %v): %v", testTTL, testRenew, times)
	}
}
