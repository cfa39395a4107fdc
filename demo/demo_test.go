package demo

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// dump pulls every kind and hashes the pages, to compare two demos.
func dump(t *testing.T, d *Demo) [record.NumKinds][32]byte {
	t.Helper()
	var out [record.NumKinds][32]byte
	h := d.Handler()
	for k, kind := range kindNames {
		raws, _ := pull(t, h, kind, "", MaxLimit)
		s := sha256.New()
		for _, r := range raws {
			s.Write(r)
		}
		copy(out[k][:], s.Sum(nil))
	}
	return out
}

func TestDeterministic(t *testing.T) {
	loc := testkit.Shanghai(t)
	at := time.Date(2026, 5, 6, 15, 30, 0, 0, loc)
	a, _ := newTestDemo(t, at, 36*time.Hour, nil)
	b, _ := newTestDemo(t, at, 36*time.Hour, nil)
	if dump(t, a) != dump(t, b) {
		t.Fatal("two demos with the same seed and clock serve different records")
	}
	c, _ := newTestDemo(t, at, 36*time.Hour, func(c *Config) { c.Seed = 8 })
	da, dc := dump(t, a), dump(t, c)
	for k := range da {
		if da[k] == dc[k] {
			t.Errorf("%s: seeds 7 and 8 serve the same records", kindNames[k])
		}
	}
}

// TestStepsDoNotMatter checks that history is a function of the seed and
// the simulated time only: one demo backfilled to T and one that started
// 5 hours earlier and walked to T in irregular steps serve the same
// records, byte for byte.
func TestStepsDoNotMatter(t *testing.T) {
	loc := testkit.Shanghai(t)
	at := time.Date(2026, 5, 6, 15, 30, 0, 0, loc)
	a, _ := newTestDemo(t, at, 36*time.Hour, nil)
	b, clk := newTestDemo(t, at.Add(-5*time.Hour), 31*time.Hour, nil)
	for _, step := range []time.Duration{time.Second, 59 * time.Second, 7 * time.Minute, time.Hour, 90 * time.Minute, 2*time.Hour + 13*time.Minute} {
		clk.Add(step)
		b.Advance()
	}
	clk.t = at
	b.Advance()
	if !a.Now().Equal(b.Now()) {
		t.Fatalf("now: %v and %v", a.Now(), b.Now())
	}
	if dump(t, a) != dump(t, b) {
		t.Fatal("a demo advanced in steps serves other records than one backfilled at once")
	}
}

// TestRecordsParse reads every served record with record.Parser: none is
// bad unless BadRate asks for some, and then about that share is.
func TestRecordsParse(t *testing.T) {
	loc := testkit.Shanghai(t)
	at := time.Date(2026, 4, 30, 12, 0, 0, 0, loc) // the eve of the May Day holiday
	tests := []struct {
		name    string
		badRate float64
		lo, hi  float64 // accepted share of bad rows
	}{
		{"clean", 0, 0, 0},
		{"one percent bad", 0.01, 0.004, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newTestDemo(t, at, 30*time.Hour, func(c *Config) { c.BadRate = tt.badRate })
			h := d.Handler()
			p := record.NewParser(loc)
			for k, kind := range kindNames {
				raws, _ := pull(t, h, kind, "", MaxLimit)
				fields := record.Kind(k).Fields()
				vals := make([]string, len(fields))
				bad := 0
				var example string
				for _, row := range rows(t, raws) {
					for i, f := range fields {
						v, ok := row[f]
						if !ok {
							t.Fatalf("%s: record without %s: %v", kind, f, row)
						}
						vals[i] = v
					}
					if _, ok := row["updated_at"]; !ok {
						t.Fatalf("%s: record without updated_at: %v", kind, row)
					}
					if err := parse(p, record.Kind(k), vals); err != nil {
						bad++
						example = err.Error()
					}
				}
				share := float64(bad) / float64(len(raws))
				t.Logf("%s: %d records, %d bad (%s)", kind, len(raws), bad, example)
				if k == int(record.KindItem) {
					if bad > 0 {
						t.Errorf("items: %d bad rows; the catalog is always clean", bad)
					}
					continue
				}
				if share < tt.lo || share > tt.hi {
					t.Errorf("%s: %.4f of %d records are bad, want within [%v, %v]; e.g. %s", kind, share, len(raws), tt.lo, tt.hi, example)
				}
			}
		})
	}
}

