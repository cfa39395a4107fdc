package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultKey is the KV key the leader holds when Config.Key is empty.
const DefaultKey = "leader"

// MinTTL is the smallest lease TTL: JetStream refuses a stream MaxAge below
// 100 ms, and its expiry timer does not fire more often than every 250 ms.
const MinTTL = 100 * time.Millisecond

// Errors reported as the cause (context.Cause) of a term context.
var (
	// ErrLeaseLost: a renewal found the leader key changed or gone (revision
	// mismatch): the lease had expired and possibly another node leads.
	ErrLeaseLost = errors.New("lease: lost (leader key changed)")
	// ErrLeaseExpired: no renewal succeeded for TTL-Margin since the last
	// acknowledged one was sent (NATS unreachable or too slow); the term ends
	// before the lease can have expired on the server.
	ErrLeaseExpired = errors.New("lease: renew deadline passed")
	// ErrResigned: the term ended because Run's context was cancelled or the
	// term function returned.
	ErrResigned = errors.New("lease: resigned")
)

// Term identifies one leadership term. Token is the KV revision (JetStream
// stream sequence) written by the Create that acquired the lease: strictly
// larger for every later term on the same bucket, so it is a fencing token.
type Term struct {
	Node  string
	Token uint64
}

func (t Term) String() string { return fmt.Sprintf("%s#%d", t.Node, t.Token) }

// Config configures an Elector.
type Config struct {
	// KV is the bucket holding the leader key. Its TTL (stream MaxAge) must
	// equal TTL; EnsureBucket creates a suitable one.
	KV jetstream.KeyValue
	// Key is the leader key (default DefaultKey). One key = one election.
	Key string
	// Node identifies this node in logs, in Term and in the key's value.
	Node string
	// TTL is the lease: the bucket's TTL, after which the key of a leader that
	// stopped renewing disappears. Required, >= MinTTL.
	TTL time.Duration
	// RenewInterval is the period of renewals while leading (default TTL/4).
	// Must be <= (TTL-Margin)/2 so at least two attempts fit in a deadline.
	RenewInterval time.Duration
	// Margin is how long before the lease could expire on the server the
	// leader gives up its term when it cannot renew (default TTL/5). It
	// covers clock rate drift between this node and the NATS server and the
	// time the term function needs to notice its context is done.
	Margin time.Duration
	// RetryInterval is how often a follower retries the Create (default
	// RenewInterval). Deletions of the key are also watched, so a clean
	// resignation is taken over at once; expiries are seen by the watch
	// when the bucket has a LimitMarkerTTL (EnsureBucket sets one), and by
	// this poll otherwise.
	RetryInterval time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Elector campaigns for, holds and renews one lease. Use one Elector per
// node and per election; Run may be called once at a time.
type Elector struct {
	kv       jetstream.KeyValue
	key      string
	node     string
	ttl      time.Duration
	renew    time.Duration
	margin   time.Duration
	retry    time.Duration
	log      *slog.Logger
	hardStop chan struct{} // tests: close to stop like kill -9 (no resign)
}

// New validates cfg and returns an Elector.
func New(cfg Config) (*Elector, error) {
	if cfg.KV == nil {
		return nil, errors.New("lease: Config.KV is nil")
	}
	if cfg.Node == "" {
		return nil, errors.New("lease: Config.Node is empty")
	}
	if cfg.TTL < MinTTL {
		return nil, fmt.Errorf("lease: TTL %v below minimum %v", cfg.TTL, MinTTL)
	}
	if cfg.Key == "" {
		cfg.Key = DefaultKey
	}
	if cfg.Margin == 0 {
		cfg.Margin = cfg.TTL / 5
	}
	if cfg.RenewInterval == 0 {
		cfg.RenewInterval = cfg.TTL / 4
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = cfg.RenewInterval
	}
	if cfg.Margin <= 0 || cfg.Margin >= cfg.TTL {
		return nil, fmt.Errorf("lease: Margin %v must be in (0, TTL=%v)", cfg.Margin, cfg.TTL)
	}
	if cfg.RenewInterval <= 0 || cfg.RenewInterval > (cfg.TTL-cfg.Margin)/2 {
		return nil, fmt.Errorf("lease: RenewInterval %v must be in (0, (TTL-Margin)/2 = %v]",
			cfg.RenewInterval, (cfg.TTL-cfg.Margin)/2)
	}
	if cfg.RetryInterval <= 0 {
		return nil, fmt.Errorf("lease: RetryInterval %v must be > 0", cfg.RetryInterval)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Elector{
		kv: cfg.KV, key: cfg.Key, node: cfg.Node,
		ttl: cfg.TTL, renew: cfg.RenewInterval, margin: cfg.Margin, retry: cfg.RetryInterval,
		log:      cfg.Logger.With("lease", cfg.Key, "node", cfg.Node),
		hardStop: make(chan struct{}),
	}, nil
}

// EnsureBucket creates (or updates) a KV bucket suitable for leases: TTL as
// its MaxAge, history 1, file storage (revisions, hence tokens, survive a NATS
// restart; memory storage would restart them at 1), and a LimitMarkerTTL so
// that watchers see expiries. replicas is the JetStream replication (use 3 on
// a NATS cluster; 1 for a single server).
func EnsureBucket(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	if ttl < MinTTL {
		return nil, fmt.Errorf("lease: TTL %v below minimum %v", ttl, MinTTL)
	}
	marker := ttl
	if marker < time.Second {
		marker = time.Second // server minimum for subject delete marker TTLs
	}
	return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         bucket,
		Description:    "Yiping leader leases (cluster/lease)",
		History:        1,
		TTL:            ttl,
		Storage:        jetstream.FileStorage,
		Replicas:       replicas,
		LimitMarkerTTL: marker,
	})
}

