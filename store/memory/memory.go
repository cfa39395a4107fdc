// Package memory is a store.Store held in a map: every series is a slice
// of points in ascending time. It passes the contract suite
// (store/storetest) like store/embedded and store/influx, and is meant for
// tests that need a store but not Pebble, and for short-lived tools.
//
// It keeps every point it is given: there is no retention (thinning old
// history to its rollups is a way to bound a disk, which a test does not
// need), so AsOf always answers at full resolution. Nothing survives Close.
package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

var _ store.Store = (*Store)(nil)

// Store is an in-memory store.Store. Its zero value is not usable; call New.
type Store struct {
	loc *time.Location

	mu     sync.RWMutex
	closed bool
	series map[store.SeriesKey][]store.Point // ascending Time, one point per instant
}

// New returns an empty store whose rollup buckets and returned times are
// in loc, the business time zone (nil: store.DefaultLocation()).
func New(loc *time.Location) *Store {
	if loc == nil {
		loc = store.DefaultLocation()
	}
	return &Store{loc: loc, series: map[store.SeriesKey][]store.Point{}}
}

// Write stores the points, replacing any of the same series and instant.
// It writes none when one is invalid. Points are visible at once.
func (s *Store) Write(ctx context.Context, points []store.Point) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.ValidatePoints(points); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	for _, p := range points {
		p.Time = p.Time.In(s.loc) // as the other stores return it
		k := p.Key()
		pts := s.series[k]
		i, found := slices.BinarySearchFunc(pts, p.Time, cmpTime)
		if found {
			pts[i] = p
			continue
		}
		s.series[k] = slices.Insert(pts, i, p)
	}
	return nil
}

func cmpTime(p store.Point, t time.Time) int { return p.Time.Compare(t) }

// Flush returns at once: every write is visible when Write returns.
func (s *Store) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.check()
}

// Latest returns the newest point of each selected series, in the
// selector's order; series without points are left out.
func (s *Store) Latest(ctx context.Context, sel store.Selector) ([]store.Point, error) {
	return s.AsOf(ctx, sel, store.MaxTime)
}

// AsOf returns, for each selected series, its newest point at or before
// t, in the selector's order; series without one are left out.
func (s *Store) AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	var out []store.Point
	for _, k := range sel.Keys() {
		pts := s.series[k]
		// The first point after t; the one before it is the answer.
		i, found := slices.BinarySearchFunc(pts, t, cmpTime)
		if found {
			i++
		}
		if i > 0 {
			out = append(out, pts[i-1])
		}
	}
	return out, nil
}

// Series returns the points of key with from <= Time <= to, ascending,
// reduced to the last of each bucket when rollup is not RollupNone.
func (s *Store) Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := key.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	if to.Before(from) {
		return nil, nil
	}
	pts := s.series[key]
	lo, _ := slices.BinarySearchFunc(pts, from, cmpTime)
	hi, found := slices.BinarySearchFunc(pts, to, cmpTime)
	if found {
		hi++
	}
	in := slices.Clone(pts[lo:hi]) // the caller may keep it; later writes must not change it
	return store.LastPerBucket(in, rollup, s.loc), nil
}

// Close releases the points; later calls return store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed, s.series = true, nil
	return nil
}

func (s *Store) check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return nil
}
