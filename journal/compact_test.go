package journal

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/yiping-ioc/yiping/record"
)

// state is what replaying a journal builds, on raw values: the last
// version of every id per kind, the item catalog reset by whole-catalog
// batches.
type state [record.NumKinds]map[string]string

func replayState(t *testing.T, dir string) (state, int) {
	t.Helper()
	j, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var s state
	for k := range s {
		s[k] = map[string]string{}
	}
	rows := 0
	if _, err := j.Replay(context.Background(), func(b Batch) error {
		if b.Replace {
			clear(s[b.Kind])
		}
		for i := range b.Len() {
			r := b.Row(i)
			s[b.Kind][r[0]] = fmt.Sprint(r)
			rows++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s, rows
}

// writeRandom appends batches of every kind with ids drawn from a small
// pool (so most are new versions of old records), and now and then a whole
// item catalog.
func writeRandom(t *testing.T, dir string, seed uint64, batches int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	j, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for n := range batches {
		k := record.Kind(rng.IntN(int(record.NumKinds)))
		b := Batch{Kind: k, Source: "s" + fmt.Sprint(rng.IntN(3)), Replace: k == record.KindItem && rng.IntN(4) == 0}
		nf := len(k.Fields())
		for range rng.IntN(20) {
			row := make([]string, nf)
			row[0] = fmt.Sprintf("%s-%d", k, rng.IntN(60))
			for f := 1; f < nf; f++ {
				row[f] = fmt.Sprintf("v%d.%d", n, rng.IntN(1000))
			}
			b.Values = append(b.Values, row...)
		}
		if err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompactKeepsWhatReplayBuilds(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			writeRandom(t, dir, seed, 200)
			want, rowsBefore := replayState(t, dir)
			st, err := Compact(context.Background(), dir, CompactOptions{Force: true})
			if err != nil {
				t.Fatal(err)
			}
			got, rowsAfter := replayState(t, dir)
			for k := range want {
				if !maps.Equal(got[k], want[k]) {
					t.Fatalf("kind %s: compacted replay differs:\n got %v\nwant %v", record.Kind(k), got[k], want[k])
				}
			}
			if st.Rows != rowsBefore || st.Kept != rowsAfter || st.After >= st.Before {
				t.Errorf("stats %+v; rows before %d, after %d", st, rowsBefore, rowsAfter)
			}
			// Compacting a compacted log changes nothing.
			if _, err := Compact(context.Background(), dir, CompactOptions{Force: true}); err != nil {
				t.Fatal(err)
			}
			again, _ := replayState(t, dir)
			for k := range want {
				if !maps.Equal(again[k], want[k]) {
					t.Fatalf("kind %s differs after a second compaction", record.Kind(k))
				}
			}
			// Appending works on the compacted log.
			writeRandom(t, dir, seed+100, 5)
		})
	}
}

func TestCompactWhenWorthIt(t *testing.T) {
	dir := t.TempDir()
	writeRandom(t, dir, 1, 300)
	info, _ := os.Stat(filepath.Join(dir, fileName))
	// Below the threshold: left alone.
	if st, err := Compact(context.Background(), dir, CompactOptions{MinBytes: info.Size() + 1}); err != nil || st.Before != 0 {
		t.Fatalf("small log compacted: %+v %v", st, err)
	}
	st, err := Compact(context.Background(), dir, CompactOptions{MinBytes: 1})
	if err != nil || st.Before != info.Size() {
		t.Fatalf("first compaction: %+v %v", st, err)
	}
	// Not grown to twice its compacted size: left alone.
	if st2, err := Compact(context.Background(), dir, CompactOptions{MinBytes: 1}); err != nil || st2.Before != 0 {
		t.Fatalf("compacted again without growth: %+v %v", st2, err)
	}
	// A scratch directory left by a crash is cleared, the log untouched.
	os.MkdirAll(filepath.Join(dir, compactDir), 0o750)
	os.WriteFile(filepath.Join(dir, compactDir, fileName), []byte("half-written"), 0o640)
	want, _ := replayState(t, dir)
	if _, err := Compact(context.Background(), dir, CompactOptions{MinBytes: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, compactDir)); !os.IsNotExist(err) {
		t.Errorf("scratch directory left: %v", err)
	}
	got, _ := replayState(t, dir)
	for k := range want {
		if !maps.Equal(got[k], want[k]) {
			t.Fatalf("kind %s changed", record.Kind(k))
		}
	}
	// No journal at all: nothing to do.
	if st, err := Compact(context.Background(), t.TempDir(), CompactOptions{Force: true}); err != nil || st.Before != 0 {
		t.Errorf("empty dir: %+v %v", st, err)
	}
}
