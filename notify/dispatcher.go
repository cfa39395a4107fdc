package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// Receiver is a named destination: one channel with its address.
type Receiver struct {
	Name     string
	Notifier Notifier
	// Retry overrides the Dispatcher's policy field by field (zero
	// fields keep the Dispatcher's).
	Retry RetryPolicy
}

// Config configures a Dispatcher. Zero fields take the defaults.
type Config struct {
	Receivers []Receiver
	// Log records every attempt; nil keeps no record beyond Logger's.
	Log    Log
	Logger *slog.Logger
	// Clock is the time; nil is the wall clock.
	Clock Clock
	// Retry is the policy of every receiver; zero fields are
	// DefaultRetry's.
	Retry RetryPolicy
	// QueueSize bounds each receiver's queue (default 1000): past it a
	// message is dropped (and logged so), not held in memory without end.
	QueueSize int
	// AttemptTimeout bounds one attempt (default 30s).
	AttemptTimeout time.Duration
	// MaxDigest bounds the messages one digest carries (default 100).
	MaxDigest int
	// Location is the zone of the times in a digest; nil is Asia/Shanghai.
	Location *time.Location
	// Rand is the jitter source, values in [0, 1); nil is math/rand/v2.
	Rand func() float64
}

// recordTimeout bounds one Log.Record: a slow log must not hold up
// delivery for long.
const recordTimeout = 5 * time.Second

// minute is the window of the robots' rate limits.
const minute = time.Minute

// Dispatcher delivers messages to receivers: one queue and one goroutine
// per receiver, each keeping to its channel's rate and size limits,
// folding overflow into digests, retrying with backoff, logging every
// attempt. It is safe for concurrent use.
type Dispatcher struct {
	cfg     Config
	workers map[string]*worker
	names   []string
	// abort ends every attempt and wait when Close gives up.
	abort   context.CancelFunc
	aborted context.Context
	wg      sync.WaitGroup
}

// New checks cfg and starts a worker per receiver.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1000
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	if cfg.MaxDigest <= 1 {
		cfg.MaxDigest = 100
	}
	if cfg.Rand == nil {
		cfg.Rand = randFloat
	}
	cfg.Location = zone(cfg.Location)
	d := &Dispatcher{cfg: cfg, workers: map[string]*worker{}}
	for _, r := range cfg.Receivers {
		if r.Name == "" || r.Notifier == nil {
			return nil, fmt.Errorf("notify: receiver %q: want a name and a notifier", r.Name)
		}
		if _, dup := d.workers[r.Name]; dup {
			return nil, fmt.Errorf("notify: receiver %q given twice", r.Name)
		}
		w := &worker{
			d: d, name: r.Name, n: r.Notifier, retry: mergeRetry(r.Retry, cfg.Retry).withDefaults(),
			log: cfg.Logger.With("receiver", r.Name), wake: make(chan struct{}, 1),
		}
		if l, ok := r.Notifier.(Limited); ok {
			w.limits, w.size = l.Limits(), l.Size
		}
		d.workers[r.Name] = w
		d.names = append(d.names, r.Name)
	}
	d.aborted, d.abort = context.WithCancel(context.Background())
	for _, w := range d.workers {
		d.wg.Add(1)
		go w.run(d.aborted)
	}
	return d, nil
}

// mergeRetry is r with its zero fields taken from base.
func mergeRetry(r, base RetryPolicy) RetryPolicy {
	return RetryPolicy{
		Initial: cmp.Or(r.Initial, base.Initial), Max: cmp.Or(r.Max, base.Max), Jitter: cmp.Or(r.Jitter, base.Jitter),
		MaxAttempts: cmp.Or(r.MaxAttempts, base.MaxAttempts), MaxAge: cmp.Or(r.MaxAge, base.MaxAge),
	}
}

// Receivers returns the receivers' names in the order configured.
func (d *Dispatcher) Receivers() []string { return slices.Clone(d.names) }

