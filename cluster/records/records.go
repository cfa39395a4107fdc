// Package records is the collectors' journal shared by the nodes of a
// cluster (issue 13): the record batches the leader's collectors accept,
// in one NATS JetStream stream that every node — the leader included —
// applies to its own engine in the stream's order, and the sources'
// cursors in a JetStream key-value bucket. See docs/ARCHITECTURE.md
// "Several nodes" for why the log is shared rather than replicated by
// each node.
//
// Log implements collectors.Journal for the leader; Follow applies the
// stream to a record.Sink on every node. Every message and cursor carries
// the writer's lease token (cluster/lease), and both sides fence on it:
//
//   - Log.Write returns only after the server acknowledged the batch while
//     this node still held the same term. A term ends locally (lease
//     Margin) before its key can expire on the server, so an acknowledged
//     batch precedes, in the stream, every batch of any later term.
//   - Follow refuses a batch whose token is below the highest it has seen:
//     only a deposed leader's late batch can be, and its Write returned an
//     error, so nothing acknowledged it (no cursor moved, no push was
//     answered) and the new leader collects it again.
//   - SetCursor is a compare-and-set on the key's revision that refuses to
//     overwrite a cursor written by a later term.
//
// Records are upserted by id, so a batch applied twice (a source pulled
// again after a failover from the last acknowledged cursor) changes
// nothing: no record is lost and none counted twice.
package records

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yiping-ioc/yiping/cluster/lease"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

// Defaults of Options.
const (
	DefaultStream  = "YIPING_RECORDS"
	DefaultSubject = "yiping.rec"
	DefaultBucket  = "yiping-cursors"
)

// Message headers.
const (
	HeaderToken = "Yiping-Token" // the writer's lease token, decimal
	HeaderNode  = "Yiping-Node"  // the writing node (diagnostics)
)

// ErrNotLeader is returned by Write and SetCursor on a node that does not
// hold the lease, or lost it before the server acknowledged.
var ErrNotLeader = errors.New("records: this node does not lead")

// ErrFenced is returned by SetCursor when a later term wrote the cursor.
var ErrFenced = errors.New("records: fenced by a later term")

// Options configure the shared log. Zero fields take defaults.
type Options struct {
	Stream   string // default DefaultStream
	Subject  string // subjects "<Subject>.<source>"; default DefaultSubject
	Bucket   string // cursors; default DefaultBucket
	Replicas int    // in a NATS cluster; default 1
	// Node names this node (stamped on its batches).
	Node string
	// Leading tells whether this node leads now and its term's token
	// (cluster/lease). Required by Log.
	Leading func() (token uint64, ok bool)
	// Timeout bounds one publish or key-value call; default 10 s.
	Timeout time.Duration
	Logger  *slog.Logger
}

