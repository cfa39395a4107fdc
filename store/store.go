package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the storage contract for indicator points. Both implementations
// (store/embedded, the default, and store/influx) pass the same contract
// suite, store/storetest.
//
// Identity: a point is identified by its series (SeriesKey) and its Time.
// Writing a point whose series and time already exist replaces it (this is
// InfluxDB's rule too, and what makes replays idempotent).
//
// Every method is safe for concurrent use.
type Store interface {
	// Write stores a batch of points. It validates every point first and
	// writes none if one is invalid (the error wraps ErrInvalidPoint). It
	// never waits for a network: a store that forwards points elsewhere
	// queues them, and they become visible to queries at most about one
	// second later, or when Flush returns.
	Write(ctx context.Context, points []Point) error

	// Flush returns when every point written before the call is durable in
	// the store and visible to queries.
	Flush(ctx context.Context) error

	// Latest returns, for each (region, dept) of sel, the point with the
	// greatest Time. Used for rankings: the caller passes the children of a
	// region (the store does not know the hierarchy).
	Latest(ctx context.Context, sel Selector) ([]Point, error)

	// AsOf returns, for each (region, dept) of sel, the point with the
	// greatest Time at or before t (what a screen showed at t). Beyond the
	// raw retention of a store, the answer has the resolution of the rollup
	// kept there.
	AsOf(ctx context.Context, sel Selector, t time.Time) ([]Point, error)

	// Series returns the points of one series with from <= Time <= to in
	// ascending time. With a rollup other than RollupNone it returns, for
	// each bucket (hour, day or month in the store's business time zone)
	// that has points in the range, the last of them: an indicator value is
	// a level, not a flow, so a bucket's value is its last observation. The
	// returned points keep their own Time (use Bucket to get a bucket's start).
	Series(ctx context.Context, key SeriesKey, from, to time.Time, rollup Rollup) ([]Point, error)

	// Close flushes what it can and releases the store. Calls after Close
	// return ErrClosed.
	Close() error
}

// Selector selects the series of one indicator and period over a set of
// regions and departments: every pair (region, dept) of Regions × Depts.
type Selector struct {
	Indicator string
	Period    string
	Regions   []string
	// Depts lists departments; nil or empty means []string{AllDepts}, the
	// region-wide series.
	Depts []string
}

// DeptList returns sel.Depts, or {AllDepts} when it is empty.
func (sel Selector) DeptList() []string {
	if len(sel.Depts) == 0 {
		return []string{AllDepts}
	}
	return sel.Depts
}

// Keys expands the selector into series keys, regions outer and departments
// inner: the order in which Latest and AsOf return their points.
func (sel Selector) Keys() []SeriesKey {
	depts := sel.DeptList()
	keys := make([]SeriesKey, 0, len(sel.Regions)*len(depts))
	for _, r := range sel.Regions {
		for _, d := range depts {
			keys = append(keys, SeriesKey{Indicator: sel.Indicator, Region: r, Dept: d, Period: sel.Period})
		}
	}
	return keys
}

// Validate checks every key of the selector.
func (sel Selector) Validate() error {
	if len(sel.Regions) == 0 {
		return nil
	}
	for _, d := range sel.DeptList() {
		k := SeriesKey{Indicator: sel.Indicator, Region: sel.Regions[0], Dept: d, Period: sel.Period}
		if err := k.Validate(); err != nil {
			return err
		}
	}
	for _, r := range sel.Regions {
		if !ValidRegion(r) {
			return fmt.Errorf("%w: region %q is not a 6- or 9-digit code", ErrInvalidPoint, r)
		}
	}
	return nil
}

// Rollup is the bucket size of a Series query.
type Rollup int

// Rollups. Buckets are aligned in the store's business time zone.
const (
	RollupNone Rollup = iota
	RollupHour
	RollupDay
	RollupMonth
)

func (r Rollup) String() string {
	switch r {
	case RollupNone:
		return "none"
	case RollupHour:
		return "hour"
	case RollupDay:
		return "day"
	case RollupMonth:
		return "month"
	}
	return fmt.Sprintf("Rollup(%d)", int(r))
}

// ParseRollup parses "none" (or ""), "hour", "day" and "month".
func ParseRollup(s string) (Rollup, error) {
	switch s {
	case "", "none":
		return RollupNone, nil
	case "hour":
		return RollupHour, nil
	case "day":
		return RollupDay, nil
	case "month":
		return RollupMonth, nil
	}
	return RollupNone, fmt.Errorf("store: unknown rollup %q", s)
}

// Bucket returns the start of the rollup bucket containing t in loc, and
// the start of the next bucket. For RollupNone both are t.
func Bucket(t time.Time, r Rollup, loc *time.Location) (start, next time.Time) {
	t = t.In(loc)
	switch r {
	case RollupHour:
		// Truncate on the absolute clock works for every zone whose offset is
		// a whole number of hours; do it in local terms to cover the others.
		start = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc)
		if start.After(t) { // DST edge: a repeated local hour
			start = t.Truncate(time.Hour)
		}
		return start, start.Add(time.Hour)
	case RollupDay:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		return start, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
	case RollupMonth:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
		return start, time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
	}
	return t, t
}

// LastPerBucket reduces ascending points to the last one of each bucket.
// It is the reference definition of a rollup; stores may compute it
// differently but must agree with it.
func LastPerBucket(points []Point, r Rollup, loc *time.Location) []Point {
	if r == RollupNone || len(points) == 0 {
		return points
	}
	out := points[:0:0]
	var curNext time.Time
	for i, p := range points {
		if i > 0 && p.Time.Before(curNext) {
			out[len(out)-1] = p
			continue
		}
		_, curNext = Bucket(p.Time, r, loc)
		out = append(out, p)
	}
	return out
}

// DefaultLocation returns the business time zone of the specification,
// Asia/Shanghai, or a fixed UTC+8 zone named "CST" when the time zone
// database is not available (China has kept UTC+8 without daylight saving
// since 1991, so both give the same buckets for any date a store accepts
// in practice).
func DefaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// ErrClosed is returned by a store after Close.
var ErrClosed = errors.New("store: closed")

// ErrUnavailable is wrapped by the errors of a store that cannot store
// points for now (its disk is full): nothing of the call was stored, and
// the same call may succeed later.
var ErrUnavailable = errors.New("store unavailable")

// Health is implemented by the stores that can tell whether a write would
// be stored now (store/embedded, store/influx), for a readiness check.
type Health interface {
	// Healthy returns nil when writes are stored, else why not, wrapping
	// ErrUnavailable (or ErrClosed). It is cheap enough for every /readyz
	// and clears by itself once the cause is gone.
	Healthy() error
}

// Healthy returns s.Healthy() when s implements Health, else nil.
func Healthy(s Store) error {
	if h, ok := s.(Health); ok {
		return h.Healthy()
	}
	return nil
}
