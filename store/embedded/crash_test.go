package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// The crash workload: batch b holds crashWidth points, one per series j,
// all at time crashBase + b ms, with values that are a function of (b, j),
// so the parent can tell a correct point from a garbled one.
const crashWidth = 200

var crashBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func crashKey(j int) store.SeriesKey {
	return store.SeriesKey{Indicator: fmt.Sprintf("crash_%d", j%5), Region: fmt.Sprintf("62%07d", j), Period: store.PeriodDay}
}

func crashPoint(b, j int) store.Point {
	tm := crashBase.Add(time.Duration(b) * time.Millisecond)
	if j%3 == 0 {
		return store.Count(crashKey(j), tm, int64(b)*1000+int64(j))
	}
	return store.Ratio(crashKey(j), tm, int64(b)*1000+int64(j), int64(b%97))
}

// TestCrashChild is the child process of TestCrashKill9: it writes batches
// as fast as it can and prints "ack N" after each Write of batch N returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("YIPING_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process of TestCrashKill9")
	}
	first, _ := strconv.Atoi(os.Getenv("YIPING_CRASH_FIRST"))
	// A small memtable makes Pebble flush and compact while we write, so
	// kills land in the middle of those too.
	s, err := Open(context.Background(), Config{Dir: dir, Logger: quietLogger(), RetentionInterval: -1, MemTableSize: 1 << 20})
	if err != nil {
		fmt.Printf("open-error %v\n", err)
		os.Exit(3)
	}
	fmt.Println("open")
	pts := make([]store.Point, crashWidth)
	deadline := time.Now().Add(60 * time.Second) // never reached: the parent kills us
	for b := first; time.Now().Before(deadline); b++ {
		for j := range pts {
			pts[j] = crashPoint(b, j)
		}
		if err := s.Write(context.Background(), pts); err != nil {
			fmt.Printf("write-error %v\n", err)
			os.Exit(3)
		}
		fmt.Printf("ack %d\n", b)
		time.Sleep(time.Millisecond) // about 100,000 points/s: a realistic peak, and a bounded check
	}
	os.Exit(4)
}

// TestCrashKill9 runs the writer above in a child process, kills it with
// SIGKILL while it writes, reopens the store and checks that it opens, that
// every batch acknowledged more than a second before the kill is there,
// that every batch is there whole or not at all, and that no point is
// garbled. Three rounds run on the same directory, each restarting after
// the previous kill.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	next := 0
	everPresent := map[int]bool{}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "YIPING_CRASH_DIR="+dir, "YIPING_CRASH_FIRST="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[int]time.Time{}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the child to open the store, then let it write a while.
		select {
		case l := <-lines:
			if l != "open" {
				t.Fatalf("round %d: child said %q", round, l)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: child did not open the store", round)
		}
		killAt := time.Now().Add(time.Duration(1200+rng.Intn(1000)) * time.Millisecond)
		last := -1
		timer := time.NewTimer(time.Until(killAt))
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited early: %v", round, cmd.Wait())
				}
				var b int
				if _, err := fmt.Sscanf(l, "ack %d", &b); err != nil {
					t.Fatalf("round %d: child said %q", round, l)
				}
				acked[b] = time.Now()
				last = b
			case <-timer.C:
				break read
			}
		}
		killed := time.Now()
		if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		for l := range lines { // acks printed before the kill but read after it
			var b int
			if _, err := fmt.Sscanf(l, "ack %d", &b); err == nil {
				acked[b] = killed
				last = b
			}
		}
		if last < 0 {
			t.Fatalf("round %d: no batch acknowledged", round)
		}
		present := checkCrashStore(t, dir, round)
		for b := range everPresent {
			if !present[b] {
				t.Errorf("round %d: batch %d, present after an earlier round, is gone", round, b)
			}
		}
		for b := range present {
			everPresent[b] = true
		}
		var lost, lostLastSecond int
		for b, at := range acked {
			if present[b] {
				continue
			}
			if killed.Sub(at) > time.Second {
				lost++
				if lost < 10 {
					t.Errorf("round %d: batch %d acknowledged %s before the kill is missing", round, b, killed.Sub(at))
				}
			} else {
				lostLastSecond++
			}
		}
		t.Logf("round %d: %d batches (%d points) acknowledged, killed after batch %d; missing: %d older than 1 s, %d within the last second",
			round, len(acked), len(acked)*crashWidth, last, lost, lostLastSecond)
		next = last + 1000 // leave a gap: unacknowledged batches may or may not exist
	}
}

// checkCrashStore reopens the store and returns the batches it holds,
// failing on anything but whole, correct batches.
func checkCrashStore(t *testing.T, dir string, round int) map[int]bool {
	t.Helper()
	s, err := Open(context.Background(), Config{Dir: dir, Logger: quietLogger(), RetentionInterval: -1, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatalf("round %d: reopen after kill -9: %v", round, err)
	}
	defer s.Close()
	counts := map[int]int{}
	ctx := context.Background()
	for j := 0; j < crashWidth; j++ {
		pts, err := s.Series(ctx, crashKey(j), store.MinTime, store.MaxTime, store.RollupNone)
		if err != nil {
			t.Fatalf("round %d: series %d: %v", round, j, err)
		}
		for _, p := range pts {
			d := p.Time.Sub(crashBase)
			b := int(d / time.Millisecond)
			if d%time.Millisecond != 0 || b < 0 {
				t.Fatalf("round %d: garbled time %s in series %d", round, p.Time, j)
			}
			want := crashPoint(b, j)
			if !want.SameValue(p) || p.Key() != want.Key() {
				t.Fatalf("round %d: garbled point %+v, want %+v", round, p, want)
			}
			counts[b]++
		}
		l, err := s.Latest(ctx, store.Selector{Indicator: crashKey(j).Indicator, Period: store.PeriodDay, Regions: []string{crashKey(j).Region}})
		if err != nil || (len(pts) > 0 && (len(l) != 1 || !l[0].Time.Equal(pts[len(pts)-1].Time))) {
			t.Fatalf("round %d: latest of series %d = %v, %v; want the last of its %d points", round, j, l, err, len(pts))
		}
	}
	present := map[int]bool{}
	var partial []string
	for b, n := range counts {
		if n != crashWidth {
			partial = append(partial, fmt.Sprintf("%d:%d", b, n))
		}
		present[b] = true
	}
	if len(partial) > 0 {
		t.Fatalf("round %d: batches present in part (batch:points): %s", round, strings.Join(partial, " "))
	}
	return present
}
