package hub

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
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
	closeNormal      closeReason = iota // the client went away
	closeSlow                           // queue full
	closeTimeout                        // pong missing
	closeWriteFailed                    // a write failed or timed out
	closeProtocol                       // websocket protocol error, oversized message
	closeShutdown                       // hub closed
	closeRevoked                        // the client's access was revoked
	closeCutOff                         // this node lost its cluster: go elsewhere
)

// wireKind tells what a queued frame is, for the counters.
type wireKind uint8

const (
	wireData    wireKind = iota // a topic message
	wireReply                   // a reply to a request
	wireControl                 // ping, pong
	wireClose                   // the close frame: the connection ends after it
)

// wire is one websocket frame as written to the socket (header and
// payload; server frames are not masked), shared by every client it goes to.
type wire struct {
	b    []byte
	at   time.Time // first publish a topic message carries; zero otherwise
	kind wireKind
}

// appendFrame appends an unmasked, unfragmented frame (RFC 6455 5.2).
func appendFrame(dst []byte, op int, payload []byte) []byte {
	dst = append(dst, 0x80|byte(op))
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// client is one websocket connection. Its one goroutine reads; writing
// needs none while the socket takes what is sent (see kick).
type client struct {
	h    *Hub
	conn *websocket.Conn
	// raw writes without blocking; nil when the connection is not a
	// socket (then every write goes through writeLoop).
	raw syscall.RawConn

	mu      sync.Mutex
	q       []*wire // frames waiting, in order; at most QueueLen
	spare   []*wire // the other half of a double buffer with q
	writing bool    // a kick or writeLoop owns the socket
	closing bool    // no more frames: a close frame is queued or the conn closed

	ping   *time.Timer
	once   sync.Once
	topics map[Topic]struct{} // owned by the reader goroutine
	// principal is who the client is (Config.Principal), fixed at connect.
	principal any
}

// ServeWS upgrades the request to a websocket and serves the client until it
// leaves or is dropped: one goroutine reads its requests; writes happen in
// the goroutine that queued them unless the socket is full (then a writer
// goroutine takes over until the queue is empty). Mount it on a net/http mux
// (fasthttp cannot hijack).
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	if h.isClosed() {
		http.Error(w, "hub closed", http.StatusServiceUnavailable)
		return
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the request
	}
	c := &client{h: h, conn: conn, topics: map[Topic]struct{}{}}
	if h.cfg.Principal != nil {
		c.principal = h.cfg.Principal(r)
	}
	c.raw = rawConn(conn.NetConn())
	c.mu.Lock()
	c.ping = time.AfterFunc(h.cfg.PingEvery, c.pingTick)
	c.mu.Unlock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		c.ping.Stop()
		conn.Close()
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.nClients.Add(1)
	h.connects.Add(1)

	// The handler returns so that net/http frees its per-request state;
	// the connection lives on in the reader goroutine.
	go c.run()
}

// run reads until the connection ends, then takes the client out of the hub.
func (c *client) run() {
	h := c.h
	c.close(c.readLoop())
	h.unsubscribe(c, mapKeys(c.topics))
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.nClients.Add(-1)
}

// pingTick pings the client every PingEvery (a timer, not a goroutine,
// per connection).
func (c *client) pingTick() {
	if c.push(c.h.ping) {
		c.kick()
		c.mu.Lock()
		c.ping.Reset(c.h.cfg.PingEvery)
		c.mu.Unlock()
	}
}

// push queues a frame without writing it (the caller kicks); a full queue
// drops the client. False if the frame will not be sent.
func (c *client) push(w *wire) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	if len(c.q) >= c.h.cfg.QueueLen {
		c.mu.Unlock()
		c.close(closeSlow)
		return false
	}
	c.q = append(c.q, w)
	c.mu.Unlock()
	return true
}

// room is how many more frames the queue takes.
func (c *client) room() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h.cfg.QueueLen - len(c.q)
}

// take hands the queue over to the writer (caller holds c.mu).
func (c *client) take() []*wire {
	b := c.q
	c.q, c.spare = c.spare[:0], nil
	return b
}

// done returns a written batch's slice for reuse (caller holds c.mu).
func (c *client) done(b []*wire) {
	if cap(b) <= 16 && c.spare == nil {
		clear(b)
		c.spare = b[:0]
	}
}

