package numtext

import (
	"math"
	"testing"
)

func TestTexts(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Percent(0.955), "95.50%"},
		{Percent(1), "100.00%"},
		{Percent(0), "0.00%"},
		{Group(0), "0"},
		{Group(999), "999"},
		{Group(1000), "1,000"},
		{Group(1234567), "1,234,567"},
		{Group(-1234567), "-1,234,567"},
		{Group(-100), "-100"},
		{Group(math.MinInt64), "-9,223,372,036,854,775,808"},
		{Value(true, 0.93449), "93.45%"},
		{Value(false, 12345.4), "12,345"},
		{Value(false, 12345.5), "12,346"},
		{Value(true, 0.93456), "93.46%"},
		{Value(true, 1), "100.00%"},
		{Value(false, -1234), "-1,234"},
		{Fixed(87.5, 2), "87.50"},
		{Signed(1.2, 2), "+1.20"},
		{Signed(-0.5, 2), "-0.50"},
		{Signed(0, 2), "+0.00"},
		{Signed(-0.001, 2), "+0.00"},
		{Signed(math.Copysign(0, -1), 2), "+0.00"},
		{Signed(-0.006, 2), "-0.01"},
		{SignedTrim(3), "+3"},
		{SignedTrim(-1.5), "-1.5"},
		{SignedTrim(0), "0"},
		{SignedTrim(-0.001), "0"},
		{SignedTrim(2.345), "+2.35"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, c := range []struct {
		rate    bool
		x, want float64
	}{{true, 0.93456, 93.46}, {true, 1, 100}, {false, 12.345, 12.35}, {false, 3, 3}, {false, -1234, -1234}} {
		if got := Display(c.rate, c.x); got != c.want {
			t.Errorf("Display(%v, %v) = %v, want %v", c.rate, c.x, got, c.want)
		}
	}
}
