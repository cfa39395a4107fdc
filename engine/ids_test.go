package engine

import (
	"fmt"
	"hash/maphash"
	"testing"
)

func TestIDIndexCollisions(t *testing.T) {
	x := newIDIndex()
	// Ids whose 64-bit hashes collide must still be found exactly: the
	// bytes decide.
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
	// Simulate a collision: file gamma under alpha's full hash.
	ha := hashOf(&x, "alpha")
	if _, ok := x.lookupHashed("gamma", ha); ok {
		t.Fatal("gamma found under alpha's hash")
	}
	g := x.insert("gamma", ha)
	if s, ok := x.lookupHashed("gamma", ha); !ok || s != g {
		t.Fatalf("colliding gamma → %d %v, want %d", s, ok, g)
	}
	if s, ok := x.lookupHashed("alpha", ha); !ok || s != a {
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
	// The table has grown, re-hashing gamma from its bytes.
	if s, _, ok := x.lookup("gamma"); !ok || s != g {
		t.Fatalf("gamma after growth → %d %v, want %d", s, ok, g)
	}
	if s, _, ok := x.lookup("alpha"); !ok || s != a {
		t.Fatalf("alpha after growth → %d %v", s, ok)
	}
}

func hashOf(x *idIndex, id string) uint64 { return maphash.String(x.seed, id) }

func insert(x *idIndex, id string) uint32 {
	_, h, _ := x.lookup(id)
	return x.insert(id, h)
}
