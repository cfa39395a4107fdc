// Package storetest is the contract test suite of store.Store. Every
// implementation runs it:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openForTest(t) })
//	}
//
// newStore must return an empty store whose business time zone is
// store.DefaultLocation() (Asia/Shanghai); the suite closes it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// Run runs the contract suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NullIsNotZero", testNullIsNotZero},
		{"LatestPerRegion", testLatestPerRegion},
		{"LatestDepts", testLatestDepts},
		{"AnyDept", testAnyDept},
		{"SeriesIsolation", testSeriesIsolation},
		{"OverwriteSameTime", testOverwrite},
		{"SeriesRange", testSeriesRange},
		{"Rollups", testRollups},
		{"AsOf", testAsOf},
		{"InvalidBatchWritesNothing", testInvalid},
		{"Bulk", testBulk},
		{"ConcurrentWriters", testConcurrent},
		{"Empty", testEmpty},
		{"CanceledContext", testCanceled},
		{"Close", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { _ = s.Close() })
			c.fn(t, s)
		})
	}
}

var loc = store.DefaultLocation()

// T returns a time in the business time zone.
func T(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, loc)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func write(t *testing.T, s store.Store, pts ...store.Point) {
	t.Helper()
	ctx := ctxT(t)
	if err := s.Write(ctx, pts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func key(ind, region string) store.SeriesKey {
	return store.SeriesKey{Indicator: ind, Region: region, Dept: "", Period: store.PeriodDay}
}

// Format renders a point for failure messages.
func Format(p store.Point) string {
	v, ok := p.Value()
	val := "null"
	if ok {
		val = fmt.Sprint(v)
	}
	den := "-"
	if p.HasDenominator {
		den = fmt.Sprint(p.Denominator)
	}
	return fmt.Sprintf("%s@%s num=%v den=%s value=%s", p.Key(), p.Time.UTC().Format(time.RFC3339Nano), p.Numerator, den, val)
}

// Equal reports whether two points are the same: same series, same instant,
// same numerator, same denominator presence and value.
func Equal(a, b store.Point) bool {
	return a.Key() == b.Key() && a.Time.Equal(b.Time) && a.SameValue(b)
}

// SamePoints fails t unless got and want hold the same points in the same order.
func SamePoints(t *testing.T, what string, got, want []store.Point) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = Equal(got[i], want[i])
	}
	if ok {
		return
	}
	msg := fmt.Sprintf("%s: got %d points, want %d", what, len(got), len(want))
	for i := 0; i < len(got) || i < len(want); i++ {
		g, w := "", ""
		if i < len(got) {
			g = Format(got[i])
		}
		if i < len(want) {
			w = Format(want[i])
		}
		mark := " "
		if g != w {
			mark = "!"
		}
		if i < 40 || mark == "!" {
			msg += fmt.Sprintf("\n%s got  %s\n%s want %s", mark, g, mark, w)
		}
		if i > 200 {
			msg += "\n..."
			break
		}
	}
	t.Fatal(msg)
}

func series(t *testing.T, s store.Store, k store.SeriesKey, from, to time.Time, r store.Rollup) []store.Point {
	t.Helper()
	pts, err := s.Series(ctxT(t), k, from, to, r)
	if err != nil {
		t.Fatalf("Series(%s, %s): %v", k, r, err)
	}
	return pts
}

func latest(t *testing.T, s store.Store, sel store.Selector) []store.Point {
	t.Helper()
	pts, err := s.Latest(ctxT(t), sel)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	return pts
}

func asOf(t *testing.T, s store.Store, sel store.Selector, at time.Time) []store.Point {
	t.Helper()
	pts, err := s.AsOf(ctxT(t), sel, at)
	if err != nil {
		t.Fatalf("AsOf: %v", err)
	}
	return pts
}

var (
	farPast   = T(2000, 1, 1, 0, 0, 0)
	farFuture = T(2100, 1, 1, 0, 0, 0)
)

