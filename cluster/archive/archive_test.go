package archive_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/bulletin"
	"github.com/yiping-ioc/yiping/cluster/archive"
	"github.com/yiping-ioc/yiping/cluster/natstest"
)

func entry(id string, at time.Time) bulletin.Entry {
	return bulletin.Entry{ID: id, Bulletin: "b", Type: bulletin.Type("daily"), Title: "快报 " + id, Region: "620000", GeneratedAt: at}
}

func open(t *testing.T) *bulletin.Archive {
	t.Helper()
	a, err := bulletin.OpenArchive(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pdfOf(t *testing.T, a *bulletin.Archive, id string) []byte {
	t.Helper()
	f, _, err := a.Open(id)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return b
}

// TestShareAndSync: what one leader archived reaches the next leader's
// archive (so it does not issue it again), newer versions win both ways,
// and an entry only a node had is shared.
func TestShareAndSync(t *testing.T) {
	srv := natstest.Start(t, natstest.Options{})
	_, js := natstest.Connect(t, srv, "t")
	ctx := t.Context()
	st, err := archive.Ensure(ctx, js, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	a, b := open(t), open(t)

	// Leader a issues two bulletins and shares them.
	for _, id := range []string{"daily_620000_2026-12-02", "daily_620100_2026-12-02"} {
		e, err := a.Put(entry(id, t0), []byte("%PDF-1.7 "+id))
		if err != nil {
			t.Fatal(err)
		}
		if err := archive.Share(ctx, st, a, e); err != nil {
			t.Fatal(err)
		}
	}
	// b had one of its own, and an older version of a's first.
	if _, err := b.Put(entry("daily_620000_2026-12-02", t0.Add(-time.Hour)), []byte("%PDF-1.7 older")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(entry("weekly_620000_W2026-48", t0), []byte("%PDF-1.7 weekly")); err != nil {
		t.Fatal(err)
	}
	got, err := archive.Sync(ctx, st, b)
	if err != nil {
		t.Fatal(err)
	}
	if got != (archive.Synced{Up: 1, Down: 2}) {
		t.Fatalf("sync %+v, want 2 down (one newer than b's), 1 up", got)
	}
	if e, ok := b.Get("daily_620100_2026-12-02"); !ok || e.Title != "快报 daily_620100_2026-12-02" {
		t.Fatalf("b lacks a's bulletin: %+v", e)
	}
	if !bytes.Equal(pdfOf(t, b, "daily_620000_2026-12-02"), []byte("%PDF-1.7 daily_620000_2026-12-02")) {
		t.Fatal("the newer version did not replace b's older one")
	}
	// Nothing left to move; a third node gets all three.
	if got, err := archive.Sync(ctx, st, b); err != nil || got != (archive.Synced{}) {
		t.Fatalf("second sync %+v %v, want nothing", got, err)
	}
	c := open(t)
	if got, err := archive.Sync(ctx, st, c); err != nil || got.Down != 3 || len(c.All()) != 3 {
		t.Fatalf("a new node's sync %+v %v, %d entries", got, err, len(c.All()))
	}
	if !bytes.Equal(pdfOf(t, c, "weekly_620000_W2026-48"), []byte("%PDF-1.7 weekly")) {
		t.Fatal("b's own bulletin was not shared")
	}
}
