package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/mapping"
	"github.com/yiping-ioc/yiping/record"
)

// Journal is the durable log and cursor store the runner commits through;
// *journal.Journal is the implementation.
type Journal interface {
	// Write appends a batch and returns the log offset just past it.
	Write(b journal.Batch) (int64, error)
	// Sync returns once the log is durable up to the offset; concurrent
	// callers share an fsync.
	Sync(ctx context.Context, upTo int64) error
	// Cursor returns the persisted cursor of source ("" if none).
	Cursor(source string) (string, error)
	// SetCursor persists the cursor of source atomically.
	SetCursor(source, cursor string) error
}

var _ Journal = (*journal.Journal)(nil)

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Minute
	DefaultRetryBackoff = 5 * time.Second
	DefaultMaxBackoff   = 5 * time.Minute
)

// ErrRunning is returned by RunNow when the source is already running.
var ErrRunning = errors.New("collectors: a run of this source is in progress")

// ErrUnknownSource is wrapped when a source name is not configured.
var ErrUnknownSource = errors.New("collectors: unknown source")

// PanicError is the error of a run whose connector panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("connector panicked: %v", e.Value) }

// Runner runs the configured sources on their schedules and commits what
// they collect. Its methods are safe for concurrent use.
type Runner struct {
	sink     record.Sink
	journal  Journal
	log      *slog.Logger
	loc      *time.Location
	now      func() time.Time
	sources  []*source
	byName   map[string]*source
	metrics  *metrics
	commitMu sync.Mutex // journal order = filing order

	mu     sync.Mutex // guards cron and ctx
	cron   *cron.Cron
	ctx    context.Context
	cancel context.CancelFunc
}

// source is the runner's state of one configured source.
type source struct {
	Source
	mapping    *mapping.Mapping
	sched      cron.Schedule // nil for receivers
	timeout    time.Duration
	backoff    time.Duration
	maxBackoff time.Duration
	log        *slog.Logger
	run        sync.Mutex // held by the one run in progress

	mu           sync.Mutex // guards the fields below
	h            Health
	inFlight     int
	backoffUntil time.Time
	cursorLoaded bool
	entry        cron.EntryID
	// intakeWarned is when the last failed push was logged: a client
	// pushing fast into a full disk fails every request, and one line a
	// minute says as much as one a request.
	intakeWarned time.Time
	intakeQuiet  int // failed pushes not logged since
}

// NewRunner checks cfg and builds a runner that files records into sink
// through j. A nil j keeps cursors in memory and journals nothing, for
// tests and tools; Yiping's server passes its *journal.Journal. Metrics
// are registered with reg (nil: not exported).
func NewRunner(cfg Config, sink record.Sink, j Journal, logger *slog.Logger, reg prometheus.Registerer) (*Runner, error) {
	if sink == nil {
		return nil, errors.New("collectors: a sink is required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	if j == nil {
		j = &memJournal{cursors: map[string]string{}}
	}
	r := &Runner{sink: sink, journal: j, log: logger.With("component", "collectors"), loc: cfg.Location, now: cfg.Now, byName: map[string]*source{}}
	if r.loc == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("collectors: business time zone: %w", err)
		}
		r.loc = loc
	}
	if r.now == nil {
		r.now = time.Now
	}
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	timeout := or(cfg.Timeout, DefaultTimeout)
	backoff := or(cfg.RetryBackoff, DefaultRetryBackoff)
	maxBackoff := or(cfg.MaxBackoff, DefaultMaxBackoff)
	for i := range cfg.Sources {
		sc := cfg.Sources[i]
		if !journal.ValidName(sc.Name) {
			return nil, fmt.Errorf("collectors: source name %q: want letters, digits, '.', '_' or '-'", sc.Name)
		}
		if r.byName[sc.Name] != nil {
			return nil, fmt.Errorf("collectors: source %q configured twice", sc.Name)
		}
		if sc.Connector == nil {
			return nil, fmt.Errorf("collectors: source %q has no connector", sc.Name)
		}
		s := &source{Source: sc, mapping: sc.compiled,
			timeout: or(sc.Timeout, timeout), backoff: or(sc.RetryBackoff, backoff), maxBackoff: or(sc.MaxBackoff, maxBackoff),
			log: r.log.With("source", sc.Name, "type", sc.Type)}
		if s.mapping == nil {
			m, err := mapping.Compile(sc.Mapping)
			if err != nil {
				return nil, fmt.Errorf("collectors: source %q: mapping: %w", sc.Name, err)
			}
			s.mapping = m
		}
		if err := checkSchedule(&s.Source); err != nil {
			return nil, fmt.Errorf("collectors: source %q: schedule: %w", sc.Name, err)
		}
		if _, passive := sc.Connector.(Receiver); !passive {
			sched, err := scheduleParser.Parse(sc.Schedule)
			if err != nil {
				return nil, fmt.Errorf("collectors: source %q: schedule: %w", sc.Name, err)
			}
			s.sched = sched
		}
		s.h = Health{Source: sc.Name, Type: sc.Type, Schedule: sc.Schedule}
		r.sources = append(r.sources, s)
		r.byName[sc.Name] = s
	}
	m, err := newMetrics(r, reg)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	return r, nil
}

