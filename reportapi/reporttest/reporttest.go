// Package reporttest gives tests of the pages and APIs of special reports
// a real report.Manager on a fresh SQLite database, with rules that a
// test makes fire by setting a county's value: what the report package's
// own tests do with Evaluate, packaged for the packages that show
// reports. It is a test helper, used by _test files only.
package reporttest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/report"
)

// Rules fire at once (no "for") when a county's rate today is below 90 %:
// "answer" (critical) on the answer rate, "on-time" (warning) on on-time
// closure. Nobody is notified (no sender), repeats never happen.
const Rules = `
defaults:
  repeat: 0
  escalate: []
rules:
  - name: answer
    title: {zh: 接通率低, en: Answer rate low}
    type: threshold
    indicator: answer_rate
    period: day
    level: county
    worse_than: "90%"
    severity: critical
  - name: on-time
    title: {zh: 按时办结率低, en: On-time closure low}
    type: threshold
    indicator: on_time_rate
    period: day
    level: county
    worse_than: "90%"
`

// Zone is the business time zone of the rig (Asia/Shanghai has had no
// DST since 1991; a fixed zone needs no tzdata).
func Zone() *time.Location { return time.FixedZone("CST", 8*3600) }

// Start is the rig's first instant: Monday 1 June 2026, 10:00, a working
// day.
func Start() time.Time { return time.Date(2026, 6, 1, 10, 0, 0, 0, Zone()) }

// Rig is a manager with its input and clock.
type Rig struct {
	Manager *report.Manager
	Store   *access.SQLStore
	in      *values
	mu      sync.Mutex
	now     time.Time
}

// New starts a manager on a fresh database in a temporary directory with
// Rules; pub receives its boards (nil: none).
func New(t testing.TB, pub report.Publisher) *Rig {
	t.Helper()
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rules, err := report.Parse("rules.yaml", []byte(Rules))
	if err != nil {
		t.Fatal(err)
	}
	r := &Rig{Store: st, in: &values{by: map[[2]string]engine.Result{}}, now: Start()}
	r.Manager, err = report.New(ctx, report.Config{Rules: rules, Store: st, Calendar: calendar.Default(Zone()),
		Publisher: pub, Root: "620000", Now: r.Now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Now is the rig's clock.
func (r *Rig) Now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

// Set sets a rate of a county today: num of den.
func (r *Rig) Set(indicator, county string, num, den int64) { r.in.set(indicator, county, num, den) }

// Evaluate moves the clock on by a minute and judges the rules: reports
// fire or resolve, boards are published.
func (r *Rig) Evaluate(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	r.now = r.now.Add(time.Minute)
	now := r.now
	r.mu.Unlock()
	if err := r.Manager.Evaluate(context.Background(), now, report.Inputs{Values: r.in}); err != nil {
		t.Fatalf("evaluate at %s: %v", now.Format(time.TimeOnly), err)
	}
}

// Fire makes the rule on indicator (answer_rate or on_time_rate) fire
// for county and returns the report.
func (r *Rig) Fire(t testing.TB, indicator, county string) report.Report {
	t.Helper()
	r.Set(indicator, county, 50, 100)
	r.Evaluate(t)
	for _, rep := range r.Manager.Open(county) {
		if rep.Indicator == indicator && rep.Region == county {
			return rep
		}
	}
	t.Fatalf("no report of %s in %s fired", indicator, county)
	return report.Report{}
}

// Resolve ends the condition of indicator in county and evaluates.
func (r *Rig) Resolve(t testing.TB, indicator, county string) {
	t.Helper()
	r.Set(indicator, county, 100, 100)
	r.Evaluate(t)
}

// values is the engine's values of today, as a test sets them.
type values struct {
	mu sync.Mutex
	by map[[2]string]engine.Result
}

func (v *values) set(indicator, county string, num, den int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.by[[2]string{indicator, county}] = engine.Result{Indicator: indicator, Region: county, Numerator: num, Denominator: den, Rate: true}
}

// Results implements report.Values.
func (v *values) Results(_ context.Context, p engine.Period) ([]engine.Result, error) {
	if p != engine.Day {
		return nil, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]engine.Result, 0, len(v.by))
	for _, r := range v.by {
		out = append(out, r)
	}
	return out, nil
}
