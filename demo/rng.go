package demo

import (
	"math"
	"sort"
)

// rng is splitmix64: tiny, fast and seedable per (seed, stream, key), so
// that what happens in one simulated minute is a pure function of the seed
// and that minute. History therefore does not depend on how time was
// advanced (one backfill or a million small steps) nor on restarts.
type rng struct{ s uint64 }

func newRng(seed int64, stream, key uint64) rng {
	r := rng{s: uint64(seed)*0x9E3779B97F4A7C15 ^ stream*0xD1B54A32D192ED03 ^ (key+1)*0xBF58476D1CE4E5B9}
	r.next()
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// f returns a float in [0, 1).
func (r *rng) f() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns an int in [0, n); n ≤ 1 gives 0.
func (r *rng) intn(n int64) int64 {
	if n <= 1 {
		return 0
	}
	return int64((r.next() >> 1) % uint64(n))
}

// between returns an int in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + r.intn(hi-lo+1) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.f() < p }

// norm returns a standard normal deviate (Box–Muller).
func (r *rng) norm() float64 {
	u := 1 - r.f() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.f())
}

// poisson draws a Poisson count with mean lambda. Arrivals per simulated
// minute have small means (well under 100), where Knuth's product method
// is exact and fast; larger means use a normal approximation.
func (r *rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 60 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.norm()))
		return max(n, 0)
	}
	l := math.Exp(-lambda)
	k := 0
	p := r.f()
	for p > l {
		k++
		p *= r.f()
	}
	return k
}

// weights is a cumulative distribution for picking an index.
type weights []float64

func cumulative(w ...float64) weights {
	c := make(weights, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// pick draws an index with probability proportional to its weight.
func (r *rng) pick(c weights) int {
	u := r.f() * c[len(c)-1]
	i := sort.SearchFloat64s(c, u)
	// SearchFloat64s finds the first c[i] >= u; u == c[i] exactly must go
	// to the next index, since [c[i-1], c[i]) is index i's share.
	for i < len(c)-1 && c[i] <= u {
		i++
	}
	return i
}
