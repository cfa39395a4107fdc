package trend

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// steady makes the tickets of a quiet series on one day: n tickets from
// 08:00, one every gap.
func steady(reg, cat string, day time.Time, n int, gap time.Duration) []record.Ticket {
	var ts []record.Ticket
	for i := range n {
		ts = append(ts, ticket(fmt.Sprintf("%s-%s-%s-%d", reg, cat, day.Format("0102"), i), reg, cat, day.Add(8*time.Hour+time.Duration(i)*gap)))
	}
	return ts
}

// history fills days of quiet history before today: per working day
// work+(d%3)-1 tickets of each series, per rest day rest+(d%3)-1.
func history(c *Counts, cal *calendar.Calendar, today time.Time, days int, work, rest int, gap time.Duration, series ...[2]string) {
	for d := days; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		n := work
		if !cal.IsWorkday(cal.DayOf(day.UnixNano())) {
			n = rest
		}
		for _, s := range series {
			c.Add(steady(s[0], s[1], day, n+d%3-1, gap))
		}
	}
}

// burst makes n tickets a minute apart from at, one in four in a township.
func burst(reg, cat string, at time.Time, n int) []record.Ticket {
	var ts []record.Ticket
	for i := range n {
		r := reg
		if i%4 == 3 {
			r += "001"
		}
		ts = append(ts, ticket(fmt.Sprint("burst-", i), r, cat, at.Add(time.Duration(i)*time.Minute)))
	}
	return ts
}

func surgeKeys(ss []Surge) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Category+" "+s.Region)
	}
	return strings.Join(out, ", ")
}

// TestSurges puts a burst of 水电气暖 tickets in county 620802 on top of
// five quiet weeks and asks every method at 10:40.
func TestSurges(t *testing.T) {
	loc, _ := shanghai(t)
	today := time.Date(2026, 3, 18, 0, 0, 0, 0, loc) // a Wednesday
	now := today.Add(10*time.Hour + 40*time.Minute)
	c, _, cal := newTestCounts(t, now, 0)
	history(c, cal, today, 35, 6, 3, 70*time.Minute, [2]string{"620802", "水电气暖"}, [2]string{"620802", "交通运输"}, [2]string{"620102", "水电气暖"})
	c.Add(steady("620802", "水电气暖", today, 3, 70*time.Minute)) // 08:00, 09:10, 10:20
	c.Add(steady("620802", "交通运输", today, 3, 70*time.Minute))
	c.Add(burst("620802", "水电气暖", today.Add(10*time.Hour), 25))

	tests := []struct {
		name string
		cfg  Config
		want string // surging series, highest score first, "" for none
		win  Window // "" for any
	}{
		// The township got 6 of the burst and never a ticket before: with
		// min_sigma 1 EARS calls that a surge, the NB chart (expecting
		// about 1) not yet.
		{"C1", Config{Method: EARSC1}, "水电气暖 620800, 水电气暖 620802, 水电气暖 620000, 水电气暖 620802001", ""},
		{"C2", Config{Method: EARSC2}, "水电气暖 620800, 水电气暖 620802, 水电气暖 620000, 水电气暖 620802001", ""},
		// R's C3 judges the two days before, which were quiet.
		{"C3", Config{Method: EARSC3}, "", ""},
		{"NB CUSUM", Config{}, "水电气暖 620800, 水电气暖 620802, 水电气暖 620000", Hour},
		{"NB CUSUM, day only", Config{DayOnly: true}, "水电气暖 620800, 水电气暖 620802, 水电气暖 620000", Day},
		{"NB CUSUM, high threshold", Config{Threshold: 40}, "", ""},
		{"min count above the burst", Config{MinCount: 40}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Surges(now, tt.cfg)
			if k := surgeKeys(got); k != tt.want {
				t.Fatalf("surging: %q, want %q; %+v", k, tt.want, got)
			}
			for i, s := range got {
				if i > 0 && s.Score > got[i-1].Score {
					t.Errorf("not sorted by score: %+v", got)
				}
				if tt.win != "" && s.Window != tt.win || s.Method != tt.cfg.withDefaults().Method || s.Score <= tt.cfg.withDefaults().Threshold {
					t.Errorf("%+v: want window %s, method %s, a score above the threshold", s, tt.win, tt.cfg.withDefaults().Method)
				}
				if s.Count <= int(s.Upper) || s.Expected >= s.Upper {
					t.Errorf("%+v: count, expected and upper out of order", s)
				}
				// The burst began at 10:00 and was plain by 10:10 or 10:20.
				if s.Since.Before(today.Add(10*time.Hour)) || s.Since.After(today.Add(10*time.Hour+20*time.Minute)) {
					t.Errorf("%+v: since %v, want between 10:00 and 10:30", s, s.Since)
				}
				if s.Since.Location() != loc {
					t.Errorf("since in %v, want the location of now", s.Since.Location())
				}
			}
			if len(got) > 0 && tt.win == Hour {
				// The county's series: the 19 burst tickets in it (the
				// others went to its township count too), and 10:20's.
				for _, s := range got {
					if s.Region == "620802" && s.Count != 26 {
						t.Errorf("%+v: count %d in the last hour, want 26", s, s.Count)
					}
				}
			}
		})
	}
}

