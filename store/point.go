package store

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Periods a point may belong to. PeriodCatalog ("") is used by the catalog
// indicators, which have no period.
const (
	PeriodCatalog = ""
	PeriodDay     = "day"
	PeriodWeek    = "week"
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodYear    = "year"
)

// AllDepts is the Dept of a point that covers every department of its region.
const AllDepts = ""

// Time bounds accepted by every store (both ends exclusive of nothing: a
// point's Time must satisfy MinTime <= Time < MaxTime). InfluxDB stores
// nanoseconds since 1970 in an int64, and the embedded store orders keys by
// the same number, so both agree on this window.
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// SeriesKey identifies one time series: one indicator of one region (and
// department) for one period kind.
type SeriesKey struct {
	Indicator string // e.g. "on_time_rate"
	Region    string // GB/T 2260 code: 6 digits (province, city, county) or 9 (township)
	Dept      string // department or unit code; AllDepts ("") = all departments
	Period    string // day, week, month, quarter, year, or PeriodCatalog ("")
}

// String renders the key for logs and error messages.
func (k SeriesKey) String() string {
	return fmt.Sprintf("%s{region=%s,dept=%q,period=%q}", k.Indicator, k.Region, k.Dept, k.Period)
}

// Point is one observed value of one series.
//
// Value is not stored: it is derived from Numerator and Denominator (see
// Point.Value), so a stored point can never disagree with itself and null
// (denominator 0) stays distinct from 0 in every store.
type Point struct {
	Indicator string
	Region    string
	Dept      string
	Period    string
	// Time is when the value was observed (the "as of" of the computation).
	// Stores keep nanosecond precision and return it in their configured
	// location; compare with Time.Equal.
	Time time.Time
	// Numerator is the count (for counts, the value itself) or the rate's
	// numerator. Every numerator of the specification is an integer (counts,
	// and a sum of days for time_compression_ratio); a float64 is kept so
	// that derived figures such as a composite score fit too. Integral values
	// are stored exactly.
	Numerator float64
	// Denominator is meaningful only when HasDenominator is set. Counts have
	// none; a rate has one, and a rate whose Denominator is 0 has a null value.
	Denominator    int64
	HasDenominator bool
}

// Key returns the series the point belongs to.
func (p Point) Key() SeriesKey {
	return SeriesKey{Indicator: p.Indicator, Region: p.Region, Dept: p.Dept, Period: p.Period}
}

// Value returns the indicator value: Numerator for a count, Numerator /
// Denominator for a rate, and ok=false (null, shown "—") for a rate whose
// denominator is 0. It is never NaN.
func (p Point) Value() (v float64, ok bool) {
	if !p.HasDenominator {
		return p.Numerator, true
	}
	if p.Denominator == 0 {
		return 0, false
	}
	return p.Numerator / float64(p.Denominator), true
}

// SameValue reports whether p and q carry the same numerator and
// denominator (the time and the series are not compared).
func (p Point) SameValue(q Point) bool {
	if p.HasDenominator != q.HasDenominator {
		return false
	}
	if p.HasDenominator && p.Denominator != q.Denominator {
		return false
	}
	return p.Numerator == q.Numerator && math.Signbit(p.Numerator) == math.Signbit(q.Numerator)
}

// Count builds the point of a count indicator (no denominator).
func Count(key SeriesKey, t time.Time, n int64) Point {
	return Point{Indicator: key.Indicator, Region: key.Region, Dept: key.Dept, Period: key.Period,
		Time: t, Numerator: float64(n)}
}

// Ratio builds the point of a rate indicator.
func Ratio(key SeriesKey, t time.Time, num, den int64) Point {
	return Point{Indicator: key.Indicator, Region: key.Region, Dept: key.Dept, Period: key.Period,
		Time: t, Numerator: float64(num), Denominator: den, HasDenominator: true}
}

// ErrInvalidPoint is wrapped by the error returned for a point that fails
// Validate.
var ErrInvalidPoint = errors.New("invalid point")

// Validate checks a series key: indicator ids are [A-Za-z0-9_.-]{1,64},
// regions are GB/T 2260 codes of 6 or 9 digits, and periods are one of the
// Period constants. A department may be any string: it comes verbatim from
// the platforms' records (a 30-character Chinese name, quotes, "$",
// newlines), and a value the engine computed for it must be storable and
// readable, so every store encodes what its medium cannot hold as it is
// (store/influx: tags and Flux strings) rather than refusing it here.
func (k SeriesKey) Validate() error {
	if n := len(k.Indicator); n == 0 || n > 64 {
		return fmt.Errorf("%w: indicator %q must have 1 to 64 characters", ErrInvalidPoint, k.Indicator)
	}
	for _, c := range k.Indicator {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w: indicator %q has character %q", ErrInvalidPoint, k.Indicator, c)
		}
	}
	if !ValidRegion(k.Region) {
		return fmt.Errorf("%w: region %q is not a 6- or 9-digit code", ErrInvalidPoint, k.Region)
	}
	switch k.Period {
	case PeriodCatalog, PeriodDay, PeriodWeek, PeriodMonth, PeriodQuarter, PeriodYear:
	default:
		return fmt.Errorf("%w: period %q", ErrInvalidPoint, k.Period)
	}
	return nil
}

// ValidRegion reports whether s is a 6- or 9-digit region code.
func ValidRegion(s string) bool {
	if len(s) != 6 && len(s) != 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks the point: its key (SeriesKey.Validate), a time within
// [MinTime, MaxTime), a finite numerator and a non-negative denominator.
func (p Point) Validate() error {
	if err := p.Key().Validate(); err != nil {
		return err
	}
	if p.Time.Before(MinTime) || !p.Time.Before(MaxTime) {
		return fmt.Errorf("%w: %s: time %s outside [%s, %s)", ErrInvalidPoint, p.Key(), p.Time.Format(time.RFC3339Nano),
			MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	}
	if math.IsNaN(p.Numerator) || math.IsInf(p.Numerator, 0) {
		return fmt.Errorf("%w: %s: numerator %v is not finite", ErrInvalidPoint, p.Key(), p.Numerator)
	}
	if p.HasDenominator && p.Denominator < 0 {
		return fmt.Errorf("%w: %s: negative denominator %d", ErrInvalidPoint, p.Key(), p.Denominator)
	}
	if !p.HasDenominator && p.Denominator != 0 {
		return fmt.Errorf("%w: %s: denominator %d set without HasDenominator", ErrInvalidPoint, p.Key(), p.Denominator)
	}
	return nil
}

// ValidatePoints validates every point and returns the first error, naming
// the point's index.
func ValidatePoints(points []Point) error {
	for i := range points {
		if err := points[i].Validate(); err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
	}
	return nil
}
