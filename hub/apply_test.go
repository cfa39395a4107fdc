package hub

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recorder keeps what a hub's OnFlush is given.
type recorder struct {
	mu   sync.Mutex
	msgs []Message
}

func (r *recorder) onFlush(ms []Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, ms...)
	r.mu.Unlock()
}

func (r *recorder) take() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := r.msgs
	r.msgs = nil
	return ms
}

func apply(t *testing.T, h *Hub, ms ...Message) {
	t.Helper()
	for _, m := range ms {
		if err := h.Apply(m); err != nil {
			t.Fatalf("apply %v: %v", m, err)
		}
	}
}

// TestApplyMirrorsOrigin: a hub fed the origin's flushes by Apply answers
// live subscribers and resumes exactly as the origin does, with its seqs.
func TestApplyMirrorsOrigin(t *testing.T) {
	var rec recorder
	origin, osrv := startHub(t, Config{HistoryLen: 8, OnFlush: rec.onFlush})
	// The mirror starts later: its own base is above the origin's seqs.
	mirror, msrv := startHub(t, Config{HistoryLen: 8, Clock: func() time.Time { return time.Now().Add(time.Hour) }})
	const a, b = "ind:x:1:day", "health:demo"

	live := dial(t, msrv)
	live.Subscribe(nil, a)
	live.Until("subscribed") // empty snapshot at the mirror's base

	var seqs []uint64
	for i := 1; i <= 12; i++ {
		publish(t, origin, a, strconv.Itoa(i))
		if i%3 == 0 {
			publish(t, origin, b, strconv.Itoa(i))
		}
		origin.Flush()
		ms := rec.take()
		if len(ms) == 0 || ms[0].Snapshot {
			t.Fatalf("flush %d gave %v", i, ms)
		}
		apply(t, mirror, ms...)
		for _, m := range ms {
			if m.Topic == a {
				seqs = append(seqs, m.Seq)
			}
		}
	}
	// Live: the first applied message is a jump from the mirror's empty
	// topic (a snapshot), then consecutive messages with the origin's seqs.
	for i, s := range seqs {
		live.Expect(a, s, i == 0, strconv.Itoa(i+1))
	}
	for _, tc := range []uint64{0, seqs[0], seqs[5], seqs[10], seqs[11], seqs[11] + 5} {
		for _, topic := range []string{a, b} {
			since := map[string]uint64{topic: tc}
			if tc == 0 {
				since = nil
			}
			co, cm := dial(t, osrv), dial(t, msrv)
			co.Subscribe(since, topic)
			cm.Subscribe(since, topic)
			fo, fm := co.Until("subscribed"), cm.Until("subscribed")
			if len(fo) != len(fm) {
				t.Fatalf("%s since %d: origin %v, mirror %v", topic, tc, fo, fm)
			}
			for i := range fo {
				if fo[i].String() != fm[i].String() {
					t.Fatalf("%s since %d: origin %v, mirror %v", topic, tc, fo, fm)
				}
			}
		}
	}
	if l, _ := mirror.Latest(a); l.Seq != seqs[11] {
		t.Fatalf("mirror latest %v, want seq %d", l, seqs[11])
	}
	if st := mirror.Stats(); st.Applied != 16 || st.Flushed != 0 {
		t.Fatalf("mirror stats %+v", st)
	}
}

func TestApplyStale(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a = "ind:x:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed")
	apply(t, h, Message{Topic: a, Seq: 100, Data: []byte("1")}, Message{Topic: a, Seq: 101, Data: []byte("2")})
	for _, m := range []Message{{Topic: a, Seq: 101, Data: []byte("2")}, {Topic: a, Seq: 100, Data: []byte("1")}, {Topic: a, Seq: 7, Data: []byte("0")}} {
		if err := h.Apply(m); !errors.Is(err, ErrStale) {
			t.Fatalf("apply %v: %v, want ErrStale", m, err)
		}
	}
	apply(t, h, Message{Topic: a, Seq: 102, Data: []byte("3")})
	c.Expect(a, 100, true, "1")
	c.Expect(a, 101, false, "2")
	c.Expect(a, 102, false, "3")
	if st := h.Stats(); st.Applied != 3 || st.Stale != 3 {
		t.Fatalf("stats %+v", st)
	}
	for _, m := range []Message{{Topic: "", Seq: 1, Data: []byte("1")}, {Topic: a, Seq: 0, Data: []byte("1")}, {Topic: a, Seq: 200}, {Topic: a, Seq: 200, Data: []byte("{")}} {
		if err := h.Apply(m); err == nil || errors.Is(err, ErrStale) {
			t.Fatalf("apply %v: %v, want a refusal", m, err)
		}
	}
}

