package access

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// cache remembers, for a short TTL, what the store said about a session or
// a screen token, so that requests, and Valid asked for many websockets
// sharing a handful of screen tokens, cost a handful of store reads, and a
// change made by another process (the CLI revoking a token) is seen within
// the TTL. The service's own changes invalidate entries at once. (The
// periodic check of every websocket, Invalid, reads the store in batches
// instead.)
//
// Only found sessions and tokens are kept (a revoked token is kept, as
// revoked): unknown secrets are not, so guessing cannot fill the cache.
// Its size is bounded all the same.
type cache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	slots map[string]*slot
	epoch uint64 // bumped by invalidations, so a load begun before one is not stored
}

// slot is one key's state. A stale value is served while one caller
// reloads it, so an expiry never makes every caller wait on the store;
// only a key's first load is waited for.
type slot struct {
	val     *state        // nil until the first load completes
	loading bool          // a reload is under way
	ready   chan struct{} // closed when the first load ends, successful or not
}

// state is what the store said about a session or token, at loaded. Its
// fields are immutable except the touch times, which are atomic.
type state struct {
	loaded time.Time
	p      *Principal // the principal it describes (set even when err is)
	err    error      // ErrDisabled, ErrRevoked: the credential is known but dead
	// created is a session's creation (for the absolute timeout).
	created time.Time
	// seen is a session's LastSeen, or a token's LastUsedAt, as unix
	// microseconds: moved forward by touches without reloading.
	seen atomic.Int64
}

func newCache(ttl time.Duration, max int) *cache {
	return &cache{ttl: ttl, max: max, slots: make(map[string]*slot)}
}

// get returns key's state, loading it when missing or older than the TTL.
// load returns ErrNotFound (not cached) or a store error (not cached).
func (c *cache) get(ctx context.Context, key string, now time.Time, load func(context.Context) (*state, error)) (*state, error) {
	for {
		c.mu.Lock()
		s := c.slots[key]
		switch {
		case s != nil && s.val != nil && (s.loading || now.Sub(s.val.loaded) < c.ttl):
			v := s.val
			c.mu.Unlock()
			return v, nil
		case s != nil && s.val == nil && s.loading:
			ready := s.ready
			c.mu.Unlock()
			select {
			case <-ready:
				continue // loaded, or failed: look again
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case s == nil:
			c.makeRoom(now)
			s = &slot{ready: make(chan struct{})}
			c.slots[key] = s
		}
		s.loading = true
		epoch := c.epoch
		c.mu.Unlock()

		v, err := load(ctx)

		c.mu.Lock()
		s.loading = false
		mine, first := c.slots[key] == s, s.val == nil
		stored := err == nil && c.epoch == epoch && mine
		if stored {
			s.val = v
		}
		if first || errors.Is(err, ErrNotFound) {
			// A failed first load leaves nothing behind (its waiters look
			// again and load themselves); a gone credential is dropped.
			if first {
				close(s.ready)
			}
			if mine && !stored {
				delete(c.slots, key)
			}
		}
		raced := err == nil && !stored
		c.mu.Unlock()
		if raced {
			continue // invalidated while loading: the store may have changed since; read again
		}
		return v, err
	}
}

// forget drops key.
func (c *cache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.slots, key)
}

// forgetWhere drops every entry whose principal matches.
func (c *cache) forgetWhere(match func(*Principal) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k, s := range c.slots {
		if s.val != nil && s.val.p != nil && match(s.val.p) {
			delete(c.slots, k)
		}
	}
}

// makeRoom keeps the cache under max: first dropping stale entries, then
// arbitrary ones. Called with c.mu held.
func (c *cache) makeRoom(now time.Time) {
	if c.max <= 0 || len(c.slots) < c.max {
		return
	}
	for k, s := range c.slots {
		if s.val != nil && !s.loading && now.Sub(s.val.loaded) >= c.ttl {
			delete(c.slots, k)
		}
	}
	for k, s := range c.slots {
		if len(c.slots) < c.max {
			break
		}
		if s.val != nil && !s.loading {
			delete(c.slots, k)
		}
	}
}
