package calendar

import (
	"math"
	"time"
)

const (
	secondsPerDay = 86400
	nanosPerSec   = int64(time.Second)
	// minMargin bounds a real zone's UTC offset (tzdata stays within
	// ±16 h); it lets StartOfDay start its search at an instant surely
	// before the day.
	minMargin = 26 * 3600
)

// zoneTable caches a location's UTC offsets over a span of instants, so that
// mapping an instant to its civil date costs a comparison or a binary
// search instead of a time.Time conversion. Outside the span it asks the
// time package, which gives the same answers, only slower.
type zoneTable struct {
	loc    *time.Location
	lo, hi int64   // the cached span of instants, unix seconds, [lo, hi)
	starts []int64 // period i has offset offs[i] over [starts[i], starts[i+1]) (hi for the last)
	offs   []int64
	// The longest period, checked first: for Asia/Shanghai every instant
	// since September 1991 (+08:00 after the DST years 1986–1991).
	hotLo, hotHi, hotOff int64
	// margin is at least the largest |offset| seen (a time.FixedZone may
	// have any offset).
	margin int64
}

func newZoneTable(loc *time.Location, lo, hi int64) zoneTable {
	z := zoneTable{loc: loc, lo: lo, hi: hi}
	for t := lo; t < hi; {
		_, end, off := zoneAt(loc, t)
		if n := len(z.offs); n == 0 || z.offs[n-1] != off {
			z.starts = append(z.starts, t)
			z.offs = append(z.offs, off)
		}
		t = end
	}
	z.margin = minMargin
	for i := range z.starts {
		z.margin = max(z.margin, z.offs[i], -z.offs[i])
		end := z.end(i)
		if end-z.starts[i] > z.hotHi-z.hotLo {
			z.hotLo, z.hotHi, z.hotOff = z.starts[i], end, z.offs[i]
		}
	}
	return z
}

// end returns the end of cached period i.
func (z *zoneTable) end(i int) int64 {
	if i+1 < len(z.starts) {
		return z.starts[i+1]
	}
	return z.hi
}

// period returns the UTC offset in effect at sec and an interval
// [start, end) around sec over which it holds. The interval may be a part
// of the zone's real period: callers only rely on the offset holding on it.
func (z *zoneTable) period(sec int64) (start, end, off int64) {
	if sec >= z.hotLo && sec < z.hotHi {
		return z.hotLo, z.hotHi, z.hotOff
	}
	if sec >= z.lo && sec < z.hi {
		i, j := 0, len(z.starts) // the last start ≤ sec, by binary search
		for j-i > 1 {
			h := int(uint(i+j) >> 1)
			if z.starts[h] <= sec {
				i = h
			} else {
				j = h
			}
		}
		return z.starts[i], z.end(i), z.offs[i]
	}
	return zoneAt(z.loc, sec)
}

// zoneAt asks the time package for the offset in effect at sec and the
// bounds of its period; end is always after sec.
//
// time.Time.ZoneBounds can return an end that is not after the instant:
// past a zone's last listed transition (2037 in tzdata) Go computes periods
// from the zone's rule one year at a time and, in a leap year, ends the
// last period of the year a day early, at 31 December (Europe/Berlin
// 2040-12-31; golang/go#81583). Then the next change is found by probing
// hour by hour.
func zoneAt(loc *time.Location, sec int64) (start, end, off int64) {
	tm := time.Unix(sec, 0).In(loc)
	_, o := tm.Zone()
	off = int64(o)
	s, e := tm.ZoneBounds()
	start, end = math.MinInt64, math.MaxInt64
	if !s.IsZero() {
		start = min(s.Unix(), sec)
	}
	if !e.IsZero() {
		end = e.Unix()
	}
	if end > sec {
		return start, end, off
	}
	offsetAt := func(sec int64) int64 {
		_, o := time.Unix(sec, 0).In(loc).Zone()
		return int64(o)
	}
	end = sec
	for range 48 {
		probe := end + 3600
		if offsetAt(probe) != off {
			lo, hi := end, probe // the change is in (lo, hi]
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if offsetAt(mid) == off {
					lo = mid
				} else {
					hi = mid
				}
			}
			return start, hi, off
		}
		end = probe
	}
	return start, end, off
}

// DayOf returns the civil date, in c's location, of the instant unixNano
// (nanoseconds since 1970-01-01T00:00:00Z).
func (c *Calendar) DayOf(unixNano int64) Date {
	sec := floorDiv(unixNano, nanosPerSec)
	z := &c.zone
	off := z.hotOff
	if sec < z.hotLo || sec >= z.hotHi {
		_, _, off = z.period(sec)
	}
	return Date(floorDiv(sec+off, secondsPerDay))
}

// StartOfDay returns the first instant, in unix nanoseconds, whose civil
// date in c's location is d or later: 00:00 of d as a rule. Where a DST
// change skips midnight it is the first instant of d that exists (01:00);
// where one repeats midnight, the earlier 00:00; for a day a zone skipped
// entirely (Pacific/Apia, 2011-12-30), the start of the next day. Instants
// beyond what int64 nanoseconds hold (before 1677, after 2262) saturate to
// math.MinInt64 or math.MaxInt64.
func (c *Calendar) StartOfDay(d Date) int64 {
	return c.startOfDay(int64(d))
}

// startOfDay takes an int64 day so that Deadline can ask for days beyond
// the range of Date and get a saturated answer.
func (c *Calendar) startOfDay(d int64) int64 {
	// Far beyond int64 nanoseconds (±292 years around 1970) either way;
	// this bound only keeps d*secondsPerDay from overflowing.
	const far = 1 << 40
	if d > far {
		return math.MaxInt64
	}
	if d < -far {
		return math.MinInt64
	}
	midnight := d * secondsPerDay
	z := &c.zone
	// Fast path: the hot period holds from before the earliest instant the
	// day could start at until after its midnight there.
	if t := midnight - z.hotOff; midnight-z.margin >= z.hotLo && t < z.hotHi {
		return toNanos(t)
	}
	// An instant t is on day d or later iff t+off ≥ midnight for the offset
	// off in effect at t. Walk the periods from surely before the day; the
	// first period that has such an instant holds the earliest one.
	for sec := midnight - z.margin; ; {
		start, end, off := z.period(sec)
		t := max(start, sec, midnight-off)
		if t < end {
			return toNanos(t)
		}
		sec = end
	}
}

// toNanos converts unix seconds to nanoseconds, saturating.
func toNanos(sec int64) int64 {
	switch {
	case sec > math.MaxInt64/nanosPerSec:
		return math.MaxInt64
	case sec < math.MinInt64/nanosPerSec:
		return math.MinInt64
	}
	return sec * nanosPerSec
}
