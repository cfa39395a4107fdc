package hub

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/internal/testkit"
)

// TestFrameLengths: the hub frames messages itself; payloads at the edges
// of the three length encodings of RFC 6455 reach a gorilla client intact.
func TestFrameLengths(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a = "ind:x:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed")
	// The JSON around data: {"topic":"ind:x:1:day","seq":N,"data":""}
	overhead := len(fmt.Sprintf(`{"topic":%q,"seq":%d,"data":""}`, a, h.base+1))
	for i, size := range []int{overhead, 125, 126, 127, 65535, 65536, 70000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			data := `"` + strings.Repeat("x", size-overhead) + `"`
			publish(t, h, a, data)
			h.Flush()
			c.Conn.SetReadDeadline(time.Now().Add(wait))
			typ, b, err := c.Conn.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if typ != websocket.TextMessage || len(b) != size {
				t.Fatalf("got type %d, %d bytes; want a text message of %d", typ, len(b), size)
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			checkFrame(t, f, a, h.base+1+uint64(i), false, data)
		})
	}
}

// TestBlockedWritesKeepOrder: a client that stops reading fills its socket;
// the hub's non-blocking write leaves the rest of a frame to a writer
// goroutine, more messages queue behind it and go out several per write.
// When the client reads again it gets every message once, in seq order.
func TestBlockedWritesKeepOrder(t *testing.T) {
	h, srv := startHub(t, Config{QueueLen: 1 << 12})
	const a = "ind:x:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed") // then it reads nothing for a while

	pad := strings.Repeat("x", 64<<10)
	n := 0
	deadline := time.Now().Add(wait)
	for extra := 0; extra < 50; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("no write blocked after %d messages of 64 KiB", n)
		}
		publish(t, h, a, fmt.Sprintf(`"%d %s"`, n, pad))
		h.Flush()
		if h.handoffs.Load() > 0 {
			extra++ // these queue behind the blocked write
		}
	}
	if st := h.Stats(); st.Dropped != 0 {
		t.Fatalf("client dropped: %+v", st)
	}
	for i := 0; i < n; i++ {
		f := c.Next()
		want := fmt.Sprintf(`"%d %s"`, i, pad)
		if f.Seq != h.base+1+uint64(i) || string(f.Data) != want {
			t.Fatalf("message %d of %d: got %v, want seq %d", i, n, f, h.base+1+uint64(i))
		}
	}
	// The writer goroutine handed the socket back: a new message goes out.
	publish(t, h, a, `"last"`)
	h.Flush()
	c.Expect(a, h.base+1+uint64(n), false, `"last"`)
	t.Logf("%d messages, %d writer goroutines started", n, h.handoffs.Load())
}

// TestControlFrames: the hub answers a client's ping with a pong carrying
// the same data, and a client's close frame with a close frame.
func TestControlFrames(t *testing.T) {
	h, srv := startHub(t, Config{})
	c := dial(t, srv)
	pongs := make(chan string, 1)
	c.Conn.SetPongHandler(func(data string) error { pongs <- data; return nil })
	c.Subscribe(nil, "a")
	c.Until("subscribed")
	if err := c.Conn.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	// The server reads the ping before this request, so the pong comes
	// before the reply; reading the reply handles the pong.
	c.Subscribe(nil, "b")
	c.Until("subscribed")
	select {
	case d := <-pongs:
		if d != "hello" {
			t.Errorf("pong %q, want hello", d)
		}
	default:
		t.Error("no pong")
	}

	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.Conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	c.Conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := c.Conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after close: got %v, want the server's close frame 1000", err)
	}
	testkit.WaitFor(t, "the client to leave", func() bool { return h.Stats().Clients == 0 })
	if st := h.Stats(); st.TimedOut+st.Dropped+st.Protocol != 0 {
		t.Errorf("a normal close counted as a drop: %+v", st)
	}
}

// TestFlushBatchesAcrossShards: one Flush writes a client's messages of
// every shard in one batch (one system call), each topic's in seq order.
func TestFlushBatchesAcrossShards(t *testing.T) {
	h, srv := startHub(t, Config{})
	var topics []string
	shards := map[*shard]bool{}
	for i := 0; i < 40; i++ {
		tp := fmt.Sprintf("ind:i%d:1:day", i)
		topics = append(topics, tp)
		shards[h.shard(tp)] = true
	}
	if len(shards) < 4 {
		t.Fatalf("40 topics in %d shards", len(shards))
	}
	c := dial(t, srv)
	c.Subscribe(nil, topics...)
	c.Until("subscribed")
	testkit.WaitFor(t, "snapshots and reply written", func() bool { return h.Stats().Sent == 41 })
	before := h.batches.Load()
	for round := 1; round <= 2; round++ {
		for _, tp := range topics {
			publish(t, h, tp, strconv.Itoa(round))
		}
		h.Flush()
		got := map[string]bool{}
		for range topics {
			f := c.Next()
			if f.Seq != h.base+uint64(round) || string(f.Data) != strconv.Itoa(round) || got[f.Topic] {
				t.Fatalf("round %d: got %v", round, f)
			}
			got[f.Topic] = true
		}
	}
	testkit.WaitFor(t, "messages counted", func() bool { return h.Stats().Sent == 41+80 })
	if n := h.batches.Load() - before; n != 2 {
		t.Errorf("2 flushes of %d topics in %d shards took %d writes, want 2", len(topics), len(shards), n)
	}
}
