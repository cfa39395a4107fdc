package dispatch

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/region"
)

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"整改完成":             "整改完成",
		"=1+1":             "'=1+1",
		"+86 138":          "'+86 138",
		"-5":               "'-5",
		"@SUM(A1)":         "'@SUM(A1)",
		"\t=1":             "'\t=1",
		"\r=1":             "'\r=1",
		"  =1":             "'  =1",
		"\u3000=1":         "'\u3000=1",
		"＝1+1":             "'＝1+1",
		"a=1":              "a=1",
		"620802":           "620802",
		"2026-10-10 00:00": "2026-10-10 00:00",
		"   ":              "   ",
	} {
		if got := Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDefuse: a defused cell never starts, after spaces, with a formula
// character, and only ever gains a leading quote.
func FuzzDefuse(f *testing.F) {
	for _, s := range []string{"=1", " +1", "\t", "正常", "＠x", "'=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Defuse(s)
		if got != s && got != "'"+s {
			t.Fatalf("Defuse(%q) = %q", s, got)
		}
		if got == s {
			rest := strings.TrimLeft(s, " \u3000\u00a0")
			if r, _ := utf8.DecodeRuneInString(rest); rest != "" && strings.ContainsRune("=+-@＝＋－＠\t\r\n", r) {
				t.Fatalf("Defuse(%q) left a formula", s)
			}
		}
	})
}

// FuzzValidate: Validate never panics, and what it accepts it accepts
// again unchanged, with no control characters in one-line fields.
func FuzzValidate(f *testing.F) {
	s := sample()
	f.Add(string(s.Unit.Region), s.Unit.Dept, s.Title, s.Reason, string(s.Source.Kind), s.Source.Ref, s.Evidence.Indicator, s.Evidence.Period, 3, 0.82)
	f.Add("620802001", "区医保局", " =cmd ", "a\nb", "report", "r-1", "", "", 0, -1.0)
	f.Add("6208", "\x00", "\u2028", "\xff", "x", "a b", "=1", "fortnight", -1, 1e300)
	f.Fuzz(func(t *testing.T, reg, dept, title, reason, kind, ref, ind, period string, days int, v float64) {
		n := NewOrder{Unit: Unit{Region: region.Code(reg), Dept: dept}, Title: title, Reason: reason,
			Source: Source{Kind: SourceKind(kind), Ref: ref}, Evidence: Evidence{Indicator: ind, Period: period, Value: &v}, Days: days}
		got, err := n.Validate()
		if err != nil {
			return
		}
		again, err := got.Validate()
		if err != nil || again.Title != got.Title || again.Reason != got.Reason || again.Unit != got.Unit || again.Source != got.Source {
			t.Fatalf("not stable: %+v → %+v, %v", got, again, err)
		}
		for _, s := range []string{got.Title, got.Unit.Dept} {
			if strings.ContainsAny(s, "\n\r\t\x00") || !utf8.ValidString(s) {
				t.Fatalf("one-line field %q", s)
			}
		}
		if got.Days < 0 || got.Days > MaxDays || got.Title == "" || got.Reason == "" {
			t.Fatalf("accepted %+v", got)
		}
	})
}

// FuzzCursor: any After is refused or read back to what it encodes.
func FuzzCursor(f *testing.F) {
	f.Add("0.k2x1.DB20261009-7K3QF9")
	f.Add("2.-1.A")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if c.encode() != s {
			t.Fatalf("parse(%q) = %+v encodes %q", s, c, c.encode())
		}
	})
}
