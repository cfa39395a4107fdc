package jsonw

import (
	"encoding/json"
	"testing"
)

func TestAppendStringQuotesAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "620800", "on_time_rate", `a"b`, `a\b`, "</script>", "a&b", "崆峒区", "\x00\n\t", "\xff", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("620800")
	f.Add("</script>崆峒")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}
