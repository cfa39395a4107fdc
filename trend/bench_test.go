package trend

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// envInt reads a benchmark knob.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// BenchmarkSurges replays the demo platform's hotline over simulated weeks
// and reports, per detector, the injected surges found, the delay from a
// surge's start to the first alarm on its county's series, the false
// alarms per day and the time of a Surges call. Run it with
// scripts/bench-trend (or go test -run '^$' -bench Surges -benchtime 1x
// ./trend); TREND_WEEKS (8), TREND_SEED (1), TREND_STEP_MINUTES (10).
func BenchmarkSurges(b *testing.B) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	sim := simulation{
		seed:     int64(envInt(b, "TREND_SEED", 1)),
		from:     time.Date(2026, 3, 2, 0, 0, 0, 0, loc), // a Monday; warm-up over the Spring Festival, Qingming in the weeks judged
		warmDays: 35,
		days:     7 * envInt(b, "TREND_WEEKS", 8),
		step:     time.Duration(envInt(b, "TREND_STEP_MINUTES", 10)) * time.Minute,
		configs: []Config{
			{Method: EARSC1}, {Method: EARSC1, Threshold: 5}, {Method: EARSC1, Threshold: 8}, {Method: EARSC1, Threshold: 10}, {Method: EARSC1, Threshold: 12},
			{Method: EARSC2}, {Method: EARSC2, Threshold: 8},
			{Method: EARSC3}, {Method: EARSC3, Threshold: 3},
			{Method: NBCUSUM, Shift: 2, Threshold: 5}, {Method: NBCUSUM, Shift: 2, Threshold: 8}, {Method: NBCUSUM, Shift: 2, Threshold: 10},
			{Method: NBCUSUM, Threshold: 8}, {Method: NBCUSUM, Threshold: 10}, {}, {Method: NBCUSUM, Threshold: 14},
			{DayOnly: true},
		},
	}
	for range b.N {
		scores, counts := sim.run(b)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		series, ids := counts.Len()
		counts = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.Logf("seed %d, %d days judged after %d of warm-up, Surges asked every %v; Counts at the end: %d series, %d ticket ids, %.1f MB of heap:\n%s",
			sim.seed, sim.days, sim.warmDays, sim.step, series, ids, float64(before.HeapAlloc-after.HeapAlloc)/(1<<20), table(scores))
		for _, s := range scores {
			b.Run(s.name(), func(b *testing.B) {
				b.ReportMetric(100*s.rate(), "%found")
				b.ReportMetric(s.delay(0.5).Minutes(), "p50-delay-min")
				b.ReportMetric(s.delay(0.9).Minutes(), "p90-delay-min")
				b.ReportMetric(s.perDay(), "false-alarms/day")
			})
		}
	}
}