// Sources returns the configured sources, in configuration order.
func (r *Runner) Sources() []Source {
	out := make([]Source, len(r.sources))
	for i, s := range r.sources {
		out[i] = s.Source
	}
	return out
}

// Start schedules every polled source. Runs stop when ctx ends or Stop is
// called.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cron != nil {
		return errors.New("collectors: runner already started")
	}
	logger := cronLogger{log: r.log}
	c := cron.New(cron.WithSeconds(), cron.WithLocation(r.loc), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger)))
	r.ctx, r.cancel = context.WithCancel(ctx)
	for _, s := range r.sources {
		if s.sched == nil {
			continue
		}
		s := s
		// SkipIfStillRunning per source, with a logger that counts the
		// skips for that source.
		skip := cron.SkipIfStillRunning(cronLogger{log: s.log, onSkip: func() { r.skipped(s, "overlap") }})
		id := c.Schedule(s.sched, cron.NewChain(skip).Then(cron.FuncJob(func() { r.tick(s) })))
		s.mu.Lock()
		s.entry = id
		s.mu.Unlock()
	}
	r.cron = c
	c.Start()
	r.log.Info("collectors started", "sources", len(r.sources))
	return nil
}

// Stop cancels the runs in progress and waits for them to return, or for
// ctx to end. Rows they had not checkpointed are collected again by the
// next run after a restart.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	c, cancel := r.cron, r.cancel
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	cancel()
	// Startable again: a cluster node runs the collectors in each of its
	// terms as leader.
	r.mu.Lock()
	r.cron = nil
	r.mu.Unlock()
	select {
	case <-c.Stop().Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("collectors: stop: %w", ctx.Err())
	}
}

// tick is one scheduled firing of a source.
func (r *Runner) tick(s *source) {
	s.mu.Lock()
	wait := s.backoffUntil.Sub(r.now())
	s.mu.Unlock()
	if wait > 0 {
		r.skipped(s, "backoff")
		s.log.Debug("run skipped: backing off after a failure", "retry_in", wait.Round(time.Millisecond).String())
		return
	}
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	if ctx == nil {
		ctx = context.Background() // fired by hand, before Start
	}
	_, _ = r.run(ctx, s) // the outcome is in health, metrics and the log
}

// RunNow runs one collection of the named source now and waits for it,
// whatever its schedule or backoff. It returns ErrRunning if a run is in
// progress.
func (r *Runner) RunNow(ctx context.Context, name string) (Result, error) {
	s := r.byName[name]
	if s == nil {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	if s.sched == nil {
		return Result{}, fmt.Errorf("collectors: source %q receives records and cannot be run", name)
	}
	return r.run(ctx, s)
}

func (r *Runner) run(ctx context.Context, s *source) (Result, error) {
	if !s.run.TryLock() {
		r.skipped(s, "overlap")
		return Result{}, ErrRunning
	}
	defer s.run.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := r.begin(s)
	acc := r.newAccumulator(s)
	cursor, err := r.cursor(s)
	if err == nil {
		var next string
		next, err = r.collect(ctx, s, cursor, acc)
		if err == nil {
			err = acc.Checkpoint(ctx, next)
		}
	}
	// Connector errors may quote URLs and DSNs with their credentials
	// (Go's url.Error does): whatever is shown, logged or returned is
	// redacted.
	err = RedactError(err)
	r.finish(s, start, acc.res, err)
	return acc.res, err
}

// collect calls the connector, turning a panic into an error: the runner,
// not the connector, keeps one bad source from taking Yiping down.
func (r *Runner) collect(ctx context.Context, s *source, cursor string, acc Accumulator) (next string, err error) {
	defer func() {
		if p := recover(); p != nil {
			pe := &PanicError{Value: p, Stack: debug.Stack()}
			s.log.Error("connector panicked", "panic", RedactText(fmt.Sprint(p)), "stack", string(pe.Stack))
			err = pe
		}
	}()
	return s.Connector.Collect(ctx, cursor, acc)
}

// Ingest runs fn with an accumulator of the named source and commits what
// it added; the push intake calls it once per request. Unlike scheduled
// runs, calls may overlap. When it returns nil, every accepted row is in
// the journal and the engine.
func (r *Runner) Ingest(ctx context.Context, name string, fn func(Accumulator) error) (Result, error) {
	s := r.byName[name]
	if s == nil {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	start := r.begin(s)
	acc := r.newAccumulator(s)
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				pe := &PanicError{Value: p, Stack: debug.Stack()}
				s.log.Error("intake panicked", "panic", RedactText(fmt.Sprint(p)), "stack", string(pe.Stack))
				err = pe
			}
		}()
		if err := fn(acc); err != nil {
			return err
		}
		return acc.Flush(ctx)
	}()
	err = RedactError(err)
	r.finish(s, start, acc.res, err)
	return acc.res, err
}