func testRoundTrip(t *testing.T, s store.Store) {
	k := key("time_compression_ratio", "620800")
	t0 := T(2026, 3, 2, 9, 15, 0)
	pts := []store.Point{
		store.Ratio(k, t0, 1234, 1300),
		store.Ratio(k, t0.Add(time.Second), 0, 1300),
		store.Ratio(k, t0.Add(2*time.Second), 0, 0),
		{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Time: t0.Add(3*time.Second + 123456789), Numerator: 87.25},
		{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Time: t0.Add(4 * time.Second), Numerator: 1 << 52, Denominator: 1 << 53, HasDenominator: true},
		{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Time: t0.Add(5 * time.Second), Numerator: -3},
		{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Time: t0.Add(6 * time.Second), Numerator: 0.1 + 0.2},
		{Indicator: k.Indicator, Region: k.Region, Period: k.Period, Time: t0.Add(7 * time.Second), Numerator: 1e300, Denominator: 7, HasDenominator: true},
		store.Count(k, t0.Add(8*time.Second), 0),
	}
	write(t, s, pts...)
	got := series(t, s, k, farPast, farFuture, store.RollupNone)
	SamePoints(t, "Series", got, pts)
	for _, p := range got {
		if p.Time.Location().String() != loc.String() {
			t.Fatalf("Series returned time in %s, want the business zone %s", p.Time.Location(), loc)
		}
	}
	if l := latest(t, s, store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}}); len(l) != 1 || !Equal(l[0], pts[len(pts)-1]) {
		t.Fatalf("Latest = %v, want the last point", l)
	}
}

func testNullIsNotZero(t *testing.T, s store.Store) {
	t0 := T(2026, 5, 1, 12, 0, 0)
	nullRate := store.Ratio(key("answer_rate", "620100"), t0, 0, 0)
	zeroRate := store.Ratio(key("answer_rate", "620200"), t0, 0, 10)
	zeroCount := store.Count(key("answer_rate", "620300"), t0, 0)
	write(t, s, nullRate, zeroRate, zeroCount)
	got := latest(t, s, store.Selector{Indicator: "answer_rate", Period: store.PeriodDay, Regions: []string{"620100", "620200", "620300"}})
	SamePoints(t, "Latest", got, []store.Point{nullRate, zeroRate, zeroCount})
	if _, ok := got[0].Value(); ok || !got[0].HasDenominator || got[0].Denominator != 0 {
		t.Errorf("rate with denominator 0: got %s, want null value", Format(got[0]))
	}
	if v, ok := got[1].Value(); !ok || v != 0 {
		t.Errorf("rate 0/10: got %s, want value 0", Format(got[1]))
	}
	if v, ok := got[2].Value(); !ok || v != 0 || got[2].HasDenominator {
		t.Errorf("count 0: got %s, want value 0 and no denominator", Format(got[2]))
	}
	got = asOf(t, s, store.Selector{Indicator: "answer_rate", Period: store.PeriodDay, Regions: []string{"620100", "620200", "620300"}}, t0)
	SamePoints(t, "AsOf", got, []store.Point{nullRate, zeroRate, zeroCount})
}

func testLatestPerRegion(t *testing.T, s store.Store) {
	regions := []string{"620102001", "620102002", "620102003", "620102004"}
	t0 := T(2026, 6, 30, 8, 0, 0)
	var pts []store.Point
	want := map[string]store.Point{}
	for i, r := range regions[:3] {
		for j := 0; j < 3; j++ {
			p := store.Ratio(key("on_time_rate", r), t0.Add(time.Duration(j)*time.Hour), int64(10*i+j), 100)
			pts = append(pts, p)
			want[r] = p
		}
	}
	// Written newest first: order of writes must not matter.
	sort.Slice(pts, func(i, j int) bool { return pts[i].Time.After(pts[j].Time) })
	write(t, s, pts...)
	// An older point written later does not become the latest.
	write(t, s, store.Ratio(key("on_time_rate", regions[0]), t0.Add(-time.Hour), 99, 100))
	sel := store.Selector{Indicator: "on_time_rate", Period: store.PeriodDay,
		Regions: []string{regions[2], regions[3], regions[0], regions[1]}}
	got := latest(t, s, sel)
	SamePoints(t, "Latest (selector order, missing omitted)", got, []store.Point{want[regions[2]], want[regions[0]], want[regions[1]]})
}

