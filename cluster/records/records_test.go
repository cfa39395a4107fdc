package records_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/cluster/natstest"
	"github.com/yiping-ioc/yiping/cluster/records"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

// calls counts the calls filed, by id (an upsert: a repeat replaces).
type calls struct {
	mu    sync.Mutex
	ids   map[string]int // times filed
	order []string
}

func (c *calls) UpsertCases([]record.Case)             {}
func (c *calls) UpsertEvaluations([]record.Evaluation) {}
func (c *calls) UpsertTickets([]record.Ticket)         {}
func (c *calls) UpsertItems([]record.Item)             {}
func (c *calls) UpsertCalls(cs []record.Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range cs {
		c.ids[x.ID]++
		c.order = append(c.order, x.ID)
	}
}
func (c *calls) has(id string) bool { c.mu.Lock(); defer c.mu.Unlock(); return c.ids[id] > 0 }

func batch(source string, ids ...string) journal.Batch {
	b := journal.Batch{Kind: record.KindCall, Source: source}
	for _, id := range ids {
		b.Values = append(b.Values, id, "620100", "2026-12-01 10:00:00", "true", "12")
	}
	return b
}

// term is a switchable lease state.
type term struct{ token atomic.Uint64 }

func (t *term) leading() (uint64, bool) { v := t.token.Load(); return v, v != 0 }

func TestWriteFollowFenceAndCursors(t *testing.T) {
	srv := natstest.Start(t, natstest.Options{})
	nc, js := natstest.Connect(t, srv, "t")
	ctx := t.Context()
	loc := testkit.Shanghai(t)

	var a, b term
	a.token.Store(5)
	logA, err := records.NewLog(ctx, js, nc.MaxPayload(), records.Options{Node: "a", Leading: a.leading})
	if err != nil {
		t.Fatal(err)
	}
	logB, err := records.NewLog(ctx, js, nc.MaxPayload(), records.Options{Node: "b", Leading: b.leading})
	if err != nil {
		t.Fatal(err)
	}
	sink := &calls{ids: map[string]int{}}
	ap, err := records.Follow(ctx, js, sink, record.NewParser(loc), records.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// b does not lead: it may neither write nor move a cursor.
	if _, err := logB.Write(batch("src", "b0")); !errors.Is(err, records.ErrNotLeader) {
		t.Fatalf("write without the lease: %v", err)
	}
	if err := logB.SetCursor("src", "x"); !errors.Is(err, records.ErrNotLeader) {
		t.Fatalf("cursor without the lease: %v", err)
	}
	if _, err := logA.Write(batch("src", "a1", "a2")); err != nil {
		t.Fatal(err)
	}
	if err := logA.SetCursor("src", "c1"); err != nil {
		t.Fatal(err)
	}
	// A new term (b, token 9) — and a still running a: a paused old
	// leader whose lease state has not caught up yet.
	b.token.Store(9)
	if c, err := logB.Cursor("src"); err != nil || c != "c1" {
		t.Fatalf("new leader reads cursor %q, %v; want c1", c, err)
	}
	if _, err := logB.Write(batch("src", "b1")); err != nil {
		t.Fatal(err)
	}
	if err := logB.SetCursor("src", "c2"); err != nil {
		t.Fatal(err)
	}
	if _, err := logA.Write(batch("src", "late")); err != nil {
		t.Fatal(err) // acknowledged by the server: only the fence can stop it
	}
	if err := logA.SetCursor("src", "stale"); !errors.Is(err, records.ErrFenced) {
		t.Fatalf("old term moved the new term's cursor: %v", err)
	}
	if c, _ := logB.Cursor("src"); c != "c2" {
		t.Fatalf("cursor %q, want c2", c)
	}
	if _, err := logB.Write(batch("src", "b2")); err != nil {
		t.Fatal(err)
	}
	if err := ap.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "a2", "b1", "b2"} {
		if !sink.has(id) {
			t.Errorf("%s not applied", id)
		}
	}
	if sink.has("late") {
		t.Error("the deposed leader's late batch was applied")
	}
	if st := ap.Stats(); st.Refused != 1 || st.Token != 9 || st.Batches != 3 {
		t.Errorf("stats %+v, want 1 refused, token 9, 3 batches", st)
	}

	// A second node starting later applies the same, in the same order.
	sink2 := &calls{ids: map[string]int{}}
	ap2, err := records.Follow(ctx, js, sink2, record.NewParser(loc), records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ap2.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sink2.order) != fmt.Sprint(sink.order) {
		t.Errorf("second node applied %v, first %v", sink2.order, sink.order)
	}
}

// A batch acknowledged after its term ended is an error: nothing may
// acknowledge it (its pull is repeated by the next leader).
func TestWriteAfterTermEndedFails(t *testing.T) {
	srv := natstest.Start(t, natstest.Options{})
	nc, js := natstest.Connect(t, srv, "t")
	var calls atomic.Int32
	leading := func() (uint64, bool) {
		if calls.Add(1) == 1 {
			return 3, true
		}
		return 0, false // the term ended while the publish was in flight
	}
	l, err := records.NewLog(t.Context(), js, nc.MaxPayload(), records.Options{Leading: leading})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write(batch("src", "x")); !errors.Is(err, records.ErrNotLeader) {
		t.Fatalf("got %v, want ErrNotLeader", err)
	}
}

