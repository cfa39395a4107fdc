package hub

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/internal/testkit"
)

// wait is the generous deadline for anything a test waits on; a loaded
// machine slows a test down, it does not fail it.
const wait = 15 * time.Second

// frame is any server message: a topic message or a reply.
type frame struct {
	Op       string          `json:"op"`
	Request  string          `json:"request"`
	Topics   []string        `json:"topics"`
	Error    string          `json:"error"`
	Topic    string          `json:"topic"`
	Seq      uint64          `json:"seq"`
	Snapshot bool            `json:"snapshot"`
	Data     json.RawMessage `json:"data"`
}

func (f frame) String() string {
	if f.Op != "" {
		return fmt.Sprintf("reply %s %v %s", f.Op, f.Topics, f.Error)
	}
	return fmt.Sprintf("%s seq=%d snap=%v data=%.40s", f.Topic, f.Seq, f.Snapshot, f.Data)
}

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

type testClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" }

func dial(t *testing.T, srv *httptest.Server) *testClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn}
}

func (c *testClient) send(v any) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(wait))
	var err error
	if s, ok := v.(string); ok {
		err = c.conn.WriteMessage(websocket.TextMessage, []byte(s))
	} else {
		err = c.conn.WriteJSON(v)
	}
	if err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *testClient) subscribe(since map[string]uint64, topics ...string) {
	c.t.Helper()
	c.send(map[string]any{"op": "subscribe", "topics": topics, "since": since})
}

func (c *testClient) next() frame {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(wait))
	var f frame
	if err := c.conn.ReadJSON(&f); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// until reads up to the reply op and returns the topic messages before it.
func (c *testClient) until(op string) []frame {
	c.t.Helper()
	var got []frame
	for {
		f := c.next()
		if f.Op == op {
			return got
		}
		if f.Op != "" {
			c.t.Fatalf("want reply %s, got %v", op, f)
		}
		got = append(got, f)
	}
}

func (c *testClient) expect(topic string, seq uint64, snapshot bool, data string) {
	c.t.Helper()
	f := c.next()
	checkFrame(c.t, f, topic, seq, snapshot, data)
}

