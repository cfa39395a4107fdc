package bulletin

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test says; timers fire
// when it passes their deadline.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan time.Time // receives each new timer's deadline
}

type fakeTimer struct {
	at    time.Time
	c     chan time.Time
	fired bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { was := !t.fired; t.fired = true; return was }

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan time.Time, 16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.armed <- t.at
	return t
}

// set moves the clock to now and fires the timers due.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for _, t := range c.timers {
		if !t.fired && !t.at.After(now) {
			t.fired = true
			t.c <- now
		}
	}
}

// TestSchedulerIssuesMonthlyBulletin: with the clock at 9 October 2026,
// the scheduler waits for 10 October 09:00 (the 3rd working day of
// October), prints September's 月报 from the sample in Chromium and
// archives it; a new archive over the same directory finds it.
func TestSchedulerIssuesMonthlyBulletin(t *testing.T) {
	s := loadSample(t)
	cfg := mustParse(t, monthlyYAML)
	dir := t.TempDir()
	arch, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := NewBuilder(BuilderConfig{History: s.st, Location: s.loc})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Entry, 4)
	svc, err := NewService(ServiceConfig{Builder: bd, Archive: arch,
		Printer: NewPrinter(PrinterConfig{Chrome: chromePath(t)}),
		Done:    func(_ context.Context, e Entry) { done <- e }})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	clock := newFakeClock(time.Date(2026, 10, 9, 12, 0, 0, 0, s.loc))
	sch, err := NewScheduler(SchedulerConfig{Bulletins: cfg.Bulletins, Calendar: s.cal, Clock: clock,
		Issue: svc.Issue, Issued: svc.Issued})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- sch.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-stopped; err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	}()

	// At start, August's 月报 (due 3 September) is not in the archive:
	// caught up at once.
	select {
	case e := <-done:
		if e.ID != "gansu-monthly_620000_2026-08" {
			t.Fatalf("caught up %s", e.ID)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no catch-up of August")
	}
	want := time.Date(2026, 10, 10, 9, 0, 0, 0, s.loc)
	select {
	case at := <-clock.armed:
		if !at.Equal(want) {
			t.Fatalf("timer for %s, want %s", at, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduler set no timer")
	}
	// Nothing before its time.
	clock.set(want.Add(-time.Second))
	select {
	case e := <-done:
		t.Fatalf("issued early: %s", e.ID)
	case <-clock.armed: // woke up early (it does not here), set another timer
	case <-time.After(200 * time.Millisecond):
	}
	clock.set(want)
	var e Entry
	select {
	case e = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("no bulletin archived")
	}
	if e.ID != "gansu-monthly_620000_2026-09" || e.Title != "甘肃省政务服务数据月报（2026年9月）" || e.Pages < 3 {
		t.Errorf("entry %+v", e)
	}
	// Then it waits for November's (4 November, 09:00).
	select {
	case at := <-clock.armed:
		if want := time.Date(2026, 11, 4, 9, 0, 0, 0, s.loc); !at.Equal(want) {
			t.Errorf("next timer for %s, want %s", at, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no next timer")
	}

	// Found in the archive, and in a new one over the same directory
	// (after a restart).
	again, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := again.List(Query{Type: Monthly, Region: "620000", Text: "月报 甘肃", From: want.AddDate(0, -1, -1)})
	if len(got) != 1 || got[0].ID != e.ID || got[0].SHA256 != e.SHA256 {
		t.Fatalf("archive after restart: %+v", got)
	}
	f, _, err := again.Open(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 5)
	f.Read(head)
	f.Close()
	if string(head) != "%PDF-" {
		t.Errorf("archived file starts %q", head)
	}
	if !svc.Issued(cfg.Bulletins[0], Run{Period: PeriodOf(Monthly, time.Date(2026, 9, 1, 0, 0, 0, 0, s.loc), s.loc)}) {
		t.Error("Issued: false for the archived run")
	}
}

// TestSchedulerCatchesUp: started after an issue time whose bulletin is
// not in the archive, the scheduler issues it at once.
func TestSchedulerCatchesUp(t *testing.T) {
	loc := shanghai(t)
	cfg := mustParse(t, monthlyYAML)
	issued := make(chan Run, 4)
	clock := newFakeClock(time.Date(2026, 10, 12, 8, 0, 0, 0, loc))
	sch, err := NewScheduler(SchedulerConfig{Bulletins: cfg.Bulletins, Calendar: calendarFor(loc), Clock: clock,
		Issue:  func(_ context.Context, b *Bulletin, r Run) error { issued <- r; return nil },
		Issued: func(b *Bulletin, r Run) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sch.Run(ctx)
	select {
	case r := <-issued:
		if r.Period.Key() != "2026-09" {
			t.Errorf("caught up %s", r.Period)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no catch-up")
	}
	if at := <-clock.armed; !at.Equal(time.Date(2026, 11, 4, 9, 0, 0, 0, loc)) {
		t.Errorf("then waits for %s", at)
	}
}
