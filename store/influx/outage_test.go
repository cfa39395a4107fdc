package influx

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/store/influx/influxtest"
)

// TestOutageSpoolReplay runs a real influxd, writes continuously, kills the
// server in the middle of the writes (SIGKILL: requests in flight fail),
// keeps writing while it is down, restarts it on the same directory and
// port, waits for the spool to drain and then compares InfluxDB with
// everything written: every point present, each exactly once, with its
// value.
func TestOutageSpoolReplay(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	bucket, err := srv.CreateDatabase(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	var errMu sync.Mutex
	var errs []error
	s := openTest(t, Config{URL: srv.URL, Bucket: bucket, FlushInterval: 20 * time.Millisecond,
		BatchSize: 500, ProbeInterval: 100 * time.Millisecond, WriteTimeout: 2 * time.Second,
		OnError: func(err error, points int, spooled bool) {
			if !spooled {
				errMu.Lock()
				errs = append(errs, err) // rejected: must not happen
				errMu.Unlock()
			}
		}})
	const n = 40 // series; one point per series per batch
	b := 0
	write := func(until func() bool) {
		t.Helper()
		for ; !until(); b++ {
			if err := s.Write(ctx, workload(b, n)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Up: written directly.
	write(func() bool { return b >= 100 })
	// Kill while writing, then keep writing while it is down.
	killed := make(chan struct{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = srv.Kill()
		close(killed)
	}()
	downSince := time.Time{}
	write(func() bool {
		select {
		case <-killed:
			if downSince.IsZero() {
				downSince = time.Now()
			}
			return time.Since(downSince) > 1500*time.Millisecond
		default:
			return false
		}
	})
	st := s.Stats()
	if st.Spooled == 0 || !st.Unavailable {
		t.Fatalf("after the kill nothing was spooled: %+v", st)
	}
	t.Logf("killed after ~batch 100; %d batches written so far; spooled %d points in %d records", b, st.Spooled, st.SpoolRecords)
	// Restart in the background; keep writing meanwhile (start-up takes seconds).
	restarted := make(chan error, 1)
	go func() { restarted <- srv.Restart(ctx) }()
	var rerr error
	write(func() bool {
		select {
		case rerr = <-restarted:
			return true
		default:
			return false
		}
	})
	if rerr != nil {
		t.Fatalf("restart: %v", rerr)
	}
	// Up again: a few more batches, then wait for the spool to drain.
	end := b + 50
	write(func() bool { return b >= end })
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush after restart: %v (stats %+v)", err, s.Stats())
	}
	st = s.Stats()
	errMu.Lock()
	defer errMu.Unlock()
	t.Logf("restarted; %d batches (%d points) written in all; replayed %d points from the spool; %d write errors", b, b*n, st.SpoolReplayed, st.WriteErrors)
	if st.Spooled != 0 || st.SpoolRecords != 0 || st.Rejected != 0 || st.Written != int64(b*n) || len(errs) > 0 {
		t.Fatalf("stats after the drain: %+v (rejections %v), want %d written", st, errs, b*n)
	}
	checkWorkload(t, s, b, n)
}
