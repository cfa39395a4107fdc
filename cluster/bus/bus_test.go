package bus

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yiping-ioc/yiping/cluster/natstest"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/internal/wstest"
)

const wait = wstest.Wait

func connect(t testing.TB, s *server.Server) jetstream.JetStream {
	t.Helper()
	_, js := natstest.Connect(t, s, t.Name())
	return js
}

// node is a hub behind a websocket server.
type node struct {
	h   *hub.Hub
	srv *httptest.Server
}

func startNode(t *testing.T, cfg hub.Config) *node {
	t.Helper()
	cfg.Coalesce = -1 // tests flush
	h := hub.New(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.ServeWS)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return &node{h: h, srv: srv}
}

func dial(t *testing.T, n *node) *wstest.Client {
	return wstest.Dial(t, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws", nil)
}

// publish publishes and flushes on the leader and returns the seq.
func publish(t *testing.T, n *node, topic, data string) uint64 {
	t.Helper()
	if err := n.h.Publish(topic, json.RawMessage(data)); err != nil {
		t.Fatal(err)
	}
	n.h.Flush()
	m, _ := n.h.Latest(topic)
	return m.Seq
}

// caughtUp waits until every follower's latest message of topic has seq.
func caughtUp(t *testing.T, topic string, seq uint64, fs ...*node) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for _, f := range fs {
		for {
			if m, ok := f.h.Latest(topic); ok && m.Seq == seq {
				break
			}
			if time.Now().After(deadline) {
				m, _ := f.h.Latest(topic)
				t.Fatalf("follower at %v, want seq %d", m, seq)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func TestSubject(t *testing.T) {
	for _, topic := range []string{"ind:on_time_rate:620800:month", "a.b", "a b", "*", ">", "~7E", "指标:1", "x-y_z", "a\x00b"} {
		s := Subject("yp.hub", topic)
		if strings.ContainsAny(s[len("yp.hub."):], ". *>\t\x00") {
			t.Errorf("%q → %q: not one token", topic, s)
		}
		back, err := TopicOf("yp.hub", s)
		if err != nil || back != topic {
			t.Errorf("%q → %q → %q, %v", topic, s, back, err)
		}
	}
	if got := Subject("p", "ind:x:1:day"); got != "p.ind:x:1:day" {
		t.Errorf("readable topic encoded as %q", got)
	}
	for _, bad := range []string{"q.x", "p.", "p.~4", "p.~zz"} {
		if _, err := TopicOf("p", bad); err == nil {
			t.Errorf("TopicOf(%q) accepted", bad)
		}
	}
}

// TestFanOutAndResumeElsewhere: the leader's flushes reach a follower's
// screens with the leader's seqs; a screen of the leader resumes on the
// follower with exactly what it missed; a follower started late gets the
// latest values; after a failover the new leader's seqs are above the old.
func TestFanOutAndResumeElsewhere(t *testing.T) {
	ns := natstest.Start(t, natstest.Options{Lazy: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const prefix, a, b = "yiping.hub", "ind:on_time_rate:620800:month", "health:demo.cases"

	lctx, lstop := context.WithCancel(ctx)
	fw, err := Forward(lctx, connect(t, ns), prefix, Options{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	leader := startNode(t, hub.Config{OnFlush: fw.OnFlush})
	// The follower's hub starts later: its base is above the leader's seqs.
	follower := startNode(t, hub.Config{Clock: func() time.Time { return time.Now().Add(time.Minute) }})
	fl, err := Follow(ctx, connect(t, ns), prefix, follower.h, Options{Node: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	// The leader follows too: it skips its own messages.
	own, err := Follow(lctx, connect(t, ns), prefix, leader.h, Options{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}

	// Wait until both consumers run: a message stored before a consumer
	// starts is replaced by the next of its topic (the stream keeps the
	// latest per topic), and the consumer would start with a jump.
	w := publish(t, leader, "warm", "0")
	caughtUp(t, "warm", w, follower)
	for deadline := time.Now().Add(wait); own.Stats().Own == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leader's follower got nothing")
		}
	}

	onF, onL := dial(t, follower), dial(t, leader)
	onF.Subscribe(nil, a)
	onF.Until("subscribed") // empty snapshot: no value yet
	onL.Subscribe(nil, a)
	onL.Until("subscribed")

	var seqs []uint64
	for i := 1; i <= 3; i++ {
		s := publish(t, leader, a, strconv.Itoa(i))
		seqs = append(seqs, s)
		onL.Expect(a, s, false, strconv.Itoa(i))
	}
	publish(t, leader, b, `{"n":1}`)
	// The follower's screen: the first value jumps from its empty topic.
	for i, s := range seqs {
		onF.Expect(a, s, i == 0, strconv.Itoa(i+1))
	}

	// The leader's screen goes away after seq 3 and misses 4..8.
	onL.Conn.Close()
	for i := 4; i <= 8; i++ {
		seqs = append(seqs, publish(t, leader, a, strconv.Itoa(i)))
	}
	caughtUp(t, a, seqs[7], follower)
	re := dial(t, follower)
	re.Subscribe(map[string]uint64{a: seqs[2]})
	got := re.Until("subscribed")
	if len(got) != 5 {
		t.Fatalf("resume on the follower: want the 5 missed, got %v", got)
	}
	for i, f := range got {
		if f.Seq != seqs[3+i] || f.Snapshot || string(f.Data) != strconv.Itoa(4+i) {
			t.Fatalf("resume on the follower: got %v, want seqs %v", got, seqs[3:])
		}
	}
	s9 := publish(t, leader, a, "9")
	seqs = append(seqs, s9)
	re.Expect(a, s9, false, "9")
	for i := 4; i <= 9; i++ {
		onF.Expect(a, seqs[i-1], false, strconv.Itoa(i))
	}

	// A follower started now gets the latest value of every topic.
	late := startNode(t, hub.Config{})
	if _, err := Follow(ctx, connect(t, ns), prefix, late.h, Options{Node: "n3"}); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, s9, late)
	mb, _ := leader.h.Latest(b)
	caughtUp(t, b, mb.Seq, late)
	c := dial(t, late)
	c.Subscribe(map[string]uint64{a: seqs[7]}) // one missed: the late node has it
	c.Expect(a, s9, false, "9")
	c.Until("subscribed")
	c2 := dial(t, late)
	c2.Subscribe(map[string]uint64{a: seqs[2]}) // more than it has: snapshot
	c2.Expect(a, s9, true, "9")
	c2.Until("subscribed")

	if st := fl.Stats(); st.Applied != 11 || st.Stale != 0 || st.Bad != 0 {
		t.Errorf("follower stats %+v", st)
	}
	if st := own.Stats(); st.Own != 11 || st.Applied != 0 {
		t.Errorf("leader's own follower stats %+v", st)
	}
	if st := fw.Stats(); st.Published != 11 || st.Dropped+st.Failed+st.NotLeading != 0 {
		t.Errorf("forwarder stats %+v", st)
	}

	// Failover: the leader stops; the follower becomes the leader.
	lstop()
	fl.Stop()
	follower.h.StartEpoch()
	fw2, err := Forward(ctx, connect(t, ns), prefix, Options{Node: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	// The running hub's Config is fixed: hand its flushes over by hand.
	if err := follower.h.Publish(a, json.RawMessage("10")); err != nil {
		t.Fatal(err)
	}
	msgs := flushWith(follower.h)
	fw2.OnFlush(msgs)
	if len(msgs) != 1 || msgs[0].Seq <= s9 || !msgs[0].Snapshot {
		t.Fatalf("new leader's flush %v, want a snapshot above %d", msgs, s9)
	}
	onF.Expect(a, msgs[0].Seq, true, "10")
	re.Expect(a, msgs[0].Seq, true, "10")
	caughtUp(t, a, msgs[0].Seq, late)
	c.Expect(a, msgs[0].Seq, true, "10")
}

// flushWith flushes h and returns the messages (the hub's Latest of each
// topic changed: the test hubs have one topic changing at a time).
func flushWith(h *hub.Hub) []hub.Message {
	before := map[string]uint64{}
	for _, t := range []string{"ind:on_time_rate:620800:month"} {
		m, _ := h.Latest(t)
		before[t] = m.Seq
	}
	h.Flush()
	var out []hub.Message
	for t, s := range before {
		if m, _ := h.Latest(t); m.Seq != s {
			m.Snapshot = true // the first flush after StartEpoch is a jump
			out = append(out, m)
		}
	}
	return out
}
