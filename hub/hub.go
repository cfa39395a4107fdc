package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Topic names a stream of values. The hub gives names no meaning; the
// product's topics are spelled in one place, package live's topics.go.
type Topic = string

// CloseRevoked is the websocket close code (RFC 6455 private range) of a
// client whose access was revoked (Disconnect): its screen stops
// retrying as if the server had only gone away.
const CloseRevoked = 4403

// CloseCutOff is the close code of DisconnectAll: this node is cut off from
// its cluster and its values may be stale; the screen says "data delayed"
// and reconnects at once (through its proxy, to another node).
const CloseCutOff = 4503

// Message is one value of a topic as a client receives it.
type Message struct {
	Topic    Topic           `json:"topic"`
	Seq      uint64          `json:"seq"`
	Snapshot bool            `json:"snapshot,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Config sets up a Hub. Zero fields take defaults.
type Config struct {
	Shards     int           // topic shards, each with its own lock; default 16
	QueueLen   int           // messages queued per client before it is dropped; default 256, at least MaxTopics+64
	HistoryLen int           // messages kept per topic for resume; default 64
	Coalesce   time.Duration // flush interval; default 200ms; negative: no flusher, call Flush
	PingEvery  time.Duration // websocket ping interval; default 25s; a client silent for 2×PingEvery is dropped
	// WriteTimeout bounds a blocked write: writes to a client whose socket
	// buffer is full wait at most this long (then it is dropped); default 10s.
	WriteTimeout time.Duration
	// MaxTopics bounds the topics one client subscribes to; default 128.
	MaxTopics int
	// MaxMessageBytes bounds a message from a client; default 16 KiB.
	MaxMessageBytes int64
	// MaxTopicLen bounds a topic name; default 200 bytes.
	MaxTopicLen int
	// AllowedOrigins are the browser origins (scheme://host[:port])
	// allowed to connect. When set, they are the only ones: a matching
	// Host header is not enough (a DNS-rebinding page sends its own name
	// as both). When empty, a browser must come from the host it
	// connects to. Requests without an Origin header (not from a
	// browser) are allowed: they carry no ambient credentials.
	AllowedOrigins []string
	// CheckOrigin, if set, replaces the origin check above.
	CheckOrigin func(r *http.Request) bool
	// Principal, if set, tells who a connecting request is (the server's
	// authentication has run before ServeWS); the hub keeps it with the
	// client for Authorize and Disconnect. Nil: everyone is nil.
	Principal func(r *http.Request) any
	// Authorize, if set, decides whether a client may subscribe to a
	// topic; a refused topic fails the whole request with an error reply
	// naming it. Nil: every topic.
	Authorize func(principal any, topic Topic) bool
	// Clock gives the time; default time.Now. Only the seq base uses it.
	Clock  func() time.Time
	Logger *slog.Logger
	// Registerer, if set, gets the hub's Prometheus metrics (names
	// yiping_hub_*, see metrics.go); nil: no metrics. Registration errors
	// (e.g. two hubs on one registry) are logged and leave those metrics off.
	Registerer prometheus.Registerer
	// OnFlush, if set, is called on each flush that produced messages,
	// with those messages (at most one per topic; a topic's messages come
	// in seq order from one call to the next, flushes being serialized
	// while OnFlush is set), before this hub writes them to its own
	// clients: the other nodes start their fan-out while this one does
	// its own, instead of after it (with 12,500 screens on the leader,
	// ~225 ms later). It runs on the flushing goroutine outside the hub's
	// locks and must not block: hand the messages to a bounded queue
	// (cluster/bus does). The slice is the callee's; Data must not be
	// modified. Messages installed by Apply are not passed to it.
	OnFlush func([]Message)
}

func (c *Config) defaults() {
	if c.Shards <= 0 {
		c.Shards = 16
	}
	if c.HistoryLen <= 0 {
		c.HistoryLen = 64
	}
	if c.Coalesce == 0 {
		c.Coalesce = 200 * time.Millisecond
	}
	if c.PingEvery <= 0 {
		c.PingEvery = 25 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxTopics <= 0 {
		c.MaxTopics = 128
	}
	if c.QueueLen <= 0 {
		// A subscribe queues one snapshot per topic at once: the queue
		// must hold a whole request of MaxTopics (and a reply and some
		// pings) beside what is already queued, or a screen subscribing
		// to 300 topics was dropped before its first frame.
		c.QueueLen = max(256, c.MaxTopics+64)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 16 << 10
	}
	if c.MaxTopicLen <= 0 {
		c.MaxTopicLen = 200
	}

	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Stats are the hub's counters.
type Stats struct {
	Clients     int64  // connected now
	Connects    uint64 // connections accepted in total
	Dropped     uint64 // clients disconnected because their queue was full
	TimedOut    uint64 // clients disconnected by a failed write or a missing pong
	Protocol    uint64 // clients disconnected for a websocket protocol error or an oversized message
	Coalesced   uint64 // publishes superseded by a later one before a flush (no message of their own)
	Published   uint64 // Publish calls
	Flushed     uint64 // topic messages produced by flushes (after coalescing)
	Sent        uint64 // messages written to clients (data, snapshots, replies)
	Snapshots   uint64 // snapshots queued
	Replayed    uint64 // messages queued by resume
	Applied     uint64 // messages installed by Apply
	Stale       uint64 // Apply calls refused as duplicate or older (ErrStale)
	Topics      int    // topics known
	Subs        int64  // subscriptions (client, topic) now
	BadRequests uint64 // client messages answered with an error
}

// Hub is the fan-out. It is safe for concurrent use.
type Hub struct {
	cfg  Config
	base uint64 // first seq of every topic
	// floor: every flushed message takes a seq above it; base, raised by
	// StartEpoch.
	floor    atomic.Uint64
	fmu      sync.Mutex // serializes flushes while Config.OnFlush is set
	seed     maphash.Seed
	shards   []*shard
	upgrader websocket.Upgrader
	log      *slog.Logger
	met      *metrics // nil without a Registerer
	ping     *wire    // the ping frame every client gets

	kmu   sync.Mutex
	kicks []*client // spare list of clients to write to after a flush

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup

	nClients, nSubs                                        atomic.Int64
	connects, dropped, timedOut, protocol, published       atomic.Uint64
	coalesced, flushed, sent, snapshots, replayed, badReqs atomic.Uint64
	applied, stale                                         atomic.Uint64
	handoffs, batches                                      atomic.Uint64 // writer goroutines started, batches written (tests)
}

var errClosed = errors.New("hub: closed")

// New starts a hub and its flusher goroutine (unless Coalesce < 0).
func New(cfg Config) *Hub {
	cfg.defaults()
	h := &Hub{
		cfg:     cfg,
		base:    uint64(cfg.Clock().UnixMicro()),
		seed:    maphash.MakeSeed(),
		log:     cfg.Logger.With("component", "hub"),
		clients: map[*client]struct{}{},
		stop:    make(chan struct{}),
		ping:    &wire{b: appendFrame(nil, websocket.PingMessage, nil), kind: wireControl},
	}
	h.floor.Store(h.base)
	h.met = newMetrics(h, cfg.Registerer)
	h.upgrader = websocket.Upgrader{
		ReadBufferSize: 1024,
		// The hub writes frames itself (see client.kick): gorilla's write
		// buffer is never used, so no connection holds one.
		WriteBufferSize:  256,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      cfg.CheckOrigin,
	}
	if h.upgrader.CheckOrigin == nil {
		h.upgrader.CheckOrigin = h.checkOrigin
	}
	h.shards = make([]*shard, cfg.Shards)
	for i := range h.shards {
		h.shards[i] = &shard{h: h, topics: map[Topic]*topic{}}
	}
	if cfg.Coalesce > 0 {
		h.wg.Add(1)
		go h.run(cfg.Coalesce)
	}
	return h
}

// Publish sets the latest value of a topic; subscribers get it at the next
// flush, coalesced with any other publish to the topic in the same interval.
// data must be valid JSON; Publish copies it and never blocks on clients.
func (h *Hub) Publish(t Topic, data json.RawMessage) error {
	if t == "" || len(t) > h.cfg.MaxTopicLen {
		return fmt.Errorf("hub: bad topic %q", t)
	}
	if !json.Valid(data) {
		return fmt.Errorf("hub: publish %s: data is not valid JSON", t)
	}
	d := append(json.RawMessage(nil), data...)
	s := h.shard(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.isClosed() {
		return errClosed
	}
	tp := s.topic(t)
	tp.pending = d
	if tp.dirty {
		h.coalesced.Add(1) // the pending value is superseded
	} else {
		tp.dirty = true
		tp.pendingAt = time.Now()
		s.dirty = append(s.dirty, tp)
	}
	h.published.Add(1)
	return nil
}

// PublishJSON marshals v and publishes it.
func (h *Hub) PublishJSON(t Topic, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("hub: publish %s: %w", t, err)
	}
	return h.Publish(t, b)
}

// Latest returns the last flushed message of a topic.
func (h *Hub) Latest(t Topic) (Message, bool) {
	s := h.shard(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topics[t]
	if tp == nil || tp.latest == nil {
		return Message{}, false
	}
	return tp.latest.msg, true
}

// Flush sends the pending changes of every shard now. The flusher calls it
// every Coalesce interval; with Coalesce < 0 the caller does.
//
// It queues the messages of all shards first, then writes to each client
// once: a screen whose topics changed in several shards gets them in one
// system call.
func (h *Hub) Flush() {
	var out *[]Message
	var msgs []Message
	if h.cfg.OnFlush != nil {
		h.fmu.Lock()
		defer h.fmu.Unlock()
		out = &msgs
	}
	h.kmu.Lock()
	kicks := h.kicks[:0]
	h.kicks = nil // a concurrent Flush allocates its own
	h.kmu.Unlock()
	for _, s := range h.shards {
		kicks = s.flush(kicks, out)
	}
	if len(msgs) > 0 {
		h.cfg.OnFlush(msgs)
	}
	h.kickAll(kicks)
	clear(kicks)
	h.kmu.Lock()
	if cap(kicks) > cap(h.kicks) {
		h.kicks = kicks[:0]
	}
	h.kmu.Unlock()
}

func (h *Hub) run(every time.Duration) {
	defer h.wg.Done()
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			h.Flush()
		case <-h.stop:
			return
		}
	}
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	st := Stats{
		Clients:     h.nClients.Load(),
		Connects:    h.connects.Load(),
		Dropped:     h.dropped.Load(),
		TimedOut:    h.timedOut.Load(),
		Protocol:    h.protocol.Load(),
		Coalesced:   h.coalesced.Load(),
		Subs:        h.nSubs.Load(),
		Published:   h.published.Load(),
		Flushed:     h.flushed.Load(),
		Sent:        h.sent.Load(),
		Snapshots:   h.snapshots.Load(),
		Replayed:    h.replayed.Load(),
		Applied:     h.applied.Load(),
		Stale:       h.stale.Load(),
		BadRequests: h.badReqs.Load(),
	}
	for _, s := range h.shards {
		s.mu.Lock()
		st.Topics += len(s.topics)
		s.mu.Unlock()
	}
	return st
}

// Close stops the flusher and disconnects every client.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	cs := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	h.wg.Wait()
	for _, c := range cs {
		c.close(closeShutdown)
	}
}

func (h *Hub) isClosed() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

func (h *Hub) shard(t Topic) *shard {
	return h.shards[maphash.String(h.seed, t)%uint64(len(h.shards))]
}

// subscribe adds c to each topic and queues, per topic, the messages after
// since[t] when the ring still holds them all, else a snapshot. Queuing
// happens under the topic's shard lock, so nothing the flusher sends later
// can overtake it or be missed.
func (h *Hub) subscribe(c *client, topics []Topic, since map[Topic]uint64) {
	for _, t := range topics {
		s := h.shard(t)
		s.mu.Lock()
		tp := s.topic(t)
		if _, ok := tp.subs[c]; !ok {
			tp.subs[c] = 0
			h.nSubs.Add(1)
		}
		last, resume := since[t]
		s.catchUp(c, tp, last, resume)
		s.mu.Unlock()
	}
}

func (h *Hub) unsubscribe(c *client, topics []Topic) {
	for _, t := range topics {
		s := h.shard(t)
		s.mu.Lock()
		if tp := s.topics[t]; tp != nil {
			if _, ok := tp.subs[c]; ok {
				delete(tp.subs, c)
				h.nSubs.Add(-1)
			}
			s.forget(tp)
		}
		s.mu.Unlock()
	}
}

// entry is a message encoded once, as a websocket frame, for every
// subscriber: fan-out writes the same bytes to every socket.
type entry struct {
	msg  Message
	wire *wire
}

// newEntry encodes m; at is the first publish it carries (zero for
// snapshots, which are not counted in the publish→write latency).
func newEntry(m Message, at time.Time) (*entry, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &entry{msg: m, wire: &wire{b: appendFrame(nil, websocket.TextMessage, b), at: at}}, nil
}

type shard struct {
	h      *Hub
	mu     sync.Mutex
	topics map[Topic]*topic
	dirty  []*topic
}

type topic struct {
	name    Topic
	seq     uint64 // seq of latest; h.base before the first flush
	latest  *entry
	snap    *entry // latest as a snapshot, built on demand
	pending json.RawMessage
	// pendingAt is when the first publish since the last flush came.
	pendingAt time.Time
	dirty     bool
	ring      []*entry // ring[seq%len] for the last HistoryLen seqs
	// low: the ring holds no message of seq ≤ low (h.base, or the seq
	// before the last jump: an Apply after a gap, a flush after StartEpoch).
	low uint64
	// subs are the subscribers, each with the seq it is ahead up to (0:
	// not ahead): a client that saw a later message on another node gets
	// nothing of this topic until a message above that seq (catchUp).
	subs map[*client]uint64
}

func (s *shard) topic(t Topic) *topic {
	tp := s.topics[t]
	if tp == nil {
		tp = &topic{name: t, seq: s.h.base, low: s.h.base, ring: make([]*entry, s.h.cfg.HistoryLen), subs: map[*client]uint64{}}
		s.topics[t] = tp
	}
	return tp
}

// forget drops a topic nobody reads that never had a value, so that
// subscriptions to made-up names do not pile up.
func (s *shard) forget(tp *topic) {
	if len(tp.subs) == 0 && tp.latest == nil && !tp.dirty {
		delete(s.topics, tp.name)
	}
}

// flush queues the changed topics' messages to their subscribers under the
// shard lock (so that they keep seq order with the snapshots and replays
// subscribe queues) and appends the clients to write to to kicks.
//
// A topic's next seq is its seq + 1, or floor + 1 when that is higher (after
// StartEpoch, or for a topic whose seqs came from another hub by Apply): a
// jump, sent to subscribers as a snapshot since their seqs would not be
// consecutive. With out set, the messages are appended to *out.
func (s *shard) flush(kicks []*client, out *[]Message) []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	floor := s.h.floor.Load()
	for _, tp := range s.dirty {
		tp.dirty = false
		seq := max(tp.seq, floor) + 1
		m := Message{Topic: tp.name, Seq: seq, Data: tp.pending}
		tp.pending = nil
		jump := seq != tp.seq+1
		if err := s.install(tp, m, tp.pendingAt, jump); err != nil { // Publish validated the JSON; cannot happen
			s.h.log.Error("encode message", "topic", tp.name, "err", err)
			continue
		}
		s.h.flushed.Add(1)
		if out != nil {
			m.Snapshot = jump
			*out = append(*out, m)
		}
		kicks = s.deliver(kicks, tp, jump)
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return kicks
}

// install makes m (m.Seq > tp.seq) the latest message of tp (caller holds
// s.mu). A jump (m.Seq is not tp.seq+1, or the origin marked it a snapshot)
// empties the ring below m.Seq and prepares the snapshot to send instead.
func (s *shard) install(tp *topic, m Message, at time.Time, jump bool) error {
	m.Snapshot = false
	e, err := newEntry(m, at)
	if err != nil {
		return err
	}
	var snap *entry
	if jump {
		m.Snapshot = true
		if snap, err = newEntry(m, time.Time{}); err != nil {
			return err
		}
		tp.low = m.Seq - 1
	}
	tp.seq = m.Seq
	tp.latest, tp.snap = e, snap
	tp.ring[tp.seq%uint64(len(tp.ring))] = e
	return nil
}

// deliver queues tp's latest message to its subscribers, as a snapshot
// after a jump, and appends them to kicks (caller holds s.mu).
func (s *shard) deliver(kicks []*client, tp *topic, jump bool) []*client {
	w := tp.latest.wire
	if jump {
		w = tp.snap.wire
	}
	for c, ahead := range tp.subs {
		if ahead != 0 {
			if tp.seq <= ahead {
				continue // older than what the client has
			}
			tp.subs[c] = 0
		}
		if c.push(w) {
			kicks = append(kicks, c)
		}
	}
	return kicks
}

// ErrStale is Apply's answer to a message whose seq is not above the
// topic's: a duplicate, or older than what the hub has.
var ErrStale = errors.New("hub: stale message")

// StartEpoch makes every topic's next flushed message take a seq above the
// clock's now in unix microseconds. A node calls it when it becomes the
// leader whose flushes are forwarded to the other nodes (cluster/bus): its
// topics may carry seqs applied from the previous leader, possibly short of
// the last ones that leader sent, and continuing from them would give one
// seq two values. The previous leader's seqs are below the clock (see the
// package doc), so the new ones are above them all; each topic's first
// message after StartEpoch is a jump and reaches subscribers as a snapshot.
func (h *Hub) StartEpoch() {
	us := h.cfg.Clock().UnixMicro()
	if us <= 0 {
		return
	}
	now := uint64(us)
	for {
		f := h.floor.Load()
		if now <= f || h.floor.CompareAndSwap(f, now) {
			return
		}
	}
}

// Apply installs a message produced by another hub (the leader's flush,
// forwarded by cluster/bus) with its own seq, and sends it to this hub's
// subscribers as a local flush would: rings, snapshots and resumes then
// answer with the origin's seqs, so a screen may resume on any hub.
//
// A message whose seq is not above the topic's latest is refused with
// ErrStale (a duplicate, or a late one). A message that does not follow the
// latest (seq ≠ latest + 1: messages lost on the way, this hub started
// late, or a new leader's epoch), or that the origin marked as a snapshot,
// is a jump: subscribers get it as a snapshot, and a resume from before it
// gets a snapshot too, as when the ring no longer holds what was missed.
// A topic without a value yet takes any seq. m.Data must be JSON.
//
// A hub that applies messages should not Publish to the same topics: its
// flushes would number them after the applied seqs (or its StartEpoch).
func (h *Hub) Apply(m Message) error {
	if err := h.validTopic(m.Topic); err != nil {
		return err
	}
	if m.Seq == 0 || len(m.Data) == 0 || !json.Valid(m.Data) {
		return fmt.Errorf("hub: apply %s: no seq or data is not valid JSON", m.Topic)
	}
	m.Data = append(json.RawMessage(nil), m.Data...)
	s := h.shard(m.Topic)
	s.mu.Lock()
	if h.isClosed() {
		s.mu.Unlock()
		return errClosed
	}
	tp := s.topic(m.Topic)
	if tp.latest != nil && m.Seq <= tp.seq {
		s.mu.Unlock()
		h.stale.Add(1)
		return ErrStale
	}
	jump := m.Snapshot || m.Seq != tp.seq+1
	if err := s.install(tp, m, time.Now(), jump); err != nil {
		s.forget(tp)
		s.mu.Unlock()
		return fmt.Errorf("hub: apply %s: %w", m.Topic, err)
	}
	h.applied.Add(1)
	kicks := s.deliver(nil, tp, jump)
	s.mu.Unlock()
	h.kickAll(kicks)
	return nil
}

// kickChunk is how many clients one fan-out worker takes at a time.
const kickChunk = 256

// kickAll writes the queued frames of cs, spread over GOMAXPROCS workers
// when there are many: each write is a system call into the kernel's TCP
// stack, which runs on the caller's core, so one goroutine would use one
// core for the whole fan-out.
func (h *Hub) kickAll(cs []*client) {
	workers := min(runtime.GOMAXPROCS(0), (len(cs)+kickChunk-1)/kickChunk)
	if workers <= 1 {
		for _, c := range cs {
			c.kick()
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(kickChunk)) - kickChunk
			if i >= len(cs) {
				return
			}
			for _, c := range cs[i:min(i+kickChunk, len(cs))] {
				c.kick()
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// catchUp queues for c what it needs of tp after seq last (caller holds s.mu).
func (s *shard) catchUp(c *client, tp *topic, last uint64, resume bool) {
	if resume && last == tp.seq {
		s.h.met.resume("replay") // of nothing: up to date
		return
	}
	// Only between nodes: a lone hub's seqs start at its start time, so a
	// client ahead of it saw an earlier process under a clock that has
	// since gone back, and is better given the snapshot.
	if resume && last > tp.seq && (s.h.cfg.OnFlush != nil || s.h.applied.Load() > 0) {
		// The client is ahead of this hub: it saw, on another node, a
		// message this hub has not applied yet (in flight on the bus, or
		// never forwarded by a leader that died; the next leader
		// republishes every value above it). A snapshot would step its
		// screen back to an older value (or blank it, if this hub has none
		// yet); it keeps what it has and gets this topic's next message
		// above it.
		s.h.met.resume("ahead")
		tp.subs[c] = last
		return
	}
	if resume && last < tp.seq {
		kept := min(uint64(len(tp.ring)), tp.seq-tp.low)
		missed := tp.seq - last
		// Replay only if the ring has it all and it leaves room in the
		// queue; else a snapshot says the same in one message.
		if missed <= kept && int(missed) <= c.room()/2 {
			s.h.met.resume("replay")
			for q := last + 1; q <= tp.seq; q++ {
				// the same bytes, kept out of the publish→write latency
				w := &wire{b: tp.ring[q%uint64(len(tp.ring))].wire.b}
				if !c.push(w) {
					return
				}
				s.h.replayed.Add(1)
			}
			return
		}
	}
	if resume {
		s.h.met.resume("snapshot")
	}
	if tp.snap == nil {
		m := Message{Topic: tp.name, Seq: tp.seq, Snapshot: true}
		if tp.latest != nil {
			m.Data = tp.latest.msg.Data
		}
		e, err := newEntry(m, time.Time{})
		if err != nil {
			s.h.log.Error("encode snapshot", "topic", tp.name, "err", err)
			return
		}
		tp.snap = e
	}
	if c.push(tp.snap.wire) {
		s.h.snapshots.Add(1)
	}
}
