// Package embedded is the default store: indicator points in a Pebble LSM
// database under a data directory, with no server. See the store package
// documentation for the design; in short:
//
//   - one key per point, p<series id><time>, in Pebble with zstd-compressed
//     columnar sstables at the bottom levels (8 to 12 bytes per point after
//     compaction);
//   - a dictionary of series ids (s<series key> → id) and, in memory, the
//     latest point of every series, so a ranking over N regions is N map
//     look-ups;
//   - a day index (r<id><day start> → the last point of each past day) for
//     day and month rollups;
//   - Pebble's write-ahead log written on every batch without waiting for
//     fsync, and fsync'd every SyncInterval (1 s): a process crash (kill -9)
//     loses nothing the kernel received, a power cut at most the last second;
//   - retention by thinning: points older than RawRetention are reduced to
//     the last point of each hour, older than HourlyRetention to the last of
//     each day, older than DailyRetention to the last of each month. Since a
//     rollup is the last value of a bucket, the points that remain are the
//     rollups.
package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/yiping-ioc/yiping/store"
)

// Config configures Open. Zero fields take their defaults.
type Config struct {
	// Dir is the data directory (created if missing). Required.
	Dir string
	// SyncInterval is how often the write-ahead log is fsync'd: the most a
	// power cut can lose. Default 1s.
	SyncInterval time.Duration
	// RawRetention is how long every point is kept. Default 30 days.
	RawRetention time.Duration
	// HourlyRetention is how long the last point of each hour is kept.
	// Default 400 days (so "the same day last year" replays hourly).
	HourlyRetention time.Duration
	// DailyRetention is how long the last point of each day is kept; older
	// data keeps the last point of each month, for ever. Default 5 years.
	DailyRetention time.Duration
	// RetentionInterval is how often retention runs in the background.
	// Default 1h; negative disables it (call ApplyRetention yourself).
	RetentionInterval time.Duration
	// Location is the business time zone of rollup and retention buckets.
	// Default store.DefaultLocation() (Asia/Shanghai).
	Location *time.Location
	// CacheSize is Pebble's block cache in bytes. Default 64 MiB.
	CacheSize int64
	// MemTableSize is Pebble's memtable size in bytes. Default 16 MiB.
	MemTableSize uint64
	// Logger receives the store's and Pebble's messages. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of background retention. Default time.Now.
	Now func() time.Time
	// MinFreeBytes is the free space the store leaves on its file system:
	// below it, writes are refused (store.ErrUnavailable) until space is
	// freed, and Open fails, because Pebble cannot recover from a write
	// that finds the disk full (see health.go). A quarter of it more is
	// held in a ballast file (Dir/BALLAST), released to Pebble if the disk
	// fills anyway. It should exceed two memtables, which a flush may
	// need. Default 64 MiB; negative turns the check and the ballast off.
	MinFreeBytes int64

	// freeBytes replaces the file system's free space, and fs the file
	// system, in tests.
	freeBytes func() (uint64, error)
	fs        vfs.FS
}

// DefaultMinFreeBytes is the default of Config.MinFreeBytes.
const DefaultMinFreeBytes = 64 << 20

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("embedded: Config.Dir is required")
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = time.Second
	}
	if c.RawRetention <= 0 {
		c.RawRetention = 30 * 24 * time.Hour
	}
	if c.HourlyRetention <= 0 {
		c.HourlyRetention = 400 * 24 * time.Hour
	}
	if c.DailyRetention <= 0 {
		c.DailyRetention = 5 * 366 * 24 * time.Hour
	}
	if c.HourlyRetention < c.RawRetention || c.DailyRetention < c.HourlyRetention {
		return fmt.Errorf("embedded: retention must grow from raw (%s) to hourly (%s) to daily (%s)",
			c.RawRetention, c.HourlyRetention, c.DailyRetention)
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = time.Hour
	}
	if c.Location == nil {
		c.Location = store.DefaultLocation()
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 64 << 20
	}
	if c.MemTableSize == 0 {
		c.MemTableSize = 16 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = DefaultMinFreeBytes
	}
	return nil
}

// groupKey is a series key without its region: the series a ranking reads.
type groupKey struct{ indicator, dept, period string }