// TestSurgesSeasonality checks the NB CUSUM's day types on a make-up
// working day (Saturday 2026-02-28, 调休): a working day's volume is
// normal there, and the same volume on a real Sunday is a surge.
func TestSurgesSeasonality(t *testing.T) {
	loc, _ := shanghai(t)
	tests := []struct {
		name string
		day  time.Time
		want string
	}{
		{"make-up Saturday", time.Date(2026, 2, 28, 0, 0, 0, 0, loc), ""},
		{"Sunday", time.Date(2026, 3, 8, 0, 0, 0, 0, loc), "交通运输 620000, 交通运输 620800, 交通运输 620802"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.day.Add(20 * time.Hour)
			c, _, cal := newTestCounts(t, now, 0)
			history(c, cal, tt.day, 42, 36, 6, 20*time.Minute, [2]string{"620802", "交通运输"})
			c.Add(steady("620802", "交通运输", tt.day, 36, 20*time.Minute)) // 08:00 to 19:40
			if got := surgeKeys(c.Surges(now, Config{DayOnly: true})); got != tt.want {
				t.Errorf("surging: %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSurgesNeedHistory checks that a series is not judged without enough
// days of data for the method: a burst on the fourth day of data alarms
// nobody.
func TestSurgesNeedHistory(t *testing.T) {
	loc, _ := shanghai(t)
	today := time.Date(2026, 3, 18, 0, 0, 0, 0, loc)
	now := today.Add(12 * time.Hour)
	c, _, cal := newTestCounts(t, now, 0)
	history(c, cal, today, 3, 6, 3, 70*time.Minute, [2]string{"620802", "水电气暖"})
	c.Add(burst("620802", "水电气暖", today.Add(10*time.Hour), 40))
	for _, m := range Methods() {
		if got := c.Surges(now, Config{Method: m}); len(got) > 0 {
			t.Errorf("%s: %+v after 3 days of data", m, got)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Method: EARSC2, Threshold: 2.5, MinCount: 3, MinSigma: 0.5, BaselineWeeks: 7, Shift: 1.5, MinDispersion: 0.01}, ""},
		{Config{Method: "farrington"}, "method"},
		{Config{Threshold: -1}, "threshold"},
		{Config{MinCount: -1}, "min_count"},
		{Config{MinSigma: -1}, "min_sigma"},
		{Config{BaselineWeeks: 8}, "baseline_weeks"},
		{Config{Shift: 1}, "shift"},
		{Config{MinDispersion: -0.1}, "min_dispersion"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want an error naming %q", tt.cfg, err, tt.want)
		}
	}
}
