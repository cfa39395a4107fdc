package influx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/store"
)

// TestSpoolDiskFull runs the spool on a real full disk: a tmpfs mounted in
// a user and mount namespace (unshare), where the test binary runs itself
// again. InfluxDB is unreachable, so every point goes to the spool; when
// the disk fills, the store says so (Healthy, and Write refuses points it
// could not keep instead of dropping them), and once space is freed it
// spools again by itself.
func TestSpoolDiskFull(t *testing.T) {
	if dir := testkit.TinyDisk(); dir != "" {
		spoolDiskFullChild(t, dir)
		return
	}
	testkit.InTinyDisk(t, "2m", "TestSpoolDiskFull")
}

func spoolDiskFullChild(t *testing.T, root string) {
	ctx := context.Background()
	s := openTest(t, Config{URL: "http://127.0.0.1:1", SpoolDir: filepath.Join(root, "spool"),
		FlushInterval: 10 * time.Millisecond, ProbeInterval: time.Hour, WriteTimeout: time.Second})
	pts := func(b int) []store.Point {
		out := make([]store.Point, 20)
		for i := range out {
			k := store.SeriesKey{Indicator: "case_volume", Region: fmt.Sprintf("62%07d", i), Period: store.PeriodDay}
			out[i] = store.Count(k, time.Unix(1_800_000_000+int64(b), 0), int64(b))
		}
		return out
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s; stats %+v", what, s.Stats())
			}
		}
	}
	if err := s.Write(ctx, pts(0)); err != nil {
		t.Fatal(err)
	}
	waitFor("the first batch in the spool", func() bool { return s.Stats().Spooled == 20 })

	// Fill the disk, then write until the store refuses.
	f, err := os.Create(filepath.Join(root, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for buf := make([]byte, 4096); ; {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	var werr error
	for b := 1; werr == nil; b++ {
		if b > 1000 {
			t.Fatal("a full disk took 1000 batches")
		}
		werr = s.Write(ctx, pts(b))
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(werr, store.ErrUnavailable) || !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("write with the spool on a full disk: %v, want store.ErrUnavailable and ENOSPC", werr)
	}
	if err := s.Healthy(); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Healthy with the spool on a full disk: %v", err)
	}

	if err := os.Remove(filepath.Join(root, "filler")); err != nil {
		t.Fatal(err)
	}
	waitFor("Healthy with space freed", func() bool { return s.Healthy() == nil })
	before := s.Stats().Spooled
	if err := s.Write(ctx, pts(5000)); err != nil {
		t.Fatalf("write with space freed: %v", err)
	}
	waitFor("the batch in the spool", func() bool { return s.Stats().Spooled == before+20 })
}