// A batch larger than a message goes as several; every row arrives and a
// catalog replacement replaces once.
func TestLargeBatchesAreSplit(t *testing.T) {
	srv := natstest.Start(t, natstest.Options{})
	_, js := natstest.Connect(t, srv, "t")
	var tm term
	tm.token.Store(1)
	l, err := records.NewLog(t.Context(), js, 1, records.Options{Leading: tm.leading}) // the 64 KiB floor
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5000 {
		ids = append(ids, fmt.Sprintf("call-%06d-%s", i, "padding-padding-padding"))
	}
	seq, err := l.Write(batch("big", ids...))
	if err != nil {
		t.Fatal(err)
	}
	if seq < 3 {
		t.Fatalf("5,000 rows in %d messages: not split", seq)
	}
	sink := &calls{ids: map[string]int{}}
	ap, err := records.Follow(t.Context(), js, sink, record.NewParser(testkit.Shanghai(t)), records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := ap.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.ids) != 5000 || len(sink.order) != 5000 {
		t.Fatalf("applied %d distinct, %d in all; want 5,000", len(sink.ids), len(sink.order))
	}
}

// versions keeps the last version of each call (its wait_seconds).
type versions struct {
	mu sync.Mutex
	v  map[string]string
	n  int // calls filed
}

func (s *versions) UpsertCases([]record.Case)             {}
func (s *versions) UpsertEvaluations([]record.Evaluation) {}
func (s *versions) UpsertTickets([]record.Ticket)         {}
func (s *versions) UpsertItems([]record.Item)             {}
func (s *versions) UpsertCalls(cs []record.Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.v[c.ID] = fmt.Sprint(c.WaitSeconds)
		s.n++
	}
}
func (s *versions) state() string { s.mu.Lock(); defer s.mu.Unlock(); return fmt.Sprint(s.v) }

func versioned(source string, version int, ids ...string) journal.Batch {
	b := journal.Batch{Kind: record.KindCall, Source: source}
	for _, id := range ids {
		b.Values = append(b.Values, id, "620100", "2026-12-01 10:00:00", "true", fmt.Sprint(version))
	}
	return b
}

// TestCompact: the compacted log builds the same state, on a node that was
// following during the compaction and on one that starts after it, from
// far fewer messages; a deposed leader's fenced batch stays out.
func TestCompact(t *testing.T) {
	srv := natstest.Start(t, natstest.Options{})
	nc, js := natstest.Connect(t, srv, "t")
	ctx := t.Context()
	loc := testkit.Shanghai(t)
	var old, cur term
	old.token.Store(2)
	logOld, err := records.NewLog(ctx, js, nc.MaxPayload(), records.Options{Leading: old.leading})
	if err != nil {
		t.Fatal(err)
	}
	l, err := records.NewLog(ctx, js, nc.MaxPayload(), records.Options{Leading: cur.leading})
	if err != nil {
		t.Fatal(err)
	}
	following := &versions{v: map[string]string{}}
	ap, err := records.Follow(ctx, js, following, record.NewParser(loc), records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 20; v++ {
		if _, err := logOld.Write(versioned("a", v, "x", "y", fmt.Sprintf("only-%d", v))); err != nil {
			t.Fatal(err)
		}
	}
	cur.token.Store(7)
	for v := 21; v <= 40; v++ {
		if _, err := l.Write(versioned("b", v, "y", "z")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := logOld.Write(versioned("a", 99, "x")); err != nil { // fenced
		t.Fatal(err)
	}
	if err := ap.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	want := following.state()
	if !strings.Contains(want, "x:20") || !strings.Contains(want, "y:40") {
		t.Fatalf("state before compaction %s", want)
	}

	if st, err := l.Compact(ctx, records.CompactOptions{}); err != nil || st.Kept != 0 {
		t.Fatalf("a small log was compacted: %+v %v", st, err)
	}
	st, err := l.Compact(ctx, records.CompactOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 41 || st.Rows != 100 || st.Kept != 23 || st.After >= st.Before {
		t.Fatalf("compaction %+v: want 41 batches, 100 rows read (the fenced one skipped), 23 kept, fewer bytes", st)
	}
	if err := ap.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := following.state(); got != want {
		t.Fatalf("a node following through the compaction holds %s, want %s", got, want)
	}
	late := &versions{v: map[string]string{}}
	ap2, err := records.Follow(ctx, js, late, record.NewParser(loc), records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ap2.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := late.state(); got != want || late.n != 23 {
		t.Fatalf("a node starting after the compaction holds %s from %d rows, want %s from 23", got, late.n, want)
	}
}
