package access

import (
	"context"
	"maps"
	"sync"
	"time"
)

// touches are the last-seen times of sessions and last-used times of
// screen tokens not written yet. An authentication only records its use
// here (at most once per TouchEvery per credential, see claimTouch); all
// of them are written together, in one transaction, at most every
// TouchEvery, by a timer armed when the first one arrives, and by Flush
// and Close. Until then they count: loads and the batch check take the
// later of the stored time and the recorded one.
type touches struct {
	mu       sync.Mutex
	sessions map[string]time.Time
	tokens   map[string]time.Time
	timer    *time.Timer // armed while uses wait to be written
	last     time.Time   // wall-clock time of the last flush (or of New)
	closed   bool        // after Close, uses are written at once

	flushMu sync.Mutex // one flush at a time
}

// flushTimeout bounds a flush the timer starts.
const flushTimeout = 30 * time.Second

// touched records a use of a session (or token) at at.
func (s *Service) touched(session bool, id string, at time.Time) {
	w := &s.touches
	w.mu.Lock()
	m := &w.tokens
	if session {
		m = &w.sessions
	}
	if *m == nil {
		*m = map[string]time.Time{}
	}
	if at.After((*m)[id]) {
		(*m)[id] = at
	}
	closed := w.closed
	if !closed {
		s.armLocked()
	}
	w.mu.Unlock()
	if closed {
		s.Flush(context.Background())
	}
}

// armLocked starts the timer of the next flush, TouchEvery after the last
// one, unless it runs already. Called with touches.mu held.
func (s *Service) armLocked() {
	w := &s.touches
	if w.timer != nil || w.closed || len(w.sessions)+len(w.tokens) == 0 {
		return
	}
	w.timer = time.AfterFunc(max(0, s.cfg.TouchEvery-time.Since(w.last)), func() {
		w.mu.Lock()
		w.timer, w.last = nil, time.Now() // a use recorded from now on waits for the next period
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		s.Flush(ctx)
	})
}

// seen returns the later of t (what the store said) and the use of id
// recorded but not written yet.
func (w *touches) seen(session bool, id string, t time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.tokens
	if session {
		m = w.sessions
	}
	if at, ok := m[id]; ok && at.After(t) {
		return at
	}
	return t
}

// Flush writes the recorded uses of sessions and screen tokens now, in one
// transaction. A failure is logged and returned; the uses stay recorded
// and are written by the next flush.
func (s *Service) Flush(ctx context.Context) error {
	w := &s.touches
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	ss, ts := maps.Clone(w.sessions), maps.Clone(w.tokens)
	w.last = time.Now()
	w.mu.Unlock()
	if len(ss)+len(ts) == 0 {
		return nil
	}
	err := s.store.Touch(ctx, ss, ts)
	w.mu.Lock()
	if err == nil {
		// Uses recorded meanwhile (later times) stay for the next flush.
		maps.DeleteFunc(w.sessions, func(id string, at time.Time) bool { return at.Equal(ss[id]) })
		maps.DeleteFunc(w.tokens, func(id string, at time.Time) bool { return at.Equal(ts[id]) })
	}
	s.armLocked()
	w.mu.Unlock()
	if err != nil {
		s.log.Warn("write last uses of sessions and screen tokens", "sessions", len(ss), "tokens", len(ts), "err", err)
	}
	return err
}

// Close writes the recorded uses (Flush) and stops the timer. The Service
// stays usable: after Close a use is written at once, as it is made. It
// does not close the Store.
func (s *Service) Close() error {
	w := &s.touches
	w.mu.Lock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	return s.Flush(context.Background())
}