func (s *Store) index(k store.SeriesKey, id uint32) {
	s.ids[k] = id
	g := groupKey{k.Indicator, k.Dept, k.Period}
	m := s.groups[g]
	if m == nil {
		m = make(map[string]uint32)
		s.groups[g] = m
	}
	m[k.Region] = id
}

// wstate is a writer's view of one series during a Write: the newest point
// so far (committed, or earlier in the batch). Owned by writers (writeMu).
type wstate struct {
	gen    uint64
	has    bool
	curNS  int64
	curIdx int // index in the batch, or -1 for the committed latest point
}

// dayRef names one day of one series.
type dayRef struct {
	id  uint32
	day int64
}

// dayCache computes day starts in the business zone, remembering the last
// day (a batch's points mostly share it).
type dayCache struct {
	loc    *time.Location
	lo, hi int64
}

func (c *dayCache) start(ns int64) int64 {
	if ns >= c.lo && ns < c.hi {
		return c.lo
	}
	lo, hi := store.Bucket(time.Unix(0, ns), store.RollupDay, c.loc)
	c.lo, c.hi = lo.UnixNano(), hi.UnixNano()
	return c.lo
}

// series is the in-memory state of one series.
type series struct {
	key       store.SeriesKey
	hasLatest bool
	latestNS  int64
	latest    value
}

// Store is the embedded store. Create it with Open.
type Store struct {
	cfg    Config
	db     *pebble.DB
	log    *slog.Logger
	health *health

	// writeMu serializes writers: series id allocation and the batch that
	// records a new id commit together.
	writeMu sync.Mutex
	// mu guards ids, series and dirtyBelow for readers; writers hold writeMu
	// and take mu to publish.
	retentionMu sync.Mutex // one retention run at a time
	mu          sync.RWMutex
	ids         map[store.SeriesKey]uint32
	groups      map[groupKey]map[string]uint32 // (indicator, dept, period) → region → id, for rankings
	series      []series
	dirtyBelow  int64 // points below this time mark their series for retention

	// Owned by writers (writeMu).
	wstates []wstate
	wgen    uint64

	unsynced atomic.Int64 // writes since the last WAL fsync
	closed   atomic.Bool
	closeMu  sync.RWMutex // held shared by every operation, exclusively by Close
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in cfg.Dir. Only one process
// may open a directory at a time (Pebble holds a lock file). It fails at
// once, wrapping store.ErrUnavailable and ENOSPC, when the disk has less
// free space than cfg.MinFreeBytes, and returns when ctx ends even if
// Pebble is still opening.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	h := newHealth(&cfg)
	if _, err := h.space(cfg.MinFreeBytes); err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Dir, err)
	}
	if err := h.makeBallast(); err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Dir, err)
	}
	lg := pebbleLogger{l: cfg.Logger, lim: &limiter{now: time.Now}}
	cache := pebble.NewCache(cfg.CacheSize)
	defer cache.Unref()
	opts := &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		Cache:              cache,
		MemTableSize:       cfg.MemTableSize,
		Logger:             lg,
		Cleaner:            deleteWALsCleaner{},
		FS:                 h.pebbleFS(),
	}
	// zstd for the bottom levels, where compacted history lives.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionGood })
	db, err := openPebble(ctx, cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Dir, err)
	}
	s := &Store{cfg: cfg, db: db, log: cfg.Logger, health: h, ids: make(map[store.SeriesKey]uint32), groups: make(map[groupKey]map[string]uint32)}
	if err := s.load(ctx); err != nil {
		if h.failure() == nil {
			_ = db.Close()
		}
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Dir, err)
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Add(1)
	go s.syncLoop(bg)
	if cfg.RetentionInterval > 0 {
		s.wg.Add(1)
		go s.retentionLoop(bg)
	}
	s.log.Info("embedded store open", "dir", cfg.Dir, "series", len(s.series))
	return s, nil
}

