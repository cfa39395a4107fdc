package console

import (
	"testing"

	"github.com/yiping-ioc/yiping/scoring"
)

// TestTexts: the texts the page shows, in both languages.
func TestTexts(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, tc := range []struct{ name, got, want string }{
		{"rate", valueText(f(0.955), true), "95.50%"},
		{"rate one", valueText(f(1), true), "100.00%"},
		{"count", valueText(f(1234567), false), "1,234,567"},
		{"small count", valueText(f(12), false), "12"},
		{"negative count", valueText(f(-1234), false), "-1,234"},
		{"null", valueText(nil, true), "—"},
		{"numerator", countText(ptr(int64(1000))), "1,000"},
		{"no denominator", countText(nil), "—"},
		{"score", scoreText(f(87.254)), "87.25"},
		{"rate change zh", changeText(f(0.012), true, "zh"), "+1.20个百分点"},
		{"rate change en", changeText(f(-0.0005), true, "en"), "-0.05 pp"},
		{"count change", changeText(f(3), false, "zh"), "+3"},
		{"score change", changeText(f(-1.504), false, "en"), "-1.5"},
		{"no change", changeText(f(0), false, "zh"), "0"},
		{"null change", changeText(nil, true, "zh"), "—"},
		{"rise", toneOf(f(0.1), false), toneBetter},
		{"rise of a lower-is-better", toneOf(f(2), true), toneWorse},
		{"fall of a lower-is-better", toneOf(f(-2), true), toneBetter},
		{"flat", toneOf(f(0), true), toneFlat},
		{"status zh", statusText(scoring.StatusAmber, "zh"), "预警"},
		{"status en", statusText(scoring.StatusGreen, "en"), "On target"},
		{"no status", statusText(scoring.StatusNone, "en"), "—"},
		{"rank", rankText(ptr(3)), "3"},
		{"no rank", rankText(nil), "—"},
		{"tier en", tierText(scoring.Composite{Tier: "第二等次", TierEN: "Tier 2"}, "en"), "Tier 2"},
		{"no tier", tierText(scoring.Composite{}, "zh"), "—"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestTierStatus: the first tier green, the last red, those between
// amber, whatever the configured tiers are.
func TestTierStatus(t *testing.T) {
	tiers := []scoring.Tier{{Name: "优秀", Min: 95}, {Name: "良好", Min: 85}, {Name: "一般", Min: 70}, {Name: "较差", Min: 50}, {Name: "差", Min: 0}}
	for _, tc := range []struct {
		tier string
		want scoring.Status
	}{{"优秀", scoring.StatusGreen}, {"良好", scoring.StatusAmber}, {"较差", scoring.StatusAmber}, {"差", scoring.StatusRed}, {"", scoring.StatusNone}} {
		if got := tierStatus(tc.tier, tiers); got != tc.want {
			t.Errorf("tier %q: %v, want %v", tc.tier, got, tc.want)
		}
	}
}
