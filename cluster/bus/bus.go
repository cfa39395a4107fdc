package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yiping-ioc/yiping/hub"
)

// DefaultStream is the JetStream stream name when Options.Stream is empty.
const DefaultStream = "YIPING_HUB"

// Message headers. The body is the message's data (JSON).
const (
	HeaderSeq      = "Yiping-Seq"      // decimal seq given by the leader's hub
	HeaderSnapshot = "Yiping-Snapshot" // "1": the leader sent it as a snapshot (a jump)
	HeaderNode     = "Yiping-Node"     // the publishing node
	HeaderToken    = "Yiping-Token"    // the publisher's lease token (diagnostics)
)

// Options configure Forward and Follow. Zero fields take defaults.
type Options struct {
	// Stream is the JetStream stream (created or updated by both Forward
	// and Follow); default DefaultStream. Its subjects are "<prefix>.>".
	Stream string
	// Memory stores the stream in memory instead of files: the latest
	// value of each topic is then lost when the NATS server restarts.
	Memory   bool
	Replicas int // stream replicas in a NATS cluster; default 1
	// Keep is how many messages of each topic the stream keeps (its
	// MaxMsgsPerSubject); default 16. A follower that falls further behind
	// on a topic misses the older ones and sends a snapshot; one is
	// enough for a node that starts late (it gets the latest of each).
	Keep int64
	// Node names this node: Forward stamps it on messages, Follow skips
	// messages stamped with it (the leader's own).
	Node string
	// Leading, if set, tells Forward whether this node leads now and the
	// lease token of its term: messages are only forwarded while it says
	// true (a node that lost its lease stops publishing at once). Nil:
	// always forward, token 0.
	Leading func() (token uint64, ok bool)
	// Queue bounds the flushes waiting to be published; default 1024. A
	// flush that finds the queue full is dropped (counted): followers see
	// the gap and send snapshots.
	Queue  int
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Keep <= 0 {
		o.Keep = 16
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// EnsureStream creates or updates the stream holding the forwarded
// messages: subjects "<prefix>.>", the last Options.Keep messages of each
// subject (topic), so a node that starts late gets the latest value of
// every topic and one that lags a little still gets every message.
func EnsureStream(ctx context.Context, js jetstream.JetStream, prefix string, o Options) (jetstream.Stream, error) {
	o.defaults()
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	st := jetstream.FileStorage
	if o.Memory {
		st = jetstream.MemoryStorage
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              o.Stream,
		Description:       "Yiping hub: the leader's topic messages, the latest few per topic",
		Subjects:          []string{prefix + ".>"},
		MaxMsgsPerSubject: o.Keep,
		Discard:           jetstream.DiscardOld,
		Storage:           st,
		Replicas:          o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: stream %s: %w", o.Stream, err)
	}
	return s, nil
}

func checkPrefix(p string) error {
	if p == "" || strings.ContainsAny(p, " \t\r\n*>") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return fmt.Errorf("bus: bad subject prefix %q", p)
	}
	return nil
}

// Subject returns the subject of a topic: prefix "." encoded topic. Bytes
// other than ASCII letters, digits, '_', ':' and '-' are written ~HH (hex),
// so a topic is always one subject token whatever its characters ('.', '*',
// '>', spaces, non-ASCII) and distinct topics have distinct subjects.
func Subject(prefix string, t hub.Topic) string {
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(t))
	b.WriteString(prefix)
	b.WriteByte('.')
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('~')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// TopicOf is the inverse of Subject.
func TopicOf(prefix, subject string) (hub.Topic, error) {
	enc, ok := strings.CutPrefix(subject, prefix+".")
	if !ok || enc == "" {
		return "", fmt.Errorf("bus: subject %q is not under %q", subject, prefix)
	}
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c != '~' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(enc) {
			return "", fmt.Errorf("bus: bad subject %q", subject)
		}
		v, err := strconv.ParseUint(enc[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bus: bad subject %q", subject)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// Forwarder publishes a hub's flushes on the stream; see Forward.
type Forwarder struct {
	js     jetstream.JetStream
	prefix string
	o      Options
	q      chan []hub.Message

	published, dropped, failed, notLeading atomic.Uint64
}

// ForwardStats are a Forwarder's counters, in messages.
type ForwardStats struct {
	Published  uint64 `json:"published"`   // handed to JetStream
	Dropped    uint64 `json:"dropped"`     // lost to a full queue
	Failed     uint64 `json:"failed"`      // refused by the client or not acknowledged by the server
	NotLeading uint64 `json:"not_leading"` // not sent: Leading said this node does not lead
}

// Forward makes sure the stream exists and returns a Forwarder whose
// OnFlush, set as the hub's Config.OnFlush, publishes every flushed message
// on Subject(prefix, topic) with its seq. OnFlush never blocks: it queues
// the flush (Options.Queue) for a goroutine that publishes asynchronously
// until ctx is done.
func Forward(ctx context.Context, js jetstream.JetStream, prefix string, o Options) (*Forwarder, error) {
	o.defaults()
	if _, err := EnsureStream(ctx, js, prefix, o); err != nil {
		return nil, err
	}
	f := &Forwarder{js: js, prefix: prefix, o: o, q: make(chan []hub.Message, o.Queue)}
	go f.run(ctx)
	return f, nil
}

// OnFlush queues the messages of one flush; see hub.Config.OnFlush.
func (f *Forwarder) OnFlush(ms []hub.Message) {
	select {
	case f.q <- ms:
	default:
		if f.dropped.Add(uint64(len(ms))) == uint64(len(ms)) {
			f.o.Logger.Warn("bus: forward queue full, messages dropped (followers will send snapshots)", "n", len(ms))
		}
	}
}

// Stats returns the counters.
func (f *Forwarder) Stats() ForwardStats {
	return ForwardStats{Published: f.published.Load(), Dropped: f.dropped.Load(), Failed: f.failed.Load(), NotLeading: f.notLeading.Load()}
}

func (f *Forwarder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ms := <-f.q:
			token, ok := uint64(0), true
			if f.o.Leading != nil {
				token, ok = f.o.Leading()
			}
			if !ok {
				f.notLeading.Add(uint64(len(ms)))
				continue
			}
			pafs := make([]jetstream.PubAckFuture, len(ms))
			for i, m := range ms {
				pafs[i] = f.publish(m, token)
			}
			go f.acks(ms, pafs) // one goroutine per flush, not per message
		}
	}
}

func (f *Forwarder) publish(m hub.Message, token uint64) jetstream.PubAckFuture {
	msg := nats.NewMsg(Subject(f.prefix, m.Topic))
	msg.Data = m.Data
	msg.Header.Set(HeaderSeq, strconv.FormatUint(m.Seq, 10))
	if m.Snapshot {
		msg.Header.Set(HeaderSnapshot, "1")
	}
	if f.o.Node != "" {
		msg.Header.Set(HeaderNode, f.o.Node)
	}
	if token != 0 {
		msg.Header.Set(HeaderToken, strconv.FormatUint(token, 10))
	}
	paf, err := f.js.PublishMsgAsync(msg)
	if err != nil {
		f.fail(m, err)
		return nil
	}
	f.published.Add(1)
	return paf
}

// acks counts the publishes of a flush that the server did not acknowledge.
func (f *Forwarder) acks(ms []hub.Message, pafs []jetstream.PubAckFuture) {
	for i, paf := range pafs {
		if paf == nil {
			continue
		}
		select {
		case <-paf.Ok():
		case err := <-paf.Err():
			f.fail(ms[i], err)
		}
	}
}

func (f *Forwarder) fail(m hub.Message, err error) {
	if f.failed.Add(1)%1000 == 1 {
		f.o.Logger.Warn("bus: publish failed (followers will send a snapshot at the next message)", "topic", m.Topic, "seq", m.Seq, "err", err)
	}
}

// Follower applies the stream's messages to a hub; see Follow.
type Follower struct {
	cc                       jetstream.ConsumeContext
	stopOnce                 sync.Once
	applied, stale, own, bad atomic.Uint64
	lastAt                   atomic.Int64 // unix nanoseconds of the last message
}

// FollowStats are a Follower's counters, in messages.
type FollowStats struct {
	Applied uint64 `json:"applied"` // installed in the hub
	Stale   uint64 `json:"stale"`   // refused by the hub as duplicate or older (hub.ErrStale)
	Own     uint64 `json:"own"`     // skipped: published by this node
	Bad     uint64 `json:"bad"`     // malformed or refused by the hub for another reason
}

// Follow makes sure the stream exists and applies its messages to h
// (hub.Apply, with the leader's seqs) until ctx is done or Stop: first the
// latest message of every topic, then every new one, in stream order.
// Messages stamped with Options.Node (this node's, while it leads) are
// skipped: its hub has them already.
func Follow(ctx context.Context, js jetstream.JetStream, prefix string, h *hub.Hub, o Options) (*Follower, error) {
	o.defaults()
	s, err := EnsureStream(ctx, js, prefix, o)
	if err != nil {
		return nil, err
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{prefix + ".>"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consumer: %w", err)
	}
	fl := &Follower{}
	log := o.Logger
	fl.cc, err = cons.Consume(func(msg jetstream.Msg) {
		fl.lastAt.Store(time.Now().UnixNano())
		hd := msg.Headers()
		if o.Node != "" && hd.Get(HeaderNode) == o.Node {
			fl.own.Add(1)
			return
		}
		t, err := TopicOf(prefix, msg.Subject())
		var seq uint64
		if err == nil {
			seq, err = strconv.ParseUint(hd.Get(HeaderSeq), 10, 64)
		}
		if err == nil {
			err = h.Apply(hub.Message{Topic: t, Seq: seq, Snapshot: hd.Get(HeaderSnapshot) == "1", Data: msg.Data()})
		}
		switch {
		case err == nil:
			fl.applied.Add(1)
		case errors.Is(err, hub.ErrStale):
			fl.stale.Add(1)
		default:
			if fl.bad.Add(1)%1000 == 1 {
				log.Warn("bus: message not applied", "subject", msg.Subject(), "err", err)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consume: %w", err)
	}
	context.AfterFunc(ctx, fl.Stop)
	return fl, nil
}

// Stop stops applying messages.
func (fl *Follower) Stop() { fl.stopOnce.Do(fl.cc.Stop) }

// Stats returns the counters.
func (fl *Follower) Stats() FollowStats {
	return FollowStats{Applied: fl.applied.Load(), Stale: fl.stale.Load(), Own: fl.own.Load(), Bad: fl.bad.Load()}
}

// LastMessage is when the last message arrived (zero: none yet). A
// follower whose leader is silent for long shows its screens stale data:
// the app may compare it with the leader's publish interval.
func (fl *Follower) LastMessage() time.Time {
	if n := fl.lastAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}
