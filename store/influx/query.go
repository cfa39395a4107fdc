package influx

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// fluxTime renders t as a Flux time literal.
func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fluxString renders s as a Flux string literal. Validated indicators,
// regions and periods and every dept tag (deptTag) hold no "${", so quotes
// and backslashes are all there is to escape.
func fluxString(s string) string { return `"` + fluxEscaper.Replace(s) + `"` }

var fluxEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// row is one point read back from Flux.
type row struct {
	region, dept string // dept is the tag (deptTag), not decoded
	t            time.Time
	num          float64
	den          int64
	hasDen       bool
	hasNum       bool
}

const fieldFilter = `r._field == "numerator" or r._field == "denominator" or r._field == "has_denominator"`

// maxInlineValues is the most regions (or departments) named in a Flux
// filter; longer lists are filtered after the query, which InfluxDB answers
// faster than a long chain of comparisons.
const maxInlineValues = 32

func orChain(col string, vals []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = "r." + col + " == " + fluxString(v)
	}
	return "(" + strings.Join(parts, " or ") + ")"
}

func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	return ctx, cancel, nil
}

// runFlux runs a query whose result is pivoted rows.
func (s *Store) runFlux(ctx context.Context, q string) ([]row, error) {
	res, err := s.query.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("influx: query: %w", err)
	}
	defer res.Close()
	var rows []row
	for res.Next() {
		rec := res.Record()
		r := row{t: rec.Time()}
		if v, ok := rec.ValueByKey("region").(string); ok {
			r.region = v
		}
		if v, ok := rec.ValueByKey("dept").(string); ok {
			r.dept = v
		}
		if v, ok := rec.ValueByKey("numerator").(float64); ok {
			r.num, r.hasNum = v, true
		}
		if v, ok := rec.ValueByKey("denominator").(int64); ok {
			r.den = v
		}
		if v, ok := rec.ValueByKey("has_denominator").(bool); ok {
			r.hasDen = v
		}
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("influx: query: %w", err)
	}
	return rows, nil
}

func (s *Store) point(k store.SeriesKey, r row) store.Point {
	p := store.Point{Indicator: k.Indicator, Region: k.Region, Dept: k.Dept, Period: k.Period,
		Time: r.t.In(s.cfg.Location), Numerator: r.num}
	if r.hasDen {
		p.Denominator, p.HasDenominator = r.den, true
	}
	return p
}

// Latest implements store.Store.
func (s *Store) Latest(ctx context.Context, sel store.Selector) ([]store.Point, error) {
	return s.lastAt(ctx, sel, store.MaxTime.Add(-1), "latest")
}

// lookbackStart is where the first, bounded look-up of lastAt starts: a
// LatestLookback before t, or before now for Latest (t = MaxTime).
func (s *Store) lookbackStart(t time.Time) time.Time {
	if s.cfg.LatestLookback <= 0 {
		return store.MinTime
	}
	end := t
	if now := time.Now(); end.After(now) {
		end = now
	}
	if start := end.Add(-s.cfg.LatestLookback); start.After(store.MinTime) {
		return start
	}
	return store.MinTime
}

// AsOf implements store.Store.
func (s *Store) AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error) {
	if !t.Before(store.MaxTime) {
		t = store.MaxTime.Add(-1)
	}
	return s.lastAt(ctx, sel, t, "as of")
}

