package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/yiping-ioc/yiping/store"
)

// watermarks are the retention horizons already applied (nanoseconds):
// every point below raw is thinned to one per hour, below hour to one per
// day, below day to one per month.
type watermarks struct{ raw, hour, day int64 }

func (s *Store) watermarks() (watermarks, error) {
	v, closer, err := s.db.Get(metaKey(metaRetention))
	if errors.Is(err, pebble.ErrNotFound) {
		return watermarks{}, nil
	}
	if err != nil {
		return watermarks{}, err
	}
	defer closer.Close()
	if len(v) != 24 {
		return watermarks{}, fmt.Errorf("malformed retention watermark %x", v)
	}
	return watermarks{
		raw:  int64(binary.BigEndian.Uint64(v[0:])),
		hour: int64(binary.BigEndian.Uint64(v[8:])),
		day:  int64(binary.BigEndian.Uint64(v[16:])),
	}, nil
}

func encodeWatermarks(w watermarks) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(w.raw))
	b = binary.BigEndian.AppendUint64(b, uint64(w.hour))
	return binary.BigEndian.AppendUint64(b, uint64(w.day))
}

// RetentionStats reports one retention run.
type RetentionStats struct {
	RawBefore    time.Time // points before this were thinned to the last of each hour
	HourlyBefore time.Time // ... to the last of each day
	DailyBefore  time.Time // ... to the last of each month
	Series       int       // series visited
	Backfilled   int       // series re-thinned because points arrived below the watermark
	Deleted      int64     // points deleted
}

// ApplyRetention thins the history as of now (see Config). It is
// incremental: each run visits only the points that crossed a horizon since
// the last run, plus the series that received points below it. It is safe
// to run while writing and idempotent after a crash. The background loop
// calls it every RetentionInterval.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time) (RetentionStats, error) {
	var st RetentionStats
	done, err := s.begin(ctx)
	if err != nil {
		return st, err
	}
	defer done()
	loc := s.cfg.Location
	rawH, _ := store.Bucket(now.Add(-s.cfg.RawRetention), store.RollupHour, loc)
	hourH, _ := store.Bucket(now.Add(-s.cfg.HourlyRetention), store.RollupDay, loc)
	dayH, _ := store.Bucket(now.Add(-s.cfg.DailyRetention), store.RollupMonth, loc)
	st.RawBefore, st.HourlyBefore, st.DailyBefore = rawH, hourH, dayH

	s.retentionMu.Lock()
	defer s.retentionMu.Unlock()
	// Deleting writes tombstones first: it needs space before it frees any.
	if err := s.health.check(s.cfg.MinFreeBytes); err != nil {
		return st, fmt.Errorf("embedded: retention: %w", err)
	}
	old, err := s.watermarks()
	if err != nil {
		return st, fmt.Errorf("embedded: retention: %w", err)
	}
	clampNS := func(t time.Time) int64 {
		if t.Before(store.MinTime) {
			return 0
		}
		return t.UnixNano()
	}
	nw := watermarks{raw: max(old.raw, clampNS(rawH)), hour: max(old.hour, clampNS(hourH)), day: max(old.day, clampNS(dayH))}

	// From now on a write below the new raw horizon marks its series dirty.
	s.writeMu.Lock()
	if nw.raw > s.dirtyBelow {
		s.dirtyBelow = nw.raw
	}
	s.writeMu.Unlock()

	s.mu.RLock()
	n := len(s.series)
	s.mu.RUnlock()
	th := &thinner{s: s, b: s.db.NewBatch()}
	defer func() { _ = th.b.Close() }()
	for id := uint32(0); id < uint32(n); id++ {
		if id%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		if err := th.thinTiers(ctx, id, old, nw); err != nil {
			return st, err
		}
	}
	if err := th.commit(); err != nil {
		return st, err
	}
	st.Series = n

	// Series that received points below the watermark: thin their whole
	// history, holding off writers so no new mark is lost.
	dirty, err := s.dirtySeries(ctx)
	if err != nil {
		return st, err
	}
	for _, id := range dirty {
		s.writeMu.Lock()
		err := func() error {
			if err := th.thinTiers(ctx, id, watermarks{}, nw); err != nil {
				return err
			}
			if err := th.b.Delete(dirtyKey(id), nil); err != nil {
				return err
			}
			return th.commit()
		}()
		s.writeMu.Unlock()
		if err != nil {
			return st, fmt.Errorf("embedded: retention: %w", err)
		}
	}
	st.Backfilled = len(dirty)
	if err := s.health.commit("retention", func() error {
		return s.db.Set(metaKey(metaRetention), encodeWatermarks(nw), pebble.Sync)
	}); err != nil {
		return st, fmt.Errorf("embedded: retention: %w", err)
	}
	st.Deleted = th.deleted
	s.log.Debug("embedded store retention", "raw_before", rawH, "hourly_before", hourH, "daily_before", dayH,
		"series", st.Series, "backfilled", st.Backfilled, "deleted", st.Deleted)
	return st, nil
}

