package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// connFunc adapts a function to Connector.
type connFunc func(ctx context.Context, cursor string, acc Accumulator) (string, error)

func (f connFunc) Collect(ctx context.Context, cursor string, acc Accumulator) (string, error) {
	return f(ctx, cursor, acc)
}

// sink records the calls it is given, in order.
type sink struct {
	mu    sync.Mutex
	calls []record.Call
	items []record.Item
}

func (s *sink) UpsertCases([]record.Case)             {}
func (s *sink) UpsertEvaluations([]record.Evaluation) {}
func (s *sink) UpsertTickets([]record.Ticket)         {}
func (s *sink) UpsertItems(it []record.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, it...)
}
func (s *sink) UpsertCalls(c []record.Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c...)
}

func (s *sink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		out = append(out, c.ID)
	}
	return out
}

func call(id string) []string { return []string{id, "620802", "2026-03-02 09:15:00", "1", "12"} }

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRunner(t *testing.T, j Journal, reg prometheus.Registerer, clk *clock, conns map[string]Connector) (*Runner, *sink) {
	t.Helper()
	cfg := Config{RetryBackoff: 10 * time.Second, MaxBackoff: time.Minute}
	if clk != nil {
		cfg.Now = clk.Now
	}
	names := make([]string, 0, len(conns))
	for n := range conns {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cfg.Sources = append(cfg.Sources, Source{Name: n, Type: "test", Schedule: "@every 1h", Connector: conns[n]})
	}
	s := &sink{}
	r, err := NewRunner(cfg, s, j, quiet, reg)
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

func health(t *testing.T, r *Runner, name string) Health {
	t.Helper()
	for _, h := range r.Health() {
		if h.Source == name {
			return h
		}
	}
	t.Fatalf("no health for %s", name)
	return Health{}
}

func TestRunCommitsAndCheckpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	pages := [][]string{{"K1", "K2", "BAD", "K3"}, {"K4"}, {}}
	conn := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
		n, _ := strconv.Atoi(cursor)
		for ; n < len(pages); n++ {
			for _, id := range pages[n] {
				row := call(id)
				if id == "BAD" {
					row[1] = "62" // not a region code
				}
				if err := acc.AddRow(record.KindCall, row); err != nil {
					var fe *record.FieldError
					if !errors.As(err, &fe) || fe.Field != "region_code" {
						t.Errorf("AddRow error = %v, want a region_code field error", err)
					}
				}
			}
			if err := acc.Checkpoint(ctx, strconv.Itoa(n+1)); err != nil {
				return "", err
			}
		}
		return strconv.Itoa(n), nil
	})
	r, s := newRunner(t, nil, reg, nil, map[string]Connector{"pull": conn})
	res, err := r.RunNow(context.Background(), "pull")
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 4 || res.Rejected != 1 {
		t.Errorf("result = %+v, want 4 accepted, 1 rejected", res)
	}
	if got := s.ids(); !slices.Equal(got, []string{"K1", "K2", "K3", "K4"}) {
		t.Errorf("sink got %v: the good rows of a batch with a bad one must land", got)
	}
	h := health(t, r, "pull")
	if h.Records != 4 || h.Rejects != 1 || h.Runs != 1 || h.Cursor != "3" || h.LastSuccess.IsZero() || h.LagSeconds == nil {
		t.Errorf("health = %+v", h)
	}
	// The next run resumes from the cursor: nothing new.
	if res, err := r.RunNow(context.Background(), "pull"); err != nil || res.Accepted != 0 {
		t.Errorf("second run = %+v, %v", res, err)
	}
	if v := testutil.ToFloat64(r.metrics.records.WithLabelValues("pull", "calls")); v != 4 {
		t.Errorf("records_total = %v", v)
	}
	if v := testutil.ToFloat64(r.metrics.rejects.WithLabelValues("pull", "calls")); v != 1 {
		t.Errorf("rejects_total = %v", v)
	}
	if v := testutil.ToFloat64(r.metrics.runs.WithLabelValues("pull", "ok")); v != 2 {
		t.Errorf("runs_total{ok} = %v", v)
	}
	n, err := testutil.GatherAndCount(reg, "yiping_collector_lag_seconds", "yiping_collector_consecutive_failures",
		"yiping_collector_last_run_ok", "yiping_collector_last_run_timestamp_seconds", "yiping_collector_running")
	if err != nil || n != 5 {
		t.Errorf("gathered %d health series, %v", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metric lint: %v %+v", err, problems)
	}
}

