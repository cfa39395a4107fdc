package embedded

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/storetest"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTest(t testing.TB, dir string, mod ...func(*Config)) *Store {
	t.Helper()
	cfg := Config{Dir: dir, Logger: quietLogger(), RetentionInterval: -1}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, t.TempDir()) })
}

func TestValueCodec(t *testing.T) {
	for _, v := range []value{
		{num: 0}, {num: 1}, {num: -1}, {num: 1 << 52}, {num: -(1 << 52)}, {num: 1 << 60}, {num: 0.5},
		{num: math.Copysign(0, -1)}, {num: 1e300, den: 3, hasDen: true}, {num: 7, den: 0, hasDen: true},
		{num: 12345, den: math.MaxInt64, hasDen: true}, {num: math.SmallestNonzeroFloat64},
	} {
		b := appendValue(nil, v)
		got, err := decodeValue(b)
		if err != nil || got.den != v.den || got.hasDen != v.hasDen || math.Float64bits(got.num) != math.Float64bits(v.num) {
			t.Errorf("%+v: encoded %x, decoded %+v, %v", v, b, got, err)
		}
	}
	if b := appendValue(nil, value{num: 1234, den: 1300, hasDen: true}); len(b) != 5 {
		t.Errorf("a typical rate takes %d bytes, want 5", len(b))
	}
	for _, bad := range [][]byte{nil, {0}, {4, 0}, {flagFloat, 1, 2}, {flagDen, 2}, {0, 2, 9}} {
		if _, err := decodeValue(bad); err == nil {
			t.Errorf("decodeValue(%x) accepted garbage", bad)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ctx := context.Background()
	k := store.SeriesKey{Indicator: "on_time_rate", Region: "620802", Period: store.PeriodMonth}
	t0 := storetest.T(2026, 3, 1, 8, 0, 0)
	var pts []store.Point
	for i := 0; i < 100; i++ {
		pts = append(pts, store.Ratio(k, t0.Add(time.Duration(i)*time.Minute), int64(i), 100))
	}
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close()
	got, err := s.Series(ctx, k, t0, t0.Add(time.Hour*2), store.RollupNone)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "after reopen", got, pts)
	l, err := s.Latest(ctx, store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}})
	if err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "latest after reopen", l, pts[99:])
	// A new series after reopen gets a fresh id.
	k2 := k
	k2.Region = "620803"
	if err := s.Write(ctx, []store.Point{store.Count(k2, t0, 5)}); err != nil {
		t.Fatal(err)
	}
	if s.SeriesCount() != 2 {
		t.Fatalf("series count %d, want 2", s.SeriesCount())
	}
}

// TestReopenOddDepts: departments with any bytes in their names (NUL, the
// key separator, among them) come back from the series dictionary after a
// restart, each with its own series.
func TestReopenOddDepts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t0 := storetest.T(2026, 11, 23, 9, 0, 0)
	depts := storetest.OddDepts()
	var pts []store.Point
	for i, d := range depts {
		pts = append(pts, store.Count(store.SeriesKey{Indicator: "case_volume", Region: "620702", Dept: d, Period: store.PeriodDay}, t0, int64(i)))
	}
	s := openTest(t, dir)
	if err := s.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close()
	if n := s.SeriesCount(); n != len(depts) {
		t.Fatalf("%d series after reopen, want %d", n, len(depts))
	}
	got, err := s.Latest(ctx, store.Selector{Indicator: "case_volume", Period: store.PeriodDay, Regions: []string{"620702"}, Depts: depts})
	if err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "latest after reopen", got, pts)
}

