package hub

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/wstest"
)

// wait is the generous deadline for anything a test waits on; a loaded
// machine slows a test down, it does not fail it.
const wait = wstest.Wait

// frame is any server message: a topic message or a reply.
// frame and testClient are the hub protocol's test client (internal/wstest),
// shared with cluster/bus's tests.
type (
	frame      = wstest.Frame
	testClient = wstest.Client
)

// startHub serves a hub on a loopback server. Coalesce defaults to manual
// flushing (tests call Flush), so no test depends on timer luck.
func startHub(t *testing.T, cfg Config) (*Hub, *httptest.Server) {
	t.Helper()
	if cfg.Coalesce == 0 {
		cfg.Coalesce = -1
	}
	h := New(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.ServeWS)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return h, srv
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" }

func dial(t *testing.T, srv *httptest.Server) *testClient { return wstest.Dial(t, wsURL(srv), nil) }

var checkFrame = wstest.CheckFrame

func publish(t *testing.T, h *Hub, topic, data string) {
	t.Helper()
	if err := h.Publish(topic, json.RawMessage(data)); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotThenDeltas(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a, b = "ind:on_time_rate:620800:month", "health:demo-cases"
	publish(t, h, a, `{"v":1}`)
	h.Flush()
	seq := h.base + 1

	c := dial(t, srv)
	c.Subscribe(nil, a, b)
	got := c.Until("subscribed")
	if len(got) != 2 {
		t.Fatalf("want 2 snapshots, got %v", got)
	}
	// topics are handled sorted: b ("health:...") before a ("ind:...")
	checkFrame(t, got[0], b, h.base, true, "") // no value yet
	checkFrame(t, got[1], a, seq, true, `{"v":1}`)

	publish(t, h, a, `{"v":2}`)
	h.Flush()
	publish(t, h, a, `{"v":3}`)
	publish(t, h, b, `"ok"`)
	h.Flush()
	c.Expect(a, seq+1, false, `{"v":2}`)
	// one flush: a and b in either order
	f1, f2 := c.Next(), c.Next()
	if f1.Topic == b {
		f1, f2 = f2, f1
	}
	checkFrame(t, f1, a, seq+2, false, `{"v":3}`)
	checkFrame(t, f2, b, h.base+1, false, `"ok"`)

	if m, ok := h.Latest(a); !ok || m.Seq != seq+2 || string(m.Data) != `{"v":3}` {
		t.Errorf("Latest = %+v %v", m, ok)
	}
}

func TestCoalesce(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a, marker = "ind:x:1:day", "ind:marker:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a, marker)
	c.Until("subscribed")
	for i := 1; i <= 50; i++ {
		publish(t, h, a, strconv.Itoa(i))
	}
	h.Flush()
	c.Expect(a, h.base+1, false, "50")
	// nothing else of a follows: the next message is the marker
	publish(t, h, marker, "true")
	h.Flush()
	c.Expect(marker, h.base+1, false, "true")
	if st := h.Stats(); st.Published != 51 || st.Flushed != 2 {
		t.Errorf("stats %+v: want 51 published, 2 flushed", st)
	}
}

// TestCoalesceTicker runs the real flushers: a burst of publishes reaches
// the client as fewer messages with consecutive seqs, ending at the last value.
func TestCoalesceTicker(t *testing.T) {
	h, srv := startHub(t, Config{Coalesce: 20 * time.Millisecond})
	const a = "ind:x:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed")
	const n = 1000
	for i := 1; i <= n; i++ {
		publish(t, h, a, strconv.Itoa(i))
	}
	var got int
	for want := h.base + 1; ; want++ {
		f := c.Next()
		got++
		if f.Topic != a || f.Seq != want || f.Snapshot {
			t.Fatalf("got %v, want seq %d", f, want)
		}
		if string(f.Data) == strconv.Itoa(n) {
			break
		}
	}
	if got >= n {
		t.Errorf("%d publishes gave %d messages: not coalesced", n, got)
	}
	t.Logf("%d publishes → %d messages", n, got)
}

func TestResume(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a = "ind:x:1:day"
	publish(t, h, a, "0")
	h.Flush()
	c1 := dial(t, srv)
	c1.Subscribe(nil, a)
	c1.Until("subscribed")
	last := h.base + 1
	for i := 1; i <= 3; i++ {
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
		last++
		c1.Expect(a, last, false, strconv.Itoa(i))
	}
	c1.Conn.Close()
	for i := 4; i <= 8; i++ { // missed while away
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
	}

	c2 := dial(t, srv)
	c2.Subscribe(map[string]uint64{a: last}) // topic named by since only
	got := c2.Until("subscribed")
	if len(got) != 5 {
		t.Fatalf("want the 5 missed messages, got %v", got)
	}
	for i, f := range got {
		checkFrame(t, f, a, last+1+uint64(i), false, strconv.Itoa(4+i))
	}
	publish(t, h, a, "9")
	h.Flush()
	c2.Expect(a, last+6, false, "9")

	// Up to date: nothing but the reply.
	c3 := dial(t, srv)
	c3.Subscribe(map[string]uint64{a: last + 6}, a)
	if got := c3.Until("subscribed"); len(got) != 0 {
		t.Fatalf("up-to-date resume got %v", got)
	}
	if st := h.Stats(); st.Replayed != 5 {
		t.Errorf("replayed %d, want 5", st.Replayed)
	}
}

func TestResumeBeyondRing(t *testing.T) {
	h, srv := startHub(t, Config{HistoryLen: 4})
	const a = "ind:x:1:day"
	for i := 1; i <= 10; i++ {
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
	}
	cur := h.base + 10
	for name, since := range map[string]uint64{
		"older than the ring":   cur - 5,
		"from before a restart": 12345,
		"from a later process":  cur + 100,
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, srv)
			c.Subscribe(map[string]uint64{a: since}, a)
			got := c.Until("subscribed")
			if len(got) != 1 {
				t.Fatalf("want one snapshot, got %v", got)
			}
			checkFrame(t, got[0], a, cur, true, "10")
		})
	}
	// The ring holds the last 4: since cur-4 replays 4 messages.
	c := dial(t, srv)
	c.Subscribe(map[string]uint64{a: cur - 4}, a)
	got := c.Until("subscribed")
	if len(got) != 4 || got[0].Seq != cur-3 || got[3].Seq != cur || string(got[0].Data) != "7" {
		t.Fatalf("want replay of 7..10, got %v", got)
	}
}

