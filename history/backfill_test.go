package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/memory"
)

// fakeClock never sleeps: After fires at once and moves the clock by d.
// It records every wait; onAfter may cancel the run (it then returns a
// channel that never fires, so the run sees only ctx's end).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waits   []time.Duration
	onAfter func(d time.Duration) bool // true: stop here
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	if c.onAfter != nil && c.onAfter(d) {
		return nil
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

const testPause = time.Millisecond

var backfillLoc = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// backfillNow is a Friday noon; the records cover the 10 days before it
// (and today), starting on Tuesday 29 September, so the days cross a week
// and a month boundary.
var backfillNow = time.Date(2026, 10, 9, 12, 0, 0, 0, backfillLoc)

// dayStart returns the start of the i-th day before backfillNow.
func dayStart(i int) time.Time {
	y, m, d := backfillNow.Date()
	return time.Date(y, m, d-i, 0, 0, 0, 0, backfillLoc)
}

// backfillEngine holds, for each of the 10 days before now and today:
// i+3 calls in 620802 and 2 in 620100 (call_volume at 620000 is i+5 on
// day -i), two accepted cases in 620802, one closed on time the next day
// and one left open (overdue after its one working day), and one catalog
// item.
func backfillEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(backfillLoc), Now: backfillNow.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	var calls []record.Call
	var cases []record.Case
	for i := 0; i <= 10; i++ {
		at := dayStart(i).Add(10 * time.Hour)
		if i == 0 {
			at = backfillNow.Add(-time.Hour)
		}
		for j := 0; j < i+3; j++ {
			calls = append(calls, record.Call{ID: fmt.Sprintf("k%d-%d", i, j), Region: "620802", Offered: at.Add(time.Duration(j) * time.Minute).UnixNano(),
				Answered: j%3 != 0, WaitSeconds: int32(5 * j)})
		}
		for j := 0; j < 2; j++ {
			calls = append(calls, record.Call{ID: fmt.Sprintf("l%d-%d", i, j), Region: "620100", Offered: at.UnixNano(), Answered: true, WaitSeconds: 3})
		}
		closed := at.Add(26 * time.Hour).UnixNano()
		if closed > backfillNow.UnixNano() {
			closed = record.Never
		}
		status := record.StatusClosed
		if closed == record.Never {
			status = record.StatusAccepted
		}
		cases = append(cases,
			record.Case{ID: fmt.Sprintf("c%d", i), Region: "620802", Dept: "D1", Channel: record.ChannelOnline, Status: status,
				Submitted: at.UnixNano(), Accepted: at.UnixNano(), Closed: closed, PromisedDays: 1},
			record.Case{ID: fmt.Sprintf("o%d", i), Region: "620802", Dept: "D1", Channel: record.ChannelWindow, Status: record.StatusAccepted,
				Submitted: at.UnixNano(), Accepted: at.UnixNano(), Closed: record.Never, PromisedDays: 1})
	}
	eng.UpsertCalls(calls)
	eng.UpsertCases(cases)
	eng.UpsertItems([]record.Item{{Code: "I1", Region: "620100", Dept: "D1", Visits: 0, LegalDays: 10, PromisedDays: 4, OnlineAvailable: true}})
	return eng
}