func parse(p *record.Parser, k record.Kind, v []string) error { return p.Check(k, v) }

// TestLifecycle follows records over simulated days: the same id comes
// again with a newer updated_at as it progresses, never goes back, and
// evaluations rate closed cases.
func TestLifecycle(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, clk := newTestDemo(t, time.Date(2026, 3, 10, 9, 0, 0, 0, loc), 24*time.Hour, nil)
	h := d.Handler()
	seen := map[string]Row{} // case id → newest version
	cursor := ""
	order := map[string]int{"submitted": 0, "accepted": 1, "rejected": 2, "withdrawn": 2, "closed": 2}
	progressed := map[string]int{}
	for step := 0; step < 4; step++ {
		if step > 0 {
			clk.Add(18 * time.Hour)
			d.Advance()
		}
		raws, c := pull(t, h, "cases", cursor, MaxLimit)
		cursor = c
		for _, r := range rows(t, raws) {
			id := r["case_id"]
			if old, ok := seen[id]; ok {
				if r["updated_at"] <= old["updated_at"] {
					t.Fatalf("case %s came again without a newer updated_at: %v then %v", id, old, r)
				}
				if order[r["status"]] < order[old["status"]] {
					t.Fatalf("case %s went back from %s to %s", id, old["status"], r["status"])
				}
				progressed[old["status"]+"→"+r["status"]]++
			}
			seen[id] = r
		}
	}
	t.Logf("transitions seen: %v", progressed)
	for _, tr := range []string{"submitted→accepted", "accepted→closed", "submitted→closed"} {
		if progressed[tr] == 0 {
			t.Errorf("no case went %s", tr)
		}
	}
	raws, _ := pull(t, h, "evaluations", "", MaxLimit)
	for _, e := range rows(t, raws) {
		c, ok := seen[e["case_id"]]
		if !ok {
			continue // a case from before the window's first poll
		}
		if c["status"] != "closed" || e["evaluated_at"] <= c["closed_at"] {
			t.Fatalf("evaluation %v of case %v: want a rating after the close", e, c)
		}
	}
}

// TestWindowBounded backfills the default 35 days, measures the time it
// takes, then runs on for days: the window slides and memory stays flat.
func TestWindowBounded(t *testing.T) {
	loc := testkit.Shanghai(t)
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, loc)
	d, clk := newTestDemo(t, start, 0, nil)
	st := d.Stats()
	t.Logf("backfill of %v: %v; records %v", DefaultRetain, st.Backfill, st.Records)
	// "A few seconds at most": about 1 s on an idle core; the bound leaves
	// room for a loaded machine and the race detector.
	if st.Backfill > 30*time.Second {
		t.Errorf("backfill took %v", st.Backfill)
	}
	clk.Add(6 * 24 * time.Hour)
	d.Advance()
	after := d.Stats()
	for k := range st.Records {
		if k == int(record.KindItem) {
			continue
		}
		if r := float64(after.Records[k]) / float64(st.Records[k]); r > 1.15 || r < 0.85 {
			t.Errorf("%s: %d records, %d six days later; the window should hold about as many", kindNames[k], st.Records[k], after.Records[k])
		}
	}
	page := get(t, d.Handler(), "calls", url.Values{"limit": {"1"}})
	var first Row
	if err := json.Unmarshal(page.Records[0], &first); err != nil {
		t.Fatal(err)
	}
	oldest, err := time.Parse(time.RFC3339, first["offered_at"])
	if err != nil {
		t.Fatal(err)
	}
	if age := after.Now.Sub(oldest); age > DefaultRetain+time.Minute {
		t.Errorf("oldest call is %v old, beyond the %v window", age, DefaultRetain)
	}
}

