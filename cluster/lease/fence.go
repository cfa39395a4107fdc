package lease

import (
	"errors"
	"fmt"
	"sync"
)

// ErrStale is returned by a Fence for a fencing token lower than one it has
// already admitted: the writer belongs to a term that has been superseded.
var ErrStale = errors.New("lease: stale fencing token")

// Fence is the resource side of the fencing token. A resource written only by
// the leader (the journal writer, the store, a rule's output) keeps a Fence and
// admits every write's token before applying it. The Fence remembers the
// highest token it has admitted and refuses lower ones with ErrStale.
//
// Why the lease alone is not enough: a leader can be paused (GC, a stopped VM,
// SIGSTOP, a long syscall, a partition that heals) after it last checked its
// term context. While it is paused its lease expires, another node acquires
// the lease and starts writing with a larger token. When the old leader
// resumes it still believes it leads until it next looks at its context, and
// a write it had already decided on would land after the new leader's. A bare
// lock cannot tell these two writers apart; the token can, because the resource
// has already seen the new leader's larger token and rejects the old one.
//
// The check only protects the resource if it is atomic with the write: use
// Guard (which holds the Fence's lock across the check and the write), or
// perform Admit inside the resource's own transaction/lock. To survive a
// restart of the resource, persist High() with the data and seed NewFence with
// it.
//
// The zero Fence is ready to use and admits any token > 0.
type Fence struct {
	mu   sync.Mutex
	high uint64
}

// NewFence returns a Fence that refuses tokens below floor (typically the
// highest token persisted with the resource's data).
func NewFence(floor uint64) *Fence { return &Fence{high: floor} }

// Admit accepts token if it is at least the highest token admitted so far and
// records it; otherwise it returns an error wrapping ErrStale. Token 0 is never
// issued by an Elector and is always refused. Equal tokens are admitted: the
// same term writes many times.
func (f *Fence) Admit(token uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.admitLocked(token)
}

func (f *Fence) admitLocked(token uint64) error {
	if token == 0 {
		return fmt.Errorf("%w: token 0 is never issued", ErrStale)
	}
	if token < f.high {
		return fmt.Errorf("%w: token %d < %d", ErrStale, token, f.high)
	}
	f.high = token
	return nil
}

// Guard admits token and, only if it is admitted, runs write while still
// holding the Fence's lock, so no write with a lower token can be admitted
// concurrently or after it. write's error is returned as is; the token stays
// admitted even if write fails (a newer term exists either way).
func (f *Fence) Guard(token uint64, write func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.admitLocked(token); err != nil {
		return err
	}
	return write()
}

// High returns the highest token admitted so far (or the floor).
func (f *Fence) High() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.high
}