func testLatestDepts(t *testing.T, s store.Store) {
	t0 := T(2026, 6, 1, 10, 0, 0)
	mk := func(r, d string, n int64, dt time.Duration) store.Point {
		return store.Ratio(store.SeriesKey{Indicator: "satisfaction_rate", Region: r, Dept: d, Period: store.PeriodMonth}, t0.Add(dt), n, 50)
	}
	pts := []store.Point{
		mk("620800", "", 40, 0), mk("620800", "", 41, time.Minute),
		mk("620800", "D01", 10, 0), mk("620800", "D02", 11, 0), mk("620800", "D02", 12, time.Minute),
		mk("620802", "D01", 13, 0), mk("620802", "公安局", 14, 0),
	}
	write(t, s, pts...)
	got := latest(t, s, store.Selector{Indicator: "satisfaction_rate", Period: store.PeriodMonth, Regions: []string{"620800"}, Depts: []string{"D02", "D01", "D03"}})
	SamePoints(t, "Latest by dept", got, []store.Point{pts[4], pts[2]})
	got = latest(t, s, store.Selector{Indicator: "satisfaction_rate", Period: store.PeriodMonth, Regions: []string{"620800", "620802"}})
	SamePoints(t, "Latest all depts", got, []store.Point{pts[1]})
	got = latest(t, s, store.Selector{Indicator: "satisfaction_rate", Period: store.PeriodMonth, Regions: []string{"620800", "620802"}, Depts: []string{"D01", "公安局"}})
	SamePoints(t, "Latest region x dept", got, []store.Point{pts[2], pts[5], pts[6]})
}

// OddDepts returns department names as platforms' records may carry them,
// which every store must hold and give back unchanged: long Chinese names
// (a 24-character one is 72 bytes), quotes, backslashes and "$" (special
// in Flux strings), the separators and escapes of InfluxDB line protocol,
// control characters, the stores' own markers ("-" for all departments,
// "$" and "%" of an escaped tag, NUL of a key), invalid UTF-8 and a name
// longer than any tag.
func OddDepts() []string {
	return []string{
		"甘肃省张掖市甘州区行政审批服务局政务服务中心窗口", // 24 characters
		"甘肃省酒泉市肃州区人力资源和社会保障局社会保险事业管理中心窗口一科",
		`'`, `"`, `\`, `$`, `' " \ $`, `a\`, `\,`, `${x}`, "$$", "$-", "$%41",
		"a b", " lead", "trail ", "a,b", "a=b", "a,b=c d", "#1",
		"a\nb", "\n", "tab\tx", "nul\x00x", "x\x00", "\x7f", "\r\n",
		"-", "--", "%", "%2D", "{}", "\ufffd", "\xff\xfe", "公安局\x80",
		strings.Repeat("长", 2000), strings.Repeat("长", 2000) + "!",
	}
}

// testAnyDept: a by-department ranking of a region whose departments have
// odd names answers (never an error) with every one of them, each series
// apart from the others.
func testAnyDept(t *testing.T, s store.Store) {
	depts := OddDepts()
	t0 := T(2026, 11, 23, 9, 0, 0)
	regions := []string{"620702", "620702001"}
	mk := func(r, d string, i int, dt time.Duration) store.Point {
		return store.Ratio(store.SeriesKey{Indicator: "on_time_rate", Region: r, Dept: d, Period: store.PeriodWeek}, t0.Add(dt), int64(i), 1000)
	}
	var pts, first, last []store.Point
	for ri, r := range regions {
		for di, d := range append([]string{store.AllDepts}, depts...) {
			i := 100*ri + di
			a, b := mk(r, d, i, 0), mk(r, d, 10000+i, time.Hour)
			pts = append(pts, a, b)
			first, last = append(first, a), append(last, b)
		}
	}
	write(t, s, pts...)
	sel := store.Selector{Indicator: "on_time_rate", Period: store.PeriodWeek, Regions: regions,
		Depts: append(append([]string{store.AllDepts}, depts...), "no such department")}
	SamePoints(t, "Latest by odd dept", latest(t, s, sel), last)
	SamePoints(t, "AsOf by odd dept", asOf(t, s, sel, t0.Add(time.Minute)), first)
	for i := range first {
		k := first[i].Key()
		SamePoints(t, "Series "+k.String(), series(t, s, k, farPast, farFuture, store.RollupNone), []store.Point{first[i], last[i]})
		if i%7 == 0 {
			SamePoints(t, "daily Series "+k.String(), series(t, s, k, farPast, farFuture, store.RollupDay), []store.Point{last[i]})
		}
	}
}

