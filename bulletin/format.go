package bulletin

import (
	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/scoring"
)

// Numbers are written by numtext, as the console and the screens write
// them: a bulletin and the screen it summarises show the same figures the
// same way.

// dash is how a null is shown (SPEC.md section 5).
const dash = numtext.Dash

// scoreText shows a composite score with two decimals.
func scoreText(v *float64) string {
	if v == nil {
		return dash
	}
	return numtext.Fixed(*v, 2)
}

func scoreChangeText(d *float64) string {
	if d == nil {
		return dash
	}
	return numtext.Signed(*d, 2)
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
