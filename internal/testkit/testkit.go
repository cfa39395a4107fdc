// Package testkit holds the helpers that tests across the module share,
// so that each exists once (and, for WaitFor, with one argument order).
//
// It imports only the standard library, so that any package's own tests
// (package calendar, package hub) can use it without an import cycle; the
// helpers that need the engine are in testkit/testengine.
package testkit

import (
	"testing"
	"time"
)

// Shanghai returns Asia/Shanghai, the business time zone of SPEC.md, or
// fails t when the time zone database lacks it.
func Shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("time zone Asia/Shanghai: %v", err)
	}
	return loc
}

// WaitTimeout is how long WaitFor waits: long enough for a loaded CI
// machine, short enough that a hang fails the test rather than the run.
const WaitTimeout = 30 * time.Second

// WaitFor polls cond every few milliseconds until it holds, and fails t
// naming what it waited for after WaitTimeout. It is for conditions that
// real I/O (a socket, a server's goroutines) makes true; code that only
// waits on timers is better tested in a testing/synctest bubble.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, what, WaitTimeout, cond)
}

// WaitWithin is WaitFor with its own limit, for waits whose length is
// part of what the test asserts (a failover, a process's start).
func WaitWithin(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
