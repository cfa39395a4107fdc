package bulletin

import (
	"math"
	"strconv"
	"strings"

	"github.com/yiping-ioc/yiping/scoring"
)

// The number formats are the console's (console/format.go): a bulletin
// and the screen it summarises show the same figures the same way.

// dash is how a null is shown (SPEC.md section 5).
const dash = "—"

// percentText shows a fraction as a percentage with two decimals.
func percentText(x float64) string { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }

// groupText shows an integer with thousands separators.
func groupText(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// scoreText shows a composite score with two decimals.
func scoreText(v *float64) string {
	if v == nil {
		return dash
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// signed writes x with prec decimals and an explicit sign.
func signed(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if x > 0 || (x == 0 && !strings.HasPrefix(s, "-")) {
		return "+" + s
	}
	if s == "-0."+strings.Repeat("0", prec) {
		return "+" + s[1:]
	}
	return s
}

// signedTrim writes a count's change rounded to two decimals without
// trailing zeros ("+3", "-1.5").
func signedTrim(x float64) string {
	x = math.Round(x*100) / 100
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x > 0 {
		return "+" + s
	}
	if x == 0 {
		return "0"
	}
	return s
}

func scoreChangeText(d *float64) string {
	if d == nil {
		return dash
	}
	return signed(*d, 2)
}

// statusText names a status: 达标, 预警, 未达底线.
func statusText(s scoring.Status) string {
	switch s {
	case scoring.StatusGreen:
		return "达标"
	case scoring.StatusAmber:
		return "预警"
	case scoring.StatusRed:
		return "未达底线"
	}
	return dash
}

// statusColor is the print colour of a status (and of a tier): dark
// enough for paper, told apart by lightness as well as hue.
func statusColor(s scoring.Status) string {
	switch s {
	case scoring.StatusGreen:
		return "#15803d"
	case scoring.StatusAmber:
		return "#d97706"
	case scoring.StatusRed:
		return "#dc2626"
	}
	return "#94a3b8"
}