// maxKickRounds bounds how often one kick comes back for frames queued
// while it wrote, before it leaves them to a writer goroutine.
const maxKickRounds = 4

// kick writes what is queued, unless someone else is writing to the
// client already (they will write it). It never blocks on the client: it
// writes what the socket's buffer takes with a non-blocking system call and
// leaves the rest to a writer goroutine. Frames are written in queue order,
// several in one system call when several are waiting.
func (c *client) kick() {
	c.mu.Lock()
	if c.writing || len(c.q) == 0 {
		c.mu.Unlock()
		return
	}
	c.writing = true
	batch := c.take()
	c.mu.Unlock()
	if c.raw == nil {
		c.handOff(batch, nil)
		return
	}
	for round := 0; ; round++ {
		buf := batch[0].b
		if len(batch) > 1 {
			n := 0
			for _, w := range batch {
				n += len(w.b)
			}
			buf = make([]byte, 0, n)
			for _, w := range batch {
				buf = append(buf, w.b...)
			}
		}
		n, err := c.tryWrite(buf)
		if err != nil {
			c.writeFailed()
			return
		}
		if n < len(buf) { // the socket is full: block in a goroutine of its own
			c.handOff(batch, buf[n:])
			return
		}
		if !c.wrote(batch) {
			return
		}
		c.mu.Lock()
		if len(c.q) == 0 {
			c.writing = false
			c.done(batch)
			c.mu.Unlock()
			return
		}
		if round == maxKickRounds {
			next := c.take()
			c.done(batch)
			c.mu.Unlock()
			c.handOff(next, nil)
			return
		}
		next := c.take()
		c.done(batch)
		c.mu.Unlock()
		batch = next
	}
}

// handOff starts a writer goroutine for what kick could not write.
func (c *client) handOff(batch []*wire, rest []byte) {
	c.h.handoffs.Add(1)
	go c.writeLoop(batch, rest)
}

// writeLoop writes rest (the unwritten tail of batch) or else batch, then
// whatever is queued, with blocking writes bounded by WriteTimeout, until
// the queue is empty.
func (c *client) writeLoop(batch []*wire, rest []byte) {
	nc := c.conn.NetConn()
	for {
		nc.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteTimeout))
		var err error
		if rest != nil {
			_, err = nc.Write(rest)
		} else {
			bufs := make(net.Buffers, len(batch))
			for i, w := range batch {
				bufs[i] = w.b
			}
			_, err = bufs.WriteTo(nc)
		}
		if err != nil {
			c.writeFailed()
			return
		}
		if !c.wrote(batch) {
			return
		}
		c.mu.Lock()
		if len(c.q) == 0 {
			c.writing = false
			c.done(batch)
			c.mu.Unlock()
			return
		}
		next := c.take()
		c.done(batch)
		c.mu.Unlock()
		batch, rest = next, nil
	}
}

// wrote counts a written batch; false if it ended with the close frame
// (the connection is closed then, and stays owned by the writer).
func (c *client) wrote(batch []*wire) bool {
	h := c.h
	var now time.Time
	var n uint64
	for _, w := range batch {
		switch w.kind {
		case wireData:
			n++
			if h.met != nil && !w.at.IsZero() {
				if now.IsZero() {
					now = time.Now()
				}
				h.met.latency.Observe(now.Sub(w.at).Seconds())
			}
		case wireReply:
			n++
		case wireClose:
			h.sent.Add(n)
			c.conn.Close()
			return false
		}
	}
	h.batches.Add(1) // before sent: tests wait for sent, then read batches
	h.sent.Add(n)
	return true
}

// writeFailed ends the client after a failed write (or, if it was closing
// already, makes sure the connection is closed) and gives up the socket.
func (c *client) writeFailed() {
	c.close(closeWriteFailed)
	c.conn.Close()
	c.mu.Lock()
	c.writing = false
	c.q = nil
	c.mu.Unlock()
}