// openPebble runs pebble.Open, returning its panics (Pebble's Fatalf on a
// manifest it cannot write) as errors, and returning when ctx ends: Pebble
// waits without a deadline for the flush of the log it replays, which a
// full disk makes fail for ever. The abandoned open closes what it opened
// if it ever returns.
func openPebble(ctx context.Context, dir string, opts *pebble.Options) (*pebble.DB, error) {
	type result struct {
		db  *pebble.DB
		err error
	}
	ch := make(chan result, 1)
	var abandoned atomic.Bool
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("pebble: %v", p)}
			}
			if r.db != nil && abandoned.Load() {
				_ = r.db.Close()
			}
			ch <- r
		}()
		r.db, r.err = pebble.Open(dir, opts)
	}()
	select {
	case r := <-ch:
		return r.db, r.err
	case <-ctx.Done():
		abandoned.Store(true)
		// It may have finished meanwhile: then it is ours to close.
		select {
		case r := <-ch:
			if r.db != nil {
				_ = r.db.Close()
			}
		default:
		}
		return nil, fmt.Errorf("pebble did not open: %w", ctx.Err())
	}
}

// load checks the format and reads the series dictionary, the latest point
// of every series and the retention watermark.
func (s *Store) load(ctx context.Context) error {
	v, closer, err := s.db.Get(metaKey(metaFormat))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := s.health.commit("write the format", func() error {
			return s.db.Set(metaKey(metaFormat), []byte(formatVersion), pebble.Sync)
		}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		got := string(v)
		_ = closer.Close()
		if got != formatVersion {
			return fmt.Errorf("data format %q, this build reads %q", got, formatVersion)
		}
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{tabSeries}, UpperBound: []byte{tabSeries + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k, err := parseSeriesKeyString(string(it.Key()[1:]))
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("series dictionary: %w", err)
		}
		val := it.Value()
		if len(val) != 4 {
			_ = it.Close()
			return fmt.Errorf("series dictionary: bad id for %s", k)
		}
		id := uint32(val[0])<<24 | uint32(val[1])<<16 | uint32(val[2])<<8 | uint32(val[3])
		for int(id) >= len(s.series) {
			s.series = append(s.series, series{})
		}
		s.series[id].key = k
		s.index(k, id)
	}
	if err := it.Close(); err != nil {
		return err
	}
	for id := range s.series {
		if s.series[id].key.Indicator == "" {
			return fmt.Errorf("series dictionary: id %d missing", id)
		}
	}
	// The latest point of each series: the last key under its prefix.
	it, err = s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{tabPoint}, UpperBound: []byte{tabPoint + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for id := range s.series {
		if !it.SeekLT(seriesPrefix(uint32(id) + 1)) {
			continue
		}
		gid, ns, ok := decodePointKey(it.Key())
		if !ok {
			return fmt.Errorf("malformed point key %x", it.Key())
		}
		if gid != uint32(id) {
			continue
		}
		v, err := decodeValue(it.Value())
		if err != nil {
			return fmt.Errorf("series %s at %d: %w", s.series[id].key, ns, err)
		}
		s.series[id].hasLatest, s.series[id].latestNS, s.series[id].latest = true, ns, v
	}
	wm, err := s.watermarks()
	if err != nil {
		return err
	}
	s.dirtyBelow = wm.raw
	return nil
}

// Write implements store.Store. The batch commits atomically to the
// write-ahead log; it is fsync'd within SyncInterval.
func (s *Store) Write(ctx context.Context, points []store.Point) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.ValidatePoints(points); err != nil {
		return err
	}
	if len(points) == 0 {
		return nil
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.health.check(s.cfg.MinFreeBytes); err != nil {
		return fmt.Errorf("embedded: write %d points: %w", len(points), err)
	}

	b := s.db.NewBatch()
	defer b.Close()
	var newSeries map[store.SeriesKey]uint32
	nextID := uint32(len(s.series))
	ids := make([]uint32, len(points))
	kbuf := make([]byte, 0, pointKeyLen)
	vbuf := make([]byte, 0, 32)
	dirtyBelow := s.dirtyBelow // only writers change it, and we hold writeMu
	var dirty map[uint32]bool
	s.wgen++
	dc := dayCache{loc: s.cfg.Location}
	var emitted map[dayRef]int64 // day index entries set by this batch → their point's time
	for i := range points {
		p := &points[i]
		k := p.Key()
		id, ok := s.ids[k]
		if !ok {
			id, ok = newSeries[k]
		}
		if !ok {
			if newSeries == nil {
				newSeries = make(map[store.SeriesKey]uint32)
			}
			id = nextID
			nextID++
			newSeries[k] = id
			var idb [4]byte
			idb[0], idb[1], idb[2], idb[3] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
			if err := b.Set(seriesDictKey(k), idb[:], nil); err != nil {
				return fmt.Errorf("embedded: write: %w", err)
			}
		}
		ids[i] = id
		ns := p.Time.UnixNano()
		kbuf = appendPointKey(kbuf[:0], id, ns)
		vbuf = appendValue(vbuf[:0], valueOf(p))
		if err := b.Set(kbuf, vbuf, nil); err != nil {
			return fmt.Errorf("embedded: write: %w", err)
		}
		if ns < dirtyBelow && !dirty[id] {
			if dirty == nil {
				dirty = make(map[uint32]bool)
			}
			dirty[id] = true
			if err := b.Set(dirtyKey(id), nil, nil); err != nil {
				return fmt.Errorf("embedded: write: %w", err)
			}
		}
		if err := s.indexDay(b, &dc, &emitted, points, i, id, ns); err != nil {
			return fmt.Errorf("embedded: write: %w", err)
		}
	}
	if err := s.health.commit("write", func() error { return b.Commit(pebble.NoSync) }); err != nil {
		return fmt.Errorf("embedded: write %d points: %w", len(points), err)
	}
	s.unsynced.Add(1)

	s.mu.Lock()
	for k, id := range newSeries {
		for int(id) >= len(s.series) {
			s.series = append(s.series, series{})
		}
		s.series[id].key = k
		s.index(k, id)
	}
	for i := range points {
		st := &s.series[ids[i]]
		ns := points[i].Time.UnixNano()
		if !st.hasLatest || ns >= st.latestNS {
			st.hasLatest, st.latestNS, st.latest = true, ns, valueOf(&points[i])
		}
	}
	s.mu.Unlock()
	return nil
}

// indexDay maintains the day index for point i (series id, time ns) of a
// batch. The index holds, for every past day of a series, its last point;
// the newest day's last point is the series' latest point, kept in memory.
// So a point that moves a series into a new day writes the index entry of
// the day it leaves (one entry per series per day, not per point), and a
// late point into an earlier day updates that day's entry if it is later.
func (s *Store) indexDay(b *pebble.Batch, dc *dayCache, emitted *map[dayRef]int64, points []store.Point, i int, id uint32, ns int64) error {
	for int(id) >= len(s.wstates) {
		s.wstates = append(s.wstates, wstate{})
	}
	ws := &s.wstates[id]
	if ws.gen != s.wgen {
		*ws = wstate{gen: s.wgen}
		if int(id) < len(s.series) && s.series[id].hasLatest {
			ws.has, ws.curNS, ws.curIdx = true, s.series[id].latestNS, -1
		}
	}
	set := func(day, pns int64, v value) error {
		if *emitted == nil {
			*emitted = make(map[dayRef]int64)
		}
		(*emitted)[dayRef{id, day}] = pns
		return b.Set(appendDayKey(nil, id, day), appendDayValue(nil, day, pns, v), nil)
	}
	if !ws.has {
		ws.has, ws.curNS, ws.curIdx = true, ns, i
		return nil
	}
	day, curDay := dc.start(ns), dc.start(ws.curNS)
	switch {
	case ns >= ws.curNS:
		if day > curDay {
			var cur value
			if ws.curIdx >= 0 {
				cur = valueOf(&points[ws.curIdx])
			} else {
				cur = s.series[id].latest // committed
			}
			if err := set(curDay, ws.curNS, cur); err != nil {
				return err
			}
		}
		ws.curNS, ws.curIdx = ns, i
	case day < curDay:
		// A late point into an earlier day: keep the later of it and the
		// day's entry (from this batch, or committed).
		ref := dayRef{id, day}
		if pns, ok := (*emitted)[ref]; ok {
			if ns >= pns {
				return set(day, ns, valueOf(&points[i]))
			}
			return nil
		}
		old, closer, err := s.db.Get(appendDayKey(nil, id, day))
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			return set(day, ns, valueOf(&points[i]))
		case err != nil:
			return err
		}
		ons, _, derr := decodeDayValue(day, old)
		_ = closer.Close()
		if derr != nil || ns >= ons {
			return set(day, ns, valueOf(&points[i]))
		}
	}
	// Otherwise: an older point of the newest day, which the latest covers.
	return nil
}