// TestDailyRhythm checks the shape of a week of tickets: peaks in office
// hours, quiet nights, fewer on rest days.
func TestDailyRhythm(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 9, 0, 0, 0, 0, loc), 7*24*time.Hour, nil)
	raws, _ := pull(t, d.Handler(), "tickets", "", MaxLimit)
	var byHour [24]int
	workdays, restdays := map[string]int{}, map[string]int{}
	for _, r := range rows(t, raws) {
		at, err := time.Parse(time.RFC3339, r["received_at"])
		if err != nil {
			t.Fatal(err)
		}
		at = at.In(loc)
		day := at.Format("2006-01-02")
		if d.m.isWorkday(d.m.dayOf(at.Unix())) {
			workdays[day]++
			byHour[at.Hour()]++
		} else {
			restdays[day]++
		}
	}
	peak := byHour[9] + byHour[10] + byHour[14] + byHour[15] + byHour[16]
	night := byHour[1] + byHour[2] + byHour[3] + byHour[4] + byHour[5]
	t.Logf("tickets by hour on workdays: %v", byHour)
	if peak < 10*night {
		t.Errorf("peak hours have %d tickets, night hours %d: want a clear daily rhythm", peak, night)
	}
	avg := func(m map[string]int) float64 {
		s := 0
		for _, n := range m {
			s += n
		}
		return float64(s) / float64(len(m))
	}
	if len(workdays) != 5 || len(restdays) != 2 {
		t.Fatalf("days: %v workdays, %v rest days", workdays, restdays)
	}
	if w, r := avg(workdays), avg(restdays); r > 0.9*w {
		t.Errorf("rest days average %.0f tickets, workdays %.0f: want fewer on rest days", r, w)
	}
}

// TestSurge finds the surges of a week and checks that the surging
// category really floods its county in the surge's window.
func TestSurge(t *testing.T) {
	loc := testkit.Shanghai(t)
	end := time.Date(2026, 3, 9, 0, 0, 0, 0, loc)
	d, _ := newTestDemo(t, end, 7*24*time.Hour, nil)
	surges := d.Surges(end.AddDate(0, 0, -7), end)
	if len(surges) == 0 {
		t.Fatal("no surge in a week")
	}
	raws, _ := pull(t, d.Handler(), "tickets", "", MaxLimit)
	all := rows(t, raws)
	for _, s := range surges {
		in, base := 0, 0
		for _, r := range all {
			if !strings.HasPrefix(r["region_code"], s.Region) || r["category"] != s.Category {
				continue
			}
			at, _ := time.Parse(time.RFC3339, r["received_at"])
			if !at.Before(s.Start) && at.Before(s.End) {
				in++
			} else {
				base++
			}
		}
		perDay := float64(base) / 7
		t.Logf("surge %+v: %d tickets in the surge, %.1f a day otherwise", s, in, perDay)
		if float64(in) < 3*perDay || in < 20 {
			t.Errorf("surge in %s (%s): %d tickets, want several times the usual %.1f a day", s.Region, s.Category, in, perDay)
		}
	}
}

// TestRun drives Run with a fast step and a fake clock: simulated time
// follows the clock, and Run returns when its context ends.
func TestRun(t *testing.T) {
	loc := testkit.Shanghai(t)
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, loc)
	d, clk := newTestDemo(t, start, time.Hour, func(c *Config) { c.Step = time.Millisecond; c.Speed = 60 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	clk.Add(time.Minute) // an hour of simulated time at speed 60
	want := start.Add(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for !d.Now().Equal(want) {
		if time.Now().After(deadline) {
			t.Fatalf("Now = %v, want %v", d.Now(), want)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"not a province", func(c *Config) { c.Province = "620800" }, "want a province code"},
		{"bad code", func(c *Config) { c.Province = "62" }, "want a province code"},
		{"unknown lagging county", func(c *Config) { c.Lagging = []string{"110101"} }, "is not a county of 620000"},
		{"negative speed", func(c *Config) { c.Speed = -1 }, "negative"},
		{"bad rate", func(c *Config) { c.BadRate = 2 }, "bad rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Clock: time.Now, History: time.Hour, Calendar: testCal()}
			tt.mod(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestOtherProvince plays Sichuan from the table alone: cities weigh by
// their townships and three lagging counties are drawn from the seed.
func TestOtherProvince(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 12, 0, 0, 0, loc), 6*time.Hour, func(c *Config) { c.Province = "510000" })
	if got := d.Lagging(); len(got) != 3 || !strings.HasPrefix(got[0], "51") {
		t.Fatalf("lagging counties %v", got)
	}
	raws, _ := pull(t, d.Handler(), "tickets", "", MaxLimit)
	for _, r := range rows(t, raws) {
		if !strings.HasPrefix(r["region_code"], "51") {
			t.Fatalf("ticket outside the province: %v", r)
		}
	}
}
