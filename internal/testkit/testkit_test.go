package testkit

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestShanghai(t *testing.T) {
	loc := Shanghai(t)
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != 8*3600 {
		t.Errorf("Asia/Shanghai offset %d, want +08:00", off)
	}
}

// fatalTB records a Fatalf instead of failing the test, and stops the
// goroutine as t.Fatalf does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestWaitFor runs in a synctest bubble: the 30 s of a timeout pass at once.
func TestWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		n := 0
		WaitFor(t, "the third poll", func() bool { n++; return n == 3 })
		if n != 3 {
			t.Errorf("cond called %d times, want 3", n)
		}

		f := &fatalTB{TB: t}
		var wg sync.WaitGroup
		wg.Go(func() { WaitFor(f, "never", func() bool { return false }) })
		wg.Wait()
		if want := "timed out after 30s waiting for never"; f.msg != want {
			t.Errorf("Fatalf(%q), want %q", f.msg, want)
		}
		if waited := time.Since(start); waited < WaitTimeout || waited > WaitTimeout+time.Second {
			t.Errorf("gave up after %v, want %v", waited, WaitTimeout)
		}
	})
}