// value is what the leader key holds. Nonce distinguishes this node's terms
// from each other so an ambiguous write (timed out, yet applied) can be
// recognised as ours.
type value struct {
	Node  string `json:"node"`
	Nonce string `json:"nonce"`
	Token uint64 `json:"token,omitempty"` // 0 in the acquiring Create (the token is its revision)
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Leader reads the current leader's term from the bucket without campaigning.
// It returns jetstream.ErrKeyNotFound when nobody leads.
func (e *Elector) Leader(ctx context.Context) (Term, error) {
	ent, err := e.kv.Get(ctx, e.key)
	if err != nil {
		return Term{}, err
	}
	var v value
	if err := json.Unmarshal(ent.Value(), &v); err != nil {
		return Term{}, fmt.Errorf("lease: leader key: %w", err)
	}
	if v.Token == 0 {
		v.Token = ent.Revision()
	}
	return Term{Node: v.Node, Token: v.Token}, nil
}

// Run campaigns until ctx is cancelled. Each time this node acquires the
// lease it calls fn(termCtx, term) in a new goroutine and renews the lease
// while fn runs. termCtx is cancelled when the term ends: the lease was lost
// or could not be renewed within TTL-Margin (cause ErrLeaseLost or
// ErrLeaseExpired), or ctx was cancelled (ErrResigned). fn must stop acting as
// leader when termCtx is done and return promptly; Run does not campaign again
// before fn has returned. Every write fn makes to a shared resource should
// carry term.Token and pass the resource's Fence.
//
// On ctx cancellation Run cancels termCtx, keeps renewing until fn returns,
// then deletes the key (compare-and-set on its revision) so another node takes
// over immediately, and returns nil. If fn returns by itself, the lease is
// likewise released and Run campaigns again after RetryInterval.
//
// Run returns an error only if the bucket's TTL does not match Config.TTL.
func (e *Elector) Run(ctx context.Context, fn func(ctx context.Context, term Term)) error {
	if err := e.checkBucket(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	wake := e.watch(ctx)
	var amb *attempt // an acquisition whose outcome is unknown (timed out)
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-e.hardStop:
			return nil
		default:
		}
		t, nonce, deadline, ok := e.campaign(ctx, &amb)
		if ok {
			if stop := e.lead(ctx, t, nonce, t.Token, deadline, fn); stop {
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		timer := time.NewTimer(e.retry)
		select {
		case <-ctx.Done():
		case <-e.hardStop:
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// checkBucket verifies the bucket's TTL, retrying while NATS is unreachable.
func (e *Elector) checkBucket(ctx context.Context) error {
	for {
		sctx, cancel := context.WithTimeout(ctx, e.ttl)
		st, err := e.kv.Status(sctx)
		cancel()
		if err == nil {
			if st.TTL() != e.ttl {
				return fmt.Errorf("lease: bucket %s TTL is %v, Config.TTL is %v", st.Bucket(), st.TTL(), e.ttl)
			}
			return nil
		}
		e.log.Warn("lease: bucket status", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(e.retry):
		}
	}
}

// watch returns a channel that receives when the leader key is deleted,
// purged or expires (the latter only with a LimitMarkerTTL on the bucket).
// It is best effort: polling every RetryInterval remains the fallback.
func (e *Elector) watch(ctx context.Context) <-chan struct{} {
	wake := make(chan struct{}, 1)
	w, err := e.kv.Watch(ctx, e.key, jetstream.UpdatesOnly())
	if err != nil {
		e.log.Warn("lease: watch failed; polling only", "err", err)
		return wake
	}
	go func() {
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case ent, ok := <-w.Updates():
				if !ok {
					return
				}
				if ent != nil && ent.Operation() != jetstream.KeyValuePut {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return wake
}

type attempt struct {
	nonce string
	sent  time.Time
}

// campaign tries once to create the leader key. On success it returns the
// term (whose Token is the key's revision), the nonce written in the key and
// the local deadline of the lease.
func (e *Elector) campaign(ctx context.Context, amb **attempt) (Term, string, time.Time, bool) {
	nonce := newNonce()
	val, _ := json.Marshal(value{Node: e.node, Nonce: nonce})
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, e.renew)
	rev, err := e.kv.Create(cctx, e.key, val)
	cancel()
	switch {
	case err == nil:
		*amb = nil
		t := Term{Node: e.node, Token: rev}
		e.log.Info("lease: acquired", "token", rev)
		return t, nonce, sent.Add(e.ttl - e.margin), true
	case errors.Is(err, jetstream.ErrKeyExists):
		// Held by someone, perhaps by our own earlier attempt that timed out
		// on the way back yet was applied: adopt it if its lease is still
		// valid counted from that attempt's send time.
		if a := *amb; a != nil && time.Since(a.sent) < e.ttl-e.margin {
			gctx, cancel := context.WithTimeout(ctx, e.renew)
			ent, gerr := e.kv.Get(gctx, e.key)
			cancel()
			var v value
			if gerr == nil && json.Unmarshal(ent.Value(), &v) == nil && v.Node == e.node && v.Nonce == a.nonce {
				*amb = nil
				e.log.Info("lease: acquired (adopted ambiguous create)", "token", ent.Revision())
				return Term{Node: e.node, Token: ent.Revision()}, a.nonce, a.sent.Add(e.ttl - e.margin), true
			}
		}
		*amb = nil
	default:
		if ctx.Err() == nil {
			e.log.Debug("lease: campaign failed", "err", err)
			// The Create may have been applied; remember it so that a
			// following ErrKeyExists can be recognised as ours.
			*amb = &attempt{nonce: nonce, sent: sent}
		}
	}
	return Term{}, "", time.Time{}, false
}

// lead runs one term. It returns true if Run must return at once (hard stop).
func (e *Elector) lead(ctx context.Context, t Term, nonce string, rev uint64, deadline time.Time, fn func(context.Context, Term)) bool {
	termCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(ErrResigned)
	stopResign := context.AfterFunc(ctx, func() { cancel(ErrResigned) })
	defer stopResign()
	// The term ends at the deadline even while a renewal is blocked.
	expiry := time.AfterFunc(time.Until(deadline), func() { cancel(ErrLeaseExpired) })
	defer expiry.Stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(termCtx, t)
	}()

	val, _ := json.Marshal(value{Node: e.node, Nonce: nonce, Token: t.Token})
	bg := context.WithoutCancel(ctx)
	renewing := true // false once the term is over
	held := true     // false once the key is known not to be ours
	tick := time.NewTimer(e.renew)
	defer tick.Stop()
	for {
		var tickC <-chan time.Time
		if renewing {
			tickC = tick.C
		}
		select {
		case <-e.hardStop:
			cancel(ErrResigned)
			return true
		case <-done:
			cancel(ErrResigned)
			if held {
				e.resign(bg, rev)
			}
			e.log.Info("lease: term ended", "token", t.Token, "cause", context.Cause(termCtx))
			return false
		case <-tickC:
		}
		if termCtx.Err() != nil && context.Cause(termCtx) == ErrLeaseExpired {
			renewing = false
			continue
		}
		sent := time.Now()
		rctx, rcancel := context.WithDeadline(bg, deadline)
		nrev, err := e.kv.Update(rctx, e.key, val, rev)
		rcancel()
		switch {
		case err == nil:
			rev = nrev
			if !expiry.Stop() {
				// The deadline passed while the renewal was in flight: the
				// term is over although the key is still ours; release it
				// once fn returns.
				renewing = false
				continue
			}
			deadline = sent.Add(e.ttl - e.margin)
			expiry.Reset(time.Until(deadline))
			tick.Reset(e.renew)
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			// Our last renewal may have timed out on the way back yet been
			// applied; then the key still carries our value.
			gctx, gcancel := context.WithDeadline(bg, deadline)
			ent, gerr := e.kv.Get(gctx, e.key)
			gcancel()
			if gerr == nil && string(ent.Value()) == string(val) && ent.Revision() > rev {
				rev = ent.Revision()
				tick.Reset(0)
				continue
			}
			cancel(ErrLeaseLost)
			expiry.Stop()
			renewing, held = false, false
			e.log.Warn("lease: lost", "token", t.Token, "err", err)
		default:
			if time.Now().After(deadline) {
				renewing = false
				e.log.Warn("lease: renew deadline passed; term cancelled", "token", t.Token, "err", err)
				continue
			}
			e.log.Debug("lease: renew failed; retrying", "token", t.Token, "err", err)
			tick.Reset(e.renew / 4)
		}
	}
}

// resign deletes the leader key if it still has revision rev.
func (e *Elector) resign(ctx context.Context, rev uint64) {
	dctx, cancel := context.WithTimeout(ctx, e.renew)
	defer cancel()
	if err := e.kv.Delete(dctx, e.key, jetstream.LastRevision(rev)); err != nil {
		e.log.Debug("lease: resign", "err", err)
		return
	}
	e.log.Info("lease: resigned")
}
