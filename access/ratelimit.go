package access

import (
	"net/netip"
	"sync"
	"time"
)

// limiter refuses login attempts: per account after too many failures in a
// window (a lockout, so guessing one user's password is slow) and per
// client address after too many attempts of any outcome in a window (so
// one client cannot spray many accounts). It lives in memory: a restart
// forgets it, which costs an attacker a restart they cannot cause. Each
// map holds at most max entries; when full, expired entries go first and
// then arbitrary ones, so memory stays bounded whatever names and
// addresses an attacker invents.
type limiter struct {
	accountFailures               int
	accountWindow, accountLockout time.Duration
	addrAttempts                  int
	addrWindow                    time.Duration
	max                           int

	mu       sync.Mutex
	accounts map[string]*accountState
	addrs    map[string]*addrState
}

type accountState struct {
	failures    int       // in the window that began at first
	first       time.Time // first failure of the window
	lockedUntil time.Time
}

type addrState struct {
	count int
	start time.Time // of the window
}

func newLimiter(c Config) *limiter {
	return &limiter{
		accountFailures: c.AccountFailures, accountWindow: c.AccountWindow, accountLockout: c.AccountLockout,
		addrAttempts: c.AddrAttempts, addrWindow: c.AddrWindow, max: c.LimiterEntries,
		accounts: make(map[string]*accountState), addrs: make(map[string]*addrState),
	}
}

// attempt counts an attempt from addr and checks both limits. It returns
// nil when the attempt may go ahead.
func (l *limiter) attempt(name, addr string, now time.Time) *RateLimitError {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrAttempts > 0 {
		key := addrKey(addr)
		st := l.addrs[key]
		if st == nil || now.Sub(st.start) >= l.addrWindow {
			if st == nil {
				l.makeRoom(now, len(l.addrs), l.pruneAddrs, func() { evictOne(l.addrs) })
			}
			st = &addrState{start: now}
			l.addrs[key] = st
		}
		if st.count >= l.addrAttempts {
			return &RateLimitError{RetryAfter: atLeastSecond(st.start.Add(l.addrWindow).Sub(now)), Reason: "address"}
		}
		st.count++
	}
	if st := l.accounts[name]; st != nil && now.Before(st.lockedUntil) {
		return &RateLimitError{RetryAfter: atLeastSecond(st.lockedUntil.Sub(now)), Reason: "account"}
	}
	return nil
}

// fail records a failed attempt for name and reports whether it locked the
// account just now.
func (l *limiter) fail(name string, now time.Time) bool {
	if l.accountFailures <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.accounts[name]
	if st == nil {
		l.makeRoom(now, len(l.accounts), l.pruneAccounts, func() { evictOne(l.accounts) })
		st = &accountState{}
		l.accounts[name] = st
	}
	if st.failures == 0 || now.Sub(st.first) >= l.accountWindow {
		st.failures, st.first = 0, now
	}
	st.failures++
	if st.failures < l.accountFailures {
		return false
	}
	// Locked: the count starts over, so after the lockout the account gets
	// the same number of tries again.
	st.failures, st.lockedUntil = 0, now.Add(l.accountLockout)
	return true
}

// succeed forgets name's failures.
func (l *limiter) succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.accounts, name)
}

// makeRoom prunes expired entries, then evicts, until a map of size n has
// room for one more.
func (l *limiter) makeRoom(now time.Time, n int, prune func(time.Time) int, evict func()) {
	if l.max <= 0 || n < l.max {
		return
	}
	if n -= prune(now); n < l.max {
		return
	}
	evict()
}

func (l *limiter) pruneAccounts(now time.Time) int {
	n := 0
	for k, st := range l.accounts {
		if !now.Before(st.lockedUntil) && (st.failures == 0 || now.Sub(st.first) >= l.accountWindow) {
			delete(l.accounts, k)
			n++
		}
	}
	return n
}

func (l *limiter) pruneAddrs(now time.Time) int {
	n := 0
	for k, st := range l.addrs {
		if now.Sub(st.start) >= l.addrWindow {
			delete(l.addrs, k)
			n++
		}
	}
	return n
}

func evictOne[V any](m map[string]V) {
	for k := range m {
		delete(m, k)
		return
	}
}

// addrKey is the unit an address limit applies to: the IPv4 address, or
// the /64 of an IPv6 one (a single host usually owns a whole /64, so
// counting addresses inside it would be no limit at all).
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return cut(addr, maxAuditAddr)
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

func atLeastSecond(d time.Duration) time.Duration {
	return max(d, time.Second)
}
