// Command benchstore measures both stores with the same workload and prints
// the figures and the embedded/InfluxDB ratios (scripts/bench-store runs it):
//
//   - write: 51 collection cycles of 1,403 townships × 14 indicators
//     (1,001,742 points, one Write per cycle), plus a year of hourly history
//     for the 14 indicators of one township (122,976 points); points/s
//     until the store has everything (embedded: fsync'd; InfluxDB:
//     acknowledged by the server);
//   - latest: Latest of one indicator for the 1,403 townships, p50/p99;
//   - series: the one-year daily series of one indicator of one township
//     (Series with RollupDay over 365 days of hourly points), p50/p99;
//   - disk: bytes per point after compaction (embedded: a forced full
//     compaction, measured once the store is closed; InfluxDB: its full
//     compaction, configured to run after one second without writes, and
//     the size of the database's data and WAL once stable).
//
// Queries run after the compaction, on a store at rest, for both stores.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/embedded"
	"github.com/yiping-ioc/yiping/store/influx"
	"github.com/yiping-ioc/yiping/store/influx/influxtest"
	"github.com/yiping-ioc/yiping/store/internal/benchload"
)

type result struct {
	name                 string
	points               int
	writeDur             time.Duration
	latest, series       []time.Duration
	diskBytes, sstBytes  int64
	latestRows, yearRows int
}

func (r result) rate() float64 { return float64(r.points) / r.writeDur.Seconds() }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

func main() {
	cycles := flag.Int("cycles", 51, "collection cycles of 1,403 townships × 14 indicators")
	latestN := flag.Int("latest", 2000, "Latest queries on the embedded store")
	seriesN := flag.Int("series", 2000, "Series queries on the embedded store")
	influxLatestN := flag.Int("influx-latest", 50, "Latest queries on InfluxDB")
	influxSeriesN := flag.Int("influx-series", 50, "Series queries on InfluxDB")
	withInflux := flag.Bool("influx", true, "also measure InfluxDB (needs influxd: scripts/install-influxd)")
	dir := flag.String("dir", "", "working directory (default: a temporary one, removed at the end)")
	flag.Parse()

	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "bench-store-")
		if err != nil {
			fail(err)
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(d) })
		work = d
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	fmt.Printf("bench-store: %s, GOMAXPROCS=%d, %s/%s, load average %s\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, loadavg())

	var results []result
	emb, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(work, "embedded"), Logger: log, RetentionInterval: -1})
	if err != nil {
		fail(err)
	}
	r := run(ctx, "embedded", emb, *cycles, *latestN, *seriesN, func() {
		if err := emb.Compact(ctx); err != nil {
			fail(err)
		}
	})
	if err := emb.Close(); err != nil {
		fail(err)
	}
	// Measured closed, once Pebble deleted the files compactions made obsolete.
	r.diskBytes, r.sstBytes, err = embedded.DirUsage(filepath.Join(work, "embedded"))
	if err != nil {
		fail(err)
	}
	results = append(results, r)
	report(r)

	if *withInflux {
		srv, err := influxtest.StartServer(ctx, filepath.Join(work, "influxd"), influxtest.Options{CompactQuickly: true})
		if err != nil {
			fail(err)
		}
		cleanups = append(cleanups, func() { _ = srv.Stop() })
		bucket, err := srv.CreateDatabase(ctx, "bench")
		if err != nil {
			fail(err)
		}
		ifx, err := influx.Open(ctx, influx.Config{URL: srv.URL, Bucket: bucket, SpoolDir: filepath.Join(work, "spool"), Logger: log})
		if err != nil {
			fail(err)
		}
		var size int64
		r := run(ctx, "influxdb", ifx, *cycles, *influxLatestN, *influxSeriesN, func() { size = influxSettledSize(srv, "bench") })
		if st := ifx.Stats(); st.Rejected > 0 || st.Spooled > 0 {
			fail(fmt.Errorf("influx: %+v", st))
		}
		_ = ifx.Close()
		r.diskBytes = size
		results = append(results, r)
		report(r)
	}
	summary(results)
	cleanup()
}