func testSeriesIsolation(t *testing.T, s store.Store) {
	t0 := T(2026, 1, 10, 10, 0, 0)
	base := store.SeriesKey{Indicator: "case_volume", Region: "620000", Dept: "", Period: store.PeriodDay}
	variants := []store.SeriesKey{base}
	for _, f := range []func(k *store.SeriesKey){
		func(k *store.SeriesKey) { k.Indicator = "case_volume2" },
		func(k *store.SeriesKey) { k.Indicator = "case_volum" },
		func(k *store.SeriesKey) { k.Region = "620001" },
		func(k *store.SeriesKey) { k.Region = "620000001" },
		func(k *store.SeriesKey) { k.Dept = "D1" },
		func(k *store.SeriesKey) { k.Period = store.PeriodMonth },
		func(k *store.SeriesKey) { k.Period = store.PeriodCatalog },
		func(k *store.SeriesKey) { k.Period = store.PeriodYear },
	} {
		k := base
		f(&k)
		variants = append(variants, k)
	}
	var pts []store.Point
	for i, k := range variants {
		pts = append(pts, store.Count(k, t0, int64(i+1)), store.Count(k, t0.Add(time.Duration(i+1)*time.Minute), int64(100+i)))
	}
	write(t, s, pts...)
	for i, k := range variants {
		got := series(t, s, k, farPast, farFuture, store.RollupNone)
		SamePoints(t, "Series "+k.String(), got, pts[2*i:2*i+2])
		l := latest(t, s, store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}, Depts: []string{k.Dept}})
		SamePoints(t, "Latest "+k.String(), l, pts[2*i+1:2*i+2])
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	k := key("direct_rate", "620500")
	t0 := T(2026, 2, 3, 4, 5, 6)
	write(t, s, store.Ratio(k, t0, 1, 2), store.Ratio(k, t0.Add(time.Minute), 5, 9))
	write(t, s, store.Ratio(k, t0, 3, 4))
	// Rewriting an identical point (a replay) changes nothing.
	write(t, s, store.Ratio(k, t0.Add(time.Minute), 5, 9), store.Ratio(k, t0.Add(time.Minute), 5, 9))
	// Same time with a different shape: the last write wins whole.
	write(t, s, store.Count(k, t0.Add(2*time.Minute), 7))
	write(t, s, store.Ratio(k, t0.Add(2*time.Minute), 0, 0))
	got := series(t, s, k, farPast, farFuture, store.RollupNone)
	want := []store.Point{store.Ratio(k, t0, 3, 4), store.Ratio(k, t0.Add(time.Minute), 5, 9), store.Ratio(k, t0.Add(2*time.Minute), 0, 0)}
	SamePoints(t, "Series after overwrite", got, want)
	SamePoints(t, "Latest after overwrite", latest(t, s, store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}}), want[2:])
}

