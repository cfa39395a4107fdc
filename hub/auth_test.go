package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/wstest"
)

// principalHub serves a hub whose clients are who their "X-Who" header
// says, allowed the topics that start with their name.
func principalHub(t *testing.T) (*Hub, func(who string) *testClient) {
	t.Helper()
	h, srv := startHub(t, Config{
		Principal: func(r *http.Request) any { return r.Header.Get("X-Who") },
		Authorize: func(p any, topic Topic) bool { return strings.HasPrefix(topic, p.(string)+":") },
	})
	return h, func(who string) *testClient {
		t.Helper()
		return wstest.Dial(t, wsURL(srv), http.Header{"X-Who": {who}})
	}
}

func TestAuthorizeRefusesTopicsOutsideTheScope(t *testing.T) {
	h, dialAs := principalHub(t)
	publish(t, h, "a:x", `1`)
	publish(t, h, "b:x", `2`)
	h.Flush()
	a := dialAs("a")
	a.Subscribe(nil, "a:x", "b:x")
	f := a.Next()
	if f.Op != "error" || !strings.Contains(f.Error, "forbidden topic") || !strings.Contains(f.Error, "b:x") {
		t.Fatalf("subscribe to another's topic answered %v", f)
	}
	// Nothing of the request was subscribed, not even the allowed topic.
	if n := h.Stats().Subs; n != 0 {
		t.Errorf("%d subscriptions after a refused request", n)
	}
	a.Subscribe(nil, "a:x")
	if got := a.Until("subscribed"); len(got) != 1 || string(got[0].Data) != "1" {
		t.Errorf("own topic: %v", got)
	}
}

func TestDisconnectClosesWithRevoked(t *testing.T) {
	h, dialAs := principalHub(t)
	a, b := dialAs("a"), dialAs("b")
	a.Subscribe(nil, "a:x")
	a.Until("subscribed")
	b.Subscribe(nil, "b:x")
	b.Until("subscribed")
	if n := h.Disconnect(func(p any) bool { return p == "a" }); n != 1 {
		t.Fatalf("Disconnect closed %d clients, want 1", n)
	}
	a.Conn.SetReadDeadline(time.Now().Add(wait))
	_, _, err := a.Conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != CloseRevoked {
		t.Fatalf("a's read ended with %v, want close %d", err, CloseRevoked)
	}
	// b is untouched and still gets its topic.
	publish(t, h, "b:x", `3`)
	h.Flush()
	if f := b.Next(); f.Topic != "b:x" || string(f.Data) != "3" {
		t.Errorf("b got %v", f)
	}
	testkit.WaitFor(t, "a to leave", func() bool { return h.Stats().Clients == 1 })
	if ps := h.Principals(); len(ps) != 1 || ps[0] != "b" {
		t.Errorf("principals = %v, want [b]", ps)
	}
}

// Finding 12 of issue 10 (with the old default QueueLen of 256 this fails): a screen that subscribed 300 topics at once (the
// app allows 1,024) was disconnected silently, its snapshots overflowing a
// queue of 256.
func TestSubscribeManyTopicsAtOnce(t *testing.T) {
	h, srv := startHub(t, Config{MaxTopics: 1024})
	var topics []string
	for i := range 300 {
		topic := fmt.Sprintf("ind:x:%d:day", i)
		topics = append(topics, topic)
		publish(t, h, topic, fmt.Sprint(i))
	}
	h.Flush()
	c := dial(t, srv)
	// Sent without reading: the worst case for the queue.
	c.Subscribe(nil, topics...)
	time.Sleep(50 * time.Millisecond)
	got := c.Until("subscribed")
	if len(got) != 300 {
		t.Fatalf("%d snapshots, want 300", len(got))
	}
	if st := h.Stats(); st.Clients != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v: the client was dropped", st)
	}
}