func (s *Store) dirtySeries(ctx context.Context) ([]uint32, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{tabDirty}, UpperBound: []byte{tabDirty + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ids []uint32
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); len(k) == 5 {
			ids = append(ids, binary.BigEndian.Uint32(k[1:]))
		}
	}
	return ids, it.Error()
}

// thinner deletes all but the last point of each bucket.
type thinner struct {
	s       *Store
	b       *pebble.Batch
	deleted int64
}

func (th *thinner) commit() error {
	if th.b.Empty() {
		return nil
	}
	if err := th.s.health.check(th.s.cfg.MinFreeBytes); err != nil {
		return fmt.Errorf("embedded: retention: %w", err)
	}
	if err := th.s.health.commit("retention", func() error { return th.b.Commit(pebble.NoSync) }); err != nil {
		return fmt.Errorf("embedded: retention: %w", err)
	}
	th.b.Reset()
	return nil
}

// thinTiers moves series id from the watermarks old to nw. The ranges are
// disjoint and processed coarse first, so no point is visited twice: what
// fell below the new daily horizon is thinned to months directly, and so on.
func (th *thinner) thinTiers(ctx context.Context, id uint32, old, nw watermarks) error {
	if err := th.thin(ctx, id, old.day, nw.day, store.RollupMonth); err != nil {
		return err
	}
	// The day index keeps the last day of each month there too.
	if err := th.thinTable(ctx, tabDay, id, old.day, nw.day, store.RollupMonth); err != nil {
		return err
	}
	if err := th.thin(ctx, id, max(old.hour, nw.day), nw.hour, store.RollupDay); err != nil {
		return err
	}
	return th.thin(ctx, id, max(old.raw, nw.hour), nw.raw, store.RollupHour)
}

// thin keeps, in [fromNS, toNS) of series id, the last point of each bucket
// of size r. The horizons are bucket-aligned, so no bucket straddles them.
func (th *thinner) thin(ctx context.Context, id uint32, fromNS, toNS int64, r store.Rollup) error {
	return th.thinTable(ctx, tabPoint, id, fromNS, toNS, r)
}

// thinTable is thin over the point table or the day index.
func (th *thinner) thinTable(ctx context.Context, table byte, id uint32, fromNS, toNS int64, r store.Rollup) error {
	if toNS <= fromNS {
		return nil
	}
	lo, hi := appendPointKey(nil, id, fromNS), appendPointKey(nil, id, toNS)
	lo[0], hi[0] = table, table
	it, err := th.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	var prev []byte
	var next int64 = -1 << 63
	for ok := it.First(); ok; ok = it.Next() {
		_, ns, valid := decodePointKey(it.Key())
		if !valid {
			return fmt.Errorf("malformed point key %x", it.Key())
		}
		if prev != nil && ns < next {
			if err := th.b.Delete(prev, nil); err != nil {
				return err
			}
			if table == tabPoint {
				th.deleted++
			}
		} else {
			_, n := store.Bucket(time.Unix(0, ns), r, th.s.cfg.Location)
			next = n.UnixNano()
		}
		prev = append(prev[:0], it.Key()...)
		if th.b.Len() > 4<<20 {
			if err := th.commit(); err != nil {
				return err
			}
		}
	}
	return it.Error()
}

func (s *Store) retentionLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.ApplyRetention(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
				s.log.Error("embedded store: retention failed", "err", err)
			}
		}
	}
}
