package console

import (
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/scoring"
)

// The texts the page shows are formatted here, once, in the language of
// the request: the script paints them as they come and holds no rule of
// its own (how a rate is shown, which way a change is good, which colour
// a tier has). The exports use the same number formats.

// dash is how a null is shown (SPEC.md section 5).
const dash = numtext.Dash

// valueText shows an indicator value: a percentage for rates, a grouped
// integer for counts, a dash for null.
func valueText(v *float64, rate bool) string {
	switch {
	case v == nil:
		return dash
	case rate:
		return numtext.Percent(*v)
	}
	return numtext.Value(false, *v)
}

// countText shows a numerator or denominator.
func countText(v *int64) string {
	if v == nil {
		return dash
	}
	return numtext.Group(*v)
}

// scoreText shows a composite score with two decimals.
func scoreText(v *float64) string {
	if v == nil {
		return dash
	}
	return numtext.Fixed(*v, 2)
}

// changeText shows a change (环比, 同比): percentage points for rates
// ("+1.20个百分点", "+1.20 pp"), otherwise the difference rounded to two
// decimals without trailing zeros ("+3", "-1.5").
func changeText(ch *float64, rate bool, lang string) string {
	switch {
	case ch == nil:
		return dash
	case rate:
		return numtext.Signed(*ch*100, 2) + dict[lang]["pp"]
	}
	return numtext.SignedTrim(*ch)
}

// The tones of a change: whether it is good news in the indicator's
// direction. They are the page's CSS classes.
const (
	toneBetter = "better"
	toneWorse  = "worse"
	toneFlat   = "flat"
)

// toneOf says whether a change is good news: a rise is better unless the
// indicator is lower-is-better (overdue counts, bad reviews).
func toneOf(ch *float64, lowerIsBetter bool) string {
	if ch == nil || *ch == 0 {
		return toneFlat
	}
	if (*ch > 0) != lowerIsBetter {
		return toneBetter
	}
	return toneWorse
}

// statusText names a status in the page's language ("达标", "On target").
func statusText(s scoring.Status, lang string) string {
	if s == scoring.StatusNone {
		return dash
	}
	return dict[lang][s.String()]
}

// tierStatus colours a tier like a status: the first (best) tier green,
// the last red, the ones between amber, no tier none.
func tierStatus(tier string, tiers []scoring.Tier) scoring.Status {
	switch {
	case tier == "" || len(tiers) == 0:
		return scoring.StatusNone
	case tier == tiers[0].Name:
		return scoring.StatusGreen
	case tier == tiers[len(tiers)-1].Name:
		return scoring.StatusRed
	}
	return scoring.StatusAmber
}

// tierText names a tier in the page's language.
func tierText(c scoring.Composite, lang string) string {
	name := c.Tier
	if lang == "en" {
		name = c.TierEN
	}
	if name == "" {
		return dash
	}
	return name
}

// rankText shows a rank, or a dash for a unit without one.
func rankText(r *int) string {
	if r == nil {
		return dash
	}
	return strconv.Itoa(*r)
}

// stampText shows an answer's instant to the minute ("2026-10-09 12:00").
func stampText(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04") }
