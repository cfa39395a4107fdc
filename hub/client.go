package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// request is a client message; see the protocol in doc.go.
type request struct {
	Op     string           `json:"op"`
	Topics []Topic          `json:"topics"`
	Since  map[Topic]uint64 `json:"since"`
}

type reply struct {
	Op      string  `json:"op"`
	Request string  `json:"request,omitempty"`
	Topics  []Topic `json:"topics,omitempty"`
	Error   string  `json:"error,omitempty"`
}

type closeReason int

const (
	closeNormal   closeReason = iota // the client went away
	closeSlow                        // queue full
	closeTimeout                     // write failed or pong missing
	closeShutdown                    // hub closed
)

// client is one websocket connection.
type client struct {
	h      *Hub
	conn   *websocket.Conn
	q      chan *websocket.PreparedMessage
	done   chan struct{} // closed by close
	wdone  chan struct{} // closed when the writer returns
	once   sync.Once
	reason closeReason        // set once, before done is closed
	topics map[Topic]struct{} // owned by the reader goroutine
}

// ServeWS upgrades the request to a websocket and serves the client from
// two goroutines (a reader and a writer) until it leaves or is dropped.
// Mount it on a net/http mux (fasthttp cannot hijack).
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	if h.isClosed() {
		http.Error(w, "hub closed", http.StatusServiceUnavailable)
		return
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the request
	}
	c := &client{
		h:      h,
		conn:   conn,
		q:      make(chan *websocket.PreparedMessage, h.cfg.QueueLen),
		done:   make(chan struct{}),
		wdone:  make(chan struct{}),
		topics: map[Topic]struct{}{},
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		conn.Close()
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.nClients.Add(1)
	h.connects.Add(1)

	// The handler returns so that net/http frees its per-request state;
	// the connection lives on in a reader and a writer goroutine.
	go c.writeLoop()
	go c.run()
}

// run reads until the connection ends, then takes the client out of the hub.
func (c *client) run() {
	h := c.h
	c.close(c.readLoop())
	<-c.wdone
	h.unsubscribe(c, mapKeys(c.topics))
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.nClients.Add(-1)
}

// enqueue queues a frame without blocking; a full queue drops the client.
func (c *client) enqueue(pm *websocket.PreparedMessage) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.q <- pm:
		return true
	default:
		c.close(closeSlow)
		return false
	}
}

// room is how many more frames the queue takes.
func (c *client) room() int { return cap(c.q) - len(c.q) }

// close ends the client once. A slow or timed-out connection is closed at
// once (its writer may be stuck in a write); otherwise the writer says
// goodbye with a close frame.
func (c *client) close(why closeReason) {
	c.once.Do(func() {
		c.reason = why
		switch why {
		case closeSlow:
			c.h.dropped.Add(1)
		case closeTimeout:
			c.h.timedOut.Add(1)
		}
		close(c.done)
		if why == closeSlow || why == closeTimeout {
			c.conn.Close()
		}
	})
}

func (c *client) writeLoop() {
	defer close(c.wdone)
	defer c.conn.Close()
	h := c.h
	tk := time.NewTicker(h.cfg.PingEvery)
	defer tk.Stop()
	for {
		select {
		case <-c.done:
			if c.reason == closeNormal || c.reason == closeShutdown {
				code, text := websocket.CloseNormalClosure, ""
				if c.reason == closeShutdown {
					code, text = websocket.CloseGoingAway, "server shutting down"
				}
				_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			}
			return
		case pm := <-c.q:
			c.conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				c.close(closeTimeout)
				return
			}
			h.sent.Add(1)
		case <-tk.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
				c.close(closeTimeout)
				return
			}
		}
	}
}

// readLoop handles requests and pongs until the connection ends.
func (c *client) readLoop() closeReason {
	h := c.h
	wait := 2 * h.cfg.PingEvery
	c.conn.SetReadLimit(h.cfg.MaxMessageBytes)
	c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(wait)) })
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				return closeTimeout
			case errors.Is(err, websocket.ErrReadLimit):
				h.badReqs.Add(1)
			}
			return closeNormal
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		if typ != websocket.TextMessage {
			c.fail("", "binary messages are not accepted")
			continue
		}
		c.handle(b)
	}
}

func (c *client) handle(b []byte) {
	var req request
	if err := json.Unmarshal(b, &req); err != nil {
		c.fail("", "invalid JSON: "+err.Error())
		return
	}
	topics := req.Topics
	for t := range req.Since {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	for _, t := range topics {
		if err := c.h.validTopic(t); err != nil {
			c.fail(req.Op, err.Error())
			return
		}
	}
	switch req.Op {
	case "subscribe":
		n := len(c.topics)
		for _, t := range topics {
			if _, ok := c.topics[t]; !ok {
				n++
			}
		}
		if n > c.h.cfg.MaxTopics {
			c.fail(req.Op, fmt.Sprintf("too many topics: %d > %d", n, c.h.cfg.MaxTopics))
			return
		}
		for _, t := range topics {
			c.topics[t] = struct{}{}
		}
		c.h.subscribe(c, topics, req.Since)
		c.send(reply{Op: "subscribed", Topics: topics})
	case "unsubscribe":
		for _, t := range topics {
			delete(c.topics, t)
		}
		c.h.unsubscribe(c, topics)
		c.send(reply{Op: "unsubscribed", Topics: topics})
	default:
		c.fail(req.Op, fmt.Sprintf("unknown op %q", req.Op))
	}
}

func (c *client) fail(op, msg string) {
	c.h.badReqs.Add(1)
	c.send(reply{Op: "error", Request: op, Error: msg})
}

func (c *client) send(r reply) {
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		return
	}
	c.enqueue(pm)
}

func (h *Hub) validTopic(t Topic) error {
	if t == "" || len(t) > h.cfg.MaxTopicLen {
		return fmt.Errorf("bad topic %.40q: empty or longer than %d bytes", t, h.cfg.MaxTopicLen)
	}
	if !utf8.ValidString(t) || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("bad topic %.40q: spaces or control characters", t)
	}
	return nil
}

// checkOrigin allows non-browser clients, the server's own host and the
// configured origins.
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
