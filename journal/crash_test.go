package journal_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

// crashEnv tells a re-executed test binary to act as the Yiping process
// that gets killed; its value is the state directory.
const crashEnv = "YIPING_JOURNAL_CRASH_CHILD"

const (
	totalRows = 12000
	pageRows  = 200
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// asOf is the engines' clock, a business-zone wall time.
const asOf = "2026-06-30 18:00:00"

// row returns the i-th record of a deterministic feed of all five kinds,
// in which ids recur so that later rows replace earlier versions: the
// final state depends on every row and on their order.
func row(i int) (record.Kind, []string) {
	regions := []string{"620802", "620821", "620100", "620102", "620000", "620802001"}
	reg := regions[i%len(regions)]
	day := 1 + (i/7)%29
	at := func(d, h int) string { return fmt.Sprintf("2026-06-%02d %02d:%02d:00", d, h, i%60) }
	opt := func(ok bool, v string) string {
		if ok {
			return v
		}
		return ""
	}
	switch i % 5 {
	case 0:
		channels := []string{"online", "mobile", "window", "self_service"}
		statuses := []string{"submitted", "accepted", "closed", "rejected", "withdrawn", "closed"}
		acc := i%3 != 0
		return record.KindCase, []string{
			fmt.Sprintf("C%04d", (i*7919)%3000), reg, fmt.Sprintf("D%d", i%4), "I1", channels[i%4], strconv.Itoa(i % 2),
			at(day, 8), opt(acc, at(day, 9)), strconv.Itoa(i % 7), opt(acc && i%4 != 0, at(min(day+i%9, 30), 15)), statuses[i%6],
		}
	case 1:
		return record.KindEvaluation, []string{
			fmt.Sprintf("E%04d", (i*31)%2500), "", reg, fmt.Sprintf("D%d", i%3), "online", strconv.Itoa(1 + i%5),
			at(day, 10), opt(i%2 == 0, at(min(day+i%6, 30), 11)),
		}
	case 2:
		kinds := []string{"consult", "help", "complaint", "report", "suggestion", "praise"}
		callbacks := []string{"satisfied", "basic", "unsatisfied", "unreachable", ""}
		direct := i%4 == 0
		return record.KindTicket, []string{
			fmt.Sprintf("T%04d", (i*13)%2800), reg, fmt.Sprintf("U%d", i%5), "户籍", kinds[i%6], "phone", at(day, 9),
			strconv.FormatBool(direct), opt(!direct, at(day, 12)), opt(i%3 == 0, strconv.Itoa(i%10)), opt(i%2 == 0, at(min(day+i%8, 30), 16)), callbacks[i%5],
		}
	case 3:
		return record.KindCall, []string{
			fmt.Sprintf("K%05d", (i*3)%3500), reg, at(day, 8+i%10), strconv.Itoa(i % 2), opt(i%7 != 0, strconv.Itoa(i%40)),
		}
	default:
		return record.KindItem, []string{
			fmt.Sprintf("I%03d", i%300), reg, fmt.Sprintf("D%d", i%4), strconv.Itoa(i % 2), strconv.Itoa((i / 2) % 2),
			strconv.Itoa((i / 3) % 2), "1", strconv.Itoa(i % 3), opt(i%4 != 0, strconv.Itoa(10+i%20)), opt(i%5 != 0, strconv.Itoa(i%10)),
		}
	}
}

// feed is the source: the rows above, a page at a time from the cursor
// (an offset), checkpointing after each page.
type feed struct{ pause time.Duration }

func (f feed) Collect(ctx context.Context, cursor string, acc collectors.Accumulator) (string, error) {
	start := 0
	if cursor != "" {
		var err error
		if start, err = strconv.Atoi(cursor); err != nil {
			return cursor, err
		}
	}
	for i := start; i < totalRows; i += pageRows {
		for j := i; j < min(i+pageRows, totalRows); j++ {
			k, v := row(j)
			if err := acc.AddRow(k, v); err != nil {
				return cursor, fmt.Errorf("row %d: %w", j, err)
			}
		}
		next := strconv.Itoa(min(i+pageRows, totalRows))
		if err := acc.Checkpoint(ctx, next); err != nil {
			return cursor, err
		}
		cursor = next
		time.Sleep(f.pause) // stretch the run so the parent can kill it mid-way
	}
	return cursor, nil
}

// start is what Yiping does on start: open the journal, replay it into a
// fresh engine, and build the runner over both.
func start(t testing.TB, dir string, pause time.Duration) (*engine.Engine, *collectors.Runner, *journal.Journal) {
	eng := testengine.New(t, asOf)
	j, err := journal.Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.ReplayInto(context.Background(), eng, record.NewParser(testkit.Shanghai(t))); err != nil {
		t.Fatal(err)
	}
	cfg := collectors.Config{Location: testkit.Shanghai(t), Sources: []collectors.Source{{Name: "feed", Type: "test", Schedule: "@every 1h", Connector: feed{pause}}}}
	r, err := collectors.NewRunner(cfg, eng, j, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng, r, j
}

// TestKillAndRestart: a Yiping process ingesting through the journal is
// killed with SIGKILL, three times at different points; each restart
// replays the journal and resumes from the persisted cursor. After the
// last restart finishes the feed, the indicators equal those of a run
// that was never interrupted.
func TestKillAndRestart(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		child(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	cursorFile := filepath.Join(dir, "cursors", "feed")
	for round, at := range []int{totalRows / 5, totalRows * 9 / 20, totalRows * 7 / 10} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillAndRestart$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, _ := os.Create(filepath.Join(dir, fmt.Sprintf("child%d.log", round)))
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
	wait:
		for {
			select {
			case err := <-exited:
				log, _ := os.ReadFile(out.Name())
				t.Fatalf("round %d: the child exited by itself (%v):\n%s", round, err, log)
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("round %d: the child did not reach row %d", round, at)
			case <-time.After(2 * time.Millisecond):
				if b, err := os.ReadFile(cursorFile); err == nil {
					if n, _ := strconv.Atoi(string(b)); n >= at {
						break wait
					}
				}
			}
		}
		// A random delay lands the kill anywhere in a page: mid-append,
		// between the journal's fsync and the cursor's, or while idle.
		delay := time.Duration(rand.IntN(20000)) * time.Microsecond
		time.Sleep(delay)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
			t.Fatal(err)
		}
		<-exited
		out.Close()
		b, _ := os.ReadFile(cursorFile)
		info, _ := os.Stat(filepath.Join(dir, "records.journal"))
		t.Logf("round %d: killed %v after row %d, at cursor %s, journal %d bytes", round, delay, at, b, info.Size())
	}

	// Restart once more and finish the feed.
	eng, r, j := start(t, dir, 0)
	defer j.Close()
	if _, err := r.RunNow(context.Background(), "feed"); err != nil {
		t.Fatal(err)
	}
	if c, _ := j.Cursor("feed"); c != strconv.Itoa(totalRows) {
		t.Fatalf("cursor after finishing = %q", c)
	}

	// The same feed, never interrupted and never journaled.
	clean := testengine.New(t, asOf)
	cfg := collectors.Config{Location: testkit.Shanghai(t), Sources: []collectors.Source{{Name: "feed", Type: "test", Schedule: "@every 1h", Connector: feed{}}}}
	cr, err := collectors.NewRunner(cfg, clean, nil, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.RunNow(context.Background(), "feed"); err != nil {
		t.Fatal(err)
	}
	if got, want := eng.Len(), clean.Len(); got != want {
		t.Fatalf("records after crashes %v, uninterrupted %v", got, want)
	}
	for _, p := range []engine.Period{engine.Day, engine.Month, engine.Year} {
		for _, byDept := range []bool{false, true} {
			got, err1 := eng.Results(p, byDept)
			want, err2 := clean.Results(p, byDept)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s (by dept %v): indicators after kill -9 and restarts differ from an uninterrupted run", p, byDept)
			}
		}
	}
	// And a plain replay of the final journal gives the same state too.
	j.Close()
	again, _, j2 := start(t, dir, 0)
	defer j2.Close()
	got, _ := again.Results(engine.Month, true)
	want, _ := clean.Results(engine.Month, true)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("replaying the final journal gives other indicators")
	}
}

// child is the process that gets killed: it starts like Yiping (replay,
// then resume from the cursor) and ingests until killed.
func child(t *testing.T, dir string) {
	_, r, _ := start(t, dir, 2*time.Millisecond)
	if _, err := r.RunNow(context.Background(), "feed"); err != nil {
		t.Fatal(err)
	}
	select {} // finished before the kill: wait for it
}
