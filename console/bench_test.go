package console

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/ranking"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/embedded"
)

// benchWorld is Gansu's 1,403 townships with a year of history: an
// embedded store holding the month-to-date answer rate of every township
// (and the province) every hour for 400 days, as the history recorder
// writes it (hourly snapshots), and a live engine holding the calls behind
// it (about 1.2 million).
type benchWorld struct {
	loc       *time.Location
	now       time.Time
	townships []string
	st        *embedded.Store
	eng       *engine.Engine
	dir       string
}

var (
	benchOnce sync.Once
	benchVal  *benchWorld
	benchErr  error
)

func loadBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	benchOnce.Do(func() { benchVal, benchErr = buildBenchWorld() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchVal
}

const benchDays = 400

func buildBenchWorld() (*benchWorld, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, err
	}
	w := &benchWorld{loc: loc, now: time.Date(2026, 11, 23, 15, 0, 0, 0, loc)}
	var walk func(c region.Code)
	walk = func(c region.Code) {
		for _, k := range region.Default().Children(c) {
			if k.Level() == region.Township {
				w.townships = append(w.townships, string(k))
			} else {
				walk(k)
			}
		}
	}
	walk("620000")
	if len(w.townships) != 1403 {
		return nil, fmt.Errorf("%d townships in Gansu, want 1,403", len(w.townships))
	}
	ctx := context.Background()
	if w.dir, err = os.MkdirTemp("", "console-bench-"); err != nil {
		return nil, err
	}
	if w.st, err = embedded.Open(ctx, embedded.Config{Dir: w.dir, Logger: quietLogger(), RetentionInterval: -1, Location: loc}); err != nil {
		return nil, err
	}
	if w.eng, err = engine.New(engine.Config{Calendar: calendar.Default(loc), Now: w.now.UnixNano()}); err != nil {
		return nil, err
	}
	// Calls and their month-to-date counts, hour by hour.
	rng := rand.New(rand.NewPCG(7, 11))
	start := w.now.AddDate(0, 0, -benchDays).Truncate(time.Hour)
	num := make([]int64, len(w.townships))
	den := make([]int64, len(w.townships))
	answered := make([]float64, len(w.townships))
	for i := range answered {
		answered[i] = 0.85 + 0.14*rng.Float64()
	}
	var calls []record.Call
	pts := make([]store.Point, 0, len(w.townships)+1)
	month := start.Month()
	id := 0
	for h := start; !h.After(w.now); h = h.Add(time.Hour) {
		if h.Month() != month {
			month = h.Month()
			clear(num)
			clear(den)
		}
		pts = pts[:0]
		var pn, pd int64
		for i, code := range w.townships {
			for n := rng.IntN(3); n > 0; n-- {
				ok := rng.Float64() < answered[i]
				calls = append(calls, record.Call{ID: fmt.Sprintf("K%d", id), Region: code,
					Offered: h.Add(time.Duration(rng.IntN(3600)) * time.Second).UnixNano(), WaitSeconds: int32(rng.IntN(40)), Answered: ok})
				id++
				den[i]++
				if ok {
					num[i]++
				}
			}
			k := store.SeriesKey{Indicator: "answer_rate", Region: code, Period: "month"}
			pts = append(pts, store.Ratio(k, h, num[i], den[i]))
			pn += num[i]
			pd += den[i]
		}
		pts = append(pts, store.Ratio(store.SeriesKey{Indicator: "answer_rate", Region: "620000", Period: "month"}, h, pn, pd))
		if err := w.st.Write(ctx, pts); err != nil {
			return nil, err
		}
	}
	if err := w.st.Flush(ctx); err != nil {
		return nil, err
	}
	if err := w.st.Compact(ctx); err != nil {
		return nil, err
	}
	for i := 0; i < len(calls); i += 10000 {
		w.eng.UpsertCalls(calls[i:min(i+10000, len(calls))])
	}
	return w, nil
}

