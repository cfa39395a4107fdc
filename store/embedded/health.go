package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/yiping-ioc/yiping/store"
)

// A full disk and Pebble. Pebble does not survive running out of space:
// a write-ahead log write that fails panics in the committing goroutine and
// leaves the commit pipeline locked (every later commit, and Close, would
// wait for ever); a flush that cannot write its sstable is retried at once,
// without end, logging each failure (thousands of lines a second), and
// Open waits for the flush of the log it replayed, so a restart on a full
// disk never returns. So the store keeps Pebble away from a full disk:
//
//   - it refuses writes (store.ErrUnavailable, wrapping ENOSPC) while the
//     file system has less than Config.MinFreeBytes free, which leaves
//     Pebble room to flush and compact what it holds, and takes them again
//     once space is back: nothing to restart;
//   - Open fails at once, naming the free space, below that bound;
//   - the disk may still fill between the check and Pebble's write: another
//     process (the journal beside it) takes the last bytes while Pebble's
//     log writer still holds bytes of the writes before. For that, a
//     ballast file of MinFreeBytes/4 is allocated in Dir, and Pebble's file
//     system is wrapped with vfs.OnDiskFull: a write that finds the disk
//     full releases the ballast and is retried once, so it succeeds, and
//     the store refuses writes until there is room to allocate the ballast
//     again (CockroachDB's remedy for the same problem);
//   - if even that fails (a write larger than the ballast), the panic is
//     caught: the write returns an error, and the store refuses writes
//     until a restart (Healthy says so) while reads go on;
//   - Pebble's repeated messages are logged once, then at most once a
//     minute with the number suppressed.
//
// Healthy reports whether writes are refused, and why, for /readyz.

// syncMinFree is the least free space at which the periodic fsync of the
// write-ahead log, which appends a few bytes to it, still runs when writes
// are refused: below it an unsynced tail waits in the page cache (a
// process crash loses nothing; a power cut loses it) rather than risk the
// write that would break Pebble.
const syncMinFree = 1 << 20

// logEvery is how often a repeated message is logged again.
const logEvery = time.Minute

// ballastName is the ballast file in the store's directory (Pebble
// ignores files it did not name).
const ballastName = "BALLAST"

// health is the store's view of whether it can write.
type health struct {
	dir     string
	minFree int64
	free    func() (uint64, error)
	log     *slog.Logger
	fs      vfs.FS // the file system under Pebble's OnDiskFull wrapper
	ballast int64  // its size; 0 for none

	mu     sync.Mutex
	low    bool  // the last check found less than minFree free
	spent  bool  // the ballast was released for a write that found the disk full
	broken error // set when a Pebble commit panicked; writes end until a restart
}

func newHealth(cfg *Config) *health {
	h := &health{dir: cfg.Dir, minFree: cfg.MinFreeBytes, free: cfg.freeBytes, log: cfg.Logger, fs: cfg.fs}
	if h.fs == nil {
		h.fs = vfs.Default
	}
	if h.free == nil {
		h.free = func() (uint64, error) {
			du, err := h.fs.GetDiskUsage(cfg.Dir)
			return du.AvailBytes, err
		}
	}
	if h.minFree > 0 {
		h.ballast = h.minFree / 4
	}
	return h
}

// pebbleFS is the file system Pebble gets: with a ballast, wrapped so that
// a write that finds the disk full releases it and is retried.
func (h *health) pebbleFS() vfs.FS {
	if h.ballast == 0 {
		return h.fs
	}
	return vfs.OnDiskFull(h.fs, h.onDiskFull)
}

// makeBallast allocates the ballast (without writing it: fallocate, where
// the file system has it) and syncs it.
func (h *health) makeBallast() error {
	if h.ballast == 0 {
		return nil
	}
	path := h.fs.PathJoin(h.dir, ballastName)
	f, err := h.fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("ballast: %w", err)
	}
	err = f.Preallocate(0, h.ballast)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		err = writeZeros(f, h.ballast) // no fallocate here: take the space by writing
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = h.fs.Remove(path)
		return fmt.Errorf("ballast: %w", err)
	}
	return nil
}

func writeZeros(f vfs.File, n int64) error {
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k, err := f.Write(buf[:min(n, int64(len(buf)))])
		if err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// onDiskFull runs when a write of Pebble found the disk full, with Pebble's
// writes held: it gives the ballast's space to that write.
func (h *health) onDiskFull() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.fs.Remove(h.fs.PathJoin(h.dir, ballastName)); err != nil {
		h.log.Error("embedded store: the disk is full and the ballast cannot be released", "err", err)
		return
	}
	if !h.spent {
		h.spent = true
		h.log.Error("embedded store: the disk is full; released the ballast for Pebble's pending writes and refusing writes until space is freed",
			"dir", h.dir, "ballast_bytes", h.ballast)
	}
}