func (o *Options) defaults() {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Subject == "" {
		o.Subject = DefaultSubject
	}
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Ensure creates or updates the stream and the cursor bucket. The stream
// keeps every batch (file storage, no limits): it is the journal, and a
// node that starts applies it from the beginning.
func Ensure(ctx context.Context, js jetstream.JetStream, o Options) (jetstream.Stream, jetstream.KeyValue, error) {
	o.defaults()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        o.Stream,
		Description: "Yiping records: every batch the leader's collectors accepted, in the order every node applies them",
		Subjects:    []string{o.Subject + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("records: stream %s: %w", o.Stream, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: o.Bucket, Description: "Yiping: each source's cursor and the term that wrote it",
		History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("records: bucket %s: %w", o.Bucket, err)
	}
	return s, kv, nil
}

// Log is the leader's side: collectors.Journal on the shared stream.
type Log struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
	o      Options
	max    int // bytes of one message's frame
	// gate: Writes share it, Compact holds it alone (no batch may land
	// between the compacted messages and their survivors).
	gate sync.RWMutex
	mu   sync.Mutex
	buf  []byte
}

// NewLog ensures the stream and bucket and returns the leader's log.
// maxPayload is the NATS connection's MaxPayload (nats.Conn.MaxPayload):
// batches larger than it are split.
func NewLog(ctx context.Context, js jetstream.JetStream, maxPayload int64, o Options) (*Log, error) {
	o.defaults()
	if o.Leading == nil {
		return nil, errors.New("records: Options.Leading is required")
	}
	stream, kv, err := Ensure(ctx, js, o)
	if err != nil {
		return nil, err
	}
	max := int(maxPayload) - 4096 // headers and subject
	if max < 64<<10 {
		max = 64 << 10
	}
	return &Log{js: js, stream: stream, kv: kv, o: o, max: max}, nil
}

// Write publishes b and waits for the server's acknowledgement, then checks
// the term is still the one it wrote under; see the package doc. A batch
// whose frame exceeds the message size goes as several messages (a
// catalog replacement: the first replaces, the rest add). It returns the
// stream sequence of its last message.
func (l *Log) Write(b journal.Batch) (int64, error) {
	l.gate.RLock()
	defer l.gate.RUnlock()
	return l.write(b)
}

func (l *Log) write(b journal.Batch) (int64, error) {
	token, ok := l.o.Leading()
	if !ok {
		return 0, ErrNotLeader
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var last uint64
	for _, part := range split(b, l.max) {
		l.buf = journal.MarshalBatch(l.buf[:0], &part)
		msg := nats.NewMsg(l.o.Subject + "." + key(part.Source))
		msg.Data = l.buf
		msg.Header.Set(HeaderToken, strconv.FormatUint(token, 10))
		msg.Header.Set(HeaderNode, l.o.Node)
		ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
		ack, err := l.js.PublishMsg(ctx, msg)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("records: publish %d %s of %s: %w", part.Len(), part.Kind, part.Source, err)
		}
		last = ack.Sequence
	}
	if now, ok := l.o.Leading(); !ok || now != token {
		return 0, fmt.Errorf("%w: the term ended before the batch was acknowledged", ErrNotLeader)
	}
	return int64(last), nil
}

// split cuts b into batches whose frames stay under max bytes.
func split(b journal.Batch, max int) []journal.Batch {
	nf := len(b.Kind.Fields())
	size := 64 + len(b.Source)
	for _, v := range b.Values {
		size += len(v) + 10
	}
	if size <= max || b.Len() <= 1 {
		return []journal.Batch{b}
	}
	var out []journal.Batch
	from, acc := 0, 64+len(b.Source)
	for i := range b.Len() {
		row := 0
		for _, v := range b.Values[i*nf : (i+1)*nf] {
			row += len(v) + 10
		}
		if i > from && acc+row > max {
			out = append(out, journal.Batch{Kind: b.Kind, Replace: b.Replace && from == 0, Source: b.Source, Values: b.Values[from*nf : i*nf]})
			from, acc = i, 64+len(b.Source)
		}
		acc += row
	}
	out = append(out, journal.Batch{Kind: b.Kind, Replace: b.Replace && from == 0, Source: b.Source, Values: b.Values[from*nf:]})
	return out
}

// Sync returns nil: Write returns only once the server has the batch.
// It reports ErrNotLeader if the term ended since.
func (l *Log) Sync(ctx context.Context, upTo int64) error {
	if _, ok := l.o.Leading(); !ok {
		return ErrNotLeader
	}
	return ctx.Err()
}

type cursorValue struct {
	Cursor string `json:"cursor"`
	Token  uint64 `json:"token"`
	Node   string `json:"node,omitempty"`
}

// key is a source's key in the bucket: its name in hex, since source
// names may hold characters keys may not.
func key(source string) string { return "s" + hex.EncodeToString([]byte(source)) }

// Cursor returns the source's cursor as the last term left it.
func (l *Log) Cursor(source string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	defer cancel()
	v, _, err := l.get(ctx, source)
	return v.Cursor, err
}

func (l *Log) get(ctx context.Context, source string) (cursorValue, uint64, error) {
	var v cursorValue
	e, err := l.kv.Get(ctx, key(source))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return v, 0, nil
	}
	if err != nil {
		return v, 0, fmt.Errorf("records: cursor of %s: %w", source, err)
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return v, 0, fmt.Errorf("records: cursor of %s: %w", source, err)
	}
	return v, e.Revision(), nil
}

