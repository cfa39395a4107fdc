package bulletin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/history"
	"github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/store/memory"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sampleDir is the platform export of SPEC.md section 3 shared by the
// project's tests (Gansu, September–October 2026).
var sampleDir = filepath.Join("..", "cli", "testdata", "sample")

// sample is the export loaded into an engine, and a history store holding
// the engine's values (a replay, as package history records them) at the
// end of every day from 31 August to 8 October 2026, for the day, week and
// month periods: enough for the monthly bulletin of September with its
// 环比 (August, all zero counts) and no 同比 (nothing in 2025).
type sample struct {
	loc *time.Location
	cal *calendar.Calendar
	eng *engine.Engine
	st  *memory.Store
}

var (
	sampleOnce sync.Once
	sampleVal  *sample
	sampleErr  error
)

func loadSample(t testing.TB) *sample {
	t.Helper()
	if _, err := os.Stat(sampleDir); err != nil {
		t.Fatalf("no sample export at %s (the copy of the platform export in the repository): %v", sampleDir, err)
	}
	sampleOnce.Do(func() { sampleVal, sampleErr = buildSample() })
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleVal
}

func buildSample() (*sample, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	cal := calendar.Default(loc)
	asOf := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng, err := engine.New(engine.Config{Calendar: cal, Now: asOf.UnixNano()})
	if err != nil {
		return nil, err
	}
	if _, err := ingest.ReadDir(ctx, sampleDir, func() *record.Parser { return record.NewParser(loc) }, eng, func(*ingest.BadRow) {}); err != nil {
		return nil, err
	}
	st := memory.New(loc)
	for d := time.Date(2026, 8, 31, 0, 0, 0, 0, loc); d.Before(time.Date(2026, 10, 9, 0, 0, 0, 0, loc)); d = d.AddDate(0, 0, 1) {
		end := d.AddDate(0, 0, 1).Add(-time.Second) // a recording cycle's last point of the day
		for _, p := range []engine.Period{engine.Day, engine.Week, engine.Month} {
			pts, _, _ := history.Points(eng.Evaluate(end.UnixNano(), p, false), p, end)
			if err := st.Write(ctx, pts); err != nil {
				return nil, err
			}
		}
	}
	return &sample{loc: loc, cal: cal, eng: eng, st: st}, st.Flush(ctx)
}

// result returns the engine's value of one indicator and region at t.
func (s *sample) result(t testing.TB, at time.Time, p engine.Period, ind, region string) engine.Result {
	t.Helper()
	for _, r := range s.eng.Evaluate(at.UnixNano(), p, false) {
		if r.Indicator == ind && r.Region == region && r.Dept == "" {
			return r
		}
	}
	t.Fatalf("no result for %s %s", ind, region)
	return engine.Result{}
}

// pdftotext finds poppler's pdftotext: YIPING_PDFTOTEXT (set by
// scripts/test from scripts/install-poppler), else Debian's or the PATH's.
// Without one the PDF tests skip, unless YIPING_PDFTOTEXT is set: then a
// broken one fails them. pdfinfo is the binary beside it.
func pdftotext(t testing.TB) (text, info string) {
	t.Helper()
	check := func(p string) bool {
		info := filepath.Join(filepath.Dir(p), "pdfinfo")
		return exec.Command(p, "-v").Run() == nil && exec.Command(info, "-v").Run() == nil
	}
	if p := os.Getenv("YIPING_PDFTOTEXT"); p != "" {
		if !check(p) {
			t.Fatalf("YIPING_PDFTOTEXT=%s: no working pdftotext with pdfinfo beside it: set it to what scripts/install-poppler prints", p)
		}
		return p, filepath.Join(filepath.Dir(p), "pdfinfo")
	}
	for _, p := range []string{"/usr/bin/pdftotext", "pdftotext"} {
		if lp, err := exec.LookPath(p); err == nil && check(lp) {
			return lp, filepath.Join(filepath.Dir(lp), "pdfinfo")
		}
	}
	t.Skip("no pdftotext to read PDFs back: run scripts/install-poppler (Debian's poppler-utils) and set YIPING_PDFTOTEXT to the path it prints")
	return "", ""
}

// chromePath is the browser the printer tests use (as browsertest finds
// it).
func chromePath(t testing.TB) string {
	t.Helper()
	p := os.Getenv("YIPING_CHROME")
	if p == "" {
		p, _ = exec.LookPath("chromium")
	}
	if p == "" {
		if os.Getenv("YIPING_SKIP_BROWSER") == "1" {
			t.Skip("YIPING_SKIP_BROWSER=1 and no chromium")
		}
		t.Fatal("chromium not found: run scripts/install-chromium (or set YIPING_CHROME), or YIPING_SKIP_BROWSER=1 to skip browser tests")
	}
	return p
}

func mustParse(t testing.TB, yaml string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func calendarFor(loc *time.Location) *calendar.Calendar { return calendar.Default(loc) }
