package calendar

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestDateAgainstTimePackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(y int, m time.Month, day int) {
		t.Helper()
		tm := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
		want := Date(floorDiv(tm.Unix(), secondsPerDay))
		got := DateOf(y, m, day)
		if got != want {
			t.Fatalf("DateOf(%d, %d, %d) = %d, want %d", y, m, day, got, want)
		}
		gy, gm, gd := got.Civil()
		wy, wm, wd := tm.Date()
		if gy != wy || gm != wm || gd != wd {
			t.Fatalf("%d.Civil() = %d-%d-%d, want %d-%d-%d", got, gy, gm, gd, wy, wm, wd)
		}
		if got.Weekday() != tm.Weekday() {
			t.Fatalf("%d.Weekday() = %v, want %v", got, got.Weekday(), tm.Weekday())
		}
		if wy >= 0 && wy <= 9999 {
			if s := got.String(); s != tm.Format(time.DateOnly) {
				t.Fatalf("String() = %q, want %q", s, tm.Format(time.DateOnly))
			}
		}
	}
	for range 20000 {
		// Normalization too: months and days out of range, as time.Date does.
		check(rng.IntN(1200)+1400, time.Month(rng.IntN(30)-8), rng.IntN(80)-20)
	}
	for _, y := range []int{-401, -400, -1, 0, 1, 1600, 1900, 1969, 1970, 2000, 2100, 2400} {
		for m := time.January; m <= time.December; m++ {
			check(y, m, 1)
			check(y, m, 28)
		}
	}
	if DateOf(1970, 1, 1) != 0 || DateOf(1969, 12, 31) != -1 {
		t.Error("epoch wrong")
	}
	if got := DateOf(2026, 2, 29).String(); got != "2026-03-01" {
		t.Errorf("DateOf(2026, 2, 29) = %s", got)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "2026-10-01", want: "2026-10-01"},
		{in: "2024-02-29", want: "2024-02-29"},
		{in: "2000-02-29", want: "2000-02-29"},
		{in: "0001-01-01", want: "0001-01-01"},
		{in: "1900-02-29", err: "no such day"},
		{in: "2026-02-29", err: `date "2026-02-29": no such day`},
		{in: "2026-13-01", err: "no such day"},
		{in: "2026-00-10", err: "no such day"},
		{in: "2026-04-31", err: "no such day"},
		{in: "2026-10-1", err: "want YYYY-MM-DD"},
		{in: "2026/10/01", err: "want YYYY-MM-DD"},
		{in: "20261001", err: "want YYYY-MM-DD"},
		{in: "2026-1a-01", err: "want YYYY-MM-DD"},
		{in: "+026-10-01", err: "want YYYY-MM-DD"},
		{in: "2026-10-01T00:00:00Z", err: "want YYYY-MM-DD"},
		{in: "", err: "want YYYY-MM-DD"},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDate(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
}

func TestDateStringOutsideFourDigits(t *testing.T) {
	if got := DateOf(10000, 1, 2).String(); got != "10000-01-02" {
		t.Errorf("got %q", got)
	}
	if got := DateOf(-1, 3, 4).String(); got != "-001-03-04" {
		t.Errorf("got %q", got)
	}
}
