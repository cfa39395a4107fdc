package influx

import (
	"context"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/internal/benchload"
)

// These measure the InfluxDB store alone; scripts/bench-store measures it
// against the embedded store in the same run.

// BenchmarkWrite writes collection cycles of 1,403 townships × 14
// indicators until InfluxDB acknowledged every point.
func BenchmarkWrite(b *testing.B) {
	srv := sharedServer(b)
	s := openTest(b, Config{URL: srv.URL, Bucket: newDatabase(b, srv)})
	c := benchload.NewCycles(benchload.Regions(benchload.Townships), time.Now().Add(-time.Duration(b.N/19642+1)*5*time.Minute), 1)
	var buf []store.Point
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; n < b.N; {
		buf = c.Next(buf)
		if rest := b.N - n; rest < len(buf) {
			buf = buf[:rest]
		}
		if err := s.Write(ctx, buf); err != nil {
			b.Fatal(err)
		}
		n += len(buf)
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

func loaded(b *testing.B) (*Store, []string, time.Time) {
	srv := sharedServer(b)
	s := openTest(b, Config{URL: srv.URL, Bucket: newDatabase(b, srv)})
	regions := benchload.Regions(benchload.Townships)
	now := time.Now().Truncate(time.Minute)
	c := benchload.NewCycles(regions, now.Add(-12*5*time.Minute), 1)
	ctx := context.Background()
	var buf []store.Point
	for i := 0; i < 12; i++ {
		buf = c.Next(buf)
		if err := s.Write(ctx, buf); err != nil {
			b.Fatal(err)
		}
	}
	for _, h := range benchload.History(regions[0], now, 366, 2) {
		if err := s.Write(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return s, regions, now
}

// BenchmarkLatest1403 ranks one indicator over the 1,403 townships.
func BenchmarkLatest1403(b *testing.B) {
	s, regions, _ := loaded(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pts, err := s.Latest(ctx, store.Selector{Indicator: benchload.Indicators[i%14], Period: store.PeriodDay, Regions: regions})
		if err != nil || len(pts) != len(regions) {
			b.Fatal(len(pts), err)
		}
	}
}

// BenchmarkSeriesYearDaily reads a one-year daily trend from a year of
// hourly points.
func BenchmarkSeriesYearDaily(b *testing.B) {
	s, regions, now := loaded(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := store.SeriesKey{Indicator: benchload.Indicators[i%14], Region: regions[0], Period: store.PeriodDay}
		pts, err := s.Series(ctx, k, now.AddDate(0, 0, -365), now, store.RollupDay)
		if err != nil || len(pts) < 365 {
			b.Fatal(len(pts), err)
		}
	}
}
