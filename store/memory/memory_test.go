package memory

import (
	"context"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return New(nil) })
}

// TestResultsAreCopies: what a query returned does not change when the
// store is written again.
func TestResultsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	k := store.SeriesKey{Indicator: "case_volume", Region: "620100", Period: store.PeriodDay}
	t0 := storetest.T(2026, 3, 1, 8, 0, 0)
	if err := s.Write(ctx, []store.Point{store.Count(k, t0, 1), store.Count(k, t0.Add(time.Hour), 2)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Series(ctx, k, t0, t0.Add(time.Hour), store.RollupNone)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, []store.Point{store.Count(k, t0, 9), store.Count(k, t0.Add(time.Minute), 5)}); err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "earlier result", got, []store.Point{store.Count(k, t0, 1), store.Count(k, t0.Add(time.Hour), 2)})
}

// TestLocation: times come back in the store's zone, and days are cut there.
func TestLocation(t *testing.T) {
	ctx := context.Background()
	utc := New(time.UTC)
	k := store.SeriesKey{Indicator: "case_volume", Region: "620100", Period: store.PeriodDay}
	t0 := storetest.T(2026, 3, 1, 7, 0, 0) // 23:00 UTC the day before
	if err := utc.Write(ctx, []store.Point{store.Count(k, t0, 1), store.Count(k, t0.Add(2*time.Hour), 2)}); err != nil {
		t.Fatal(err)
	}
	days, err := utc.Series(ctx, k, t0.Add(-time.Hour), t0.Add(3*time.Hour), store.RollupDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Time.Location() != time.UTC {
		t.Fatalf("UTC days = %v, want two points in UTC", days)
	}
}