// TestApplyGap: a message that does not follow reaches subscribers as a
// snapshot, and resumes from before it get a snapshot too.
func TestApplyGap(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a = "ind:x:1:day"
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed")
	apply(t, h,
		Message{Topic: a, Seq: 10, Data: []byte("10")},
		Message{Topic: a, Seq: 11, Data: []byte("11")},
		Message{Topic: a, Seq: 12, Data: []byte("12")},
		Message{Topic: a, Seq: 15, Data: []byte("15")}, // 13, 14 lost
		Message{Topic: a, Seq: 16, Data: []byte("16")},
	)
	c.Expect(a, 10, true, "10")
	c.Expect(a, 11, false, "11")
	c.Expect(a, 12, false, "12")
	c.Expect(a, 15, true, "15")
	c.Expect(a, 16, false, "16")

	for since, want := range map[uint64][]string{
		11: {"16 snap"},  // would need 13, 14
		12: {"16 snap"},  // ditto
		14: {"15", "16"}, // the ring has what follows 14
		15: {"16"},       // one missed
		16: nil,          // up to date
		99: nil,          // ahead (seen on another node): nothing older
		1:  {"16 snap"},  // long ago
	} {
		r := dial(t, srv)
		r.Subscribe(map[string]uint64{a: since}, a)
		got := r.Until("subscribed")
		var s []string
		for _, f := range got {
			x := strconv.FormatUint(f.Seq, 10)
			if f.Snapshot {
				x += " snap"
			}
			s = append(s, x)
		}
		if strconv.Quote(join(s)) != strconv.Quote(join(want)) {
			t.Errorf("since %d: got %v, want %v", since, s, want)
		}
	}
	// The origin may mark a message a snapshot even if it follows.
	apply(t, h, Message{Topic: a, Seq: 17, Snapshot: true, Data: []byte("17")})
	c.Expect(a, 17, true, "17")
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x + ","
	}
	return out
}

// TestStartEpoch: after StartEpoch a hub numbers its flushes above the
// clock, never after the seqs it applied; the jump is a snapshot to
// subscribers and to OnFlush.
func TestStartEpoch(t *testing.T) {
	var rec recorder
	now := time.UnixMicro(1_000_000_000)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h, srv := startHub(t, Config{Clock: clock, OnFlush: rec.onFlush})
	const a = "ind:x:1:day"
	old := h.base + 500 // a previous leader's seqs, above this hub's base
	apply(t, h, Message{Topic: a, Seq: old, Data: []byte("1")})
	c := dial(t, srv)
	c.Subscribe(nil, a)
	c.Until("subscribed")

	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	h.StartEpoch()
	epoch := uint64(now.UnixMicro())
	publish(t, h, a, "2")
	h.Flush()
	c.Expect(a, epoch+1, true, "2")
	publish(t, h, a, "3")
	h.Flush()
	c.Expect(a, epoch+2, false, "3")
	ms := rec.take()
	if len(ms) != 2 || ms[0].Seq != epoch+1 || !ms[0].Snapshot || ms[1].Seq != epoch+2 || ms[1].Snapshot {
		t.Fatalf("OnFlush got %v", ms)
	}
	// A resume from the previous leader's last seq gets a snapshot.
	r := dial(t, srv)
	r.Subscribe(map[string]uint64{a: old}, a)
	got := r.Until("subscribed")
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	checkFrame(t, got[0], a, epoch+2, true, "3")
	// A clock that went back does not lower the floor.
	mu.Lock()
	now = now.Add(-500 * time.Millisecond)
	mu.Unlock()
	h.StartEpoch()
	publish(t, h, a, "4")
	h.Flush()
	c.Expect(a, epoch+3, false, "4")
}

// TestResumeAhead: a client that saw a later message on another node (the
// dead leader's last, not applied here yet) gets no older snapshot, which
// would step its screen back; it gets the topic's next message.
func TestResumeAhead(t *testing.T) {
	h, srv := startHub(t, Config{})
	const a = "ind:x:1:day"
	apply(t, h, Message{Topic: a, Seq: 10, Data: []byte("10")})
	c := dial(t, srv)
	c.Subscribe(map[string]uint64{a: 12}, a)
	if got := c.Until("subscribed"); len(got) != 0 {
		t.Fatalf("a client ahead got %v", got)
	}
	apply(t, h, Message{Topic: a, Seq: 11, Data: []byte("11")}, Message{Topic: a, Seq: 13, Data: []byte("13")})
	c.Expect(a, 13, true, "13") // not 11: older than what the client has
	// Behind or equal: as before.
	c2 := dial(t, srv)
	c2.Subscribe(map[string]uint64{a: 9}, a)
	if got := c2.Until("subscribed"); len(got) != 1 || got[0].Seq != 13 || !got[0].Snapshot {
		t.Fatalf("a client behind got %v, want the snapshot at 13", got)
	}
}
