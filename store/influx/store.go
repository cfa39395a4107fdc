// Package influx stores indicator points in InfluxDB through
// github.com/influxdata/influxdb-client-go/v2: line protocol over the v2
// write API, Flux over the v2 query API. It works with InfluxDB 2.x and with
// InfluxDB 1.8 (bucket "database/retention-policy", token "user:password"
// or empty, org ignored, [http] flux-enabled = true).
//
// Writes never wait for the network: Write queues the points and one
// sender goroutine batches them (BatchSize points or FlushInterval) and
// writes each batch with the client's blocking write API. When a write
// fails for a reason that may pass (network error, timeout, 5xx, 429, 404,
// 401/403), the batch goes to an fsync'd spool on disk, and so does every
// batch after it until the spool is empty again, so the order of writes is
// kept. The sender probes /ping every ProbeInterval and replays the spool
// in order, record by record, acknowledging each one durably after InfluxDB
// accepted it.
//
// Nothing is written twice: a point's identity in InfluxDB is its
// measurement, tag set and timestamp, and the points of a batch carry their
// own nanosecond timestamps, so sending a batch again (after a crash between
// InfluxDB's acknowledgement and the spool's, or after a timeout on a write
// that did reach the server) rewrites the same points with the same values
// instead of adding new ones. The spool's sequence numbers and durable
// acknowledgement bound such repeats to the one batch in flight.
//
// Rejected batches (400, 413, 422: InfluxDB will never take them, e.g. a
// field type conflict) are appended to rejected.lp in the spool directory,
// logged, counted and passed to Config.OnError; the rest flows on.
package influx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/yiping-ioc/yiping/store"
)

// Config configures Open. Zero fields take their defaults.
type Config struct {
	// URL of the server, e.g. http://127.0.0.1:8086. Required.
	URL string
	// Token: an API token (2.x), "user:password" (1.8 with auth), or "".
	Token string
	// Org: the organization (2.x); ignored by 1.8. Default "yiping".
	Org string
	// Bucket: the bucket (2.x) or "database/retention-policy" (1.8).
	// Default "yiping/autogen".
	Bucket string
	// Measurement holding the points. Default "indicator".
	Measurement string
	// SpoolDir holds the spool of points waiting for InfluxDB. Required.
	SpoolDir string
	// BatchSize is the most points in one write. Default 5000.
	BatchSize int
	// FlushInterval is the longest a point waits in memory before it is
	// written (or spooled). Default 1s.
	FlushInterval time.Duration
	// QueueLen is the number of Write calls that may wait for the sender
	// before Write blocks (back-pressure; never on the network). Default 4096.
	QueueLen int
	// WriteTimeout bounds one write request. Default 10s.
	WriteTimeout time.Duration
	// QueryTimeout bounds one query when the caller's context has no
	// deadline. Default 30s.
	QueryTimeout time.Duration
	// ProbeInterval is how often an unavailable server is probed. Default 1s.
	ProbeInterval time.Duration
	// LatestLookback bounds the time range Latest and AsOf scan first: with
	// the store.Writer policy every live series has a point at least every
	// SnapshotEvery, so a look-back of a little more finds them all. Series
	// with no point in the window are looked up again over all time, so the
	// answer is the same, only slower. Default 25h; negative scans all time.
	LatestLookback time.Duration
	// Location is the business time zone of rollup buckets. Default
	// store.DefaultLocation().
	Location *time.Location
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// OnError, if set, is called (from the sender goroutine) for every
	// failed write: transient ones, whose points were spooled, and
	// permanent ones, whose points were rejected.
	OnError func(err error, points int, spooled bool)
}

var measurementRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *Config) setDefaults() error {
	if c.URL == "" {
		return errors.New("influx: Config.URL is required")
	}
	if c.SpoolDir == "" {
		return errors.New("influx: Config.SpoolDir is required")
	}
	if c.Org == "" {
		c.Org = "yiping"
	}
	if c.Bucket == "" {
		c.Bucket = "yiping/autogen"
	}
	if strings.ContainsAny(c.Bucket, "\"\\$\n") || strings.ContainsAny(c.Org, "\"\\$\n") {
		return fmt.Errorf("influx: bucket %q or org %q has a quote, backslash, $ or newline", c.Bucket, c.Org)
	}
	if c.Measurement == "" {
		c.Measurement = "indicator"
	}
	if !measurementRE.MatchString(c.Measurement) {
		return fmt.Errorf("influx: bad measurement name %q", c.Measurement)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 4096
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 30 * time.Second
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = time.Second
	}
	if c.LatestLookback == 0 {
		c.LatestLookback = 25 * time.Hour
	}
	if c.Location == nil {
		c.Location = store.DefaultLocation()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Stats are the sender's counters.
type Stats struct {
	Queued        int64 // points accepted by Write and not yet written or spooled
	Written       int64 // points InfluxDB acknowledged (directly or from the spool)
	Spooled       int64 // points waiting in the spool
	SpoolRecords  int   // batches waiting in the spool
	Rejected      int64 // points InfluxDB refused for good (in rejected.lp)
	WriteErrors   int64 // failed write requests
	Unavailable   bool  // the last write or probe failed
	SpoolReplayed int64 // points written from the spool
}

// chunk is the line protocol of one Write call.
type chunk struct {
	seq    uint64
	lines  []byte
	points int
}

type flushReq struct{ done chan struct{} }

// Store is the InfluxDB store. Create it with Open.
type Store struct {
	cfg    Config
	log    *slog.Logger
	client influxdb2.Client
	writer api.WriteAPIBlocking
	query  api.QueryAPI

	enqMu   sync.Mutex // orders chunk sequence numbers with the queue
	enqSeq  uint64
	queue   chan chunk
	flushCh chan flushReq
	quit    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool
	closeMu sync.RWMutex

	// Progress, for Flush: every chunk with seq <= done has been written
	// (or rejected).
	progMu   sync.Mutex
	progCond *sync.Cond
	done     uint64

	// Owned by the sender goroutine.
	sp          *spool
	recChunks   map[uint64]uint64 // spool record seq → last chunk seq in it (this process)
	unavailable bool
	lastProbe   time.Time

	stats struct {
		queued, written, rejected, writeErrors, replayed atomic.Int64
		spooled                                          atomic.Int64
		spoolRecords                                     atomic.Int64
		unavailable                                      atomic.Bool
	}

	// The spool's health: set by the sender when the spool could not take
	// a batch (a full disk), cleared when a batch is stored again or a
	// probe of the spool directory succeeds.
	healthMu   sync.Mutex
	spoolErr   error
	spoolProbe time.Time
}

// probeEvery bounds how often a failed spool directory is probed.
const probeEvery = time.Second

var _ store.Store = (*Store)(nil)

// Open connects to InfluxDB (without waiting for it: an unreachable server
// is not an error, points are spooled) and starts the sender. Points left
// in the spool by an earlier run are replayed first.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sp, err := openSpool(cfg.SpoolDir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("influx: %w", err)
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(uint(max(1, int(cfg.WriteTimeout/time.Second)))).
		SetUseGZip(false).
		SetPrecision(time.Nanosecond)
	client := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	s := &Store{
		cfg:       cfg,
		log:       cfg.Logger,
		client:    client,
		writer:    client.WriteAPIBlocking(cfg.Org, cfg.Bucket),
		query:     client.QueryAPI(cfg.Org),
		queue:     make(chan chunk, cfg.QueueLen),
		flushCh:   make(chan flushReq),
		quit:      make(chan struct{}),
		stopped:   make(chan struct{}),
		sp:        sp,
		recChunks: make(map[uint64]uint64),
	}
	s.progCond = sync.NewCond(&s.progMu)
	s.stats.spooled.Store(int64(sp.points))
	s.stats.spoolRecords.Store(int64(sp.records))
	if sp.records > 0 {
		s.log.Info("influx store: replaying spool from an earlier run", "records", sp.records, "points", sp.points, "dir", cfg.SpoolDir)
	}
	go s.run()
	return s, nil
}

// Write implements store.Store: it encodes the points and queues them for
// the sender. It blocks only while QueueLen earlier calls are waiting.
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
	// Points that could go neither to InfluxDB nor to the spool would be
	// lost: refuse them, so the caller keeps them and tries again.
	if err := s.Healthy(); err != nil && s.stats.unavailable.Load() {
		return err
	}
	lines := make([]byte, 0, len(points)*150)
	for i := range points {
		lines = appendLine(lines, s.cfg.Measurement, &points[i])
	}
	s.enqMu.Lock()
	defer s.enqMu.Unlock()
	c := chunk{seq: s.enqSeq + 1, lines: lines, points: len(points)}
	select {
	case s.queue <- c:
		s.enqSeq++
		s.stats.queued.Add(int64(len(points)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush implements store.Store: it returns when every point written before
// the call has been acknowledged by InfluxDB (or rejected by it). While the
// server is unavailable it waits for the spool to be replayed, up to ctx's
// deadline.
func (s *Store) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	s.enqMu.Lock()
	target := s.enqSeq
	s.enqMu.Unlock()
	req := flushReq{done: make(chan struct{})}
	select {
	case s.flushCh <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	// Wait for progress; wake the waiter when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		s.progMu.Lock()
		s.progCond.Broadcast()
		s.progMu.Unlock()
	})
	defer stop()
	s.progMu.Lock()
	defer s.progMu.Unlock()
	for s.done < target {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("influx: flush: %d points not yet acknowledged (spooled: %d): %w",
				s.stats.queued.Load()+s.stats.spooled.Load(), s.stats.spooled.Load(), err)
		}
		select {
		case <-s.stopped:
			return store.ErrClosed
		default:
		}
		s.progCond.Wait()
	}
	return nil
}

func (s *Store) progress(seq uint64) {
	if seq == 0 {
		return
	}
	s.progMu.Lock()
	if seq > s.done {
		s.done = seq
	}
	s.progCond.Broadcast()
	s.progMu.Unlock()
}

// Stats returns the sender's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Queued:        s.stats.queued.Load(),
		Written:       s.stats.written.Load(),
		Spooled:       s.stats.spooled.Load(),
		SpoolRecords:  int(s.stats.spoolRecords.Load()),
		Rejected:      s.stats.rejected.Load(),
		WriteErrors:   s.stats.writeErrors.Load(),
		Unavailable:   s.stats.unavailable.Load(),
		SpoolReplayed: s.stats.replayed.Load(),
	}
}