// Pending is how many messages wait in a receiver's queue (a retrying
// one not counted).
func (d *Dispatcher) Pending(receiver string) int {
	w := d.workers[receiver]
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Send queues m for each named receiver and returns at once; delivery
// follows in the background. A message whose id already waits in a
// receiver's queue is not queued twice. The error joins one per receiver
// that did not take m: ErrUnknownReceiver, ErrClosed, or ErrQueueFull
// (the drop is logged).
func (d *Dispatcher) Send(ctx context.Context, m Message, receivers ...string) error {
	if m.ID == "" {
		return errors.New("notify: a message needs an id")
	}
	var errs []error
	for _, name := range receivers {
		w := d.workers[name]
		if w == nil {
			errs = append(errs, fmt.Errorf("%w %q", ErrUnknownReceiver, name))
			continue
		}
		if err := w.enqueue(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("receiver %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Close stops taking messages and waits while every queue drains, within
// its rate limit and retries. When ctx ends first it gives up: attempts
// in flight are cancelled, what is left is logged as dropped, and Close
// returns ctx's error once the workers have stopped.
func (d *Dispatcher) Close(ctx context.Context) error {
	for _, w := range d.workers {
		w.mu.Lock()
		w.closing = true
		w.mu.Unlock()
		w.signal()
	}
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.abort()
		return nil
	case <-ctx.Done():
		d.abort()
		<-done
		return fmt.Errorf("notify: close gave up: %w", ctx.Err())
	}
}

// record logs one delivery, in the Log and in the process log.
func (d *Dispatcher) record(ctx context.Context, log *slog.Logger, e Delivery) {
	attrs := []any{"status", e.Status, "messages", e.MessageIDs, "attempt", e.Attempt, "latency", e.Latency}
	switch e.Status {
	case StatusSent:
		log.Debug("notification delivered", attrs...)
	case StatusRetrying:
		log.Info("notification failed; retrying", append(attrs, "err", e.Error, "next", e.Next)...)
	default:
		log.Warn("notification not delivered", append(attrs, "err", e.Error)...)
	}
	if d.cfg.Log == nil {
		return
	}
	// The record outlives a cancelled send: a Close that gives up still
	// logs what it dropped.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := d.cfg.Log.Record(rctx, e); err != nil {
		log.Error("delivery log failed", "err", collectors.RedactError(err), "status", e.Status, "messages", e.MessageIDs)
	}
}

// pending is a message (or a digest) on its way to one receiver.
type pending struct {
	msg Message
	// queued is when it (its oldest part) was queued: MaxAge counts from it.
	queued  time.Time
	attempt int       // attempts made
	next    time.Time // no attempt before
}

// worker delivers to one receiver.
type worker struct {
	d      *Dispatcher
	name   string
	n      Notifier
	limits Limits
	size   func(Message) int
	retry  RetryPolicy
	log    *slog.Logger
	wake   chan struct{} // a message was queued, or Close was called

	mu      sync.Mutex
	queue   []pending
	closing bool

	// window holds the end times of the attempts of the last minute;
	// only run's goroutine touches it.
	window []time.Time
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) enqueue(ctx context.Context, m Message) error {
	now := w.d.cfg.Clock.Now()
	w.mu.Lock()
	switch {
	case w.closing:
		w.mu.Unlock()
		return ErrClosed
	case slices.ContainsFunc(w.queue, func(p pending) bool { return p.msg.ID == m.ID }):
		w.mu.Unlock()
		return nil
	case len(w.queue) >= w.d.cfg.QueueSize:
		w.mu.Unlock()
		w.d.record(ctx, w.log, Delivery{Receiver: w.name, MessageIDs: m.IDs(), Time: now, Status: StatusDropped,
			Error: fmt.Sprintf("queue full (%d messages waiting)", w.d.cfg.QueueSize)})
		return ErrQueueFull
	}
	w.queue = append(w.queue, pending{msg: m, queued: now})
	w.mu.Unlock()
	w.signal()
	return nil
}

// run delivers until the queue is empty after Close, or ctx (the
// Dispatcher's abort) ends.
func (w *worker) run(ctx context.Context) {
	defer w.d.wg.Done()
	clock := w.d.cfg.Clock
	var cur *pending // taken from the queue: being sent, or waiting to retry
	for {
		if cur == nil {
			w.mu.Lock()
			empty, closing := len(w.queue) == 0, w.closing
			w.mu.Unlock()
			if empty && closing {
				return
			}
			if empty {
				select {
				case <-w.wake:
				case <-ctx.Done():
					w.dropAll(ctx, nil)
					return
				}
				continue
			}
		}
		now := clock.Now()
		at := w.nextSlot(now)
		if cur != nil && cur.next.After(at) {
			at = cur.next
		}
		if at.After(now) {
			select {
			case <-clock.After(at.Sub(now)):
			case <-ctx.Done():
				w.dropAll(ctx, cur)
				return
			}
			continue // more may wait now: take decides again
		}
		if cur == nil {
			cur = w.take()
		}
		if w.attempt(ctx, cur) {
			cur = nil
		}
		if ctx.Err() != nil {
			w.dropAll(ctx, nil)
			return
		}
	}
}

// nextSlot is the earliest time from now at which one more request keeps
// to the rate limit; it forgets attempts older than the window.
func (w *worker) nextSlot(now time.Time) time.Time {
	if w.limits.PerMinute <= 0 {
		return now
	}
	w.window = slices.DeleteFunc(w.window, func(t time.Time) bool { return now.Sub(t) >= minute })
	if len(w.window) < w.limits.PerMinute {
		return now
	}
	return w.window[len(w.window)-w.limits.PerMinute].Add(minute)
}

// take removes what the next request carries from the queue. A message
// goes alone while the window has a request for each waiting one (or
// more than one request left); the last request of a full window carries
// every waiting message it can as one digest, and says how many follow.
func (w *worker) take() *pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.limits.PerMinute - len(w.window)
	q := len(w.queue)
	if w.limits.PerMinute <= 0 || q <= room || room > 1 || q == 1 {
		p := w.queue[0]
		w.queue = w.queue[1:]
		p.msg = w.fit(p.msg)
		return &p
	}
	parts := make([]Message, 0, min(q, w.d.cfg.MaxDigest))
	for _, p := range w.queue[:min(q, w.d.cfg.MaxDigest)] {
		parts = append(parts, p.msg)
	}
	best, msg := 0, Message{}
	for k := 1; k <= len(parts); k++ {
		dm := digest(parts[:k], q-k, w.d.cfg.Location)
		if w.limits.MaxBytes > 0 && w.size(dm) > w.limits.MaxBytes {
			break
		}
		best, msg = k, dm
	}
	if best <= 1 {
		// Not even two fit: the first goes alone.
		p := w.queue[0]
		w.queue = w.queue[1:]
		p.msg = w.fit(p.msg)
		return &p
	}
	p := pending{msg: msg, queued: w.queue[0].queued}
	for _, q := range w.queue[1:best] {
		if q.queued.Before(p.queued) {
			p.queued = q.queued
		}
	}
	w.queue = slices.Delete(w.queue, 0, best)
	return &p
}

// fit cuts m to the channel's size limit.
func (w *worker) fit(m Message) Message {
	if w.limits.MaxBytes <= 0 {
		return m
	}
	f, ok := fit(m, w.size, w.limits.MaxBytes)
	if !ok {
		w.log.Warn("message does not fit the channel even without its body", "message", m.ID, "max_bytes", w.limits.MaxBytes)
	}
	return f
}

// attempt sends p once and logs it; it reports whether p is done with
// (sent, failed for good or given up), false when it waits to be retried.
func (w *worker) attempt(ctx context.Context, p *pending) bool {
	clock := w.d.cfg.Clock
	p.attempt++
	start := clock.Now()
	actx, cancel := context.WithTimeout(ctx, w.d.cfg.AttemptTimeout)
	retry, err := notifySafely(actx, w.n, p.msg)
	cancel()
	end := clock.Now()
	if w.limits.PerMinute > 0 {
		// The end, not the start: the receiver counted the request at
		// some moment in between, and the window must cover it.
		w.window = append(w.window, end)
	}
	e := Delivery{Receiver: w.name, MessageIDs: p.msg.IDs(), Attempt: p.attempt, Time: end, Latency: end.Sub(start)}
	if len(p.msg.Parts) > 0 {
		e.Digest = p.msg.ID
	}
	done := true
	switch {
	case err == nil:
		e.Status = StatusSent
	case ctx.Err() != nil:
		e.Status, e.Error = StatusDropped, "dispatcher closed while sending: "+redact(err)
	case !retry:
		e.Status, e.Error = StatusFailed, redact(err)
	case p.attempt >= w.retry.MaxAttempts:
		e.Status, e.Error = StatusFailed, fmt.Sprintf("%s (gave up after %d attempts)", redact(err), p.attempt)
	default:
		wait := w.retry.Backoff(p.attempt, w.d.cfg.Rand())
		if ra, ok := errors.AsType[*RetryAfterError](err); ok && ra.After > wait {
			wait = ra.After
		}
		next := end.Add(wait)
		if next.Sub(p.queued) > w.retry.MaxAge {
			e.Status, e.Error = StatusFailed, fmt.Sprintf("%s (gave up: queued %s ago, max age %s)", redact(err), end.Sub(p.queued).Round(time.Second), w.retry.MaxAge)
			break
		}
		e.Status, e.Error, e.Next = StatusRetrying, redact(err), next
		p.next = next
		done = false
	}
	w.d.record(ctx, w.log, e)
	return done
}

// notifySafely calls n; a Notifier that panics fails its message for good
// instead of taking the process down.
func notifySafely(ctx context.Context, n Notifier, m Message) (retry bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			retry, err = false, fmt.Errorf("notifier panicked: %v", p)
		}
	}()
	return n.Notify(ctx, m)
}

// dropAll logs cur and everything queued as dropped: Close gave up.
func (w *worker) dropAll(ctx context.Context, cur *pending) {
	w.mu.Lock()
	left := w.queue
	w.queue = nil
	w.mu.Unlock()
	now := w.d.cfg.Clock.Now()
	if cur != nil {
		left = append([]pending{*cur}, left...)
	}
	for _, p := range left {
		w.d.record(ctx, w.log, Delivery{Receiver: w.name, MessageIDs: p.msg.IDs(), Attempt: p.attempt, Time: now,
			Status: StatusDropped, Error: "dispatcher closed before delivery"})
	}
}

// redact is err's message with URLs and secrets redacted: the last line
// of defence, after the notifiers' own.
func redact(err error) string { return collectors.RedactText(err.Error()) }