// Flush implements store.Store: it fsyncs the write-ahead log.
func (s *Store) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	return s.sync()
}

func (s *Store) sync() error {
	n := s.unsynced.Load()
	if n == 0 {
		return nil
	}
	if err := s.health.check(min(s.cfg.MinFreeBytes, syncMinFree)); err != nil {
		return fmt.Errorf("embedded: sync: %w", err)
	}
	if err := s.health.commit("sync", func() error { return s.db.LogData(nil, pebble.Sync) }); err != nil {
		return fmt.Errorf("embedded: sync: %w", err)
	}
	s.unsynced.Add(-n)
	return nil
}

func (s *Store) syncLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	failing := false // a failure is logged when it starts and when it ends, not every second
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.sync()
			switch {
			case err != nil && !failing:
				s.log.Error("embedded store: wal sync failed; retrying every interval", "err", err)
			case err == nil && failing:
				s.log.Info("embedded store: wal sync works again")
			}
			failing = err != nil
		}
	}
}

func (s *Store) point(k store.SeriesKey, ns int64, v value) store.Point {
	return store.Point{Indicator: k.Indicator, Region: k.Region, Dept: k.Dept, Period: k.Period,
		Time: time.Unix(0, ns).In(s.cfg.Location), Numerator: v.num, Denominator: v.den, HasDenominator: v.hasDen}
}

