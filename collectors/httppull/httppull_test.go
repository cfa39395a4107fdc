package httppull_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// asOf is the engines' clock, a business-zone wall time.
const asOf = "2026-03-31 18:00:00"

const apiToken = "api-token-xyz"

// recorder is the sink: the engine, plus the last version of every call
// it was given and how many times each (id, version) arrived.
type recorder struct {
	*engine.Engine
	mu       sync.Mutex
	last     map[string]int
	delivery map[string]int
}

func (r *recorder) UpsertCalls(cs []record.Call) {
	r.Engine.UpsertCalls(cs)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		r.last[c.ID] = int(c.WaitSeconds)
		r.delivery[fmt.Sprintf("%s@%d", c.ID, c.WaitSeconds)]++
	}
}

func (r *recorder) versions() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.last)
}

type fixture struct {
	p      *platform
	rec    *recorder
	runner *collectors.Runner
	j      *journal.Journal
}

func options(p *platform) httppull.Options {
	retries := 2
	return httppull.Options{
		Kind: "calls", URL: p.url(), PageSize: 100,
		BearerToken: apiToken, Headers: map[string]collectors.Secret{"X-App-Key": "app-key"},
		Retries: &retries, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 5 * time.Second,
	}
}

func newFixture(t testing.TB, p *platform, o httppull.Options, schedule string) *fixture {
	t.Helper()
	f := &fixture{p: p, rec: &recorder{Engine: testengine.New(t, asOf), last: map[string]int{}, delivery: map[string]int{}}}
	var err error
	if f.j, err = journal.Open(t.TempDir(), quiet); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.j.Close() })
	if _, err := f.j.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	pl, err := httppull.New(o, collectors.Env{Name: "platform", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := collectors.Config{Location: testkit.Shanghai(t), RetryBackoff: time.Second, MaxBackoff: 2 * time.Second,
		Sources: []collectors.Source{{Name: "platform", Type: "httppull", Schedule: schedule, Connector: pl}}}
	if f.runner, err = collectors.NewRunner(cfg, f.rec, f.j, quiet, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) run(t *testing.T) (collectors.Result, error) {
	t.Helper()
	return f.runner.RunNow(context.Background(), "platform")
}

// complete checks that the engine holds exactly the platform's records,
// each in its current version, and counts each once.
func (f *fixture) complete(t *testing.T) {
	t.Helper()
	want := f.p.versions()
	if got := f.rec.versions(); !maps.Equal(got, want) {
		missing, stale := 0, 0
		for id, v := range want {
			if g, ok := got[id]; !ok {
				missing++
			} else if g != v {
				stale++
			}
		}
		t.Fatalf("sink has %d records, platform %d: %d missing, %d stale", len(got), len(want), missing, stale)
	}
	if n := f.rec.Len()[record.KindCall]; n != len(want) {
		t.Fatalf("engine counts %d calls, platform has %d", n, len(want))
	}
	ref := testengine.New(t, asOf)
	offered := time.Date(2026, 3, 2, 9, 15, 0, 0, testkit.Shanghai(t)).UnixNano()
	var cs []record.Call
	for id, v := range want {
		cs = append(cs, record.Call{ID: id, Region: "620802", Offered: offered, Answered: true, WaitSeconds: int32(v)})
	}
	ref.UpsertCalls(cs)
	got, _ := f.rec.Results(engine.Month, false)
	exp, _ := ref.Results(engine.Month, false)
	if !reflect.DeepEqual(got, exp) {
		t.Fatal("indicators differ from an engine loaded with the platform's records")
	}
}

func TestPaging(t *testing.T) {
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 500)...)
	p.upsert(true, ids("S", 250)...) // 250 records sharing one instant: more than a page
	for i := range 40 {
		p.upsert(true, ids(fmt.Sprintf("G%02d-", i), 3)...) // groups of three
	}
	f := newFixture(t, p, options(p), "@every 1h")
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	f.complete(t)
	if res.Accepted < 870 || res.Rejected != 0 {
		t.Errorf("result = %+v", res)
	}
	h := f.runner.Health()[0]
	if want := p.clock.Add(-time.Second).UTC().Format(time.RFC3339Nano); h.Cursor != want {
		t.Errorf("cursor = %q, want the last update time %q", h.Cursor, want)
	}
	// Nothing new: one request, nothing re-read but the last instant.
	before := len(p.log())
	res, err = f.run(t)
	if err != nil || len(p.log()) != before+1 || res.Accepted != 3 {
		t.Errorf("idle run: %+v, %v, %d requests", res, err, len(p.log())-before)
	}
}

// TestOutageCatchUp: the platform goes down (503, then connection
// refused) while records keep changing; the runs fail, the cursor stays,
// and when it returns one run catches up with no gap.
func TestOutageCatchUp(t *testing.T) {
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 300)...)
	f := newFixture(t, p, options(p), "@every 1h")
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	f.complete(t)
	cursor := f.runner.Health()[0].Cursor

	p.setStatus(http.StatusServiceUnavailable)
	p.upsert(false, ids("B", 150)...)
	p.upsert(false, ids("A", 40)...) // updates during the outage
	if _, err := f.run(t); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("run during a 503 outage: %v", err)
	}
	p.down()
	p.upsert(false, ids("C", 120)...)
	if _, err := f.run(t); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("run while refused: %v", err)
	}
	h := f.runner.Health()[0]
	if h.Cursor != cursor || h.ConsecutiveFailures != 2 || h.BackoffUntil.IsZero() || h.LastError == "" {
		t.Fatalf("health during the outage = %+v", h)
	}
	p.setStatus(0)
	p.up()
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	f.complete(t)
	if h := f.runner.Health()[0]; h.ConsecutiveFailures != 0 || h.Failures != 2 {
		t.Errorf("health after recovery = %+v", h)
	}
}