// TestSlowClientDropped: a client that stops reading fills its queue and is
// dropped, while another client gets every update in order and the
// publisher is never blocked.
func TestSlowClientDropped(t *testing.T) {
	h, srv := startHub(t, Config{QueueLen: 4, HistoryLen: 2})
	const a = "ind:x:1:day"

	sconn, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close()
	stalled := &testClient{T: t, Conn: sconn}
	stalled.Subscribe(nil, a)
	stalled.Until("subscribed") // then it never reads again

	fast := dial(t, srv)
	fast.Subscribe(nil, a)
	fast.Until("subscribed")

	big := `"` + strings.Repeat("x", 256<<10) + `"`
	seq := h.base
	deadline := time.Now().Add(wait)
	for i := 0; h.Stats().Dropped == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("stalled client not dropped after %d messages: %+v", i, h.Stats())
		}
		publish(t, h, a, big)
		start := time.Now()
		h.Flush()
		if d := time.Since(start); d > time.Second {
			t.Errorf("flush took %v: the publisher waited on a client", d)
		}
		seq++
		fast.Expect(a, seq, false, big)
	}
	for i := 0; i < 5; i++ { // the fast client goes on
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
		seq++
		fast.Expect(a, seq, false, strconv.Itoa(i))
	}
	st := h.Stats()
	if st.Dropped != 1 {
		t.Errorf("dropped %d, want 1", st.Dropped)
	}
	// The stalled client's connection was closed: reading drains what the
	// kernels buffered, then fails.
	testkit.WaitFor(t, "the dropped client to leave", func() bool { return h.Stats().Clients == 1 })
	sconn.SetReadDeadline(time.Now().Add(wait))
	for n := 0; ; n++ {
		if _, _, err := sconn.NextReader(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("stalled client still connected after %d messages: %v", n, err)
			}
			t.Logf("stalled client: %d messages then %v", n, err)
			break
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a, b = "ind:a:1:day", "ind:b:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a, b)
	c.Until("subscribed")
	c.Send(map[string]any{"op": "unsubscribe", "topics": []string{a}})
	c.Until("unsubscribed")
	publish(t, h, a, "1")
	publish(t, h, b, "1")
	h.Flush()
	c.Expect(b, h.base+1, false, "1")
	publish(t, h, a, "2")
	publish(t, h, b, "2")
	h.Flush()
	c.Expect(b, h.base+2, false, "2")

	// A made-up topic that was never published leaves no trace.
	c.Subscribe(nil, "ind:nothing:0:day")
	c.Until("subscribed")
	c.Send(map[string]any{"op": "unsubscribe", "topics": []string{"ind:nothing:0:day"}})
	c.Until("unsubscribed")
	if n := h.Stats().Topics; n != 2 {
		t.Errorf("%d topics, want 2", n)
	}
}