// SetCursor stores the source's cursor under this node's term: a
// compare-and-set on the revision read, refused if a later term wrote it.
func (l *Log) SetCursor(source, cursor string) error {
	token, ok := l.o.Leading()
	if !ok {
		return ErrNotLeader
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	defer cancel()
	old, rev, err := l.get(ctx, source)
	if err != nil {
		return err
	}
	if old.Token > token {
		return fmt.Errorf("%w: cursor of %s written by term %d, this node holds %d", ErrFenced, source, old.Token, token)
	}
	val, _ := json.Marshal(cursorValue{Cursor: cursor, Token: token, Node: l.o.Node})
	if rev == 0 {
		_, err = l.kv.Create(ctx, key(source), val)
	} else {
		_, err = l.kv.Update(ctx, key(source), val, rev)
	}
	if err != nil {
		return fmt.Errorf("records: store cursor of %s: %w", source, err)
	}
	return nil
}

// Applier applies the stream to a sink; see Follow.
type Applier struct {
	stream                               jetstream.Stream
	cc                                   jetstream.ConsumeContext
	applied                              atomic.Uint64 // stream sequence of the last message handled
	fence                                lease.Fence   // the highest token seen
	batches, refused, bad, rows, badRows atomic.Uint64
	mu                                   sync.Mutex
	moved                                chan struct{} // closed and replaced when applied moves
	stop                                 sync.Once
}

// Stats are an Applier's counters.
type Stats struct {
	Applied uint64 `json:"applied"`  // stream sequence of the last message handled
	Batches uint64 `json:"batches"`  // batches filed
	Rows    uint64 `json:"rows"`     // rows filed
	Refused uint64 `json:"refused"`  // batches refused by the fence (a deposed leader's late writes)
	Bad     uint64 `json:"bad"`      // messages that are not a batch frame
	BadRows uint64 `json:"bad_rows"` // rows the parser refused (its rules changed since they were written)
	Token   uint64 `json:"token"`    // the highest term token seen
}

// Follow applies every batch of the stream, from its first message, to
// sink in stream order (reading rows with p as the intake does), until ctx
// is done or Stop. Handling is sequential: the sink sees batches in the
// same order on every node.
func Follow(ctx context.Context, js jetstream.JetStream, sink record.Sink, p *record.Parser, o Options) (*Applier, error) {
	o.defaults()
	s, _, err := Ensure(ctx, js, o)
	if err != nil {
		return nil, err
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{o.Subject + ".>"},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("records: consumer: %w", err)
	}
	a := &Applier{stream: s, moved: make(chan struct{})}
	log := o.Logger
	a.cc, err = cons.Consume(func(msg jetstream.Msg) {
		defer func() {
			if md, err := msg.Metadata(); err == nil {
				a.advance(md.Sequence.Stream)
			}
		}()
		token, err := strconv.ParseUint(msg.Headers().Get(HeaderToken), 10, 64)
		if err != nil {
			a.bad.Add(1)
			log.Error("records: a message without a token is ignored", "subject", msg.Subject())
			return
		}
		if err := a.fence.Admit(token); err != nil {
			a.refused.Add(1)
			log.Warn("records: a deposed leader's late batch is refused", "subject", msg.Subject(), "err", err, "node", msg.Headers().Get(HeaderNode))
			return
		}
		b, err := journal.UnmarshalBatch(msg.Data())
		if err != nil {
			a.bad.Add(1)
			log.Error("records: a damaged batch is ignored", "subject", msg.Subject(), "err", err)
			return
		}
		bad, first := journal.Apply(sink, p, b)
		a.batches.Add(1)
		a.rows.Add(uint64(b.Len() - bad))
		if bad > 0 {
			a.badRows.Add(uint64(bad))
			log.Warn("records: rows refused by the parser", "source", b.Source, "rows", bad, "first", first)
		}
	}, jetstream.PullMaxMessages(256))
	if err != nil {
		return nil, fmt.Errorf("records: consume: %w", err)
	}
	context.AfterFunc(ctx, a.Stop)
	return a, nil
}

func (a *Applier) advance(seq uint64) {
	a.applied.Store(seq)
	a.mu.Lock()
	close(a.moved)
	a.moved = make(chan struct{})
	a.mu.Unlock()
}

// Stop stops applying.
func (a *Applier) Stop() { a.stop.Do(a.cc.Stop) }

// Stats returns the counters.
func (a *Applier) Stats() Stats {
	return Stats{Applied: a.applied.Load(), Batches: a.batches.Load(), Rows: a.rows.Load(), Refused: a.refused.Load(),
		Bad: a.bad.Load(), BadRows: a.badRows.Load(), Token: a.fence.High()}
}

// CaughtUp returns once every batch the stream held when it was called has
// been applied: a node calls it before it serves (its first paint must not
// show a partial state) and before it leads (its collectors continue from
// cursors that count on every earlier batch being in its engine).
func (a *Applier) CaughtUp(ctx context.Context) error {
	info, err := a.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("records: stream info: %w", err)
	}
	last := info.State.LastSeq
	for {
		a.mu.Lock()
		moved := a.moved
		a.mu.Unlock()
		if a.applied.Load() >= last {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("records: catching up to %d (at %d): %w", last, a.applied.Load(), context.Cause(ctx))
		}
	}
}

