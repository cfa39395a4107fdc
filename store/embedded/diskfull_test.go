package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/storetest"
)

// countLog is a slog handler that counts records and keeps the first few.
type countLog struct {
	n     *atomic.Int64
	mu    *sync.Mutex
	first *[]string
}

func newCountLog() (*slog.Logger, *countLog) {
	h := &countLog{n: new(atomic.Int64), mu: new(sync.Mutex), first: new([]string)}
	return slog.New(h), h
}

func (h *countLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *countLog) Handle(_ context.Context, r slog.Record) error {
	if h.n.Add(1) <= 20 {
		h.mu.Lock()
		*h.first = append(*h.first, r.Level.String()+" "+r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *countLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countLog) WithGroup(string) slog.Handler      { return h }

func (h *countLog) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("%d lines, the first: %s", h.n.Load(), strings.Join(*h.first, " | "))
}

func diskPoints(batch, n int) []store.Point {
	pts := make([]store.Point, n)
	for j := range pts {
		k := store.SeriesKey{Indicator: "case_volume", Region: fmt.Sprintf("62%07d", j), Period: store.PeriodDay}
		pts[j] = store.Count(k, storetest.T(2026, 11, 23, 9, 0, 0).Add(time.Duration(batch)*time.Second), int64(batch))
	}
	return pts
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%s: err = %v, want store.ErrUnavailable", what, err)
	}
}

// TestLowSpaceRefusesWrites: below MinFreeBytes the store refuses writes
// and reports itself unhealthy, logging that once; with space back it
// takes writes again by itself; Open below it fails at once.
func TestLowSpaceRefusesWrites(t *testing.T) {
	ctx := context.Background()
	var free atomic.Uint64
	free.Store(1 << 30)
	log, lines := newCountLog()
	dir := t.TempDir()
	s := openTest(t, dir, func(c *Config) {
		c.MinFreeBytes = 8 << 20
		c.Logger = log
		c.freeBytes = func() (uint64, error) { return free.Load(), nil }
	})
	defer s.Close()
	if err := s.Write(ctx, diskPoints(0, 10)); err != nil {
		t.Fatal(err)
	}
	base := lines.n.Load()
	free.Store(1 << 20)
	for i := range 100 {
		err := s.Write(ctx, diskPoints(1+i, 10))
		wantUnavailable(t, "write on a nearly full disk", err)
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "1.0 MiB free") {
			t.Fatalf("write on a nearly full disk: %v, want ENOSPC and the free space", err)
		}
		wantUnavailable(t, "Healthy on a nearly full disk", s.Healthy())
	}
	if n := lines.n.Load() - base; n != 1 {
		t.Errorf("100 refused writes logged %d lines, want 1: %s", n, lines)
	}
	free.Store(1 << 30)
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy with space back: %v", err)
	}
	if err := s.Write(ctx, diskPoints(200, 10)); err != nil {
		t.Fatalf("write with space back: %v", err)
	}
	got, err := s.Latest(ctx, store.Selector{Indicator: "case_volume", Period: store.PeriodDay, Regions: []string{"620000000"}})
	if err != nil || len(got) != 1 || got[0].Numerator != 200 {
		t.Fatalf("Latest = %v, %v; want the write after space came back", got, err)
	}
	free.Store(1 << 20)
	_, err = Open(ctx, Config{Dir: t.TempDir(), Logger: quietLogger(), MinFreeBytes: 8 << 20,
		freeBytes: func() (uint64, error) { return free.Load(), nil }})
	wantUnavailable(t, "Open on a nearly full disk", err)
}