// run writes the workload, calls settle (compaction: queries are measured
// on a store at rest, the same for both) and measures the queries.
func run(ctx context.Context, name string, s store.Store, cycles, latestN, seriesN int, settle func()) result {
	regions := benchload.Regions(benchload.Townships)
	now := time.Now().Truncate(time.Minute)
	c := benchload.NewCycles(regions, now.Add(-time.Duration(cycles)*5*time.Minute), 1)
	hist := benchload.History(regions[0], now, 366, 2)
	res := result{name: name}
	var buf []store.Point
	start := time.Now()
	for i := 0; i < cycles; i++ {
		buf = c.Next(buf)
		if err := s.Write(ctx, buf); err != nil {
			fail(err)
		}
		res.points += len(buf)
	}
	for _, h := range hist {
		for i := 0; i < len(h); i += 20000 {
			part := h[i:min(i+20000, len(h))]
			if err := s.Write(ctx, part); err != nil {
				fail(err)
			}
			res.points += len(part)
		}
	}
	if err := s.Flush(ctx); err != nil {
		fail(err)
	}
	res.writeDur = time.Since(start)
	if is, ok := s.(*influx.Store); ok {
		if st := is.Stats(); st.Rejected > 0 || st.Spooled > 0 || st.Written != int64(res.points) {
			fail(fmt.Errorf("influx: %+v, want %d points written", st, res.points))
		}
	}
	fmt.Printf("%s: wrote %d points in %s\n", name, res.points, res.writeDur.Round(time.Millisecond))
	t0 := time.Now()
	settle()
	fmt.Printf("%s: compacted in %s\n", name, time.Since(t0).Round(time.Millisecond))

	rng := rand.New(rand.NewSource(3))
	for i := 0; i < latestN+latestN/20; i++ {
		sel := store.Selector{Indicator: benchload.Indicators[rng.Intn(len(benchload.Indicators))], Period: store.PeriodDay, Regions: regions}
		t0 := time.Now()
		pts, err := s.Latest(ctx, sel)
		d := time.Since(t0)
		if err != nil {
			fail(err)
		}
		if len(pts) != len(regions) {
			fail(fmt.Errorf("%s: Latest returned %d points, want %d", name, len(pts), len(regions)))
		}
		if i >= latestN/20 { // the first 5% warm up
			res.latest = append(res.latest, d)
		}
		res.latestRows = len(pts)
	}
	for i := 0; i < seriesN+seriesN/20; i++ {
		k := hist[rng.Intn(len(hist))][0].Key()
		t0 := time.Now()
		pts, err := s.Series(ctx, k, now.AddDate(0, 0, -365), now, store.RollupDay)
		d := time.Since(t0)
		if err != nil {
			fail(err)
		}
		if len(pts) < 365 || len(pts) > 367 {
			fail(fmt.Errorf("%s: one-year daily series has %d points", name, len(pts)))
		}
		if i >= seriesN/20 {
			res.series = append(res.series, d)
		}
		res.yearRows = len(pts)
	}
	return res
}

// influxSettledSize waits for InfluxDB's compactions to settle (the size
// unchanged for 5 s, at most 3 minutes) and returns it.
func influxSettledSize(srv *influxtest.Server, db string) int64 {
	var last int64 = -1
	stable := time.Now()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		n, err := srv.DiskUsage(db)
		if err != nil {
			fail(err)
		}
		if n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) > 5*time.Second && walEmpty(srv, db) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	return last
}

func walEmpty(srv *influxtest.Server, db string) bool {
	var n int64
	_ = filepath.Walk(filepath.Join(srv.Dir, "wal", db), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n == 0
}

func report(r result) {
	fmt.Printf("%s: %.0f points/s; Latest(1,403) p50 %s p90 %s p99 %s max %s (%d samples); one-year daily Series p50 %s p90 %s p99 %s max %s (%d samples, %d points); disk %.2f bytes/point",
		r.name, r.rate(), ms(pct(r.latest, .5)), ms(pct(r.latest, .9)), ms(pct(r.latest, .99)), ms(pct(r.latest, 1)), len(r.latest),
		ms(pct(r.series, .5)), ms(pct(r.series, .9)), ms(pct(r.series, .99)), ms(pct(r.series, 1)), len(r.series), r.yearRows, float64(r.diskBytes)/float64(r.points))
	if r.sstBytes > 0 {
		fmt.Printf(" (sstables alone %.2f)", float64(r.sstBytes)/float64(r.points))
	}
	fmt.Println()
}

func summary(rs []result) {
	fmt.Println()
	fmt.Println("| store | write points/s | Latest 1,403 p50 | p99 | 1-year daily Series p50 | p99 | disk bytes/point |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %.2f |\n", r.name, r.rate(), ms(pct(r.latest, .5)), ms(pct(r.latest, .99)),
			ms(pct(r.series, .5)), ms(pct(r.series, .99)), float64(r.diskBytes)/float64(r.points))
	}
	if len(rs) == 2 {
		e, i := rs[0], rs[1]
		fmt.Printf("| embedded vs influxdb | %.2f× the rate | %.1f× faster | %.1f× faster | %.1f× faster | %.1f× faster | %.2f× the bytes |\n",
			e.rate()/i.rate(), ratio(pct(i.latest, .5), pct(e.latest, .5)), ratio(pct(i.latest, .99), pct(e.latest, .99)),
			ratio(pct(i.series, .5), pct(e.series, .5)), ratio(pct(i.series, .99), pct(e.series, .99)),
			float64(e.diskBytes)/float64(i.diskBytes))
	}
	if len(rs) > 0 {
		e := rs[0]
		ok := func(b bool) string {
			if b {
				return "met"
			}
			return "NOT met"
		}
		fmt.Println()
		fmt.Printf("targets (embedded): write ≥ 100,000 points/s: %s; Latest p99 ≤ 5 ms: %s; one-year Series p99 ≤ 5 ms: %s; disk ≤ 16 bytes/point: %s\n",
			ok(e.rate() >= 100000), ok(pct(e.latest, .99) <= 5*time.Millisecond), ok(pct(e.series, .99) <= 5*time.Millisecond),
			ok(float64(e.diskBytes)/float64(e.points) <= 16))
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cleanups run on failure too (os.Exit skips deferred calls).
var cleanups []func()

func cleanup() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-store:", err)
	cleanup()
	os.Exit(1)
}