func TestBadInput(t *testing.T) {
	h, srv := startHub(t, Config{MaxTopics: 3, MaxMessageBytes: 1024})
	c := dial(t, srv)
	for _, tc := range []struct {
		send any
		want string
	}{
		{"not json", "invalid JSON"},
		{`{"op":"subscribe","topics":"a"}`, "invalid JSON"},
		{map[string]any{"op": "subscribe", "topics": []string{"a", "b", "c", "d"}}, "too many topics"},
		{map[string]any{"op": "subscribe", "topics": []string{""}}, "bad topic"},
		{map[string]any{"op": "subscribe", "topics": []string{"a b"}}, "bad topic"},
		{map[string]any{"op": "publish", "topics": []string{"a"}}, "unknown op"},
	} {
		c.Send(tc.send)
		f := c.Next()
		if f.Op != "error" || !strings.Contains(f.Error, tc.want) {
			t.Errorf("sent %v: got %v, want error %q", tc.send, f, tc.want)
		}
	}
	c.Conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2})
	if f := c.Next(); f.Op != "error" {
		t.Errorf("binary message: got %v", f)
	}
	// Limits count across requests.
	c.Subscribe(nil, "a", "b")
	c.Until("subscribed")
	c.Subscribe(nil, "b", "c") // b again does not count twice
	c.Until("subscribed")
	c.Subscribe(nil, "d")
	if f := c.Next(); f.Op != "error" || !strings.Contains(f.Error, "too many topics") {
		t.Errorf("4th topic: got %v", f)
	}
	// The connection still works.
	publish(t, h, "a", "1")
	h.Flush()
	c.Expect("a", h.base+1, false, "1")

	// An oversized message ends the connection with 1009, and only it.
	c.Send(map[string]any{"op": "subscribe", "topics": []string{strings.Repeat("x", 2000)}})
	c.Conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := c.Conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized message: got %v, want close 1009", err)
	}
	c2 := dial(t, srv)
	c2.Subscribe(nil, "a")
	c2.Expect("a", h.base+1, true, "1")
	testkit.WaitFor(t, "9 bad requests counted", func() bool { return h.Stats().BadRequests == 9 })
}

func TestKeepalive(t *testing.T) {
	h, srv := startHub(t, Config{PingEvery: 200 * time.Millisecond})
	c := dial(t, srv)
	pings := make(chan struct{}, 100)
	c.Conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.Conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.Subscribe(nil, "a")
	c.Until("subscribed")
	// Keep reading for 1.2s (6 ping intervals): pongs keep it connected.
	go func() {
		time.Sleep(1200 * time.Millisecond)
		h.Publish("a", json.RawMessage("1"))
		h.Flush()
	}()
	c.Expect("a", h.base+1, false, "1")
	if n := len(pings); n < 2 {
		t.Errorf("%d pings in 1.2s at 200ms", n)
	}

	// A client that never reads never answers a ping: dropped after 2×PingEvery.
	silent := dial(t, srv)
	_ = silent
	testkit.WaitFor(t, "the silent client to time out", func() bool { return h.Stats().TimedOut >= 1 })
}

func TestCheckOrigin(t *testing.T) {
	checkOrigins(t, Config{AllowedOrigins: []string{"https://wall.example"}}, func(self string) map[string]bool {
		return map[string]bool{
			"":                     true,
			"https://wall.example": true,
			"https://evil.example": false,
			// With an allowlist the Host header is not enough: a DNS
			// rebinding page names itself in both Origin and Host.
			self: false,
		}
	})
	checkOrigins(t, Config{}, func(self string) map[string]bool {
		return map[string]bool{"": true, self: true, "https://evil.example": false}
	})
}