func testSeriesRange(t *testing.T, s store.Store) {
	k := key("ticket_volume", "620600")
	t0 := T(2026, 4, 1, 0, 0, 0)
	var pts []store.Point
	for i := 0; i < 48; i++ {
		pts = append(pts, store.Count(k, t0.Add(time.Duration(i)*30*time.Minute), int64(i*i)))
	}
	// Written in reverse: results are ascending anyway.
	rev := append([]store.Point(nil), pts...)
	sort.Slice(rev, func(i, j int) bool { return rev[i].Time.After(rev[j].Time) })
	write(t, s, rev...)
	SamePoints(t, "inclusive range", series(t, s, k, pts[3].Time, pts[10].Time, store.RollupNone), pts[3:11])
	SamePoints(t, "range between points", series(t, s, k, pts[3].Time.Add(time.Nanosecond), pts[10].Time.Add(-time.Nanosecond), store.RollupNone), pts[4:10])
	SamePoints(t, "single instant", series(t, s, k, pts[7].Time, pts[7].Time, store.RollupNone), pts[7:8])
	if got := series(t, s, k, pts[10].Time, pts[3].Time, store.RollupNone); len(got) != 0 {
		t.Fatalf("from > to: got %d points, want none", len(got))
	}
	SamePoints(t, "whole", series(t, s, k, farPast, farFuture, store.RollupNone), pts)
}

func testRollups(t *testing.T, s store.Store) {
	k := key("answer_15s_rate", "620700")
	// Local times chosen at bucket edges: 23:30 and 00:10 local are the same
	// UTC day (15:30Z, 16:10Z), Jan 31 and Feb 1 local straddle a month.
	times := []time.Time{
		T(2026, 1, 30, 10, 5, 0), T(2026, 1, 30, 10, 55, 0), T(2026, 1, 30, 11, 0, 0),
		T(2026, 1, 30, 23, 30, 0), T(2026, 1, 31, 0, 10, 0), T(2026, 1, 31, 23, 59, 59),
		T(2026, 2, 1, 0, 0, 0), T(2026, 2, 1, 0, 0, 1), T(2026, 2, 14, 8, 0, 0),
		T(2026, 3, 1, 7, 0, 0), T(2026, 12, 31, 23, 0, 0), T(2027, 1, 1, 1, 0, 0),
	}
	var pts []store.Point
	for i, tm := range times {
		pts = append(pts, store.Ratio(k, tm, int64(i), 20))
	}
	write(t, s, pts...)
	for _, r := range []store.Rollup{store.RollupNone, store.RollupHour, store.RollupDay, store.RollupMonth} {
		got := series(t, s, k, farPast, farFuture, r)
		SamePoints(t, "rollup "+r.String(), got, store.LastPerBucket(append([]store.Point(nil), pts...), r, loc))
		// A range that cuts buckets: only points inside the range count.
		from, to := times[1], times[7]
		var in []store.Point
		for _, p := range pts {
			if !p.Time.Before(from) && !p.Time.After(to) {
				in = append(in, p)
			}
		}
		got = series(t, s, k, from, to, r)
		SamePoints(t, "rollup "+r.String()+" in range", got, store.LastPerBucket(in, r, loc))
	}
	// Day buckets follow the business zone, not UTC.
	days := series(t, s, k, T(2026, 1, 30, 0, 0, 0), T(2026, 1, 31, 12, 0, 0), store.RollupDay)
	SamePoints(t, "local days", days, []store.Point{pts[3], pts[4]})
}

func testAsOf(t *testing.T, s store.Store) {
	t0 := T(2026, 6, 15, 9, 0, 0)
	a, b := key("case_volume", "620100"), key("case_volume", "620200")
	pa := []store.Point{store.Count(a, t0, 1), store.Count(a, t0.Add(time.Hour), 2), store.Count(a, t0.Add(48*time.Hour), 3)}
	pb := []store.Point{store.Count(b, t0.Add(30*time.Minute), 10)}
	write(t, s, append(pa, pb...)...)
	sel := store.Selector{Indicator: "case_volume", Period: store.PeriodDay, Regions: []string{"620100", "620200", "620300"}}
	if got := asOf(t, s, sel, t0.Add(-time.Nanosecond)); len(got) != 0 {
		t.Fatalf("AsOf before any point: got %v", got)
	}
	SamePoints(t, "AsOf exact", asOf(t, s, sel, t0), pa[:1])
	SamePoints(t, "AsOf between", asOf(t, s, sel, t0.Add(59*time.Minute)), []store.Point{pa[0], pb[0]})
	SamePoints(t, "AsOf exact later", asOf(t, s, sel, t0.Add(time.Hour)), []store.Point{pa[1], pb[0]})
	SamePoints(t, "AsOf much later", asOf(t, s, sel, t0.Add(47*time.Hour)), []store.Point{pa[1], pb[0]})
	SamePoints(t, "AsOf future", asOf(t, s, sel, farFuture), []store.Point{pa[2], pb[0]})
	SamePoints(t, "AsOf far future = Latest", latest(t, s, sel), []store.Point{pa[2], pb[0]})
}

