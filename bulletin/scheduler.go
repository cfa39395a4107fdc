package bulletin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
)

// Clock is the time a Scheduler runs on: the system's, or a fake one in
// tests (no sleeping).
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }
func (t sysTimer) Stop() bool          { return t.t.Stop() }

// SchedulerConfig sets up a Scheduler.
type SchedulerConfig struct {
	Bulletins []*Bulletin
	Calendar  *calendar.Calendar
	// Issue makes the bulletins of a run (Service.Issue). An error is
	// logged; the scheduler goes on with the next run.
	Issue func(ctx context.Context, b *Bulletin, r Run) error
	// Issued, when set, says whether a run is in the archive already
	// (Service.Issued): at start, the latest run of each bulletin that is
	// due and not issued is issued at once (a restart across an issue
	// time loses nothing).
	Issued func(b *Bulletin, r Run) bool
	// Clock defaults to SystemClock.
	Clock  Clock
	Logger *slog.Logger
}

// Scheduler issues bulletins at their times (Bulletin.RunAt): one run at
// a time, in order of time, each period of each bulletin once.
type Scheduler struct {
	cfg SchedulerConfig
}

// NewScheduler returns a Scheduler; Run starts it.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Calendar == nil || cfg.Issue == nil {
		return nil, errors.New("bulletin: SchedulerConfig needs Calendar and Issue")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg}, nil
}

// Next returns the next run of every bulletin after t, in configuration
// order (for a page that lists what comes).
func (s *Scheduler) Next(t time.Time) ([]Run, error) {
	out := make([]Run, 0, len(s.cfg.Bulletins))
	for _, b := range s.cfg.Bulletins {
		r, err := b.NextRun(t, s.cfg.Calendar)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Run issues bulletins until ctx ends, and returns ctx's error. Runs are
// issued one after another: a slow one delays the next, which is then
// issued as soon as it can be.
func (s *Scheduler) Run(ctx context.Context) error {
	cal, clock, log := s.cfg.Calendar, s.cfg.Clock, s.cfg.Logger
	now := clock.Now()
	// queue[i] is the next run of bulletin i.
	queue := make([]Run, len(s.cfg.Bulletins))
	for i, b := range s.cfg.Bulletins {
		r, err := b.NextRun(now, cal)
		if err != nil {
			return err
		}
		queue[i] = r
		if s.cfg.Issued == nil {
			continue
		}
		if last, ok := b.LastRun(now, cal); ok && !s.cfg.Issued(b, last) {
			log.Info("bulletin: catching up a missed run", "bulletin", b.Name, "period", last.Period.String(), "due", last.At)
			queue[i] = last
		}
	}
	if len(queue) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	for {
		// The earliest run; ties go to the bulletin listed first.
		i := 0
		for j := range queue {
			if queue[j].At.Before(queue[i].At) {
				i = j
			}
		}
		r := queue[i]
		if d := r.At.Sub(clock.Now()); d > 0 {
			t := clock.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C():
			}
			continue // the clock may have moved otherwise: look again
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b := s.cfg.Bulletins[i]
		start := clock.Now()
		err := s.issue(ctx, b, r)
		if err != nil {
			log.Error("bulletin: run failed", "bulletin", b.Name, "period", r.Period.String(), "err", err)
		} else {
			log.Info("bulletin: issued", "bulletin", b.Name, "period", r.Period.String(), "took", clock.Now().Sub(start))
		}
		next, err := b.Following(r, cal)
		if err != nil {
			return err
		}
		queue[i] = next
	}
}

// issue runs Issue, turning a panic into an error: one bad run does not
// stop the scheduler.
func (s *Scheduler) issue(ctx context.Context, b *Bulletin, r Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.cfg.Issue(ctx, b, r)
}
