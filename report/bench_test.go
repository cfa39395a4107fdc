package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

// gansuInput is every indicator of every Gansu region (province, cities,
// counties, townships: about 1,500) for each period the sample rules read,
// with healthy values.
func gansuInput() (*fakeInput, []string) {
	in := newInput()
	var codes []string
	var walk func(c region.Code)
	walk = func(c region.Code) {
		codes = append(codes, string(c))
		for _, k := range region.Default().Children(c) {
			walk(k)
		}
	}
	walk("620000")
	for _, p := range []engine.Period{engine.Day, engine.Month} {
		for _, c := range codes {
			for _, d := range indicator.All() {
				in.set(d.ID, c, p, 99, 100)
			}
		}
	}
	return in, codes
}

// BenchmarkEvaluate measures one evaluation with the sample rules at the
// scale of a province (every region, every indicator, day and month): the
// manager's share of the time from an ingest to the report on a screen.
// "unchanged" is a cycle in which no value changed, "changed" one in which
// one county's answer rate changed without crossing anything, "fire" one
// in which it crosses the floor (a report fires, is published and sent)
// or comes back (it resolves).
func BenchmarkEvaluate(b *testing.B) {
	rules := strings.Replace(Sample, "    severity: critical\n    quiet: [nights]", "    severity: critical\n    for: 0s\n    quiet: []", 1)
	for _, mode := range []string{"unchanged", "changed", "fire"} {
		b.Run(mode, func(b *testing.B) {
			store, err := access.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), access.SQLiteFile))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			in, codes := gansuInput()
			m, err := New(context.Background(), Config{Rules: mustParse(b, rules), Store: store, Calendar: testCalendar(),
				Root: "620000", Publisher: &publisher{}, Sender: &sender{}, Logger: quietLog()})
			if err != nil {
				b.Fatal(err)
			}
			ctx, now := context.Background(), t0
			if err := m.Evaluate(ctx, now, in); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(codes)), "regions")
			b.ResetTimer()
			for i := range b.N {
				switch mode {
				case "changed":
					in.set("answer_rate", "620802", engine.Day, int64(990+i%2), 1000)
				case "fire":
					num := int64(99)
					if i%2 == 0 {
						num = 10
					}
					in.set("answer_rate", "620802", engine.Day, num, 100)
				}
				now = now.Add(time.Second)
				if err := m.Evaluate(ctx, now, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