// TestRetentionThinsToRollups writes two years of points every 20 minutes
// and checks that retention keeps every point of the last RawRetention, the
// last of each hour, then of each day, then of each month, that rollup
// queries give the same answers before and after, and that a backfill below
// the watermark is thinned by the next run.
func TestRetentionThinsToRollups(t *testing.T) {
	loc := store.DefaultLocation()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, loc)
	s := openTest(t, t.TempDir(), func(c *Config) {
		c.RawRetention = 2 * 24 * time.Hour
		c.HourlyRetention = 10 * 24 * time.Hour
		c.DailyRetention = 90 * 24 * time.Hour
	})
	defer s.Close()
	ctx := context.Background()
	k := store.SeriesKey{Indicator: "answer_rate", Region: "620100", Period: store.PeriodDay}
	start := now.AddDate(-2, 0, 0)
	var all []store.Point
	for tm, i := start, 0; tm.Before(now); tm, i = tm.Add(20*time.Minute), i+1 {
		all = append(all, store.Ratio(k, tm, int64(i%97), 100))
	}
	for i := 0; i < len(all); i += 10000 {
		if err := s.Write(ctx, all[i:min(i+10000, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	before := map[store.Rollup][]store.Point{}
	for _, r := range []store.Rollup{store.RollupDay, store.RollupMonth} {
		before[r], _ = s.Series(ctx, k, start, now, r)
	}
	st, err := s.ApplyRetention(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Series(ctx, k, start, now, store.RollupNone)
	if err != nil {
		t.Fatal(err)
	}
	// The expected survivors, by the reference definition.
	var want []store.Point
	var month, day, hour, raw []store.Point
	for _, p := range all {
		switch {
		case p.Time.Before(st.DailyBefore):
			month = append(month, p)
		case p.Time.Before(st.HourlyBefore):
			day = append(day, p)
		case p.Time.Before(st.RawBefore):
			hour = append(hour, p)
		default:
			raw = append(raw, p)
		}
	}
	want = append(want, store.LastPerBucket(month, store.RollupMonth, loc)...)
	want = append(want, store.LastPerBucket(day, store.RollupDay, loc)...)
	want = append(want, store.LastPerBucket(hour, store.RollupHour, loc)...)
	want = append(want, raw...)
	storetest.SamePoints(t, "after retention", got, want)
	if st.Deleted != int64(len(all)-len(want)) {
		t.Errorf("Deleted = %d, want %d", st.Deleted, len(all)-len(want))
	}
	after, _ := s.Series(ctx, k, start, now, store.RollupMonth)
	storetest.SamePoints(t, "monthly rollup unchanged by retention", after, before[store.RollupMonth])
	// Daily rollups are unchanged where days are kept.
	afterDay, _ := s.Series(ctx, k, st.DailyBefore, now, store.RollupDay)
	var beforeDay []store.Point
	for _, p := range before[store.RollupDay] {
		if !p.Time.Before(st.DailyBefore) {
			beforeDay = append(beforeDay, p)
		}
	}
	storetest.SamePoints(t, "daily rollup unchanged by retention", afterDay, beforeDay)

	// A second run at the same time deletes nothing.
	st2, err := s.ApplyRetention(ctx, now)
	if err != nil || st2.Deleted != 0 {
		t.Fatalf("second run: %+v, %v", st2, err)
	}
	// Backfill three points into one old hour, after its last point (:40):
	// the next run keeps the last of them.
	h := st.RawBefore.Add(-5 * time.Hour)
	back := []store.Point{store.Ratio(k, h.Add(41*time.Minute), 1, 3), store.Ratio(k, h.Add(42*time.Minute), 2, 3), store.Ratio(k, h.Add(43*time.Minute), 3, 3)}
	if err := s.Write(ctx, back); err != nil {
		t.Fatal(err)
	}
	st3, err := s.ApplyRetention(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if st3.Backfilled != 1 {
		t.Fatalf("backfilled series = %d, want 1", st3.Backfilled)
	}
	inHour, _ := s.Series(ctx, k, h, h.Add(time.Hour-1), store.RollupNone)
	storetest.SamePoints(t, "backfilled hour", inHour, back[2:])
	// The latest point survives everything.
	l, _ := s.Latest(ctx, store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}})
	storetest.SamePoints(t, "latest", l, all[len(all)-1:])
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDayIndexMatchesPoints writes random points in random order (late
// points, overwrites, several per day, batches of mixed series), and checks
// that day and month rollups, read from the day index, equal the reference
// rollup of the points themselves, for random ranges, before and after a
// reopen and after retention.
func TestDayIndexMatchesPoints(t *testing.T) {
	dir := t.TempDir()
	loc := store.DefaultLocation()
	s := openTest(t, dir, func(c *Config) {
		c.RawRetention, c.HourlyRetention, c.DailyRetention = 5*24*time.Hour, 20*24*time.Hour, 60*24*time.Hour
	})
	ctx := context.Background()
	rng := rand.New(rand.NewSource(7))
	keys := []store.SeriesKey{
		{Indicator: "a", Region: "620100", Period: "day"},
		{Indicator: "a", Region: "620200", Period: "day"},
		{Indicator: "b", Region: "620100", Dept: "D1", Period: "month"},
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	const span = 120 * 24 * time.Hour
	for batch := 0; batch < 60; batch++ {
		var pts []store.Point
		base := start.Add(time.Duration(batch) * span / 60)
		for i := 0; i < 1+rng.Intn(40); i++ {
			k := keys[rng.Intn(len(keys))]
			var tm time.Time
			switch rng.Intn(4) {
			case 0: // late: anywhere before
				tm = start.Add(time.Duration(rng.Int63n(int64(base.Sub(start) + time.Hour))))
			case 1: // exact hours: overwrites happen
				tm = base.Add(time.Duration(rng.Intn(72)) * time.Hour)
			default:
				tm = base.Add(time.Duration(rng.Int63n(int64(48 * time.Hour))))
			}
			pts = append(pts, store.Ratio(k, tm, int64(rng.Intn(100)), int64(rng.Intn(3))))
		}
		if err := s.Write(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string) {
		t.Helper()
		for _, k := range keys {
			for n := 0; n < 30; n++ {
				from := start.Add(time.Duration(rng.Int63n(int64(span))))
				to := from.Add(time.Duration(rng.Int63n(int64(span))))
				if n == 0 {
					from, to = store.MinTime, store.MaxTime.Add(-1)
				}
				raw, err := s.Series(ctx, k, from, to, store.RollupNone)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range []store.Rollup{store.RollupDay, store.RollupMonth} {
					got, err := s.Series(ctx, k, from, to, r)
					if err != nil {
						t.Fatal(err)
					}
					storetest.SamePoints(t, fmt.Sprintf("%s: %s %s [%s, %s]", what, k, r, from, to), got,
						store.LastPerBucket(append([]store.Point(nil), raw...), r, loc))
				}
			}
		}
	}
	check("fresh")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, func(c *Config) {
		c.RawRetention, c.HourlyRetention, c.DailyRetention = 5*24*time.Hour, 20*24*time.Hour, 60*24*time.Hour
	})
	defer s.Close()
	check("reopened")
	if _, err := s.ApplyRetention(ctx, start.Add(span)); err != nil {
		t.Fatal(err)
	}
	check("after retention")
	var late []store.Point
	for i := 0; i < 50; i++ {
		late = append(late, store.Count(keys[rng.Intn(len(keys))], start.Add(time.Duration(rng.Int63n(int64(span)))), int64(i)))
	}
	if err := s.Write(ctx, late); err != nil {
		t.Fatal(err)
	}
	check("late points after retention")
	if _, err := s.ApplyRetention(ctx, start.Add(span)); err != nil {
		t.Fatal(err)
	}
	check("late points thinned")
}
