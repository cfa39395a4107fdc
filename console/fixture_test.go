package console

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/history"
	"github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/store/embedded"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sampleAsOf is the instant of the sample's reference results
// (cli/testdata/sample/README.md).
func sampleAsOf(loc *time.Location) time.Time { return time.Date(2026, 10, 9, 12, 0, 0, 0, loc) }

// sample is the platform export of cli/testdata/sample loaded into an engine
// whose clock is at sampleAsOf, and an embedded history store holding the
// engine's values (Evaluate, i.e. a replay) at the instants the console
// reads: the as-of instant, its previous period and last year for day,
// week and month, and the end of every day since 1 September for the
// month and day trends.
type sample struct {
	loc  *time.Location
	eng  *engine.Engine
	st   *embedded.Store
	asOf time.Time
}

var (
	sampleOnce sync.Once
	sampleVal  *sample
	sampleErr  error
	sampleDir  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sampleVal != nil {
		sampleVal.st.Close()
	}
	if sampleDir != "" {
		os.RemoveAll(sampleDir)
	}
	if benchVal != nil {
		benchVal.st.Close()
		os.RemoveAll(benchVal.dir)
	}
	os.Exit(code)
}

func loadSample(t testing.TB) *sample {
	t.Helper()
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
	asOf := sampleAsOf(loc)
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: asOf.UnixNano()})
	if err != nil {
		return nil, err
	}
	report := func(*ingest.BadRow) {}
	if _, err := ingest.ReadDir(ctx, filepath.Join("..", "cli", "testdata", "sample"), func() *record.Parser { return record.NewParser(loc) }, eng, report); err != nil {
		return nil, err
	}
	sampleDir, err = os.MkdirTemp("", "console-sample-")
	if err != nil {
		return nil, err
	}
	st, err := embedded.Open(ctx, embedded.Config{Dir: sampleDir, Logger: quietLogger(), RetentionInterval: -1, Location: loc})
	if err != nil {
		return nil, err
	}
	s := &sample{loc: loc, eng: eng, st: st, asOf: asOf}
	type shot struct {
		at     time.Time
		p      engine.Period
		byDept bool
	}
	var shots []shot
	for _, p := range []engine.Period{engine.Day, engine.Week, engine.Month} {
		for _, at := range []time.Time{asOf, previousPeriod(asOf, p, loc), lastYear(asOf, p, loc)} {
			shots = append(shots, shot{at, p, true})
		}
	}
	for d := time.Date(2026, 9, 1, 0, 0, 0, 0, loc); d.Before(asOf); d = d.AddDate(0, 0, 1) {
		end := d.AddDate(0, 0, 1).Add(-time.Second)
		if end.Before(asOf) {
			shots = append(shots, shot{end, engine.Month, false}, shot{end, engine.Day, false})
		}
	}
	// In time order, as a recorder writes: the store's day index is
	// cheapest for appends.
	sort.SliceStable(shots, func(i, j int) bool { return shots[i].at.Before(shots[j].at) })
	for _, sh := range shots {
		pts, _, _ := history.Points(eng.Evaluate(sh.at.UnixNano(), sh.p, sh.byDept), sh.p, sh.at)
		if err := st.Write(ctx, pts); err != nil {
			return nil, err
		}
	}
	return s, st.Flush(ctx)
}

// console returns a console over the sample with the wall clock at the
// sample's as-of instant, and its fiber app.
func (s *sample) console(t testing.TB) (*Console, *fiber.App) {
	t.Helper()
	c, err := New(Config{Live: s.eng, History: s.st, Regions: region.Default(), Location: s.loc, Logger: quietLogger(),
		Now: func() time.Time { return s.asOf }})
	if err != nil {
		t.Fatal(err)
	}
	return c, mount(c)
}

// mount builds a fiber app serving every route the console exports, the
// way the application registers them.
func mount(c *Console) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	for _, r := range c.Routes() {
		app.Add(r.Method, r.Path, r.Handler)
	}
	return app
}

// get calls the app and returns the status and body.
func get(t testing.TB, app *fiber.App, url string) (int, []byte, http.Header) {
	t.Helper()
	res, err := app.Test(httptest.NewRequest("GET", url, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b, res.Header
}

func getJSON(t testing.TB, app *fiber.App, url string, dst any) {
	t.Helper()
	code, b, _ := get(t, app, url)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
