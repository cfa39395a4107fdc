package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// WriterConfig configures a Writer. Zero fields take their defaults.
type WriterConfig struct {
	// SnapshotEvery is how long a series may go without being written: a
	// point whose value did not change is still forwarded when the last
	// point forwarded for its series is at least this old (by point Time).
	// Default 1h.
	SnapshotEvery time.Duration
	// Logger receives a debug line per Write. Default slog.Default().
	Logger *slog.Logger
}

// WriterStats counts what a Writer saw and forwarded.
type WriterStats struct {
	Seen      int64 // points passed to Write
	Forwarded int64 // points forwarded to the store
	Changed   int64 // forwarded because new or changed
	Snapshots int64 // forwarded unchanged because a snapshot was due
}

// Writer is the write policy of a collection cycle. It wraps a Store and
// forwards only the points whose value (numerator, denominator) changed since
// the last point forwarded for the same series, plus a periodic full
// snapshot: an unchanged point is forwarded again once the series has not
// been written for SnapshotEvery. So the history holds every change, and the
// newest point of every live series is at most SnapshotEvery old, which
// keeps "latest" and "as of" queries bounded to a look-back window
// (InfluxDB's LatestLookback) instead of all history.
//
// Time is the points' own Time, not the wall clock, so a replay of past
// cycles (as_of backfills) takes the same decisions as the live run, and
// tests need no clock. A point older than the last one forwarded for its
// series (a late correction) is always forwarded and does not move the
// state.
//
// The state lives in memory: after a restart the first cycle writes every
// value once, which is a full snapshot. Writer implements Store; its other
// methods are the wrapped store's.
type Writer struct {
	Store
	every time.Duration
	log   *slog.Logger

	mu    sync.Mutex
	last  map[SeriesKey]seen
	stats WriterStats
}

// seen is what the policy keeps of the last point forwarded for a series:
// its time and value, not the whole Point (whose key is already the map's
// key). With department series there are over a million of them.
type seen struct {
	t      int64 // UnixNano
	num    float64
	den    int64
	hasDen bool
}

func seenOf(p Point) seen {
	return seen{t: p.Time.UnixNano(), num: p.Numerator, den: p.Denominator, hasDen: p.HasDenominator}
}

// point rebuilds the compared parts of the point s was made from.
func (s seen) point() Point {
	return Point{Time: time.Unix(0, s.t), Numerator: s.num, Denominator: s.den, HasDenominator: s.hasDen}
}

var _ Store = (*Writer)(nil)

// NewWriter wraps s with the write policy.
func NewWriter(s Store, cfg WriterConfig) *Writer {
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Writer{Store: s, every: cfg.SnapshotEvery, log: cfg.Logger, last: make(map[SeriesKey]seen)}
}

// Write forwards the points of one collection cycle that pass the policy.
// The Writer's state moves only when the wrapped store accepted them.
func (w *Writer) Write(ctx context.Context, points []Point) error {
	if err := ValidatePoints(points); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Point, 0, len(points))
	var changed, snaps int64
	// Within one call, a later point of the same series is compared with the
	// earlier one of the same call.
	pending := make(map[SeriesKey]Point, len(points))
	for _, p := range points {
		k := p.Key()
		prev, ok := pending[k]
		if !ok {
			var s seen
			if s, ok = w.last[k]; ok {
				prev = s.point()
			}
		}
		switch {
		case ok && p.Time.Before(prev.Time):
			// A late point (correction or backfill): forward it, keep the state.
			out = append(out, p)
			changed++
			continue
		case ok && p.SameValue(prev) && p.Time.Sub(prev.Time) < w.every:
			continue
		case ok && p.SameValue(prev):
			snaps++
		default:
			changed++
		}
		out = append(out, p)
		pending[k] = p
	}
	w.stats.Seen += int64(len(points))
	if len(out) == 0 {
		return nil
	}
	if err := w.Store.Write(ctx, out); err != nil {
		return fmt.Errorf("store writer: %w", err)
	}
	for k, p := range pending {
		w.last[k] = seenOf(p)
	}
	w.stats.Forwarded += int64(len(out))
	w.stats.Changed += changed
	w.stats.Snapshots += snaps
	w.log.Debug("store writer", "seen", len(points), "forwarded", len(out), "changed", changed, "snapshots", snaps)
	return nil
}

// Stats returns the counters since NewWriter.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Forget drops the policy's state, so the next cycle writes every value.
func (w *Writer) Forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = make(map[SeriesKey]seen)
}

// Healthy is the wrapped store's Healthy (see Health), or nil when it has
// none.
func (w *Writer) Healthy() error { return Healthy(w.Store) }