// check returns nil when a write of the store may go to Pebble, else why
// not. need is the free space the write needs: minFree for data, less for
// the fsync of what is already written. Running short of minFree and
// getting it back are logged once each.
func (h *health) check(need int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.broken != nil {
		return h.broken
	}
	free, err := h.space(need)
	if h.spent {
		// Back to normal only once the ballast is allocated again.
		if err == nil && (free < 0 || free-h.ballast >= need) && h.makeBallast() == nil {
			h.spent = false
			h.log.Info("embedded store: space is back; ballast allocated again", "dir", h.dir, "free_bytes", free)
		} else {
			return lowSpace(h.dir, uint64(max(free, 0)), need+h.ballast)
		}
	}
	if need == h.minFree && free >= 0 {
		switch {
		case err != nil && !h.low:
			h.low = true
			h.log.Error("embedded store: the disk is nearly full; refusing writes until space is freed",
				"dir", h.dir, "free_bytes", free, "min_free_bytes", h.minFree)
		case err == nil && h.low:
			h.low = false
			h.log.Info("embedded store: space is back; taking writes again", "dir", h.dir, "free_bytes", free)
		}
	}
	return err
}

// space returns the free space (-1 when unknown or not checked) and an
// error when it is below need.
func (h *health) space(need int64) (int64, error) {
	if h.minFree < 0 {
		return -1, nil
	}
	free, err := h.free()
	if err != nil {
		return -1, nil // unknown: the write itself will tell
	}
	if free < uint64(need) {
		return int64(free), lowSpace(h.dir, free, need)
	}
	return int64(min(free, 1<<62)), nil
}

func lowSpace(dir string, free uint64, need int64) error {
	return fmt.Errorf("%w: %s has %s free, under the %s the store keeps free "+
		"(free space on the data directory's disk, or lower YIPING_STORE_MIN_FREE): %w",
		store.ErrUnavailable, dir, mib(int64(free)), mib(need), syscall.ENOSPC)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// commit runs a Pebble commit, turning the panic of a failed write-ahead
// log write into an error and the broken state.
func (h *health) commit(what string, fn func() error) (err error) {
	h.mu.Lock()
	broken := h.broken
	h.mu.Unlock()
	if broken != nil {
		return broken
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		cause, ok := r.(error)
		if !ok {
			cause = fmt.Errorf("%v", r)
		}
		err = fmt.Errorf("%w: %s: Pebble could not write its log and takes no more writes; "+
			"restart once the disk has space (nothing written before is lost): %w", store.ErrUnavailable, what, cause)
		h.mu.Lock()
		if h.broken == nil {
			h.broken = err
			h.log.Error("embedded store: writes stopped until a restart", "err", err)
		}
		h.mu.Unlock()
	}()
	return fn()
}

// failure returns the error of a commit that panicked, or nil.
func (h *health) failure() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.broken
}

// Healthy reports whether the store takes writes now: nil, or why not
// (wrapping store.ErrUnavailable): the disk has less free space than
// Config.MinFreeBytes (which clears by itself once space is freed), or a
// failed write-ahead log write stopped writes until a restart. It
// implements store.Health, for /readyz.
func (s *Store) Healthy() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.health.check(s.cfg.MinFreeBytes); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	return nil
}

var _ store.Health = (*Store)(nil)

// limiter logs a message the first time, then at most once per logEvery
// with the number of times it was suppressed in between.
type limiter struct {
	mu   sync.Mutex
	seen map[string]*seen
	now  func() time.Time
}

type seen struct {
	last       time.Time
	suppressed int
}

// allow reports whether the message keyed by key is logged now, and how
// many were suppressed since the last one logged.
func (l *limiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.seen == nil {
		l.seen = map[string]*seen{}
	}
	s := l.seen[key]
	if s == nil {
		if len(l.seen) > 1000 { // keys are format strings, but bound them anyway
			clear(l.seen)
		}
		l.seen[key] = &seen{last: now}
		return true, 0
	}
	if now.Sub(s.last) < logEvery {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}

// pebbleLogger sends Pebble's messages to slog, errors rate-limited by
// their format: Pebble reports a failed flush or compaction through
// Errorf("background error: %s") and retries it, with a new file name in
// the message each time.
type pebbleLogger struct {
	l   *slog.Logger
	lim *limiter
}

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if ok, n := p.lim.allow(format); ok {
		if n > 0 {
			p.l.Error("pebble: "+fmt.Sprintf(format, args...), "repeated", n, "in_the_last", logEvery.String())
		} else {
			p.l.Error("pebble: " + fmt.Sprintf(format, args...))
		}
	}
}

// Fatalf panics, as Pebble expects; Open and commits turn the panic into an
// error.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic(errors.New(msg))
}