// TestFailedRunKeepsCursor: rows after the last checkpoint of a failed run
// are dropped and the cursor stays, so the next run delivers them again.
func TestFailedRunKeepsCursor(t *testing.T) {
	fail := true
	conn := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
		if cursor == "" {
			acc.AddRow(record.KindCall, call("K1"))
			if err := acc.Checkpoint(ctx, "1"); err != nil {
				return "", err
			}
		}
		acc.AddRow(record.KindCall, call("K2"))
		if fail {
			return "", errors.New("platform went away")
		}
		return "2", nil
	})
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	r, s := newRunner(t, nil, nil, clk, map[string]Connector{"pull": conn})
	if _, err := r.RunNow(context.Background(), "pull"); err == nil {
		t.Fatal("run succeeded")
	}
	if got := s.ids(); !slices.Equal(got, []string{"K1"}) {
		t.Fatalf("after a failed run the sink has %v, want only the checkpointed K1", got)
	}
	h := health(t, r, "pull")
	if h.Cursor != "1" || h.ConsecutiveFailures != 1 || !strings.Contains(h.LastError, "went away") || h.BackoffUntil.IsZero() {
		t.Fatalf("health = %+v", h)
	}
	fail = false
	if _, err := r.RunNow(context.Background(), "pull"); err != nil {
		t.Fatal(err)
	}
	if got := s.ids(); !slices.Equal(got, []string{"K1", "K2"}) {
		t.Fatalf("after recovery the sink has %v", got)
	}
	if h := health(t, r, "pull"); h.Cursor != "2" || h.ConsecutiveFailures != 0 {
		t.Fatalf("health = %+v", h)
	}
}

// TestBackoff drives scheduled firings with a fake clock: after failures
// the source rests 10 s, 20 s, 40 s, then at most a minute, and a success
// clears it.
func TestBackoff(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Bool
	fail.Store(true)
	conn := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
		runs.Add(1)
		if fail.Load() {
			return cursor, errors.New("503")
		}
		return cursor, nil
	})
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	r, _ := newRunner(t, nil, nil, clk, map[string]Connector{"pull": conn})
	s := r.byName["pull"]
	fire := func() int32 { before := runs.Load(); r.tick(s); return runs.Load() - before }
	steps := []struct {
		advance time.Duration
		ran     int32
	}{
		{0, 1},                // fails: rest 10 s
		{5 * time.Second, 0},  // resting
		{5 * time.Second, 1},  // 10 s later: runs, fails again: rest 20 s
		{19 * time.Second, 0}, // resting
		{time.Second, 1},      // fails a third time: rest 40 s
		{39 * time.Second, 0},
		{time.Second, 1}, // 80 s would exceed max: rest 1 min
		{time.Minute, 1}, // still capped at a minute
		{time.Minute, 1}, // and again; this time it recovers (step 8)
		{time.Second, 1}, // no rest after a success
		{time.Second, 1},
	}
	for i, st := range steps {
		if i == 8 {
			fail.Store(false)
		}
		clk.Add(st.advance)
		if got := fire(); got != st.ran {
			t.Fatalf("step %d (+%v): ran %d, want %d; health %+v", i, st.advance, got, st.ran, health(t, r, "pull"))
		}
	}
	h := health(t, r, "pull")
	if h.Skipped != 3 || h.ConsecutiveFailures != 0 || !h.BackoffUntil.IsZero() {
		t.Errorf("health = %+v", h)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	reg := prometheus.NewRegistry()
	var n atomic.Int32
	conn := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
		if n.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // nil map: panics
		}
		acc.AddRow(record.KindCall, call("K1"))
		return "1", nil
	})
	r, s := newRunner(t, nil, reg, nil, map[string]Connector{"pull": conn})
	_, err := r.RunNow(context.Background(), "pull")
	var pe *PanicError
	if !errors.As(err, &pe) || len(pe.Stack) == 0 {
		t.Fatalf("err = %v, want a PanicError with a stack", err)
	}
	if h := health(t, r, "pull"); !strings.Contains(h.LastError, "panicked") || h.Failures != 1 {
		t.Errorf("health = %+v", h)
	}
	if v := testutil.ToFloat64(r.metrics.runs.WithLabelValues("pull", "panic")); v != 1 {
		t.Errorf("runs_total{panic} = %v", v)
	}
	if _, err := r.RunNow(context.Background(), "pull"); err != nil || len(s.ids()) != 1 {
		t.Fatalf("run after a panic: %v, sink %v", err, s.ids())
	}
}

