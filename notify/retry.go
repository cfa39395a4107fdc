package notify

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how long a failed delivery is tried
// again.
type RetryPolicy struct {
	// Initial is the wait after the first failure (default 10s); each
	// further failure doubles it, up to Max (default 10m).
	Initial, Max time.Duration
	// Jitter spreads each wait by up to ± this fraction (default 0.2), so
	// that receivers that failed together are not retried together.
	Jitter float64
	// MaxAttempts counts every attempt, the first too (default 8);
	// MaxAge is how long after it was queued a message is still tried
	// (default 1h). Whichever ends first ends the retries.
	MaxAttempts int
	MaxAge      time.Duration
}

// DefaultRetry is the policy of a Dispatcher whose Config leaves it zero.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Initial: 10 * time.Second, Max: 10 * time.Minute, Jitter: 0.2, MaxAttempts: 8, MaxAge: time.Hour}
}

// withDefaults fills zero fields from DefaultRetry; a negative Jitter is
// none.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetry()
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = d.Jitter
	case p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxAge <= 0 {
		p.MaxAge = d.MaxAge
	}
	return p
}

// Backoff is the wait after the attempt-th failure (1-based): Initial
// doubled attempt-1 times, capped at Max, spread by Jitter; r in [0, 1)
// picks the spread (0.5 is none).
func (p RetryPolicy) Backoff(attempt int, r float64) time.Duration {
	d := p.Initial
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return time.Duration(float64(d) * (1 + p.Jitter*(2*r-1)))
}

// randFloat is the jitter source of a Dispatcher without one.
func randFloat() float64 { return rand.Float64() }