func (w *benchWorld) console(b *testing.B, cachePoints int) *Console {
	c, err := New(Config{Live: w.eng, History: w.st, Regions: region.Default(), Location: w.loc, Logger: quietLogger(),
		Now: func() time.Time { return w.now }, CachePoints: cachePoints})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// percentiles reports p50 and p99 of the samples in milliseconds.
func percentiles(b *testing.B, prefix string, d []time.Duration) (p50, p99 float64) {
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
	}
	p50, p99 = at(0.50), at(0.99)
	b.ReportMetric(p50, prefix+"p50-ms")
	b.ReportMetric(p99, prefix+"p99-ms")
	return p50, p99
}

var (
	peerOnce sync.Once
	peerP50  float64
)

// peer measures the named peer once per run: the same three snapshots
// recomputed from the records (engine.Evaluate, a replay of every call at
// each instant), ranked.
func (w *benchWorld) peer(asOf time.Time) float64 {
	peerOnce.Do(func() {
		var d []time.Duration
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			for _, at := range []time.Time{asOf, previousPeriod(asOf, engine.Month, w.loc), lastYear(asOf, engine.Month, w.loc)} {
				rs := w.eng.Evaluate(at.UnixNano(), engine.Month, false)
				rows := make([]ranking.Row, 0, len(w.townships))
				for _, r := range rs {
					if r.Indicator == "answer_rate" && len(r.Region) == 9 {
						rows = append(rows, ranking.Row{Unit: r.Region, Numerator: r.Numerator, Denominator: r.Denominator, Rate: true})
					}
				}
				ranking.Rank(rows, false)
			}
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		peerP50 = float64(d[len(d)/2].Microseconds()) / 1000
	})
	return peerP50
}

// BenchmarkRanking1403Townships ranks the answer rate of Gansu's 1,403
// townships with 环比 and 同比 and encodes the JSON answer, reporting
// p50/p99:
//
//   - as-of-cold: as_of two days ago, the console's cache off: three AsOf
//     reads (4,212 series) that seek into a year of hourly history;
//   - as-of-cached: the same view again (an analyst returning to it, or
//     exporting it): the three reads come from the console's cache;
//   - live-cold / live-cached: no as_of: the current values from the live
//     engine (Results of every indicator and region), 环比 and 同比 from
//     the store, with the console's cache off / on (views in the same
//     minute share the comparison reads).
//
// The named peer, measured once in the same run, recomputes the three
// snapshots from the records (engine.Evaluate replays ~1.2 million calls
// per instant) and ranks them; x-faster-than-replay = peer p50 / p50.
func BenchmarkRanking1403Townships(b *testing.B) {
	w := loadBenchWorld(b)
	ctx := context.Background()
	asOf := time.Date(2026, 11, 21, 12, 0, 0, 0, w.loc)
	def, _ := indicator.Lookup("answer_rate")
	for _, mode := range []struct {
		name  string
		cache int
		asOf  *time.Time
	}{{"as-of-cold", -1, &asOf}, {"as-of-cached", 0, &asOf}, {"live-cold", -1, nil}, {"live-cached", 0, nil}} {
		b.Run(mode.name, func(b *testing.B) {
			c := w.console(b, mode.cache)
			v := view{def: def, period: engine.Month, region: "620000", level: region.Township, asOf: mode.asOf}
			run := func() int {
				r, err := c.ranking(ctx, v)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(r); err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, x := range r.Rows {
					if x.MoM.Change != nil && x.YoY.Change != nil {
						n++
					}
				}
				return n
			}
			if n := run(); n != 1403 {
				b.Fatalf("%d rows with both changes, want 1403", n)
			}
			b.ResetTimer()
			d := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				run()
				d = append(d, time.Since(t0))
			}
			b.StopTimer()
			p50, _ := percentiles(b, "", d)
			b.ReportMetric(w.peer(asOf), "peer-replay-p50-ms")
			b.ReportMetric(w.peer(asOf)/p50, "x-faster-than-replay")
		})
	}
}