// close ends the client once. A slow, timed-out or misbehaving connection
// is closed at once (a writer may be stuck in a write; gorilla has already
// sent the close frame of a protocol error); otherwise the client gets a
// close frame after what is queued, then the connection is closed.
func (c *client) close(why closeReason) {
	var flush bool
	c.once.Do(func() {
		h := c.h
		c.mu.Lock()
		c.ping.Stop()
		c.mu.Unlock()
		switch why {
		case closeSlow:
			h.dropped.Add(1)
			h.met.drop("slow")
		case closeTimeout:
			h.timedOut.Add(1)
			h.met.drop("ping_timeout")
		case closeWriteFailed:
			h.timedOut.Add(1)
			h.met.drop("write_failed")
		case closeProtocol:
			h.protocol.Add(1)
			h.met.drop("protocol")
		case closeRevoked:
			h.met.drop("revoked")
		case closeCutOff:
			h.met.drop("cut_off")
		}
		c.mu.Lock()
		c.closing = true
		if why != closeNormal && why != closeShutdown && why != closeRevoked && why != closeCutOff {
			c.q = nil
			c.mu.Unlock()
			c.conn.Close()
			return
		}
		code, text := websocket.CloseNormalClosure, ""
		switch why {
		case closeShutdown:
			code, text = websocket.CloseGoingAway, "server shutting down"
		case closeRevoked:
			code, text = CloseRevoked, "access revoked"
		case closeCutOff:
			code, text = CloseCutOff, "node cut off from its cluster"
		}
		c.q = append(c.q, &wire{b: appendFrame(nil, websocket.CloseMessage, websocket.FormatCloseMessage(code, text)), kind: wireClose})
		c.mu.Unlock()
		flush = true
	})
	if flush { // outside Do: a failed write calls close again
		c.kick()
	}
}

// readLoop handles requests and pongs until the connection ends.
func (c *client) readLoop() closeReason {
	h := c.h
	wait := 2 * h.cfg.PingEvery
	c.conn.SetReadLimit(h.cfg.MaxMessageBytes)
	c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(wait)) })
	// Gorilla's default handlers would write the pong and the close frame
	// themselves, racing with the hub's writes; queue them instead (the
	// close frame is sent by close).
	c.conn.SetPingHandler(func(data string) error {
		if c.push(&wire{b: appendFrame(nil, websocket.PongMessage, []byte(data)), kind: wireControl}) {
			c.kick()
		}
		return nil
	})
	c.conn.SetCloseHandler(func(int, string) error { return nil })
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				return closeTimeout
			case errors.Is(err, websocket.ErrReadLimit):
				h.badReqs.Add(1)
				return closeProtocol
			case errors.As(err, &ce), errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF):
				return closeNormal
			case strings.HasPrefix(err.Error(), "websocket: "):
				return closeProtocol // gorilla's protocol errors have no type
			}
			return closeNormal
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		if typ != websocket.TextMessage {
			c.fail("", "binary messages are not accepted")
		} else {
			c.handle(b)
		}
		c.kick()
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
		if az := c.h.cfg.Authorize; az != nil {
			for _, t := range topics {
				if !az(c.principal, t) {
					c.fail(req.Op, fmt.Sprintf("forbidden topic %.80q: outside what this screen may see", t))
					return
				}
			}
		}
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

// send queues a reply; the read loop kicks after each request.
func (c *client) send(r reply) {
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	c.push(&wire{b: appendFrame(nil, websocket.TextMessage, b), kind: wireReply})
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

// checkOrigin allows non-browser clients and the configured origins, or,
// when none are configured, the server's own host.
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if len(h.cfg.AllowedOrigins) > 0 {
		for _, o := range h.cfg.AllowedOrigins {
			if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// Disconnect closes the connections of every client whose principal
// matches (a revoked screen token, a disabled user's sessions) and returns
// how many it closed. Their screens reconnect, and are refused.
func (h *Hub) Disconnect(match func(principal any) bool) int {
	return h.disconnect(match, closeRevoked)
}

// DisconnectAll closes every client with CloseCutOff: this node can no
// longer vouch for its values (cluster/bus lost), and its screens should
// reconnect, through their proxy, to a node that can. It returns how many
// it closed.
func (h *Hub) DisconnectAll() int {
	return h.disconnect(func(any) bool { return true }, closeCutOff)
}

func (h *Hub) disconnect(match func(principal any) bool, why closeReason) int {
	h.mu.Lock()
	var cs []*client
	for c := range h.clients {
		if match(c.principal) {
			cs = append(cs, c)
		}
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.close(why)
	}
	return len(cs)
}

// Principals returns the distinct principals of the connected clients, so
// the server can check that each is still valid.
func (h *Hub) Principals() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[any]bool)
	var out []any
	for c := range h.clients {
		p := c.principal
		if p == nil || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