// Close stops the sender after it wrote (or spooled) every queued point.
// Points still in the spool are replayed by the next Open.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.closeMu.Lock() // wait for Write and Flush calls in progress
	close(s.quit)
	s.closeMu.Unlock()
	<-s.stopped
	s.progMu.Lock()
	s.progCond.Broadcast()
	s.progMu.Unlock()
	err := s.sp.close()
	s.client.Close()
	if err != nil {
		return fmt.Errorf("influx: close: %w", err)
	}
	return nil
}

// run is the sender goroutine.
func (s *Store) run() {
	defer close(s.stopped)
	tick := time.NewTicker(min(s.cfg.FlushInterval, s.cfg.ProbeInterval, 100*time.Millisecond))
	defer tick.Stop()
	var pending []chunk
	var pendingPoints int
	var oldest time.Time
	flush := func() {
		if len(pending) > 0 {
			s.send(pending, pendingPoints)
			pending, pendingPoints = pending[:0], 0
		}
	}
	// add queues a chunk, sending full batches: no request carries more
	// than BatchSize points (InfluxDB refuses large bodies with 413).
	add := func(c chunk) {
		for _, piece := range splitChunk(c, s.cfg.BatchSize) {
			if pendingPoints > 0 && pendingPoints+piece.points > s.cfg.BatchSize {
				flush()
			}
			if len(pending) == 0 {
				oldest = time.Now()
			}
			pending = append(pending, piece)
			pendingPoints += piece.points
			if pendingPoints >= s.cfg.BatchSize {
				flush()
			}
		}
	}
	for {
		// Replay while the spool has records and the server is up, serving
		// the queue between records so writers are never starved.
		if s.sp.records > 0 && !s.unavailable {
			select {
			case c := <-s.queue:
				add(c)
			case req := <-s.flushCh:
				s.drain(add)
				flush()
				close(req.done)
			case <-s.quit:
				s.drain(add)
				flush()
				return
			default:
				s.replayOne()
			}
			continue
		}
		select {
		case c := <-s.queue:
			add(c)
		case req := <-s.flushCh:
			s.drain(add)
			flush()
			close(req.done)
		case <-tick.C:
			if len(pending) > 0 && time.Since(oldest) >= s.cfg.FlushInterval {
				flush()
			}
			if s.unavailable && time.Since(s.lastProbe) >= s.cfg.ProbeInterval {
				s.probe()
			}
		case <-s.quit:
			s.drain(add)
			flush()
			return
		}
	}
}