func checkOrigins(t *testing.T, cfg Config, cases func(self string) map[string]bool) {
	t.Helper()
	_, srv := startHub(t, cfg)
	for origin, ok := range cases("http://" + srv.Listener.Addr().String()) {
		hdr := http.Header{}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), hdr)
		if (err == nil) != ok {
			t.Errorf("origin %q: err %v, want ok=%v", origin, err, ok)
		}
		if err == nil {
			conn.Close()
		} else if resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d", origin, resp.StatusCode)
		}
	}
}

func TestPublishRejects(t *testing.T) {
	h := New(Config{Coalesce: -1})
	defer h.Close()
	if err := h.Publish("a", json.RawMessage(`{bad`)); err == nil {
		t.Error("invalid JSON accepted")
	}
	if err := h.Publish("", json.RawMessage(`1`)); err == nil {
		t.Error("empty topic accepted")
	}
	if err := h.PublishJSON("a", map[string]int{"v": 1}); err != nil {
		t.Error(err)
	}
	h.Close()
	if err := h.Publish("a", json.RawMessage(`1`)); err == nil {
		t.Error("publish after Close accepted")
	}
}

func TestCloseDisconnects(t *testing.T) {
	h, srv := startHub(t, Config{})
	c := dial(t, srv)
	c.Subscribe(nil, "a")
	c.Until("subscribed")
	h.Close()
	c.Conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := c.Conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("got %v, want close 1001", err)
	}
	testkit.WaitFor(t, "clients to leave", func() bool { return h.Stats().Clients == 0 })
}

// TestNoGapsUnderChurn: with the real flusher running fast and a publisher
// busy, clients that disconnect and resume with their last seq see, per
// topic, consecutive seqs and increasing values — replayed or after a
// snapshot, never a gap or a repeat.
func TestNoGapsUnderChurn(t *testing.T) {
	h, srv := startHub(t, Config{Coalesce: 2 * time.Millisecond, HistoryLen: 8, QueueLen: 1 << 14})
	const a = "ind:x:1:day"
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			h.Publish(a, json.RawMessage(strconv.Itoa(i)))
			if i%10 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	defer func() { close(stop); <-done }()

	var last uint64
	prev := -1
	var snaps, resumes int
	for session := 0; session < 30; session++ {
		c := dial(t, srv)
		since := map[string]uint64{}
		if last != 0 {
			since[a] = last
		}
		c.Subscribe(since, a)
		for n := 0; n < 20; {
			f := c.Next()
			if f.Op != "" {
				continue
			}
			v, err := strconv.Atoi(string(f.Data))
			if err != nil && len(f.Data) > 0 {
				t.Fatalf("data %s", f.Data)
			}
			switch {
			case f.Snapshot:
				if f.Seq < last || (len(f.Data) > 0 && v < prev) {
					t.Fatalf("session %d: snapshot %v goes back (last seq %d, value %d)", session, f, last, prev)
				}
				if n == 0 && session > 0 {
					snaps++
				}
			case f.Seq != last+1 || v <= prev:
				t.Fatalf("session %d: got %v after seq %d value %d", session, f, last, prev)
			default:
				if n == 0 && session > 0 {
					resumes++
				}
			}
			last, n = f.Seq, n+1
			if len(f.Data) > 0 {
				prev = v
			}
		}
		c.Conn.Close()
		if session%3 == 0 {
			time.Sleep(20 * time.Millisecond) // miss more than the ring now and then
		}
	}
	t.Logf("30 sessions: %d resumed by replay, %d by snapshot", resumes, snaps)
}

// TestReplayTooLongForQueue: a replay that would take more than half the
// client's queue is sent as one snapshot instead.
func TestReplayTooLongForQueue(t *testing.T) {
	h, srv := startHub(t, Config{QueueLen: 8, HistoryLen: 64})
	const a = "ind:x:1:day"
	for i := 1; i <= 10; i++ {
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
	}
	c := dial(t, srv)
	c.Subscribe(map[string]uint64{a: h.base + 2}, a) // 8 missed > 8/2
	got := c.Until("subscribed")
	if len(got) != 1 {
		t.Fatalf("want one snapshot, got %v", got)
	}
	checkFrame(t, got[0], a, h.base+10, true, "10")
	c2 := dial(t, srv)
	c2.Subscribe(map[string]uint64{a: h.base + 7}, a) // 3 missed
	if got := c2.Until("subscribed"); len(got) != 3 || got[0].Seq != h.base+8 {
		t.Fatalf("want 3 replayed, got %v", got)
	}
}