func (s *Store) begin(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return nil, store.ErrClosed
	}
	return s.closeMu.RUnlock, nil
}

// Latest implements store.Store from memory: one map look-up per region
// (and department).
func (s *Store) Latest(ctx context.Context, sel store.Selector) ([]store.Point, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	done, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	depts := sel.DeptList()
	out := make([]store.Point, 0, len(sel.Regions)*len(depts))
	s.mu.RLock()
	defer s.mu.RUnlock()
	byDept := make([]map[string]uint32, len(depts))
	for i, d := range depts {
		byDept[i] = s.groups[groupKey{sel.Indicator, d, sel.Period}]
	}
	k := store.SeriesKey{Indicator: sel.Indicator, Period: sel.Period}
	for _, r := range sel.Regions {
		k.Region = r
		for i, d := range depts {
			id, ok := byDept[i][r]
			if !ok || !s.series[id].hasLatest {
				continue
			}
			k.Dept = d
			st := &s.series[id]
			out = append(out, s.point(k, st.latestNS, st.latest))
		}
	}
	return out, nil
}

// AsOf implements store.Store: the in-memory latest point when it is not
// after t, else one reverse seek per series.
func (s *Store) AsOf(ctx context.Context, sel store.Selector, t time.Time) ([]store.Point, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	done, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	keys := sel.Keys()
	out := make([]store.Point, 0, len(keys))
	if t.Before(store.MinTime) {
		return out, nil
	}
	ns := t.UnixNano()
	if !t.Before(store.MaxTime) {
		ns = store.MaxTime.UnixNano()
	}
	type want struct {
		idx int
		id  uint32
	}
	var seek []want
	s.mu.RLock()
	found := make([]*store.Point, len(keys))
	var grp map[string]uint32
	var grpDept string
	for i, k := range keys {
		if i == 0 || k.Dept != grpDept {
			grp, grpDept = s.groups[groupKey{k.Indicator, k.Dept, k.Period}], k.Dept
		}
		id, ok := grp[k.Region]
		if !ok || !s.series[id].hasLatest {
			continue
		}
		st := &s.series[id]
		if st.latestNS <= ns {
			p := s.point(k, st.latestNS, st.latest)
			found[i] = &p
			continue
		}
		seek = append(seek, want{i, id})
	}
	s.mu.RUnlock()
	if len(seek) > 0 {
		it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{tabPoint}, UpperBound: []byte{tabPoint + 1}})
		if err != nil {
			return nil, fmt.Errorf("embedded: as of: %w", err)
		}
		defer it.Close()
		key := make([]byte, 0, pointKeyLen)
		for n, w := range seek {
			if n%256 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			key = appendPointKey(key[:0], w.id, ns+1)
			if !it.SeekLT(key) {
				continue
			}
			gid, pns, ok := decodePointKey(it.Key())
			if !ok || gid != w.id {
				continue
			}
			v, err := decodeValue(it.Value())
			if err != nil {
				return nil, fmt.Errorf("embedded: as of: series %d: %w", w.id, err)
			}
			p := s.point(keys[w.idx], pns, v)
			found[w.idx] = &p
		}
		if err := it.Error(); err != nil {
			return nil, fmt.Errorf("embedded: as of: %w", err)
		}
	}
	for _, p := range found {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// Series implements store.Store. Day and month rollups read the day index
// (one entry per day, whatever the number of points); an hour rollup is one
// forward pass over the range that decodes only the last point of each hour.
func (s *Store) Series(ctx context.Context, key store.SeriesKey, from, to time.Time, rollup store.Rollup) ([]store.Point, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	done, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if rollup < store.RollupNone || rollup > store.RollupMonth {
		return nil, fmt.Errorf("embedded: unknown rollup %d", rollup)
	}
	s.mu.RLock()
	id, ok := s.ids[key]
	s.mu.RUnlock()
	if !ok || to.Before(from) || to.Before(store.MinTime) || !from.Before(store.MaxTime) {
		return []store.Point{}, nil
	}
	if from.Before(store.MinTime) {
		from = store.MinTime
	}
	if !to.Before(store.MaxTime) {
		to = store.MaxTime.Add(-1)
	}
	fromNS, toNS := from.UnixNano(), to.UnixNano()
	if rollup == store.RollupDay || rollup == store.RollupMonth {
		days, err := s.days(ctx, id, key, fromNS, toNS)
		if err != nil {
			return nil, fmt.Errorf("embedded: series %s: %w", key, err)
		}
		return store.LastPerBucket(days, rollup, s.cfg.Location), nil
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: appendPointKey(nil, id, fromNS),
		UpperBound: appendPointKey(nil, id, toNS+1),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: series: %w", err)
	}
	defer it.Close()
	var out []store.Point
	decode := func() error {
		_, ns, ok := decodePointKey(it.Key())
		if !ok {
			return fmt.Errorf("malformed point key %x", it.Key())
		}
		v, err := decodeValue(it.Value())
		if err != nil {
			return err
		}
		out = append(out, s.point(key, ns, v))
		return nil
	}
	if rollup == store.RollupNone {
		for ok := it.First(); ok; ok = it.Next() {
			if err := decode(); err != nil {
				return nil, fmt.Errorf("embedded: series %s: %w", key, err)
			}
			if len(out)%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
	} else {
		// One forward pass; the bucket boundary is computed only when a
		// point crosses it, and only the last point of a bucket is decoded.
		var (
			have    bool
			lastNS  int64
			lastVal []byte
			next    int64
		)
		emit := func() error {
			v, err := decodeValue(lastVal)
			if err != nil {
				return err
			}
			out = append(out, s.point(key, lastNS, v))
			return nil
		}
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			if len(k) != pointKeyLen {
				return nil, fmt.Errorf("embedded: series %s: malformed point key %x", key, k)
			}
			ns := decodeTime(binary.BigEndian.Uint64(k[5:]))
			if !have || ns >= next {
				if have {
					if err := emit(); err != nil {
						return nil, fmt.Errorf("embedded: series %s: %w", key, err)
					}
					if len(out)%1024 == 0 {
						if err := ctx.Err(); err != nil {
							return nil, err
						}
					}
				}
				_, n := store.Bucket(time.Unix(0, ns), rollup, s.cfg.Location)
				next = n.UnixNano()
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, fmt.Errorf("embedded: series %s: %w", key, err)
			}
			have, lastNS, lastVal = true, ns, append(lastVal[:0], v...)
		}
		if have {
			if err := emit(); err != nil {
				return nil, fmt.Errorf("embedded: series %s: %w", key, err)
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("embedded: series %s: %w", key, err)
	}
	if out == nil {
		out = []store.Point{}
	}
	return out, nil
}

// days returns the last point of each day in [fromNS, toNS]: past days
// from the day index, the newest day from the in-memory latest point, and
// a day cut by toNS from the points themselves.
func (s *Store) days(ctx context.Context, id uint32, key store.SeriesKey, fromNS, toNS int64) ([]store.Point, error) {
	// The latest point first: a write that lands after this read and moves
	// the series to a new day writes the index entry of this day, which the
	// iterator below may or may not see; either way this day is covered.
	s.mu.RLock()
	st := s.series[id]
	s.mu.RUnlock()
	dc := dayCache{loc: s.cfg.Location}
	fromDay, toDay := dc.start(fromNS), dc.start(toNS)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: appendDayKey(nil, id, fromDay),
		UpperBound: appendDayKey(nil, id, toDay+1),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []store.Point
	cut := false // the day of toNS needs the points themselves
	for ok := it.First(); ok; ok = it.Next() {
		_, day, valid := decodePointKey(it.Key())
		if !valid {
			return nil, fmt.Errorf("malformed day key %x", it.Key())
		}
		ns, v, err := decodeDayValue(day, it.Value())
		if err != nil {
			return nil, err
		}
		switch {
		case ns < fromNS:
		case ns > toNS:
			cut = true
		default:
			out = append(out, s.point(key, ns, v))
		}
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if st.hasLatest {
		if lday := dc.start(st.latestNS); lday >= fromDay && lday <= toDay {
			switch {
			case st.latestNS > toNS:
				cut = true
			case st.latestNS >= fromNS:
				out = append(out, s.point(key, st.latestNS, st.latest))
			}
		}
	}
	if cut {
		p, ok, err := s.lastPoint(ctx, id, key, max(fromNS, toDay), toNS)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if out == nil {
		out = []store.Point{}
	}
	return store.LastPerBucket(out, store.RollupDay, s.cfg.Location), nil
}

// lastPoint returns the last point of series id in [loNS, hiNS].
func (s *Store) lastPoint(ctx context.Context, id uint32, key store.SeriesKey, loNS, hiNS int64) (store.Point, bool, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: appendPointKey(nil, id, loNS),
		UpperBound: appendPointKey(nil, id, hiNS+1),
	})
	if err != nil {
		return store.Point{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return store.Point{}, false, it.Error()
	}
	_, ns, _ := decodePointKey(it.Key())
	v, err := decodeValue(it.Value())
	if err != nil {
		return store.Point{}, false, err
	}
	return s.point(key, ns, v), true, nil
}

// Close stops the background work, fsyncs the log and closes the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	s.wg.Wait()
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	err := s.sync()
	if broken := s.health.failure(); broken != nil {
		// Pebble's commit pipeline stayed locked by the failed commit, and
		// its Close would wait for it for ever. What it logged before is
		// replayed at the next start; the process is expected to exit.
		return fmt.Errorf("embedded: close: Pebble left open: %w", broken)
	}
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("embedded: close: %w", cerr)
	}
	return err
}

// Compact flushes the memtables and compacts the whole key space, dropping
// deleted points and tombstones (what "disk per point after compaction"
// measures). Pebble compacts in the background anyway; this forces it.
func (s *Store) Compact(ctx context.Context) error {
	done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	// A flush waits (without a deadline) until it succeeds.
	if err := s.health.check(s.cfg.MinFreeBytes); err != nil {
		return fmt.Errorf("embedded: compact: %w", err)
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("embedded: compact: %w", err)
	}
	if err := s.db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		return fmt.Errorf("embedded: compact: %w", err)
	}
	return nil
}

// DiskUsage returns the bytes of every file in the data directory but the
// ballast, and of the sstables alone (the compacted data, without the
// write-ahead log).
func (s *Store) DiskUsage() (total, sstables int64, err error) {
	return DirUsage(s.cfg.Dir)
}

// DirUsage is DiskUsage for a directory (for example of a closed store).
func DirUsage(dir string) (total, sstables int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || d.Name() == ballastName {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		total += fi.Size()
		if filepath.Ext(path) == ".sst" {
			sstables += fi.Size()
		}
		return nil
	})
	return total, sstables, err
}

// SeriesCount returns the number of series the store knows.
func (s *Store) SeriesCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.series)
}

// deleteWALsCleaner deletes obsolete files like pebble.DeleteCleaner. It
// embeds pebble.ArchiveCleaner only for its marker method, which tells
// Pebble that the cleaner needs the files' contents and so turns off the
// recycling of write-ahead logs: recycled logs would keep up to three
// memtables' worth of dead log files on disk for ever, a fixed cost that
// dominates a small store's size. New log files cost an extra metadata
// write once per memtable, which the 1 s sync does not notice.
//
// Clean and String come from DeleteCleaner (depth 1), which wins over
// ArchiveCleaner's (depth 2); the marker is promoted from depth 2.
type deleteWALsCleaner struct {
	pebble.DeleteCleaner
	needsFileContentsMarker
}

type needsFileContentsMarker struct{ pebble.ArchiveCleaner }
