package access

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheLoadsOnceForManyCallers(t *testing.T) {
	c := newCache(time.Second, 100)
	now := time.Now()
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) (*state, error) {
		loads.Add(1)
		<-release
		return &state{loaded: now, p: &Principal{Name: "x"}}, nil
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			st, err := c.get(t.Context(), "k", now, load)
			if err != nil || st.p.Name != "x" {
				t.Error(st, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads, want 1", n)
	}
}

func TestCacheServesStaleWhileOneReloads(t *testing.T) {
	c := newCache(time.Second, 100)
	t0 := time.Now()
	v1 := &state{loaded: t0, p: &Principal{Name: "v1"}}
	c.get(t.Context(), "k", t0, func(context.Context) (*state, error) { return v1, nil })

	later := t0.Add(2 * time.Second)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan *state)
	go func() {
		st, _ := c.get(t.Context(), "k", later, func(context.Context) (*state, error) {
			close(started)
			<-release
			return &state{loaded: later, p: &Principal{Name: "v2"}}, nil
		})
		done <- st
	}()
	<-started
	st, _ := c.get(t.Context(), "k", later, func(context.Context) (*state, error) { t.Error("second reload"); return nil, nil })
	if st.p.Name != "v1" {
		t.Fatalf("during a reload got %s, want the stale v1", st.p.Name)
	}
	close(release)
	if st := <-done; st.p.Name != "v2" {
		t.Fatalf("reloader got %s", st.p.Name)
	}
}

func TestCacheErrorsAreNotKept(t *testing.T) {
	c := newCache(time.Second, 100)
	now := time.Now()
	for _, want := range []error{ErrNotFound, errors.New("db down")} {
		if _, err := c.get(t.Context(), "k", now, func(context.Context) (*state, error) { return nil, want }); !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
		if len(c.slots) != 0 {
			t.Fatalf("error %v kept a slot", want)
		}
	}
	// A credential that disappears is dropped on reload.
	c.get(t.Context(), "k", now, func(context.Context) (*state, error) { return &state{loaded: now, p: &Principal{}}, nil })
	_, err := c.get(t.Context(), "k", now.Add(time.Hour), func(context.Context) (*state, error) { return nil, ErrNotFound })
	if !errors.Is(err, ErrNotFound) || len(c.slots) != 0 {
		t.Fatalf("gone credential: %v, %d slots", err, len(c.slots))
	}
}

func TestCacheInvalidationDuringLoad(t *testing.T) {
	c := newCache(time.Minute, 100)
	now := time.Now()
	var n atomic.Int64
	st, err := c.get(t.Context(), "k", now, func(context.Context) (*state, error) {
		if n.Add(1) == 1 {
			c.forgetWhere(func(*Principal) bool { return true }) // a revoke lands mid-load
			return &state{loaded: now, p: &Principal{Name: "before"}}, nil
		}
		return &state{loaded: now, p: &Principal{Name: "after"}}, nil
	})
	if err != nil || st.p.Name != "after" || n.Load() != 2 {
		t.Fatalf("got %v %v after %d loads; want the value read after the invalidation", st, err, n.Load())
	}
}

func TestCacheContextWhileWaiting(t *testing.T) {
	c := newCache(time.Second, 100)
	now := time.Now()
	release := make(chan struct{})
	defer close(release)
	go c.get(t.Context(), "k", now, func(context.Context) (*state, error) { <-release; return &state{loaded: now}, nil })
	for {
		c.mu.Lock()
		_, ok := c.slots["k"]
		c.mu.Unlock()
		if ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.get(ctx, "k", now, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting with a cancelled context: %v", err)
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(time.Second, 50)
	now := time.Now()
	for i := range 1000 {
		c.get(t.Context(), fmt.Sprint(i), now, func(context.Context) (*state, error) {
			return &state{loaded: now, p: &Principal{}}, nil
		})
	}
	if len(c.slots) > 50 {
		t.Fatalf("%d entries, want at most 50", len(c.slots))
	}
}
