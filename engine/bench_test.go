package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// benchCases makes n cases spread over a month across 1,400 townships and
// 50 departments, with ids repeating so that some upserts replace.
func benchCases(n int, distinct int) []record.Case {
	rng := rand.New(rand.NewPCG(7, 8))
	loc := shanghai
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, loc).UnixNano()
	regions := make([]string, 1400)
	for i := range regions {
		regions[i] = fmt.Sprintf("62%02d%02d%03d", 1+i%14, 1+i%9, 1+i%20)
	}
	depts := make([]string, 50)
	for i := range depts {
		depts[i] = fmt.Sprintf("D%03d", i)
	}
	ids := make([]string, distinct)
	for i := range ids {
		ids[i] = fmt.Sprintf("C%d", i)
	}
	cs := make([]record.Case, n)
	for i := range cs {
		sub := start + rng.Int64N(int64(30*24*time.Hour))
		c := record.Case{ID: ids[i%distinct], Region: regions[rng.IntN(len(regions))], Dept: depts[rng.IntN(len(depts))],
			Channel: record.Channel(1 + rng.IntN(4)), Status: record.StatusClosed, FullOnline: rng.IntN(5) > 0,
			Submitted: sub, Accepted: sub + int64(time.Hour), Closed: sub + rng.Int64N(int64(10*24*time.Hour)), PromisedDays: int32(rng.IntN(10))}
		if rng.IntN(10) == 0 {
			c.Closed = record.Never
			c.Status = record.StatusAccepted
		}
		cs[i] = c
	}
	return cs
}

func benchUpsert(b *testing.B, periods []Period, retain *[NumPeriods]int32, distinct int) {
	cs := benchCases(1<<20, distinct)
	cal := calendar.Default(shanghai)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, shanghai).UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	e, _ := New(Config{Calendar: cal, Now: now, Periods: periods, Retain: retain})
	for i := 0; i < b.N; i += 1024 {
		j := i % len(cs)
		end := min(j+1024, len(cs))
		e.UpsertCases(cs[j:end])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
}

// BenchmarkUpsertLive is the server's incremental path: all five period
// kinds live, ids repeating so that a third of upserts replace a version.
func BenchmarkUpsertLive(b *testing.B) { benchUpsert(b, nil, nil, 700000) }

// BenchmarkUpsertCompute is the compute command's path: one period, no
// history.
func BenchmarkUpsertCompute(b *testing.B) {
	var none [NumPeriods]int32
	benchUpsert(b, []Period{Month}, &none, 1<<20)
}

// BenchmarkReplay is the naive peer of the incremental path: recomputing
// every indicator from all records after a change.
func BenchmarkReplay(b *testing.B) {
	cs := benchCases(1<<20, 1<<20)
	cal := calendar.Default(shanghai)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, shanghai).UnixNano()
	e, _ := New(Config{Calendar: cal, Now: now})
	e.UpsertCases(cs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Evaluate(now, Month, false)
	}
	b.ReportMetric(float64(len(cs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