// TestFailureMidRun: the platform fails after three pages of a catch-up.
// The pages already read are checkpointed, and the next run resumes from
// there rather than from the start.
func TestFailureMidRun(t *testing.T) {
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 1000)...)
	f := newFixture(t, p, options(p), "@every 1h")
	p.pagesOK = 3
	if _, err := f.run(t); err == nil {
		t.Fatal("run succeeded although the platform failed")
	}
	cursor := f.runner.Health()[0].Cursor
	if cursor == "" {
		t.Fatal("no checkpoint after three pages")
	}
	if got := len(f.rec.versions()); got < 290 { // pages overlap by the boundary instant
		t.Fatalf("only %d records kept from three good pages", got)
	}
	p.mu.Lock()
	p.pagesOK = 0
	p.mu.Unlock()
	n := len(p.log())
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	first := p.log()[n]
	c, _ := time.Parse(time.RFC3339Nano, cursor)
	if s, _ := time.Parse(time.RFC3339, first.Get("updated_since")); !s.Equal(c) || first.Get("page") != "1" {
		t.Errorf("resumed with %v, want updated_since = the checkpoint %s", first, cursor)
	}
	f.complete(t)
}

// TestChangesWhilePaging: records change between the pages of a run, as
// they do on a live platform; nothing is skipped.
func TestChangesWhilePaging(t *testing.T) {
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 800)...)
	served := 0
	p.between = func(p *platform) {
		served++
		// Touch records already read, records not yet read, and add
		// new ones: each moves to the end of the order.
		p.upsertLocked(false, fmt.Sprintf("A%05d", served*7), fmt.Sprintf("A%05d", 799-served*5), fmt.Sprintf("N%05d", served))
		p.upsertLocked(true, fmt.Sprintf("A%05d", served*3), fmt.Sprintf("M%05d", served))
	}
	f := newFixture(t, p, options(p), "@every 1h")
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.between = nil
	p.mu.Unlock()
	// The changes made while the last page was served are read next run.
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	f.complete(t)
}

func TestRetryWithinRun(t *testing.T) {
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 50)...)
	p.failNext = 2
	f := newFixture(t, p, options(p), "@every 1h")
	if _, err := f.run(t); err != nil {
		t.Fatalf("two 503s within the retry budget failed the run: %v", err)
	}
	if n := len(p.log()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	f.complete(t)
}

func TestPermanentError(t *testing.T) {
	p := newPlatform(t, "another-token")
	p.upsert(false, ids("A", 5)...)
	f := newFixture(t, p, options(p), "@every 1h")
	_, err := f.run(t)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), apiToken) {
		t.Error("the error shows the token")
	}
	if n := len(p.log()); n != 1 {
		t.Errorf("a 401 was retried: %d requests", n)
	}
}

// TestScheduledRecovery runs the real scheduler against an outage: the
// runner backs off while the platform is down and catches up on its own
// once it returns.
func TestScheduledRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the scheduler")
	}
	p := newPlatform(t, apiToken)
	p.upsert(false, ids("A", 200)...)
	p.setStatus(http.StatusBadGateway)
	f := newFixture(t, p, options(p), "* * * * * *")
	if err := f.runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer f.runner.Stop(context.Background())
	testkit.WaitFor(t, "a failed run", func() bool { return f.runner.Health()[0].Failures >= 1 })
	p.upsert(false, ids("B", 100)...)
	p.setStatus(0)
	testkit.WaitFor(t, "the catch-up", func() bool {
		h := f.runner.Health()[0]
		return h.Runs >= 2 && !h.LastSuccess.IsZero() && maps.Equal(f.rec.versions(), p.versions())
	})
	f.complete(t)
	if h := f.runner.Health()[0]; h.Failures < 1 || h.Runs < 2 {
		t.Errorf("health = %+v", h)
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		o    httppull.Options
		want string
	}{
		{httppull.Options{Kind: "call", URL: "http://x/"}, "kind"},
		{httppull.Options{Kind: "calls", URL: "ftp://x/"}, "url"},
		{httppull.Options{Kind: "calls", URL: "/relative"}, "url"},
		{httppull.Options{Kind: "calls", URL: "http://x/", TimeZone: "Nowhere/None"}, "time_zone"},
		{httppull.Options{Kind: "calls", URL: "http://x/", Start: "2026-01-01"}, "start"},
		{httppull.Options{Kind: "calls", URL: "http://x/", BearerTokenEnv: "YIPING_TEST_UNSET_VARIABLE"}, "is empty"},
	}
	for _, tt := range tests {
		_, err := httppull.New(tt.o, collectors.Env{Getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want %q", tt.o, err, tt.want)
		}
	}
}