func checkFrame(t *testing.T, f frame, topic string, seq uint64, snapshot bool, data string) {
	t.Helper()
	if f.Op != "" || f.Topic != topic || f.Seq != seq || f.Snapshot != snapshot || string(f.Data) != data {
		t.Fatalf("got %v, want %s seq=%d snap=%v data=%s", f, topic, seq, snapshot, data)
	}
}

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
	c.subscribe(nil, a, b)
	got := c.until("subscribed")
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
	c.expect(a, seq+1, false, `{"v":2}`)
	// one flush: a and b in either order
	f1, f2 := c.next(), c.next()
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
	c.subscribe(nil, a, marker)
	c.until("subscribed")
	for i := 1; i <= 50; i++ {
		publish(t, h, a, strconv.Itoa(i))
	}
	h.Flush()
	c.expect(a, h.base+1, false, "50")
	// nothing else of a follows: the next message is the marker
	publish(t, h, marker, "true")
	h.Flush()
	c.expect(marker, h.base+1, false, "true")
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
	c.subscribe(nil, a)
	c.until("subscribed")
	const n = 1000
	for i := 1; i <= n; i++ {
		publish(t, h, a, strconv.Itoa(i))
	}
	var got int
	for want := h.base + 1; ; want++ {
		f := c.next()
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
	c1.subscribe(nil, a)
	c1.until("subscribed")
	last := h.base + 1
	for i := 1; i <= 3; i++ {
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
		last++
		c1.expect(a, last, false, strconv.Itoa(i))
	}
	c1.conn.Close()
	for i := 4; i <= 8; i++ { // missed while away
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
	}

	c2 := dial(t, srv)
	c2.subscribe(map[string]uint64{a: last}) // topic named by since only
	got := c2.until("subscribed")
	if len(got) != 5 {
		t.Fatalf("want the 5 missed messages, got %v", got)
	}
	for i, f := range got {
		checkFrame(t, f, a, last+1+uint64(i), false, strconv.Itoa(4+i))
	}
	publish(t, h, a, "9")
	h.Flush()
	c2.expect(a, last+6, false, "9")

	// Up to date: nothing but the reply.
	c3 := dial(t, srv)
	c3.subscribe(map[string]uint64{a: last + 6}, a)
	if got := c3.until("subscribed"); len(got) != 0 {
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
			c.subscribe(map[string]uint64{a: since}, a)
			got := c.until("subscribed")
			if len(got) != 1 {
				t.Fatalf("want one snapshot, got %v", got)
			}
			checkFrame(t, got[0], a, cur, true, "10")
		})
	}
	// The ring holds the last 4: since cur-4 replays 4 messages.
	c := dial(t, srv)
	c.subscribe(map[string]uint64{a: cur - 4}, a)
	got := c.until("subscribed")
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
	stalled := &testClient{t: t, conn: sconn}
	stalled.subscribe(nil, a)
	stalled.until("subscribed") // then it never reads again

	fast := dial(t, srv)
	fast.subscribe(nil, a)
	fast.until("subscribed")

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
		fast.expect(a, seq, false, big)
	}
	for i := 0; i < 5; i++ { // the fast client goes on
		publish(t, h, a, strconv.Itoa(i))
		h.Flush()
		seq++
		fast.expect(a, seq, false, strconv.Itoa(i))
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
	c.subscribe(nil, a, b)
	c.until("subscribed")
	c.send(map[string]any{"op": "unsubscribe", "topics": []string{a}})
	c.until("unsubscribed")
	publish(t, h, a, "1")
	publish(t, h, b, "1")
	h.Flush()
	c.expect(b, h.base+1, false, "1")
	publish(t, h, a, "2")
	publish(t, h, b, "2")
	h.Flush()
	c.expect(b, h.base+2, false, "2")

	// A made-up topic that was never published leaves no trace.
	c.subscribe(nil, "ind:nothing:0:day")
	c.until("subscribed")
	c.send(map[string]any{"op": "unsubscribe", "topics": []string{"ind:nothing:0:day"}})
	c.until("unsubscribed")
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
		c.send(tc.send)
		f := c.next()
		if f.Op != "error" || !strings.Contains(f.Error, tc.want) {
			t.Errorf("sent %v: got %v, want error %q", tc.send, f, tc.want)
		}
	}
	c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2})
	if f := c.next(); f.Op != "error" {
		t.Errorf("binary message: got %v", f)
	}
	// Limits count across requests.
	c.subscribe(nil, "a", "b")
	c.until("subscribed")
	c.subscribe(nil, "b", "c") // b again does not count twice
	c.until("subscribed")
	c.subscribe(nil, "d")
	if f := c.next(); f.Op != "error" || !strings.Contains(f.Error, "too many topics") {
		t.Errorf("4th topic: got %v", f)
	}
	// The connection still works.
	publish(t, h, "a", "1")
	h.Flush()
	c.expect("a", h.base+1, false, "1")

	// An oversized message ends the connection with 1009, and only it.
	c.send(map[string]any{"op": "subscribe", "topics": []string{strings.Repeat("x", 2000)}})
	c.conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := c.conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized message: got %v, want close 1009", err)
	}
	c2 := dial(t, srv)
	c2.subscribe(nil, "a")
	c2.expect("a", h.base+1, true, "1")
	testkit.WaitFor(t, "9 bad requests counted", func() bool { return h.Stats().BadRequests == 9 })
}

func TestKeepalive(t *testing.T) {
	h, srv := startHub(t, Config{PingEvery: 200 * time.Millisecond})
	c := dial(t, srv)
	pings := make(chan struct{}, 100)
	c.conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.subscribe(nil, "a")
	c.until("subscribed")
	// Keep reading for 1.2s (6 ping intervals): pongs keep it connected.
	go func() {
		time.Sleep(1200 * time.Millisecond)
		h.Publish("a", json.RawMessage("1"))
		h.Flush()
	}()
	c.expect("a", h.base+1, false, "1")
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
	c.subscribe(nil, "a")
	c.until("subscribed")
	h.Close()
	c.conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := c.conn.ReadMessage()
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
		c.subscribe(since, a)
		for n := 0; n < 20; {
			f := c.next()
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
		c.conn.Close()
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
	c.subscribe(map[string]uint64{a: h.base + 2}, a) // 8 missed > 8/2
	got := c.until("subscribed")
	if len(got) != 1 {
		t.Fatalf("want one snapshot, got %v", got)
	}
	checkFrame(t, got[0], a, h.base+10, true, "10")
	c2 := dial(t, srv)
	c2.subscribe(map[string]uint64{a: h.base + 7}, a) // 3 missed
	if got := c2.until("subscribed"); len(got) != 3 || got[0].Seq != h.base+8 {
		t.Fatalf("want 3 replayed, got %v", got)
	}
}