// splitChunk cuts a chunk into pieces of at most n lines. Only the last
// piece carries the chunk's sequence number, so Flush waits for all of them.
func splitChunk(c chunk, n int) []chunk {
	if c.points <= n {
		return []chunk{c}
	}
	var out []chunk
	lines := c.lines
	for len(lines) > 0 {
		end, k := 0, 0
		for k < n && end < len(lines) {
			i := bytes.IndexByte(lines[end:], '\n')
			if i < 0 {
				end = len(lines)
			} else {
				end += i + 1
			}
			k++
		}
		out = append(out, chunk{lines: lines[:end], points: k})
		lines = lines[end:]
	}
	out[len(out)-1].seq = c.seq
	return out
}

func (s *Store) drain(add func(chunk)) {
	for {
		select {
		case c := <-s.queue:
			add(c)
		default:
			return
		}
	}
}

// send writes one batch, or spools it when the spool is not empty or the
// server is unavailable (keeping the order), or when the write fails for a
// reason that may pass.
func (s *Store) send(chunks []chunk, points int) {
	var body []byte
	if len(chunks) == 1 {
		body = chunks[0].lines
	} else {
		body = make([]byte, 0, points*150)
		for _, c := range chunks {
			body = append(body, c.lines...)
		}
	}
	lastSeq := chunks[len(chunks)-1].seq
	s.stats.queued.Add(-int64(points))
	if s.sp.records == 0 && !s.unavailable {
		err := s.write(body)
		if err == nil {
			s.stats.written.Add(int64(points))
			s.progress(lastSeq)
			s.setSpoolErr(nil)
			return
		}
		if !transient(err) {
			s.reject(body, points, err)
			s.progress(lastSeq)
			return
		}
		s.setUnavailable(err, points)
	}
	seq, err := s.sp.append(body, points)
	if err != nil {
		// The disk failed too: nothing more can be done than to say so
		// loudly, and to refuse new points until it takes writes again.
		s.log.Error("influx store: cannot spool points, they are lost", "points", points, "err", err)
		s.stats.rejected.Add(int64(points))
		s.progress(lastSeq)
		s.setSpoolErr(err)
		return
	}
	s.setSpoolErr(nil)
	s.recChunks[seq] = lastSeq
	s.stats.spooled.Store(int64(s.sp.points))
	s.stats.spoolRecords.Store(int64(s.sp.records))
}

func (s *Store) write(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	// The body already holds newline-separated lines; WriteRecord joins its
	// arguments with newlines, so one argument is the whole batch.
	if err := s.writer.WriteRecord(ctx, string(body)); err != nil {
		s.stats.writeErrors.Add(1)
		return err
	}
	return nil
}