// CompactOptions decide when Compact rewrites the log.
type CompactOptions struct {
	// MinBytes: a smaller stream is left alone (default 64 MiB).
	MinBytes uint64
	// Growth: rewritten only once the stream is this many times its size
	// after the last compaction (default 2).
	Growth float64
	// Force rewrites whatever the size.
	Force bool
}

// CompactStats say what a compaction did.
type CompactStats struct {
	Before, After        uint64 // stream bytes
	Messages, Rows, Kept int    // batches read, rows read, rows written
	Took                 time.Duration
}

// compactedKey holds the stream's size after the last compaction.
const compactedKey = "compacted"

// Compact rewrites the shared log as the journal's compaction does
// (journal.CompactBatches): the last version of every record, the last
// whole catalog. It reads the stream up to its last message S twice (the
// fence applied as Follow applies it), writes the survivors after S under
// this term's token, then purges every message up to S. Nodes that follow
// receive the survivors again, which changes nothing (each is the version
// they hold); a node that starts later reads only the survivors and what
// follows. Only the leader calls it; Writes wait until it is done (a batch
// written between S and the survivors would be followed by an older
// version of its records). A crash midway
// leaves the old messages and part of the survivors: replaying both still
// builds the same state, and the next compaction starts over.
func (l *Log) Compact(ctx context.Context, o CompactOptions) (CompactStats, error) {
	if o.MinBytes == 0 {
		o.MinBytes = 64 << 20
	}
	if o.Growth <= 1 {
		o.Growth = 2
	}
	var st CompactStats
	started := time.Now()
	l.gate.Lock()
	defer l.gate.Unlock()
	if _, ok := l.o.Leading(); !ok {
		return st, ErrNotLeader
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return st, fmt.Errorf("records: compact: %w", err)
	}
	st.Before = info.State.Bytes
	last := info.State.LastSeq
	var after uint64
	if e, err := l.kv.Get(ctx, compactedKey); err == nil {
		after, _ = strconv.ParseUint(string(e.Value()), 10, 64)
	}
	if last == 0 || !o.Force && (st.Before < o.MinBytes || float64(st.Before) < o.Growth*float64(after)) {
		return st, nil
	}
	first := true
	st.Rows, st.Kept, err = journal.CompactBatches(func(fn func(journal.Batch) error) error {
		n, err := l.read(ctx, last, fn)
		if first {
			st.Messages, first = n, false
		}
		return err
	}, func(b journal.Batch) error {
		_, err := l.write(b)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("records: compact: %w", err)
	}
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSequence(last+1)); err != nil {
		return st, fmt.Errorf("records: compact: purge up to %d: %w", last, err)
	}
	if info, err = l.stream.Info(ctx); err == nil {
		st.After = info.State.Bytes
		// A hint for the next decision: losing it costs one compaction.
		l.kv.Put(ctx, compactedKey, []byte(strconv.FormatUint(st.After, 10)))
	}
	st.Took = time.Since(started)
	l.o.Logger.Info("records: shared log compacted", "before_bytes", st.Before, "after_bytes", st.After,
		"batches", st.Messages, "rows", st.Rows, "kept", st.Kept, "took", st.Took.String())
	return st, nil
}

// read hands fn the batches of messages 1..last in stream order, with the
// fence Follow applies, and returns how many messages it read.
func (l *Log) read(ctx context.Context, last uint64, fn func(journal.Batch) error) (int, error) {
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{l.o.Subject + ".>"},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	var fence lease.Fence // as Follow applies it
	n := 0
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return n, context.Cause(ctx)
			}
			return n, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return n, err
		}
		if md.Sequence.Stream > last {
			return n, nil
		}
		n++
		token, err := strconv.ParseUint(msg.Headers().Get(HeaderToken), 10, 64)
		if err == nil && fence.Admit(token) == nil {
			b, err := journal.UnmarshalBatch(msg.Data())
			if err != nil {
				return n, fmt.Errorf("message %d: %w", md.Sequence.Stream, err)
			}
			if err := fn(b); err != nil {
				return n, err
			}
		}
		if md.Sequence.Stream == last {
			return n, nil
		}
	}
}