// blocker is a connector whose runs wait until released.
type blocker struct {
	started chan struct{}
	release chan struct{}
	runs    atomic.Int32
}

func (b *blocker) Collect(ctx context.Context, cursor string, acc Accumulator) (string, error) {
	if b.runs.Add(1) == 1 {
		close(b.started)
		select {
		case <-b.release:
		case <-ctx.Done():
			return cursor, ctx.Err()
		}
	}
	return cursor, nil
}

func TestOverlapIsSkipped(t *testing.T) {
	b := &blocker{started: make(chan struct{}), release: make(chan struct{})}
	r, _ := newRunner(t, nil, nil, nil, map[string]Connector{"slow": b})
	done := make(chan error)
	go func() { _, err := r.RunNow(context.Background(), "slow"); done <- err }()
	<-b.started
	if _, err := r.RunNow(context.Background(), "slow"); !errors.Is(err, ErrRunning) {
		t.Fatalf("overlapping run: %v, want ErrRunning", err)
	}
	if h := health(t, r, "slow"); !h.Running || h.Skipped != 1 {
		t.Errorf("health during the run = %+v", h)
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCronSchedule runs the real scheduler (every second) in a
// testing/synctest bubble, where its timers follow a fake clock that
// starts on a whole second: runs happen on their own, a run that overruns
// makes cron skip firings (counted per source), and Stop cancels the run
// in progress. It takes no real time and counts exactly.
func TestCronSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &blocker{started: make(chan struct{}), release: make(chan struct{})}
		var fast atomic.Int32
		quick := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
			fast.Add(1)
			return cursor, nil
		})
		cfg := Config{Sources: []Source{
			{Name: "slow", Type: "test", Schedule: "* * * * * *", Connector: b},
			{Name: "quick", Type: "test", Schedule: "* * * * * *", Connector: quick},
		}}
		r, err := NewRunner(cfg, &sink{}, nil, quiet, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Firings at +1 s, +2 s and +3 s: the slow source starts at the
		// first and is still running at the other two.
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		if h := health(t, r, "slow"); h.Skipped != 2 || !h.Running || h.NextRun.IsZero() {
			t.Errorf("slow source health = %+v, want 2 skipped firings while it runs", h)
		}
		if n := fast.Load(); n != 3 {
			t.Errorf("quick source ran %d times in 3.5 s, want 3", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if h := health(t, r, "slow"); h.Running || h.Failures != 1 {
			t.Errorf("after Stop: %+v, want the blocked run cancelled", h)
		}
	})
}

// TestRestart starts the runner again after Stop, as a cluster node does
// in each of its terms as leader: the sources run again, and only while
// started.
func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		c := connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
			runs.Add(1)
			return cursor, nil
		})
		r, err := NewRunner(Config{Sources: []Source{{Name: "s", Type: "test", Schedule: "* * * * * *", Connector: c}}}, &sink{}, nil, quiet, nil)
		if err != nil {
			t.Fatal(err)
		}
		for term := 1; term <= 3; term++ {
			if err := r.Start(context.Background()); err != nil {
				t.Fatalf("term %d: %v", term, err)
			}
			time.Sleep(2200 * time.Millisecond)
			synctest.Wait()
			if err := r.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			n := runs.Load()
			time.Sleep(3300 * time.Millisecond) // stopped: no run
			synctest.Wait()
			if got := runs.Load(); got != n || n != int32(2*term) {
				t.Fatalf("term %d: %d runs, then %d while stopped; want %d and none", term, n, got-n, 2*term)
			}
		}
	})
}