// lastAt finds the last point at or before t of each selected series. The
// explicit filter on _time is there because InfluxDB 1.8's range treats its
// stop as inclusive (2.x as exclusive). The look-up runs first
// over [t-LatestLookback, t], then over all time for the series not found.
func (s *Store) lastAt(ctx context.Context, sel store.Selector, t time.Time, what string) ([]store.Point, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	keys := sel.Keys()
	out := make([]store.Point, 0, len(keys))
	if len(keys) == 0 || t.Before(store.MinTime) {
		return out, nil
	}
	type rd struct{ region, dept string }
	found := make(map[rd]row, len(keys))
	wantRegion := make(map[string]bool, len(sel.Regions))
	for _, r := range sel.Regions {
		wantRegion[r] = true
	}
	// Rows are matched to departments by tag: a long department's tag is
	// a hash, which does not decode.
	wantDept := make(map[string]bool)
	tagOf := make(map[string]string)
	for _, d := range sel.DeptList() {
		tagOf[d] = deptTag(d)
		wantDept[tagOf[d]] = true
	}
	timeFilter := "" // Latest: nothing is after MaxTime
	if t.Before(store.MaxTime.Add(-1)) {
		timeFilter = "\n  |> filter(fn: (r) => r._time <= " + fluxTime(t) + ")"
	}
	query := func(start time.Time, regions, depts []string) error {
		filter := fmt.Sprintf(`r._measurement == %s and r.indicator == %s and r.period == %s`,
			fluxString(s.cfg.Measurement), fluxString(sel.Indicator), fluxString(tagValue(sel.Period)))
		if len(regions) <= maxInlineValues {
			filter += " and " + orChain("region", regions)
		}
		if len(depts) <= maxInlineValues {
			td := make([]string, len(depts))
			for i, d := range depts {
				td[i] = tagOf[d]
			}
			filter += " and " + orChain("dept", td)
		}
		q := fmt.Sprintf(`from(bucket: %s)
  |> range(start: %s, stop: %s)
  |> filter(fn: (r) => %s)
  |> filter(fn: (r) => %s)%s
  |> last()
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> keep(columns: ["_time", "region", "dept", "numerator", "denominator", "has_denominator"])`,
			fluxString(s.cfg.Bucket), fluxTime(start), fluxTime(t.Add(time.Nanosecond)), filter, fieldFilter, timeFilter)
		rows, err := s.runFlux(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, r := range rows {
			if !r.hasNum || !wantRegion[r.region] || !wantDept[r.dept] {
				continue
			}
			k := rd{r.region, r.dept}
			if prev, ok := found[k]; !ok || r.t.After(prev.t) {
				found[k] = r
			}
		}
		return nil
	}
	start := s.lookbackStart(t)
	if err := query(start, sel.Regions, sel.DeptList()); err != nil {
		return nil, err
	}
	if start.After(store.MinTime) {
		// Series without a point in the look-back window: search all time.
		var regions, depts []string
		seenR, seenD := map[string]bool{}, map[string]bool{}
		for _, k := range keys {
			if _, ok := found[rd{k.Region, tagOf[k.Dept]}]; ok {
				continue
			}
			if !seenR[k.Region] {
				seenR[k.Region] = true
				regions = append(regions, k.Region)
			}
			if !seenD[k.Dept] {
				seenD[k.Dept] = true
				depts = append(depts, k.Dept)
			}
		}
		if len(regions) > 0 {
			older := make(map[rd]row)
			saved := found
			found = older
			if err := query(store.MinTime, regions, depts); err != nil {
				return nil, err
			}
			found = saved
			for k, r := range older {
				if _, ok := found[k]; !ok {
					found[k] = r
				}
			}
		}
	}
	for _, k := range keys {
		if r, ok := found[rd{k.Region, tagOf[k.Dept]}]; ok {
			out = append(out, s.point(k, r))
		}
	}
	return out, nil
}

// Series implements store.Store. Hour and day rollups are computed by
// InfluxDB (window + last, with the zone's offset when it is fixed over the
// range); months from InfluxDB's days. The buckets are then recomputed here
// with the store's calendar, which gives the same answer as the embedded
// store in every time zone.
func (s *Store) Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	if rollup < store.RollupNone || rollup > store.RollupMonth {
		return nil, fmt.Errorf("influx: unknown rollup %d", rollup)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if to.Before(from) || to.Before(store.MinTime) || !from.Before(store.MaxTime) {
		return []store.Point{}, nil
	}
	if from.Before(store.MinTime) {
		from = store.MinTime
	}
	if !to.Before(store.MaxTime) {
		to = store.MaxTime.Add(-1)
	}
	window := ""
	if rollup != store.RollupNone {
		every := time.Hour
		if rollup != store.RollupHour {
			every = 24 * time.Hour
		}
		_, off1 := from.In(s.cfg.Location).Zone()
		_, off2 := to.In(s.cfg.Location).Zone()
		if off1 != off2 || (every == time.Hour && off1%3600 != 0) {
			every = time.Hour // the offset changes in the range: let InfluxDB reduce to hours only
			if off1%3600 != 0 || off2%3600 != 0 {
				every = 0
			}
		}
		if every > 0 {
			offset := ((-time.Duration(off1)*time.Second)%every + every) % every
			window = fmt.Sprintf("\n  |> window(every: %ds, offset: %ds)\n  |> last()\n  |> group(columns: [\"_field\"])",
				int64(every/time.Second), int64(offset/time.Second))
		}
	}
	q := fmt.Sprintf(`from(bucket: %s)
  |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == %s and r.indicator == %s and r.region == %s and r.dept == %s and r.period == %s)
  |> filter(fn: (r) => %s)%s
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> keep(columns: ["_time", "numerator", "denominator", "has_denominator"])`,
		fluxString(s.cfg.Bucket), fluxTime(from), fluxTime(to.Add(time.Nanosecond)),
		fluxString(s.cfg.Measurement), fluxString(key.Indicator), fluxString(key.Region),
		fluxString(deptTag(key.Dept)), fluxString(tagValue(key.Period)), fieldFilter, window)
	rows, err := s.runFlux(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("series %s: %w", key, err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].t.Before(rows[j].t) })
	out := make([]store.Point, 0, len(rows))
	for _, r := range rows {
		// InfluxDB 1.8 treats range's stop as inclusive; 2.x does not.
		if !r.hasNum || r.t.Before(from) || r.t.After(to) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Time.Equal(r.t) {
			out[n-1] = s.point(key, r)
			continue
		}
		out = append(out, s.point(key, r))
	}
	return store.LastPerBucket(out, rollup, s.cfg.Location), nil
}