// TestFailedLogWriteStopsWritesOnly: when Pebble's write-ahead log write
// fails anyway (the disk filled between the space check and the write),
// Pebble panics inside Commit; the store turns that into an error, refuses
// later writes (saying a restart is needed), keeps answering reads, and
// closes without hanging.
func TestFailedLogWriteStopsWritesOnly(t *testing.T) {
	ctx := context.Background()
	var full atomic.Bool
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if full.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsWrite && strings.HasSuffix(op.Path, ".log") {
			return syscall.ENOSPC
		}
		return nil
	}))
	s := openTest(t, t.TempDir(), func(c *Config) { c.fs = fs; c.MinFreeBytes = -1 })
	if err := s.Write(ctx, diskPoints(0, 10)); err != nil {
		t.Fatal(err)
	}
	full.Store(true)
	var err error
	for i := 1; err == nil && i < 1000; i++ {
		err = s.Write(ctx, diskPoints(i, 10))
		time.Sleep(time.Millisecond)
	}
	wantUnavailable(t, "write after a failed log write", err)
	full.Store(false)
	wantUnavailable(t, "later write", s.Write(ctx, diskPoints(5000, 10)))
	if err := s.Healthy(); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("Healthy = %v, want a call for a restart", err)
	}
	if _, err := s.Latest(ctx, store.Selector{Indicator: "case_volume", Period: store.PeriodDay, Regions: []string{"620000000"}}); err != nil {
		t.Fatalf("Latest after a failed log write: %v", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after a failed log write")
	}
}

// TestBallastTakesTheLastWrite: when Pebble's log write finds the disk
// full although the space check passed (the journal took the last bytes
// meanwhile), the ballast is released for it, so Pebble never sees the
// error (no broken store, no restart); the store then refuses writes until
// the ballast can be allocated again, and takes them once it is.
func TestBallastTakesTheLastWrite(t *testing.T) {
	ctx := context.Background()
	var enospc atomic.Int32 // log writes still to fail
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite && strings.HasSuffix(op.Path, ".log") && enospc.Add(-1) >= 0 {
			return syscall.ENOSPC
		}
		return nil
	}))
	var free atomic.Uint64
	free.Store(1 << 30)
	dir := t.TempDir()
	s := openTest(t, dir, func(c *Config) {
		c.fs = fs
		c.MinFreeBytes = 8 << 20
		c.freeBytes = func() (uint64, error) { return free.Load(), nil }
	})
	defer s.Close()
	ballast := filepath.Join(dir, ballastName)
	if _, err := os.Stat(ballast); err != nil {
		t.Fatalf("no ballast: %v", err)
	}
	if err := s.Write(ctx, diskPoints(0, 10)); err != nil {
		t.Fatal(err)
	}
	free.Store(9 << 20) // above MinFreeBytes, not above it and the ballast
	enospc.Store(1)
	i := 1
	for ; enospc.Load() >= 0; i++ {
		if i > 1000 {
			t.Fatal("the injected log write failure never came")
		}
		if err := s.Write(ctx, diskPoints(i, 10)); err != nil {
			wantUnavailable(t, "write as the disk fills", err)
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(ballast); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the ballast was not released: %v", err)
	}
	err := s.Write(ctx, diskPoints(i+1, 10))
	wantUnavailable(t, "write after the ballast was released", err)
	if strings.Contains(err.Error(), "restart") {
		t.Fatalf("the store broke although the ballast took the write: %v", err)
	}
	wantUnavailable(t, "Healthy after the ballast was released", s.Healthy())

	free.Store(1 << 30)
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy with space back: %v", err)
	}
	if _, err := os.Stat(ballast); err != nil {
		t.Fatalf("ballast not allocated again: %v", err)
	}
	if err := s.Write(ctx, diskPoints(5000, 10)); err != nil {
		t.Fatalf("write with space back: %v", err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush with space back: %v", err)
	}
}

