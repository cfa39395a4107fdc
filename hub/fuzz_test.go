package hub

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// FuzzRequest feeds arbitrary client messages to the request handler:
// it never panics, keeps the topic limit, and answers every message with
// exactly one reply frame, after any snapshots, all of them valid JSON.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"subscribe","topics":["ind:a:1:day"]}`,
		`{"op":"subscribe","topics":["a","b"],"since":{"a":1,"c":18446744073709551615}}`,
		`{"op":"unsubscribe","topics":["a"]}`,
		`{"op":"subscribe","topics":["a b"]}`,
		`{"op":"subscribe","topics":"a"}`,
		`{"op":"publish"}`,
		`not json`,
		`{"op":"subscribe","topics":["a","b","c","d","e"]}`,
		`{"op":"subscribe","since":{"x":0}}`,
		``,
	} {
		f.Add([]byte(s))
	}
	h := New(Config{Coalesce: -1, MaxTopics: 4, QueueLen: 1 << 12})
	defer h.Close()
	if err := h.Publish("a", json.RawMessage(`{"v":1}`)); err != nil {
		f.Fatal(err)
	}
	h.Flush()
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &client{h: h, topics: map[Topic]struct{}{}}
		c.handle(b)
		c.handle(b) // twice: limits count across requests
		defer h.unsubscribe(c, mapKeys(c.topics))
		if len(c.topics) > h.cfg.MaxTopics {
			t.Fatalf("%d topics > %d", len(c.topics), h.cfg.MaxTopics)
		}
		replies := 0
		for i, w := range c.q {
			p := framePayload(t, w.b)
			var m map[string]any
			if err := json.Unmarshal(p, &m); err != nil {
				t.Fatalf("frame %d: %v: %s", i, err, p)
			}
			if _, ok := m["op"]; ok {
				replies++
				if w.kind != wireReply {
					t.Fatalf("frame %d: a reply of kind %d", i, w.kind)
				}
			}
		}
		if replies != 2 || c.q[len(c.q)-1].kind != wireReply {
			t.Fatalf("%d replies to 2 requests; frames %d", replies, len(c.q))
		}
	})
}

// framePayload checks an unmasked, final text frame and returns its payload.
func framePayload(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 2 || b[0] != 0x81 || b[1]&0x80 != 0 {
		t.Fatalf("not a final unmasked text frame: % x", b[:min(len(b), 4)])
	}
	n, h := int(b[1]), 2
	switch n {
	case 126:
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		n, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) != h+n {
		t.Fatalf("frame of %d bytes says %d+%d", len(b), h, n)
	}
	return b[h:]
}
