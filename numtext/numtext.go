// Package numtext is how Yiping writes numbers for people: on the screens,
// in the console and its exports, in special reports and in printed
// bulletins. One place, so a value reads the same wherever it is shown.
package numtext

import (
	"math"
	"strconv"
	"strings"
)

// Dash is how a null is shown (SPEC.md section 5).
const Dash = "—"

// Percent shows a fraction as a percentage with two decimals
// (0.955 → "95.50%").
func Percent(x float64) string { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }

// Group shows an integer with thousands separators (1234567 →
// "1,234,567"), as zh-CN and en both write them.
func Group(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.Grow(len(s) + len(digits)/3)
	if len(digits) < len(s) {
		b.WriteByte('-')
	}
	for i := 0; i < len(digits); i++ {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// Value shows an indicator's value: a rate as a percentage ("93.45%"), a
// count rounded, with thousands separators ("12,345").
func Value(rate bool, x float64) string {
	if rate {
		return Percent(x)
	}
	return Group(int64(math.Round(x)))
}

// Display is a value in chart units: a rate in percent with two
// decimals, anything else rounded to two decimals.
func Display(rate bool, x float64) float64 {
	if rate {
		return math.Round(x*10000) / 100
	}
	return math.Round(x*100) / 100
}

// Fixed shows x with prec decimals ("87.50"), as composite scores are shown.
func Fixed(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

// Signed shows x with prec decimals and an explicit sign ("+1.20",
// "-0.50"); a value that rounds to zero is "+0.00", never "-0.00".
func Signed(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		if strings.Trim(rest, "0.") == "" {
			return "+" + rest
		}
		return s
	}
	return "+" + s
}

// SignedTrim shows a count's change rounded to two decimals without
// trailing zeros, signed ("+3", "-1.5"); no change is "0".
func SignedTrim(x float64) string {
	x = math.Round(x*100) / 100
	if x == 0 {
		return "0"
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x > 0 {
		return "+" + s
	}
	return s
}