func (s *Store) setUnavailable(err error, points int) {
	if !s.unavailable {
		s.log.Warn("influx store: InfluxDB unavailable, spooling points to disk", "url", s.cfg.URL, "err", err, "spool", s.cfg.SpoolDir)
	}
	s.unavailable = true
	s.stats.unavailable.Store(true)
	s.lastProbe = time.Now()
	if s.cfg.OnError != nil {
		s.cfg.OnError(err, points, true)
	}
}

func (s *Store) probe() {
	s.lastProbe = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), min(s.cfg.WriteTimeout, 2*time.Second))
	defer cancel()
	if ok, err := s.client.Ping(ctx); !ok || err != nil {
		return
	}
	s.log.Info("influx store: InfluxDB is back, replaying the spool", "records", s.sp.records, "points", s.sp.points)
	s.unavailable = false
	s.stats.unavailable.Store(false)
}

// replayOne writes the oldest spooled record and acknowledges it.
func (s *Store) replayOne() {
	rec, ok, err := s.sp.peek()
	if err != nil || !ok {
		if err != nil {
			s.log.Error("influx store: spool unreadable", "err", err)
			s.unavailable, s.lastProbe = true, time.Now()
		}
		return
	}
	werr := s.write(rec.body)
	if werr != nil && transient(werr) {
		s.setUnavailable(werr, rec.points)
		return
	}
	if werr != nil {
		s.reject(rec.body, rec.points, werr)
	} else {
		s.stats.written.Add(int64(rec.points))
		s.stats.replayed.Add(int64(rec.points))
	}
	if err := s.sp.ack(rec); err != nil {
		// Not acknowledged durably: it will be sent again, which rewrites
		// the same points. Stop replaying until the next probe.
		s.log.Error("influx store: spool acknowledgement failed", "err", err)
		s.unavailable, s.lastProbe = true, time.Now()
		return
	}
	s.stats.spooled.Store(int64(s.sp.points))
	s.stats.spoolRecords.Store(int64(s.sp.records))
	s.progress(s.recChunks[rec.seq])
	delete(s.recChunks, rec.seq)
	if s.sp.records == 0 {
		s.log.Info("influx store: spool replayed")
	}
}

func (s *Store) reject(body []byte, points int, err error) {
	s.stats.rejected.Add(int64(points))
	path := filepath.Join(s.cfg.SpoolDir, "rejected.lp")
	s.log.Error("influx store: InfluxDB rejected a batch; its lines are kept in "+path, "points", points, "err", err)
	if f, ferr := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
		_, _ = fmt.Fprintf(f, "# %s rejected: %v\n", time.Now().UTC().Format(time.RFC3339), err)
		_, _ = f.Write(body)
		_ = f.Close()
	}
	if s.cfg.OnError != nil {
		s.cfg.OnError(err, points, false)
	}
}

func (s *Store) setSpoolErr(err error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if err == nil && s.spoolErr != nil {
		s.log.Info("influx store: the spool takes points again")
	}
	s.spoolErr = err
}

// Healthy reports whether points written now are stored: nil, or why not
// (wrapping store.ErrUnavailable) after the spool could not take a batch
// (a full disk). An unreachable InfluxDB alone is healthy: its points wait
// in the spool. While the spool fails, Healthy probes its directory (at
// most once a second) and clears once it takes writes. It implements
// store.Health, for /readyz.
func (s *Store) Healthy() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if s.spoolErr == nil {
		return nil
	}
	if time.Since(s.spoolProbe) >= probeEvery {
		s.spoolProbe = time.Now()
		if probeDir(s.cfg.SpoolDir) == nil {
			s.log.Info("influx store: the spool directory takes writes again")
			s.spoolErr = nil
			return nil
		}
	}
	return fmt.Errorf("influx store: %w: the spool in %s cannot take points: %w", store.ErrUnavailable, s.cfg.SpoolDir, s.spoolErr)
}

var _ store.Health = (*Store)(nil)

// transient reports whether a failed write may succeed later.
func transient(err error) bool {
	var he *ihttp.Error
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			return false
		}
	}
	return true
}
