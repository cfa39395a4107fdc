package notify

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Status is what became of one attempt to deliver.
type Status string

// The statuses of a Delivery.
const (
	// StatusSent: the receiver took the message.
	StatusSent Status = "sent"
	// StatusRetrying: the attempt failed and another will follow.
	StatusRetrying Status = "retrying"
	// StatusFailed: the attempt failed and none will follow (a permanent
	// error, or the attempts or age ran out).
	StatusFailed Status = "failed"
	// StatusDropped: the message was never delivered (its queue was full,
	// or Close gave up on it).
	StatusDropped Status = "dropped"
)

// Delivery is one entry of the delivery log: one attempt to deliver one
// or more messages (a digest carries several) to one receiver.
type Delivery struct {
	Receiver string
	// MessageIDs are the ids of the messages the attempt carried; Digest
	// is the id of the digest that carried them, "" for one message sent
	// alone.
	MessageIDs []string
	Digest     string
	// Attempt counts from 1; 0 for a message dropped before any attempt.
	Attempt int
	// Time is when the attempt ended (or the message was dropped).
	Time   time.Time
	Status Status
	// Error is why it failed, with URLs and secrets redacted.
	Error string
	// Latency is how long the attempt took.
	Latency time.Duration
	// Next is when the next attempt is due (StatusRetrying only).
	Next time.Time
}

// Log records deliveries; the caller persists them.
type Log interface {
	// Record keeps d. Its error is logged, never retried: a delivery
	// log that is down must not stop delivery.
	Record(ctx context.Context, d Delivery) error
}

// LogFunc adapts a function to a Log.
type LogFunc func(ctx context.Context, d Delivery) error

// Record calls f.
func (f LogFunc) Record(ctx context.Context, d Delivery) error { return f(ctx, d) }

// MemoryLog keeps the last Max deliveries in memory (all when Max is 0),
// for tests and for a process that does not persist them. Its zero
// value is ready.
type MemoryLog struct {
	Max int

	mu      sync.Mutex
	entries []Delivery
	changed chan struct{} // closed and replaced on every Record
}

var _ Log = (*MemoryLog)(nil)

// Record keeps d.
func (l *MemoryLog) Record(_ context.Context, d Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	d.MessageIDs = slices.Clone(d.MessageIDs)
	l.entries = append(l.entries, d)
	if l.Max > 0 && len(l.entries) > l.Max {
		l.entries = slices.Delete(l.entries, 0, len(l.entries)-l.Max)
	}
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	return nil
}

// Deliveries returns the kept deliveries, oldest first.
func (l *MemoryLog) Deliveries() []Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Wait blocks until done(the deliveries) is true or ctx ends.
func (l *MemoryLog) Wait(ctx context.Context, done func([]Delivery) bool) error {
	for {
		l.mu.Lock()
		if done(slices.Clone(l.entries)) {
			l.mu.Unlock()
			return nil
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