// TestJournalOrder checks the commit order against a real journal: the
// journal holds what the sink got, in the same order, and the cursor is
// stored with it.
func TestJournalOrder(t *testing.T) {
	j, err := journal.Open(t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	conns := map[string]Connector{}
	for i := range 3 {
		name := fmt.Sprintf("s%d", i)
		conns[name] = connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
			for p := range 20 {
				for k := range 5 {
					acc.AddRow(record.KindCall, call(fmt.Sprintf("K%d", (p*5+k)%17)))
				}
				acc.AddRow(record.KindItem, []string{fmt.Sprintf("I%d", p), "620000", "", "1", "1", "1", "1", "0", "", ""})
				if err := acc.Checkpoint(ctx, strconv.Itoa(p)); err != nil {
					return "", err
				}
			}
			return "done", nil
		})
	}
	r, s := newRunner(t, j, nil, nil, conns)
	for name := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.RunNow(context.Background(), name); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var replayed []string
	nItems := 0
	if _, err := j.Replay(context.Background(), func(b journal.Batch) error {
		for i := range b.Len() {
			if b.Kind == record.KindCall {
				replayed = append(replayed, b.Row(i)[0])
			} else {
				nItems++
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := s.ids(); !slices.Equal(got, replayed) || len(got) != 300 || nItems != 60 {
		t.Fatalf("journal order differs from the sink's: %d vs %d calls, %d items", len(replayed), len(got), nItems)
	}
	for name := range conns {
		if c, _ := j.Cursor(name); c != "done" {
			t.Errorf("cursor of %s = %q", name, c)
		}
	}
}

func TestNewRunnerChecks(t *testing.T) {
	ok := connFunc(func(ctx context.Context, c string, _ Accumulator) (string, error) { return c, nil })
	tests := []struct {
		name string
		src  Source
		want string
	}{
		{"bad name", Source{Name: "a b", Schedule: "@every 1s", Connector: ok}, "source name"},
		{"no connector", Source{Name: "a", Schedule: "@every 1s"}, "no connector"},
		{"no schedule", Source{Name: "a", Connector: ok}, "schedule: required"},
		{"bad schedule", Source{Name: "a", Schedule: "*/5 * * * *", Connector: ok}, "schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRunner(Config{Sources: []Source{tt.src}}, &sink{}, nil, quiet, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	reg := prometheus.NewRegistry()
	src := []Source{{Name: "a", Schedule: "@every 1s", Connector: ok}}
	if _, err := NewRunner(Config{Sources: src}, &sink{}, nil, quiet, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRunner(Config{Sources: src}, &sink{}, nil, quiet, reg); err == nil {
		t.Fatal("a second runner registered the same metrics")
	}
}

// TestAdopt: a new cluster leader's runner takes the previous leader's
// run history (only when it is later than its own) and keeps its own
// counters.
func TestAdopt(t *testing.T) {
	r, err := NewRunner(Config{Sources: []Source{{Name: "s", Type: "test", Schedule: "@every 1m", Connector: connFunc(func(ctx context.Context, cursor string, acc Accumulator) (string, error) {
		return cursor, nil
	})}}}, &sink{}, nil, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Health()[0]; h.LagSeconds != nil {
		t.Fatalf("fresh runner: %+v", h)
	}
	at := time.Now().Add(-30 * time.Second)
	r.Adopt([]Health{{Source: "s", LastRun: at, LastSuccess: at.Add(time.Second), Runs: 99}, {Source: "other", LastRun: at}})
	h := r.Health()[0]
	if h.LagSeconds == nil || *h.LagSeconds < 28 || h.Runs != 0 || !h.LastSuccess.Equal(at.Add(time.Second)) {
		t.Fatalf("after adopting: %+v", h)
	}
	r.Adopt([]Health{{Source: "s", LastRun: at.Add(-time.Hour), LastSuccess: at.Add(-time.Hour)}}) // older: ignored
	if h := r.Health()[0]; !h.LastSuccess.Equal(at.Add(time.Second)) {
		t.Fatalf("an older history replaced a newer one: %+v", h)
	}
}