// openBackfillStore returns an empty store: the backfiller's part is what
// it writes, not how a store keeps it, so an in-memory one will do.
func openBackfillStore(t *testing.T) *memory.Store {
	t.Helper()
	st := memory.New(backfillLoc)
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestBackfiller(eng ReplayEngine, st BackfillStore, clock *fakeClock) *Backfiller {
	return NewBackfiller(BackfillConfig{Days: 12, MinPause: testPause, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, eng, st, backfillLoc)
}

func findResult(rs []engine.Result, ind, region string) (engine.Result, bool) {
	for _, r := range rs {
		if r.Indicator == ind && r.Region == region && r.Dept == "" {
			return r, true
		}
	}
	return engine.Result{}, false
}

// seriesOfDay returns every point of key within day -i.
func seriesOfDay(t *testing.T, st BackfillStore, key store.SeriesKey, i int) []store.Point {
	t.Helper()
	pts, err := st.Series(context.Background(), key, dayStart(i), endOfDay(dayStart(i)), store.RollupNone)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

func TestBackfillWritesDayEndValues(t *testing.T) {
	eng := backfillEngine(t)
	st := openBackfillStore(t)
	b := newTestBackfiller(eng, st, &fakeClock{now: backfillNow})
	n, err := b.Backfill(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("backfill wrote nothing")
	}

	series := []struct {
		ind, region string
		p           engine.Period
		rate        bool
	}{
		{"call_volume", "620000", engine.Day, false},
		{"answer_15s_rate", "620800", engine.Day, true},
		{"answer_rate", "620100", engine.Week, true},
		{"case_volume", "620802", engine.Month, false},
		{"on_time_rate", "620000", engine.Month, true},
		{"overdue_open", "620800", engine.Quarter, false},
		{"call_volume", "620000", engine.Year, false},
	}
	for _, s := range series {
		for i := 1; i <= 10; i++ {
			key := store.SeriesKey{Indicator: s.ind, Region: s.region, Period: s.p.String()}
			at := endOfDay(dayStart(i))
			want, ok := findResult(eng.Evaluate(at.UnixNano(), s.p, false), s.ind, s.region)
			if !ok {
				t.Fatalf("engine has no %s at %s", key, at)
			}
			pts := seriesOfDay(t, st, key, i)
			if len(pts) != 1 {
				t.Errorf("%s on day -%d: %d points, want 1", key, i, len(pts))
				continue
			}
			p := pts[0]
			if !p.Time.Equal(at) || p.Numerator != float64(want.Numerator) || p.HasDenominator != s.rate ||
				(s.rate && p.Denominator != want.Denominator) {
				t.Errorf("%s on day -%d = %v %v/%d (den %v), want %v %d/%d", key, i, p.Time, p.Numerator, p.Denominator, p.HasDenominator,
					at, want.Numerator, want.Denominator)
			}
		}
	}
	// The values are not all trivial: the rate has a denominator and the
	// month series grows within the month.
	if p := seriesOfDay(t, st, store.SeriesKey{Indicator: "on_time_rate", Region: "620000", Period: "month"}, 2); len(p) != 1 || p[0].Denominator == 0 {
		t.Errorf("on_time_rate month on day -2 = %+v, want a denominator", p)
	}
	first := seriesOfDay(t, st, store.SeriesKey{Indicator: "case_volume", Region: "620802", Period: "month"}, 8)
	last := seriesOfDay(t, st, store.SeriesKey{Indicator: "case_volume", Region: "620802", Period: "month"}, 1)
	if len(first) != 1 || len(last) != 1 || first[0].Numerator != 2 || last[0].Numerator != 16 {
		t.Errorf("case_volume month on 1 Oct = %+v, on 8 Oct = %+v, want 2 and 16", first, last)
	}
	// Departments are not backfilled; the catalog once per instant.
	if p := seriesOfDay(t, st, store.SeriesKey{Indicator: "case_volume", Region: "620802", Dept: "D1", Period: "day"}, 1); len(p) != 0 {
		t.Errorf("department series backfilled: %+v", p)
	}
	if p := seriesOfDay(t, st, store.SeriesKey{Indicator: "time_compression_ratio", Region: "620000", Period: ""}, 4); len(p) != 1 || p[0].Numerator != 6 || p[0].Denominator != 10 {
		t.Errorf("catalog on day -4 = %+v, want one point 6/10", p)
	}
	// Days before the first record get no point rather than a false 0.
	for _, i := range []int{11, 12} {
		if p := seriesOfDay(t, st, store.SeriesKey{Indicator: "call_volume", Region: "620000", Period: "year"}, i); len(p) != 0 {
			t.Errorf("day -%d, before the records, got %+v", i, p)
		}
	}
	// Today is the live recorder's.
	if p := seriesOfDay(t, st, store.SeriesKey{Indicator: "call_volume", Region: "620000", Period: "day"}, 0); len(p) != 0 {
		t.Errorf("today backfilled: %+v", p)
	}

	// What a wall screen's 30-day trend reads: one point per past day.
	trend, err := st.Series(context.Background(), store.SeriesKey{Indicator: "call_volume", Region: "620000", Period: "day"},
		backfillNow.AddDate(0, 0, -30), backfillNow, store.RollupDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(trend) != 10 {
		t.Fatalf("trend has %d points, want 10", len(trend))
	}
	for k, p := range trend {
		i := 10 - k
		if !p.Time.Equal(endOfDay(dayStart(i))) || p.Numerator != float64(i+5) {
			t.Errorf("trend point %d = %v %v, want %v %d", k, p.Time, p.Numerator, endOfDay(dayStart(i)), i+5)
		}
	}

	// A second pass finds every day in place.
	if n, err := b.Backfill(context.Background()); err != nil || n != 0 {
		t.Errorf("second backfill wrote %d points (%v), want 0", n, err)
	}
}

// countingEngine counts replays and can cancel a context at the k-th.
type countingEngine struct {
	*engine.Engine
	mu       sync.Mutex
	calls    int
	cancelAt int
	cancel   context.CancelFunc
}

func (e *countingEngine) Evaluate(at int64, p engine.Period, byDept bool) []engine.Result {
	e.mu.Lock()
	e.calls++
	if e.calls == e.cancelAt {
		e.cancel()
	}
	e.mu.Unlock()
	return e.Engine.Evaluate(at, p, byDept)
}

func TestBackfillSkipsDaysTheStoreHas(t *testing.T) {
	// The probe is call_volume@620000, the busiest count at the top.
	probe := func(p string) store.SeriesKey {
		return store.SeriesKey{Indicator: "call_volume", Region: "620000", Period: p}
	}
	tests := []struct {
		name    string
		present map[int][]string // day -i → periods with a live point
	}{
		{"nothing recorded", nil},
		{"one day recorded live", map[int][]string{3: {"day", "week", "month", "quarter", "year"}}},
		{"a day half done", map[int][]string{5: {"day", "week"}, 6: {"year"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := &countingEngine{Engine: backfillEngine(t)}
			st := openBackfillStore(t)
			var live []store.Point
			for i, ps := range tc.present {
				for _, p := range ps {
					live = append(live, store.Count(probe(p), dayStart(i).Add(15*time.Hour), 999))
				}
			}
			if err := st.Write(context.Background(), live); err != nil {
				t.Fatal(err)
			}
			if _, err := newTestBackfiller(eng, st, &fakeClock{now: backfillNow}).Backfill(context.Background()); err != nil {
				t.Fatal(err)
			}
			skipped := 0
			for i := 1; i <= 10; i++ {
				for _, p := range []string{"day", "week", "month", "quarter", "year"} {
					pts := seriesOfDay(t, st, probe(p), i)
					if slices.Contains(tc.present[i], p) {
						skipped++
						if len(pts) != 1 || pts[0].Numerator != 999 {
							t.Errorf("day -%d %s: recorded point touched: %+v", i, p, pts)
						}
						// The other series of that (day, period) are left alone too.
						if o := seriesOfDay(t, st, store.SeriesKey{Indicator: "answer_rate", Region: "620802", Period: p}, i); len(o) != 0 {
							t.Errorf("day -%d %s: answer_rate written on a recorded day: %+v", i, p, o)
						}
						continue
					}
					if len(pts) != 1 || !pts[0].Time.Equal(endOfDay(dayStart(i))) {
						t.Errorf("day -%d %s: %+v, want one day-end point", i, p, pts)
					}
				}
			}
			// One survey, plus one replay per missing (day, period), the
			// survey standing in for (yesterday, year); days -11 and -12
			// are replayed and found empty.
			if want := 1 + 12*5 - 1 - skipped; eng.calls != want {
				t.Errorf("%d replays, want %d", eng.calls, want)
			}
		})
	}
}

func TestBackfillWithoutRecords(t *testing.T) {
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(backfillLoc), Now: backfillNow.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	// Records of today only: nothing before today to fill.
	eng.UpsertCalls([]record.Call{{ID: "k", Region: "620802", Offered: backfillNow.Add(-time.Hour).UnixNano(), Answered: true}})
	ce := &countingEngine{Engine: eng}
	n, err := newTestBackfiller(ce, openBackfillStore(t), &fakeClock{now: backfillNow}).Backfill(context.Background())
	if err != nil || n != 0 {
		t.Errorf("backfill = %d, %v; want 0, nil", n, err)
	}
	if ce.calls != 1 {
		t.Errorf("%d replays, want only the survey", ce.calls)
	}
}

func TestBackfillStopsOnCancelAndResumes(t *testing.T) {
	full := openBackfillStore(t)
	total, err := newTestBackfiller(backfillEngine(t), full, &fakeClock{now: backfillNow}).Backfill(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := &countingEngine{Engine: backfillEngine(t), cancelAt: 7, cancel: cancel}
	st := openBackfillStore(t)
	b := newTestBackfiller(eng, st, &fakeClock{now: backfillNow})
	n, err := b.Backfill(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backfill returned %v", err)
	}
	if eng.calls != 7 {
		t.Errorf("%d replays after cancel at the 7th", eng.calls)
	}
	if n == 0 || n >= total {
		t.Errorf("cancelled backfill wrote %d of %d points", n, total)
	}
	rest, err := b.Backfill(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The catalog points of the interrupted day are written again at the
	// same instant (replacements, not new points).
	catalog := 0
	for _, r := range eng.Evaluate(backfillNow.UnixNano(), engine.Day, false) {
		if def, ok := indicator.Lookup(r.Indicator); ok && !def.Periodic {
			catalog++
		}
	}
	if catalog == 0 || n+rest != total+catalog {
		t.Errorf("interrupted %d + resumed %d points, a full pass writes %d (+%d catalog points again)", n, rest, total, catalog)
	}
	for i := 1; i <= 10; i++ {
		for _, p := range []string{"day", "week", "month", "quarter", "year"} {
			key := store.SeriesKey{Indicator: "answer_rate", Region: "620800", Period: p}
			got, want := seriesOfDay(t, st, key, i), seriesOfDay(t, full, key, i)
			if len(got) != 1 || len(want) != 1 || !got[0].SameValue(want[0]) || !got[0].Time.Equal(want[0].Time) {
				t.Errorf("%s day -%d: resumed %+v, full %+v", key, i, got, want)
			}
		}
	}
}

// countingStore counts the points written through it.
type countingStore struct {
	BackfillStore
	mu     sync.Mutex
	points int
}

func (s *countingStore) Write(ctx context.Context, pts []store.Point) error {
	s.mu.Lock()
	s.points += len(pts)
	s.mu.Unlock()
	return s.BackfillStore.Write(ctx, pts)
}

func TestRunWaitsForDelayAndReadinessThenRepeats(t *testing.T) {
	const h6 = 6 * time.Hour
	m := time.Minute
	tests := []struct {
		name      string
		ready     []bool // answers of Ready in turn; the last repeats
		wantWaits []time.Duration
	}{
		{"ready at once", []bool{true}, []time.Duration{2 * m, h6, h6}},
		{"ready after two polls", []bool{false, false, true}, []time.Duration{2 * m, m, m, h6, h6}},
		{"never ready: proceeds after MaxWait", []bool{false}, []time.Duration{2 * m, m, m, m, h6, m, m, m, h6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			intervals := 0
			clock := &fakeClock{now: backfillNow, onAfter: func(d time.Duration) bool {
				if d == h6 {
					intervals++
				}
				if intervals == 2 {
					cancel()
					return true
				}
				return false
			}}
			asked := 0
			st := &countingStore{BackfillStore: openBackfillStore(t)}
			b := NewBackfiller(BackfillConfig{Days: 12, MinPause: testPause, Clock: clock, MaxWait: 3 * m,
				Ready: func() bool {
					r := tc.ready[min(asked, len(tc.ready)-1)]
					asked++
					return r
				},
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, backfillEngine(t), st, backfillLoc)
			done := make(chan struct{})
			go func() { defer close(done); b.Run(ctx) }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("Run did not stop after ctx ended")
			}
			var waits []time.Duration
			for _, d := range clock.waits {
				if d != testPause {
					waits = append(waits, d)
				}
			}
			if !slices.Equal(waits, tc.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tc.wantWaits)
			}
			if st.points == 0 {
				t.Error("Run wrote nothing")
			}
		})
	}
}

func TestRunStopsDuringDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{now: backfillNow, onAfter: func(time.Duration) bool { cancel(); return true }}
	eng := &countingEngine{Engine: backfillEngine(t)}
	NewBackfiller(BackfillConfig{Clock: clock}, eng, openBackfillStore(t), backfillLoc).Run(ctx)
	if eng.calls != 0 {
		t.Errorf("%d replays after ctx ended during the delay", eng.calls)
	}
}

func TestEndOfDay(t *testing.T) {
	for _, tc := range []struct{ day, want string }{
		{"2026-10-08", "2026-10-08T23:59:59.999999999+08:00"},
		{"2026-12-31", "2026-12-31T23:59:59.999999999+08:00"},
		{"2028-02-28", "2028-02-28T23:59:59.999999999+08:00"},
	} {
		d, err := time.ParseInLocation(time.DateOnly, tc.day, backfillLoc)
		if err != nil {
			t.Fatal(err)
		}
		if got := endOfDay(d).Format(time.RFC3339Nano); got != tc.want {
			t.Errorf("endOfDay(%s) = %s, want %s", tc.day, got, tc.want)
		}
	}
}