// TestDiskFull runs the store on a real full disk: a tmpfs mounted in a
// user and mount namespace (unshare), where the test binary runs itself
// again for each case below.
func TestDiskFull(t *testing.T) {
	if dir := testkit.TinyDisk(); dir != "" {
		switch c := os.Getenv("YIPING_DISKFULL_CASE"); c {
		case "running":
			diskFullRunning(t, dir)
		case "start":
			diskFullStart(t, dir)
		default:
			t.Fatalf("unknown case %q", c)
		}
		return
	}
	for _, c := range []string{"running", "start"} {
		t.Run(c, func(t *testing.T) { testkit.InTinyDisk(t, "8m", "TestDiskFull", "YIPING_DISKFULL_CASE="+c) })
	}
}

const diskFullMinFree = 1 << 20

// diskFullRunning: the disk fills while the store runs (the journal beside
// it took the space). Writes are refused without a panic and without a
// flood of logs, and taken again once space is freed; nothing written
// before is lost.
func diskFullRunning(t *testing.T, root string) {
	ctx := context.Background()
	log, lines := newCountLog()
	dir := filepath.Join(root, "store")
	cfg := Config{Dir: dir, Logger: log, RetentionInterval: -1, MemTableSize: 1 << 20, MinFreeBytes: diskFullMinFree, SyncInterval: 50 * time.Millisecond}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for ; last < 50; last++ {
		if err := s.Write(ctx, diskPoints(last, 100)); err != nil {
			t.Fatal(err)
		}
	}
	filler := testkit.FillDisk(t, root)
	refused := 0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		err := s.Write(ctx, diskPoints(last, 100))
		if err == nil {
			last++
			continue
		}
		wantUnavailable(t, "write on a full disk", err)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write on a full disk: %v, want ENOSPC", err)
		}
		refused++
		time.Sleep(time.Millisecond)
	}
	if refused == 0 {
		t.Fatal("the full disk took every write")
	}
	wantUnavailable(t, "Healthy on a full disk", s.Healthy())
	if n := lines.n.Load(); n > 10 {
		t.Fatalf("2 s on a full disk logged %s", lines)
	}
	t.Logf("%d writes refused; log: %s", refused, lines)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy with space freed: %v", err)
	}
	if err := s.Write(ctx, diskPoints(last, 100)); err != nil {
		t.Fatalf("write with space freed: %v", err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Series(ctx, diskPoints(0, 1)[0].Key(), storetest.T(2000, 1, 1, 0, 0, 0), storetest.T(2100, 1, 1, 0, 0, 0), store.RollupNone)
	if err != nil || len(got) != last+1 {
		t.Fatalf("after a restart: %d points, %v; want the %d written", len(got), err, last+1)
	}
}

// diskFullStart: a restart on a full disk, with a write-ahead log to
// replay. Open fails at once with a clear reason (it used to wait for
// ever while Pebble retried its flush, logging each failure); with the
// check turned off, it still returns when its context ends, and Pebble's
// repeated failure is logged a few times, not thousands.
func diskFullStart(t *testing.T, root string) {
	ctx := context.Background()
	dir := filepath.Join(root, "store")
	cfg := Config{Dir: dir, Logger: quietLogger(), RetentionInterval: -1, MinFreeBytes: diskFullMinFree}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := s.Write(ctx, diskPoints(i, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.FillDisk(t, root)

	log, lines := newCountLog()
	cfg.Logger = log
	start := time.Now()
	_, err = Open(ctx, cfg)
	wantUnavailable(t, "Open on a full disk", err)
	if !errors.Is(err, syscall.ENOSPC) || time.Since(start) > 5*time.Second {
		t.Fatalf("Open on a full disk: %v after %s, want ENOSPC at once", err, time.Since(start))
	}

	cfg.MinFreeBytes = -1
	octx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start = time.Now()
	s, err = Open(octx, cfg)
	if err == nil {
		// Pebble found room after all (its flush fitted): then it works.
		s.Close()
		return
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Open did not return when its context ended: %v after %s", err, time.Since(start))
	}
	if n := lines.n.Load(); n > 10 {
		t.Fatalf("2 s of opening on a full disk logged %s", lines)
	}
	t.Logf("open without the check: %v; %s", err, lines)
}
