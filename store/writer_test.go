package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// recorder is a fake store that records writes.
type recorder struct {
	store.Store
	writes [][]store.Point
	fail   error
}

func (r *recorder) Write(_ context.Context, pts []store.Point) error {
	if r.fail != nil {
		return r.fail
	}
	r.writes = append(r.writes, append([]store.Point(nil), pts...))
	return nil
}

func (r *recorder) last() []store.Point {
	if len(r.writes) == 0 {
		return nil
	}
	return r.writes[len(r.writes)-1]
}

var (
	ka = store.SeriesKey{Indicator: "on_time_rate", Region: "620100", Period: store.PeriodDay}
	kb = store.SeriesKey{Indicator: "on_time_rate", Region: "620200", Period: store.PeriodDay}
	kc = store.SeriesKey{Indicator: "case_volume", Region: "620200", Period: store.PeriodDay}
)

// cycle runs one collection cycle at t with the given values (-1 = null rate).
func cycle(t *testing.T, w *store.Writer, rec *recorder, at time.Time, a, b, c int64) []store.Point {
	t.Helper()
	n := len(rec.writes)
	pa := store.Ratio(ka, at, a, 100)
	if a < 0 {
		pa = store.Ratio(ka, at, 0, 0)
	}
	if err := w.Write(context.Background(), []store.Point{pa, store.Ratio(kb, at, b, 100), store.Count(kc, at, c)}); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) == n {
		return nil
	}
	return rec.last()
}

func regions(pts []store.Point) []string {
	var out []string
	for _, p := range pts {
		out = append(out, p.Indicator+"/"+p.Region)
	}
	return out
}

func same(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriterDropsUnchangedAndSnapshots(t *testing.T) {
	rec := &recorder{}
	w := store.NewWriter(rec, store.WriterConfig{SnapshotEvery: time.Hour})
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	step := 5 * time.Minute

	if got := regions(cycle(t, w, rec, t0, 1, 2, 3)); !same(got, "on_time_rate/620100", "on_time_rate/620200", "case_volume/620200") {
		t.Fatalf("first cycle wrote %v, want everything", got)
	}
	if got := cycle(t, w, rec, t0.Add(step), 1, 2, 3); got != nil {
		t.Fatalf("unchanged cycle wrote %v", regions(got))
	}
	if got := regions(cycle(t, w, rec, t0.Add(2*step), 1, 5, 3)); !same(got, "on_time_rate/620200") {
		t.Fatalf("one change wrote %v", got)
	}
	// Null is a change from 1/100, and 0/0 again is not.
	if got := regions(cycle(t, w, rec, t0.Add(3*step), -1, 5, 3)); !same(got, "on_time_rate/620100") {
		t.Fatalf("null wrote %v", got)
	}
	if got := cycle(t, w, rec, t0.Add(4*step), -1, 5, 3); got != nil {
		t.Fatalf("null again wrote %v", regions(got))
	}
	// An hour after each series' last write, unchanged values are written
	// again: a full snapshot at t0+1h for b... series a and c were last
	// written at t0+15m and t0, b at t0+10m.
	if got := regions(cycle(t, w, rec, t0.Add(time.Hour), -1, 5, 3)); !same(got, "case_volume/620200") {
		t.Fatalf("at t0+1h wrote %v, want the snapshot of c", got)
	}
	if got := regions(cycle(t, w, rec, t0.Add(time.Hour+10*time.Minute), -1, 5, 3)); !same(got, "on_time_rate/620200") {
		t.Fatalf("at t0+1h10m wrote %v, want the snapshot of b", got)
	}
	if got := regions(cycle(t, w, rec, t0.Add(time.Hour+15*time.Minute), -1, 5, 3)); !same(got, "on_time_rate/620100") {
		t.Fatalf("at t0+1h15m wrote %v, want the snapshot of a", got)
	}
	st := w.Stats()
	if st.Seen != 24 || st.Forwarded != 8 || st.Changed != 5 || st.Snapshots != 3 {
		t.Fatalf("stats %+v", st)
	}
	// After Forget (a restart), everything is written once.
	w.Forget()
	if got := regions(cycle(t, w, rec, t0.Add(2*time.Hour), -1, 5, 3)); len(got) != 3 {
		t.Fatalf("after Forget wrote %v", got)
	}
}

func TestWriterEveryPointChangedWithinABatchAndLatePoints(t *testing.T) {
	rec := &recorder{}
	w := store.NewWriter(rec, store.WriterConfig{})
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	pts := []store.Point{store.Count(kc, t0, 1), store.Count(kc, t0.Add(time.Minute), 1), store.Count(kc, t0.Add(2*time.Minute), 2)}
	if err := w.Write(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(); len(got) != 2 || !got[1].Time.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("wrote %v, want the first and the changed point", got)
	}
	// A late correction (older than the last written) is forwarded.
	if err := w.Write(context.Background(), []store.Point{store.Count(kc, t0.Add(30*time.Second), 9)}); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(); len(got) != 1 || got[0].Numerator != 9 {
		t.Fatalf("late point: wrote %v", got)
	}
	// ... and does not move the state: the next unchanged value is dropped.
	n := len(rec.writes)
	if err := w.Write(context.Background(), []store.Point{store.Count(kc, t0.Add(3*time.Minute), 2)}); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != n {
		t.Fatalf("unchanged after a late point was written: %v", rec.last())
	}
}

func TestWriterKeepsStateWhenTheStoreFails(t *testing.T) {
	rec := &recorder{fail: errors.New("disk full")}
	w := store.NewWriter(rec, store.WriterConfig{})
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := w.Write(context.Background(), []store.Point{store.Count(kc, t0, 1)}); err == nil {
		t.Fatal("error not returned")
	}
	rec.fail = nil
	if err := w.Write(context.Background(), []store.Point{store.Count(kc, t0.Add(time.Minute), 1)}); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 1 {
		t.Fatalf("the value that failed to write was not retried")
	}
	if err := w.Write(context.Background(), []store.Point{{Indicator: "x", Region: "bad", Time: t0}}); !errors.Is(err, store.ErrInvalidPoint) {
		t.Fatalf("invalid point: %v", err)
	}
}