// commit writes one kind's pending rows to the journal and files them,
// returning the journal offset that Sync must reach before they count as
// accepted. The lock keeps the journal's order equal to the order in
// which the engine saw the batches, so a replay rebuilds exactly the same
// state. Filing before the fsync is safe: the engine lives in memory and
// dies with the process, and nothing acknowledges the rows (no cursor
// moves, no push answer is sent) until Sync has returned.
func (r *Runner) commit(s *source, k record.Kind, replace bool, p *pending) (int64, error) {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	off, err := r.journal.Write(journal.Batch{Kind: k, Replace: replace, Source: s.Name, Values: p.values})
	if err != nil {
		return 0, fmt.Errorf("commit %d %s: %w", p.rows(k), k, err)
	}
	p.recs.FileInto(r.sink, replace)
	return off, nil
}

func (r *Runner) cursor(s *source) (string, error) {
	c, err := r.journal.Cursor(s.Name)
	if err != nil {
		return "", fmt.Errorf("load cursor: %w", err)
	}
	s.mu.Lock()
	s.h.Cursor, s.cursorLoaded = c, true
	s.mu.Unlock()
	return c, nil
}

// setCursor persists a source's cursor; an unchanged cursor costs nothing.
func (r *Runner) setCursor(s *source, c string) error {
	s.mu.Lock()
	same := s.cursorLoaded && s.h.Cursor == c
	s.mu.Unlock()
	if same {
		return nil
	}
	if err := r.journal.SetCursor(s.Name, c); err != nil {
		return fmt.Errorf("store cursor: %w", err)
	}
	s.mu.Lock()
	s.h.Cursor, s.cursorLoaded = c, true
	s.mu.Unlock()
	return nil
}

func (r *Runner) begin(s *source) time.Time {
	now := r.now()
	s.mu.Lock()
	s.inFlight++
	s.mu.Unlock()
	return now
}

// finish records the outcome of a run (or request) in health, metrics and
// the log, and sets the backoff of a failed polled source.
func (r *Runner) finish(s *source, start time.Time, res Result, err error) {
	end := r.now()
	dur := end.Sub(start)
	result := "ok"
	var pe *PanicError
	switch {
	case errors.As(err, &pe):
		result = "panic"
	case err != nil:
		result = "error"
	case len(res.Errors) > 0:
		result = "partial"
	}
	r.metrics.runs.WithLabelValues(s.Name, result).Inc()
	r.metrics.duration.WithLabelValues(s.Name).Observe(dur.Seconds())

	s.mu.Lock()
	s.inFlight--
	h := &s.h
	h.Runs++
	h.LastRun, h.LastDuration = start, dur.Seconds()
	h.Records += int64(res.Accepted)
	h.Rejects += int64(res.Rejected)
	var retryIn time.Duration
	if err != nil {
		h.Failures++
		h.ConsecutiveFailures++
		h.LastError, h.LastErrorAt = RedactText(err.Error()), end
		if s.sched != nil {
			retryIn = s.backoff << min(h.ConsecutiveFailures-1, 20)
			if retryIn > s.maxBackoff || retryIn <= 0 {
				retryIn = s.maxBackoff
			}
			s.backoffUntil = end.Add(retryIn)
		}
	} else {
		h.ConsecutiveFailures = 0
		h.LastSuccess = end
		s.backoffUntil = time.Time{}
		if len(res.Errors) > 0 {
			h.LastError, h.LastErrorAt = RedactText(errors.Join(res.Errors...).Error()), end
		}
	}
	failures := h.ConsecutiveFailures
	logIntake, quiet := false, 0
	if err != nil && s.sched == nil {
		if failures == 1 || end.Sub(s.intakeWarned) >= time.Minute {
			logIntake, quiet = true, s.intakeQuiet
			s.intakeWarned, s.intakeQuiet = end, 0
		} else {
			s.intakeQuiet++
		}
	}
	s.mu.Unlock()

	attrs := []any{"duration", dur.Round(time.Millisecond).String(), "accepted", res.Accepted, "rejected", res.Rejected}
	switch {
	case err != nil && s.sched != nil:
		s.log.Warn("run failed", append(attrs, "err", err, "consecutive_failures", failures, "retry_in", retryIn.String())...)
	case err != nil:
		if logIntake {
			s.log.Warn("intake failed", append(attrs, "err", err, "consecutive_failures", failures, "not_logged_since", quiet)...)
		}
	case s.sched == nil && len(res.Errors) == 0:
		// A push intake may take thousands of batches a second: the
		// metrics count them; the log only at debug level.
		s.log.Debug("collected", attrs...)
	case res.Accepted > 0 || res.Rejected > 0 || len(res.Errors) > 0:
		s.log.Info("collected", attrs...)
	default:
		s.log.Debug("collected", attrs...)
	}
	if s.sched != nil && end.After(s.sched.Next(start)) {
		s.log.Warn("run took longer than its schedule's interval; the runs due meanwhile were skipped",
			"duration", dur.Round(time.Millisecond).String(), "schedule", s.Schedule)
	}
}

