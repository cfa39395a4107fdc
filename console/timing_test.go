package console

import (
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
)

func TestComparisonInstants(t *testing.T) {
	loc := shanghai(t)
	at := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	tests := []struct {
		now      string
		p        engine.Period
		mom, yoy string
	}{
		{"2026-11-23 15:05:00", engine.Month, "2026-10-23 15:05:00", "2025-11-23 15:05:00"},
		{"2026-03-31 10:00:00", engine.Month, "2026-02-28 10:00:00", "2025-03-31 10:00:00"},
		{"2028-03-31 10:00:00", engine.Month, "2028-02-29 10:00:00", "2027-03-31 10:00:00"},
		{"2028-02-29 08:00:00", engine.Year, "2027-02-28 08:00:00", "2027-02-28 08:00:00"},
		{"2026-01-15 09:00:00", engine.Month, "2025-12-15 09:00:00", "2025-01-15 09:00:00"},
		{"2026-05-31 09:00:00", engine.Quarter, "2026-02-28 09:00:00", "2025-05-31 09:00:00"},
		{"2026-11-23 15:05:00", engine.Day, "2026-11-22 15:05:00", "2025-11-23 15:05:00"},
		// Monday 23 Nov 2026 → Monday 16 Nov; 52 weeks back is Monday 24 Nov 2025.
		{"2026-11-23 15:05:00", engine.Week, "2026-11-16 15:05:00", "2025-11-24 15:05:00"},
	}
	for _, tc := range tests {
		now := at(tc.now)
		if got := previousPeriod(now, tc.p, loc); !got.Equal(at(tc.mom)) {
			t.Errorf("previousPeriod(%s, %s) = %s, want %s", tc.now, tc.p, got, tc.mom)
		}
		if got := lastYear(now, tc.p, loc); !got.Equal(at(tc.yoy)) {
			t.Errorf("lastYear(%s, %s) = %s, want %s", tc.now, tc.p, got, tc.yoy)
		}
		// The comparison instant lies in the previous period (or last
		// year's), at the same offset or clamped to its end.
		if got := periodStart(previousPeriod(now, tc.p, loc), tc.p, loc); !got.Before(periodStart(now, tc.p, loc)) {
			t.Errorf("%s %s: previous instant not in an earlier period", tc.now, tc.p)
		}
	}
	if wd := lastYear(at("2026-11-23 15:05:00"), engine.Week, loc).Weekday(); wd != time.Monday {
		t.Errorf("weekly 同比 on %s, want Monday", wd)
	}
}

func TestPeriodStart(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 11, 22, 23, 30, 0, 0, loc) // a Sunday
	for p, want := range map[engine.Period]time.Time{
		engine.Day:     time.Date(2026, 11, 22, 0, 0, 0, 0, loc),
		engine.Week:    time.Date(2026, 11, 16, 0, 0, 0, 0, loc),
		engine.Month:   time.Date(2026, 11, 1, 0, 0, 0, 0, loc),
		engine.Quarter: time.Date(2026, 10, 1, 0, 0, 0, 0, loc),
		engine.Year:    time.Date(2026, 1, 1, 0, 0, 0, 0, loc),
	} {
		if got := periodStart(now, p, loc); !got.Equal(want) {
			t.Errorf("periodStart(%s) = %s, want %s", p, got, want)
		}
	}
	// UTC input: the period is the one in the business zone.
	if got := periodStart(time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC), engine.Month, loc); !got.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("UTC 17:00 on 31 Oct is November in Shanghai, got %s", got)
	}
}

func TestParseAsOf(t *testing.T) {
	loc := shanghai(t)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-10-09", time.Date(2026, 10, 10, 0, 0, 0, 0, loc).Add(-time.Nanosecond), true},
		{"2026-10-09T12:00:00+08:00", time.Date(2026, 10, 9, 12, 0, 0, 0, loc), true},
		{"2026-10-09T04:00:00Z", time.Date(2026, 10, 9, 12, 0, 0, 0, loc), true},
		{"2026-10-09 12:00:00", time.Date(2026, 10, 9, 12, 0, 0, 0, loc), true},
		{"2026-10-09T12:00:00", time.Time{}, false},
		{"2026/10/09", time.Time{}, false},
		{"2026-13-01", time.Time{}, false},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := parseAsOf(tc.in, loc)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("parseAsOf(%q) = %s, %v; want %s ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseAsOf: never panics; an accepted time is in the business zone
// and survives a round trip through its RFC 3339 form.
func FuzzParseAsOf(f *testing.F) {
	for _, s := range []string{"2026-10-09", "2026-10-09T12:00:00+08:00", "2026-10-09 12:00:00", "2026-02-30", "9999-12-31T23:59:59.999999999Z", "0000-01-01", "2026-10-09T12:00:00+25:00", "x"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseAsOf(s, loc)
		if err != nil {
			return
		}
		if got.Location() != loc {
			t.Fatalf("%q: location %v", s, got.Location())
		}
		back, err := parseAsOf(got.Format(time.RFC3339Nano), loc)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q: round trip %s → %s, %v", s, got, back, err)
		}
		for _, p := range engine.AllPeriods {
			if prev := previousPeriod(got, p, loc); !prev.Before(got) {
				t.Fatalf("%q %s: previous period instant %s not before %s", s, p, prev, got)
			}
			if ly := lastYear(got, p, loc); !ly.Before(got) {
				t.Fatalf("%q %s: last year %s not before %s", s, p, ly, got)
			}
		}
	})
}
