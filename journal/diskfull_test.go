package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// faultyFile is the log file of a disk that can be made to fail: a write
// fails after half the bytes (a disk filling mid-frame), an fsync fails,
// or a truncate fails.
type faultyFile struct {
	file
	mu                    sync.Mutex
	write, sync, truncate error
}

func (f *faultyFile) set(write, sync, truncate error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.write, f.sync, f.truncate = write, sync, truncate
}

func (f *faultyFile) failing() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.write, f.sync, f.truncate)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	err := f.write
	f.mu.Unlock()
	if err != nil {
		n, _ := f.file.WriteAt(p[:len(p)/2], off)
		return n, &os.PathError{Op: "write", Path: "records.journal", Err: err}
	}
	return f.file.WriteAt(p, off)
}

func (f *faultyFile) Sync() error {
	f.mu.Lock()
	err := f.sync
	f.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "sync", Path: "records.journal", Err: err}
	}
	return f.file.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	f.mu.Lock()
	err := f.truncate
	f.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "truncate", Path: "records.journal", Err: err}
	}
	return f.file.Truncate(size)
}

// withFaults puts a faultyFile under j; its probe fails while a fault is set.
func withFaults(j *Journal) *faultyFile {
	ff := &faultyFile{file: j.f}
	j.mu.Lock()
	j.f = ff
	j.probe = ff.failing
	j.mu.Unlock()
	return ff
}

func callBatch(id string) Batch { return batchOf(record.KindCall, "push", callRow(id, 3)) }

func replayedIDs(t *testing.T, dir string) []string {
	t.Helper()
	j, got, st := openReplayed(t, dir)
	defer j.Close()
	if st.Truncated != 0 {
		t.Errorf("replay cut a torn tail of %d bytes: a failed write was left in the log", st.Truncated)
	}
	var ids []string
	for _, b := range got {
		for i := range b.Len() {
			ids = append(ids, b.Row(i)[0])
		}
	}
	return ids
}

// TestFailedWritesRecover: a full disk refuses the batches written while it
// is full (ErrUnavailable, ENOSPC), never the journal: once space is back,
// Healthy says so and appends work again, and the log then holds exactly
// the batches that were acknowledged, with nothing torn in between. On the
// journal as it was, the first failure refused every later append until a
// restart.
func TestFailedWritesRecover(t *testing.T) {
	enospc := syscall.ENOSPC
	for _, c := range []struct {
		name                  string
		write, sync, truncate error
	}{
		{"write fails", enospc, nil, nil},
		{"fsync fails", nil, enospc, nil},
		{"write and cut fail", enospc, nil, syscall.EIO},
		{"everything fails", enospc, enospc, syscall.EIO},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			j, _, _ := openReplayed(t, dir)
			ff := withFaults(j)
			if err := j.Append(ctx, callBatch("A")); err != nil {
				t.Fatal(err)
			}
			pA := j.synced + j.shift
			// Written before the disk fails, synced after: not stored
			// when the fsync fails.
			pB, err := j.Write(callBatch("B"))
			if err != nil {
				t.Fatal(err)
			}
			ff.set(c.write, c.sync, c.truncate)
			errB := j.Sync(ctx, pB)
			errC := j.Append(ctx, callBatch("C"))
			if !errors.Is(errC, ErrUnavailable) || !errors.Is(errC, c.write) && !errors.Is(errC, c.sync) && !errors.Is(errC, c.truncate) {
				t.Fatalf("append on a failing disk: err = %v, want ErrUnavailable and the disk's error", errC)
			}
			if err := j.Healthy(); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Healthy on a full disk = %v, want ErrUnavailable", err)
			}
			if err := j.Sync(ctx, pA); err != nil {
				t.Fatalf("a batch stored before the failure: Sync = %v", err)
			}

			ff.set(nil, nil, nil) // space is back
			j.mu.Lock()
			j.lastProbe = time.Time{} // no waiting for the next probe
			j.mu.Unlock()
			if err := j.Healthy(); err != nil {
				t.Fatalf("Healthy once space is back = %v", err)
			}
			if err := j.Append(ctx, callBatch("D")); err != nil {
				t.Fatalf("append once space is back: %v", err)
			}
			want := []string{"A", "B", "D"}
			if errB != nil {
				// Its frame was cut off: it must not pass for stored now
				// that the log has grown past its position.
				if err := j.Sync(ctx, pB); !errors.Is(err, ErrUnavailable) {
					t.Fatalf("Sync of a batch cut off after a failed fsync = %v, want ErrUnavailable", err)
				}
				want = []string{"A", "D"}
			}
			j.Close()
			if got := replayedIDs(t, dir); !reflect.DeepEqual(got, want) {
				t.Fatalf("replayed %v, want the acknowledged batches %v", got, want)
			}
		})
	}
}

// TestDiskFull runs the journal on a real full disk: a 1 MiB tmpfs mounted
// in a user and mount namespace (unshare), where the test binary runs
// itself again as the child below.
func TestDiskFull(t *testing.T) {
	if dir := testkit.TinyDisk(); dir != "" {
		diskFullChild(t, dir)
		return
	}
	testkit.InTinyDisk(t, "1m", "TestDiskFull")
}

func diskFullChild(t *testing.T, root string) {
	ctx := context.Background()
	dir := filepath.Join(root, "journal")
	j, _, _ := openReplayed(t, dir)
	var acked []string
	for i := range 3 {
		id := fmt.Sprintf("before-%d", i)
		if err := j.Append(ctx, callBatch(id)); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, id)
	}
	filler := testkit.FillDisk(t, root)
	// Whatever still fits is acknowledged; then the disk refuses.
	var errFull error
	for i := 0; errFull == nil; i++ {
		id := fmt.Sprintf("filling-%d", i)
		if errFull = j.Append(ctx, callBatch(id)); errFull == nil {
			acked = append(acked, id)
		}
		if i > 1000 {
			t.Fatal("the full disk took 1000 batches")
		}
	}
	if !errors.Is(errFull, ErrUnavailable) || !errors.Is(errFull, syscall.ENOSPC) || !strings.Contains(errFull.Error(), "disk is full") {
		t.Fatalf("append on a full disk: %v, want ErrUnavailable, ENOSPC and a plain reason", errFull)
	}
	for range 3 {
		if err := j.Append(ctx, callBatch("refused")); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v", err)
		}
	}
	if err := j.Healthy(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Healthy on a full disk = %v", err)
	}
	// A journal created on the full disk fails to open, and opens once
	// space is back (no half-written header is taken for corruption).
	fresh := filepath.Join(root, "fresh")
	if jf, err := Open(fresh, quiet); !errors.Is(err, syscall.ENOSPC) {
		if jf != nil {
			jf.Close()
		}
		t.Fatalf("open a new journal on a full disk: %v, want ENOSPC", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for j.Healthy() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Healthy after space was freed: %v", j.Healthy())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := j.Append(ctx, callBatch("after")); err != nil {
		t.Fatalf("append after space was freed: %v", err)
	}
	acked = append(acked, "after")
	j.Close()
	if jf, _, _ := openReplayed(t, fresh); jf.Healthy() != nil {
		t.Fatalf("a journal first opened on a full disk: %v", jf.Healthy())
	}
	if got := replayedIDs(t, dir); !reflect.DeepEqual(got, acked) {
		t.Fatalf("replayed %v, want the acknowledged batches %v", got, acked)
	}
}
