package history

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/store"
)

// memWriter is a fake store for the unit test: it keeps what it is given;
// the queries are not used here.
type memWriter struct {
	mu  sync.Mutex
	pts []store.Point
}

func (m *memWriter) Write(_ context.Context, pts []store.Point) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pts = append(m.pts, pts...)
	return nil
}

func (m *memWriter) Flush(context.Context) error { return nil }
func (m *memWriter) Latest(context.Context, store.Selector) ([]store.Point, error) {
	return nil, nil
}
func (m *memWriter) AsOf(context.Context, store.Selector, time.Time) ([]store.Point, error) {
	return nil, nil
}
func (m *memWriter) Series(context.Context, store.SeriesKey, time.Time, time.Time, store.Rollup) ([]store.Point, error) {
	return nil, nil
}
func (m *memWriter) Close() error { return nil }

func TestRecordWritesValuesAndOnlyChanges(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	eng.UpsertCalls([]record.Call{{ID: "k1", Region: "620802", Offered: now.Add(-time.Hour).UnixNano(), Answered: true, WaitSeconds: 20}})
	eng.UpsertItems([]record.Item{{Code: "I1", Region: "620100", Dept: "D1", Visits: 0, LegalDays: 10, PromisedDays: 4, OnlineAvailable: true}})
	inner := &memWriter{}
	w := store.NewWriter(inner, store.WriterConfig{SnapshotEvery: time.Hour})
	rec := New(Config{}, eng, w)

	n, err := rec.Record(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || len(inner.pts) != n {
		t.Fatalf("first cycle handed %d points, store got %d", n, len(inner.pts))
	}
	find := func(ind, region, dept, period string) *store.Point {
		for i := range inner.pts {
			p := &inner.pts[i]
			if p.Indicator == ind && p.Region == region && p.Dept == dept && p.Period == period {
				return p
			}
		}
		return nil
	}
	if p := find("answer_15s_rate", "620800", "", "day"); p == nil || p.Numerator != 0 || p.Denominator != 1 {
		t.Errorf("answer_15s_rate day 620800 = %+v, want 0/1", p)
	}
	if p := find("call_volume", "620000", "", "year"); p == nil || p.Numerator != 1 || p.HasDenominator {
		t.Errorf("call_volume year = %+v, want count 1", p)
	}
	if p := find("time_compression_ratio", "620000", "D1", ""); p == nil || p.Numerator != 6 || p.Denominator != 10 {
		t.Errorf("catalog point = %+v, want 6/10 with no period", p)
	}
	catalog := 0
	for _, p := range inner.pts {
		if p.Indicator == "zero_visit_rate" && p.Region == "620000" && p.Dept == "" {
			catalog++
		}
	}
	if catalog != 1 {
		t.Errorf("catalog indicator recorded %d times in one cycle, want once", catalog)
	}

	// Nothing changed: the write policy forwards nothing.
	first := len(inner.pts)
	now = now.Add(10 * time.Second)
	if _, err := rec.Record(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(inner.pts) != first {
		t.Errorf("an unchanged cycle wrote %d points", len(inner.pts)-first)
	}
	// One call changes the call indicators of its region chain only.
	eng.UpsertCalls([]record.Call{{ID: "k2", Region: "620802", Offered: now.Add(-time.Minute).UnixNano(), Answered: true, WaitSeconds: 3}})
	now = now.Add(10 * time.Second)
	if _, err := rec.Record(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range inner.pts[first:] {
		if p.Indicator != "call_volume" && p.Indicator != "answer_rate" && p.Indicator != "answer_15s_rate" {
			t.Errorf("unrelated point rewritten: %+v", p)
		}
	}
	if got := len(inner.pts) - first; got != 3*3*5 {
		t.Errorf("changed points = %d, want 3 indicators × 3 regions × 5 periods", got)
	}
}

func TestDepartmentsEveryNthCycle(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	eng.UpsertItems([]record.Item{{Code: "I1", Region: "620100", Dept: "D1", Visits: 0, LegalDays: 10, PromisedDays: 4, OnlineAvailable: true}})
	w := &memWriter{}
	rec := New(Config{DeptEvery: 3}, eng, w)
	var withDept []bool
	for range 7 {
		w.pts = nil
		if _, err := rec.Record(context.Background()); err != nil {
			t.Fatal(err)
		}
		dept := false
		for _, p := range w.pts {
			if p.Dept != "" {
				dept = true
			}
		}
		withDept = append(withDept, dept)
	}
	want := []bool{true, false, false, true, false, false, true}
	for i := range want {
		if withDept[i] != want[i] {
			t.Fatalf("cycles with departments = %v, want %v", withDept, want)
		}
	}
}

// TestRecordGivesUpWhenItsContextEnds: the last cycle at shutdown is
// bounded, so a cycle asked with an ended context stops before writing
// rather than holding the process.
func TestRecordGivesUpWhenItsContextEnds(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	eng.UpsertCalls([]record.Call{{ID: "k1", Region: "620802", Offered: now.Add(-time.Hour).UnixNano(), Answered: true, WaitSeconds: 20}})
	inner := &memWriter{}
	rec := New(Config{}, eng, store.NewWriter(inner, store.WriterConfig{SnapshotEvery: time.Hour}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := rec.Record(ctx); err == nil || n != 0 || len(inner.pts) != 0 {
		t.Fatalf("a cycle with an ended context wrote %d points (store %d), err %v", n, len(inner.pts), err)
	}
	if n, err := rec.Record(context.Background()); err != nil || n == 0 {
		t.Fatalf("the next cycle: %d points, %v", n, err)
	}
}
