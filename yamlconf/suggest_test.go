package yamlconf

import "testing"

func TestClosest(t *testing.T) {
	ids := []string{"answer_rate", "answer_15s_rate", "on_time_rate", "direct_rate", "map", "bar"}
	for _, tc := range []struct{ in, want string }{
		{"answer_rat", "answer_rate"},
		{"answr_rate", "answer_rate"},
		{"ontime_rate", "on_time_rate"},
		{"answer_rate", ""},  // exact: nothing to suggest
		{"mop", "map"},       // short: one edit
		{"mup_x", ""},        // short name, too far
		{"satisfaction", ""}, // nothing near
		{"", ""},             //
		{"direkt_rat", "direct_rate"},
		{"baa", "bar"},
	} {
		if got := Closest(tc.in, ids); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Ties: the alphabetically first, whatever the order.
	if a, b := Closest("cat", []string{"car", "bat"}), Closest("cat", []string{"bat", "car"}); a != "bat" || b != "bat" {
		t.Errorf("tie = %q / %q, want bat", a, b)
	}
}

func FuzzClosest(f *testing.F) {
	f.Add("answer_rat", "answer_rate")
	f.Fuzz(func(t *testing.T, s, c string) {
		got := Closest(s, []string{c})
		if got != "" && got != c {
			t.Fatalf("Closest(%q, [%q]) = %q", s, c, got)
		}
		if got != "" && s == c {
			t.Fatal("suggested an exact match")
		}
	})
}