func testInvalid(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	t0 := T(2026, 1, 1, 0, 0, 0)
	good := store.Count(key("case_volume", "620100"), t0, 1)
	bad := []store.Point{
		{Indicator: "", Region: "620100", Time: t0},
		{Indicator: "x y", Region: "620100", Time: t0},
		{Indicator: "x", Region: "62010", Time: t0},
		{Indicator: "x", Region: "6201000001", Time: t0},
		{Indicator: "x", Region: "62010a", Time: t0},
		{Indicator: "x", Region: "620100", Period: "hour", Time: t0},
		{Indicator: "x", Region: "620100"},
		{Indicator: "x", Region: "620100", Time: t0, Numerator: math.NaN()},
		{Indicator: "x", Region: "620100", Time: t0, Numerator: math.Inf(1)},
		{Indicator: "x", Region: "620100", Time: t0, Denominator: -1, HasDenominator: true},
		{Indicator: "x", Region: "620100", Time: t0, Denominator: 3},
	}
	for i, b := range bad {
		err := s.Write(ctx, []store.Point{good, b})
		if !errors.Is(err, store.ErrInvalidPoint) {
			t.Errorf("bad point %d (%+v): err = %v, want ErrInvalidPoint", i, b, err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := series(t, s, good.Key(), farPast, farFuture, store.RollupNone); len(got) != 0 {
		t.Fatalf("a rejected batch wrote %d points", len(got))
	}
	if _, err := s.Latest(ctx, store.Selector{Indicator: "x", Period: store.PeriodDay, Regions: []string{"bad"}}); !errors.Is(err, store.ErrInvalidPoint) {
		t.Errorf("Latest with a bad region: err = %v, want ErrInvalidPoint", err)
	}
	if _, err := s.Series(ctx, store.SeriesKey{Indicator: "x", Region: "1"}, t0, t0, store.RollupNone); !errors.Is(err, store.ErrInvalidPoint) {
		t.Errorf("Series with a bad key: err = %v, want ErrInvalidPoint", err)
	}
}

// bulkRegions returns n synthetic township codes.
func bulkRegions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("62%02d%02d%03d", 1+i/1000, 1+(i/100)%10, 1+i%100)
	}
	return out
}

func testBulk(t *testing.T, s store.Store) {
	regions := bulkRegions(300)
	inds := []string{"case_volume", "on_time_rate", "answer_rate"}
	t0 := T(2026, 7, 1, 0, 0, 0)
	const steps = 6
	var all []store.Point
	for step := 0; step < steps; step++ {
		var batch []store.Point
		for _, ind := range inds {
			for i, r := range regions {
				p := store.Ratio(key(ind, r), t0.Add(time.Duration(step)*5*time.Minute), int64(i+step), int64(1000+step))
				if ind == "case_volume" {
					p = store.Count(key(ind, r), p.Time, int64(i*step))
				}
				batch = append(batch, p)
			}
		}
		ctx := ctxT(t)
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
	}
	if err := s.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, ind := range inds {
		got := latest(t, s, store.Selector{Indicator: ind, Period: store.PeriodDay, Regions: regions})
		want := all[len(all)-len(inds)*len(regions):]
		var w []store.Point
		for _, p := range want {
			if p.Indicator == ind {
				w = append(w, p)
			}
		}
		SamePoints(t, "Latest "+ind, got, w)
		at := asOf(t, s, store.Selector{Indicator: ind, Period: store.PeriodDay, Regions: regions}, t0.Add(12*time.Minute))
		if len(at) != len(regions) {
			t.Fatalf("AsOf %s: %d points, want %d", ind, len(at), len(regions))
		}
		for _, p := range at {
			if !p.Time.Equal(t0.Add(10 * time.Minute)) {
				t.Fatalf("AsOf %s: %s, want time %s", ind, Format(p), t0.Add(10*time.Minute))
			}
		}
	}
	for _, r := range []string{regions[0], regions[len(regions)/2], regions[len(regions)-1]} {
		got := series(t, s, key("answer_rate", r), farPast, farFuture, store.RollupNone)
		if len(got) != steps {
			t.Fatalf("Series %s: %d points, want %d", r, len(got), steps)
		}
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const writers, per = 4, 50
	t0 := T(2026, 8, 1, 0, 0, 0)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			k := key("call_volume", fmt.Sprintf("6201%02d", w))
			for i := 0; i < per; i++ {
				if err := s.Write(context.Background(), []store.Point{store.Count(k, t0.Add(time.Duration(i)*time.Second), int64(i))}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		k := key("call_volume", fmt.Sprintf("6201%02d", w))
		if got := series(t, s, k, farPast, farFuture, store.RollupNone); len(got) != per {
			t.Fatalf("writer %d: %d points, want %d", w, len(got), per)
		}
	}
}

func testEmpty(t *testing.T, s store.Store) {
	write(t, s, store.Count(key("case_volume", "620100"), T(2026, 1, 1, 0, 0, 0), 1))
	sel := store.Selector{Indicator: "no_such_indicator", Period: store.PeriodDay, Regions: []string{"620100"}}
	if got := latest(t, s, sel); len(got) != 0 {
		t.Errorf("Latest of an unknown indicator: %v", got)
	}
	if got := asOf(t, s, sel, farFuture); len(got) != 0 {
		t.Errorf("AsOf of an unknown indicator: %v", got)
	}
	if got := latest(t, s, store.Selector{Indicator: "case_volume", Period: store.PeriodDay}); len(got) != 0 {
		t.Errorf("Latest with no regions: %v", got)
	}
	if got := series(t, s, key("no_such_indicator", "620100"), farPast, farFuture, store.RollupDay); len(got) != 0 {
		t.Errorf("Series of an unknown series: %v", got)
	}
	if err := s.Write(ctxT(t), nil); err != nil {
		t.Errorf("Write(nil): %v", err)
	}
}

func testCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := key("case_volume", "620100")
	sel := store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}}
	if err := s.Write(ctx, []store.Point{store.Count(k, T(2026, 1, 1, 0, 0, 0), 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Write: err = %v, want context.Canceled", err)
	}
	if _, err := s.Latest(ctx, sel); !errors.Is(err, context.Canceled) {
		t.Errorf("Latest: err = %v, want context.Canceled", err)
	}
	if _, err := s.AsOf(ctx, sel, farFuture); !errors.Is(err, context.Canceled) {
		t.Errorf("AsOf: err = %v, want context.Canceled", err)
	}
	if _, err := s.Series(ctx, k, farPast, farFuture, store.RollupNone); !errors.Is(err, context.Canceled) {
		t.Errorf("Series: err = %v, want context.Canceled", err)
	}
}

func testClose(t *testing.T, s store.Store) {
	k := key("case_volume", "620100")
	write(t, s, store.Count(k, T(2026, 1, 1, 0, 0, 0), 1))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Write(context.Background(), []store.Point{store.Count(k, T(2026, 1, 2, 0, 0, 0), 1)}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Write after Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Latest(context.Background(), store.Selector{Indicator: k.Indicator, Period: k.Period, Regions: []string{k.Region}}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Latest after Close: err = %v, want ErrClosed", err)
	}
}