func (r *Runner) skipped(s *source, reason string) {
	r.metrics.skipped.WithLabelValues(s.Name, reason).Inc()
	s.mu.Lock()
	s.h.Skipped++
	s.mu.Unlock()
	if reason == "overlap" {
		// Debug only: finish warns once when the long run ends, and the
		// metric counts every skip.
		s.log.Debug("run skipped: the previous run is still going")
	}
}

// Adopt takes over the run history another runner reported for the same
// sources (a cluster's previous leader): when its last run is later than
// this runner's, the last run, success and error and the failure streak
// are its, so health does not read "never succeeded" on a new leader
// until its first pull. Counters since start stay this runner's.
func (r *Runner) Adopt(hs []Health) {
	for _, h := range hs {
		for _, s := range r.sources {
			if s.Name != h.Source {
				continue
			}
			s.mu.Lock()
			if h.LastRun.After(s.h.LastRun) || h.LastSuccess.After(s.h.LastSuccess) {
				s.h.LastRun, s.h.LastDuration = h.LastRun, h.LastDuration
				s.h.LastSuccess = h.LastSuccess
				s.h.LastError, s.h.LastErrorAt = h.LastError, h.LastErrorAt
				s.h.ConsecutiveFailures = h.ConsecutiveFailures
			}
			s.mu.Unlock()
		}
	}
}

// Health returns the state of every source, in configuration order.
func (r *Runner) Health() []Health {
	now := r.now()
	r.mu.Lock()
	c := r.cron
	r.mu.Unlock()
	var next map[cron.EntryID]time.Time
	if c != nil {
		next = map[cron.EntryID]time.Time{}
		for _, e := range c.Entries() {
			next[e.ID] = e.Next
		}
	}
	out := make([]Health, 0, len(r.sources))
	for _, s := range r.sources {
		s.mu.Lock()
		h := s.h
		h.Running = s.inFlight > 0
		if !h.LastSuccess.IsZero() {
			lag := now.Sub(h.LastSuccess).Seconds()
			h.LagSeconds = &lag
		}
		if s.backoffUntil.After(now) {
			h.BackoffUntil = s.backoffUntil
		}
		if next != nil && s.entry != 0 {
			h.NextRun = next[s.entry]
		}
		s.mu.Unlock()
		out = append(out, h)
	}
	return out
}

// memJournal keeps cursors in memory and journals nothing: for a runner
// built without a journal.
type memJournal struct {
	mu      sync.Mutex
	cursors map[string]string
}

func (m *memJournal) Write(journal.Batch) (int64, error) { return 0, nil }
func (m *memJournal) Sync(context.Context, int64) error  { return nil }

func (m *memJournal) Cursor(s string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[s], nil
}

func (m *memJournal) SetCursor(s, c string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[s] = c
	return nil
}

// cronLogger adapts log/slog to cron's logger. cron's own chatter (wake,
// run, added) goes to Debug; SkipIfStillRunning's "skip" is counted.
type cronLogger struct {
	log    *slog.Logger
	onSkip func()
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" && l.onSkip != nil {
		l.onSkip()
		return
	}
	l.log.Debug("cron: "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", RedactError(err))...)
}
