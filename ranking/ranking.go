// Package ranking orders units (regions or departments) by one indicator
// the way the provincial assessment does (SPEC.md section 6): best first by
// the indicator's direction, equal values share a rank and the next rank
// skips (1, 2, 2, 4), and units without a value come last without a rank.
//
// Values are compared exactly from their numerators and denominators
// (a/b against c/d as a·d against c·b in 128-bit integers), never through
// floating point: 2/4 and 1/2 are the same value and share a rank, and two
// rates that differ in the 12th digit are not merged by rounding. A
// ranking is therefore a pure function of the counts, as the assessment
// documents compute it.
package ranking

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// Row is one unit of a ranking: a region (by code) or a department of a
// region. Rank fills Rank; every other field is the caller's.
type Row struct {
	// Unit is the region or department code; ties are listed by it, so a
	// ranking is deterministic.
	Unit string
	Name string
	// Numerator is the count (for a count indicator, the value itself) or
	// the rate's numerator.
	Numerator int64
	// Denominator is the rate's denominator; ignored when Rate is false.
	Denominator int64
	// Rate marks a ratio: its value is Numerator/Denominator, null when the
	// denominator is 0 (SPEC.md section 5).
	Rate bool
	// Missing marks a unit with no value at all (no data for it), which
	// ranks like a null value.
	Missing bool
	// Rank is 1 for the best; 0 for a null value (no rank).
	Rank int
}

// Null reports whether the row has no value: missing, or a rate with a
// zero denominator.
func (r Row) Null() bool {
	return r.Missing || (r.Rate && r.Denominator == 0)
}

// Value returns the row's value and whether it has one. The float is for
// display; ranking never uses it.
func (r Row) Value() (float64, bool) {
	if r.Null() {
		return 0, false
	}
	if !r.Rate {
		return float64(r.Numerator), true
	}
	return float64(r.Numerator) / float64(r.Denominator), true
}

// Compare compares the values of two non-null rows exactly: -1 if a's value
// is smaller, 0 if equal, +1 if larger. Rates compare by cross
// multiplication (denominators are positive); a count compares with a rate
// as the count over 1. The result for a null row is unspecified.
func Compare(a, b Row) int {
	an, ad := a.Numerator, int64(1)
	if a.Rate {
		ad = a.Denominator
	}
	bn, bd := b.Numerator, int64(1)
	if b.Rate {
		bd = b.Denominator
	}
	if ad < 0 { // never from the engine; keep the order right anyway
		an, ad = -an, -ad
	}
	if bd < 0 {
		bn, bd = -bn, -bd
	}
	return cmpMul(an, bd, bn, ad)
}

// cmpMul compares x1·y1 with x2·y2 for y1, y2 ≥ 0, exactly.
func cmpMul(x1, y1, x2, y2 int64) int {
	s1, h1, l1 := mul(x1, y1)
	s2, h2, l2 := mul(x2, y2)
	if s1 != s2 {
		return cmp.Compare(s1, s2)
	}
	c := cmp.Compare(h1, h2)
	if c == 0 {
		c = cmp.Compare(l1, l2)
	}
	if s1 < 0 {
		c = -c
	}
	return c
}

// mul returns the sign (-1, 0, 1) and the 128-bit magnitude of x·y for y ≥ 0.
func mul(x, y int64) (sign int, hi, lo uint64) {
	if x == 0 || y == 0 {
		return 0, 0, 0
	}
	sign = 1
	ux := uint64(x)
	if x < 0 {
		sign = -1
		ux = uint64(-(x + 1)) + 1 // |math.MinInt64| without overflow
	}
	hi, lo = bits.Mul64(ux, uint64(y))
	return sign, hi, lo
}

// Rank sorts rows in place, best first for the indicator's direction
// (lowerIsBetter for counts of bad things), fills Rank and returns rows.
// Equal values share the rank of the first of them and the next value's
// rank skips (1, 2, 2, 4); null rows come last, by Unit, with Rank 0.
func Rank(rows []Row, lowerIsBetter bool) []Row {
	slices.SortStableFunc(rows, func(a, b Row) int {
		an, bn := a.Null(), b.Null()
		switch {
		case an && bn:
			return cmp.Compare(a.Unit, b.Unit)
		case an:
			return 1
		case bn:
			return -1
		}
		c := Compare(a, b)
		if !lowerIsBetter {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.Unit, b.Unit)
	})
	for i := range rows {
		switch {
		case rows[i].Null():
			rows[i].Rank = 0
		case i > 0 && !rows[i-1].Null() && Compare(rows[i-1], rows[i]) == 0:
			rows[i].Rank = rows[i-1].Rank
		default:
			rows[i].Rank = i + 1
		}
	}
	return rows
}

// Score is one unit's composite score (综合指数) for RankScores.
type Score struct {
	Unit  string
	Value float64
	Null  bool // no weighted indicator has a value
	Rank  int
}

// scoreQuantum is the resolution at which composite scores are compared:
// they are weighted means of clamped ratios (0–100), so two units whose
// scores differ only by floating-point noise must share a rank. Rounding to
// a fixed grid (rather than comparing with a tolerance) keeps "equal"
// transitive, which sorting needs.
const scoreQuantum = 1e-6

func scoreKey(v float64) int64 { return int64(math.Round(v / scoreQuantum)) }

// RankScores ranks composite scores, higher first, with the same rules as
// Rank. Scores are compared at a resolution of 1e-6 (on a 0–100 scale);
// NaN and infinities count as null.
func RankScores(rows []Score) []Score {
	null := func(s Score) bool { return s.Null || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) }
	slices.SortStableFunc(rows, func(a, b Score) int {
		an, bn := null(a), null(b)
		switch {
		case an && bn:
			return cmp.Compare(a.Unit, b.Unit)
		case an:
			return 1
		case bn:
			return -1
		}
		if c := cmp.Compare(scoreKey(b.Value), scoreKey(a.Value)); c != 0 {
			return c
		}
		return cmp.Compare(a.Unit, b.Unit)
	})
	for i := range rows {
		switch {
		case null(rows[i]):
			rows[i].Rank = 0
		case i > 0 && !null(rows[i-1]) && scoreKey(rows[i-1].Value) == scoreKey(rows[i].Value):
			rows[i].Rank = rows[i-1].Rank
		default:
			rows[i].Rank = i + 1
		}
	}
	return rows
}
