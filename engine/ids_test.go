package engine

import (
	"fmt"
	"testing"
)

func TestIDIndexCollisions(t *testing.T) {
	x := newIDIndex()
	// Force every id into one hash bucket by pre-filling byHash with the
	// hash of a different id: all later ids with that hash must still be
	// found exactly, through the overflow map.
	a := insert(&x, "alpha")
	b := insert(&x, "beta")
	if s, _, ok := x.lookup("alpha"); !ok || s != a {
		t.Fatalf("alpha → %d %v", s, ok)
	}
	if s, _, ok := x.lookup("beta"); !ok || s != b {
		t.Fatalf("beta → %d %v", s, ok)
	}
	if _, _, ok := x.lookup("gamma"); ok {
		t.Fatal("gamma found")
	}
	// Simulate a collision: point gamma's hash at alpha's slot.
	x.byHash[hashOf(&x, "gamma")] = a
	g := insert(&x, "gamma")
	if s, _, ok := x.lookup("gamma"); !ok || s != g {
		t.Fatalf("colliding gamma → %d %v, want %d", s, ok, g)
	}
	if s, _, ok := x.lookup("alpha"); !ok || s != a {
		t.Fatalf("alpha after collision → %d %v", s, ok)
	}
	for i := 0; i < 10000; i++ {
		insert(&x, fmt.Sprint("id-", i))
	}
	for i := 0; i < 10000; i++ {
		id := fmt.Sprint("id-", i)
		if s, _, ok := x.lookup(id); !ok || x.idOf(s) != id {
			t.Fatalf("%s → %d %v", id, s, ok)
		}
	}
}

func hashOf(x *idIndex, id string) uint64 { return maphashString(x, id) }

func insert(x *idIndex, id string) uint32 {
	_, h, _ := x.lookup(id)
	return x.insert(id, h)
}
