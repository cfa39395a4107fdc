package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func callRow(id string, wait int) []string {
	return []string{id, "620802", "2026-03-02 09:15:00", "1", fmt.Sprint(wait)}
}

func batchOf(k record.Kind, src string, rows ...[]string) Batch {
	b := Batch{Kind: k, Source: src}
	for _, r := range rows {
		b.Values = append(b.Values, r...)
	}
	return b
}

func openReplayed(t *testing.T, dir string) (*Journal, []Batch, ReplayStats) {
	t.Helper()
	j, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var got []Batch
	st, err := j.Replay(context.Background(), func(b Batch) error {
		got = append(got, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return j, got, st
}

func testBatches() []Batch {
	return []Batch{
		batchOf(record.KindCall, "pull", callRow("K1", 3), callRow("K2", 40)),
		batchOf(record.KindCase, "push", []string{"C1", "620802", "部门", "", "online", "是", "2026-03-02T09:15:00+08:00", "", "3", "", "submitted"}),
		{Kind: record.KindItem, Replace: true, Source: "drop", Values: []string{"I1", "620000", "", "1", "1", "1", "1", "0", "", ""}},
		batchOf(record.KindCall, "", callRow("K1", 5)),
		{Kind: record.KindEvaluation, Source: "empty"}, // no rows
	}
}

func TestAppendReplay(t *testing.T) {
	dir := t.TempDir()
	j, got, _ := openReplayed(t, dir)
	if len(got) != 0 {
		t.Fatalf("new journal replayed %d batches", len(got))
	}
	want := testBatches()
	for _, b := range want {
		if err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	_, got, st := openReplayed(t, dir)
	if len(got) != len(want) {
		t.Fatalf("replayed %d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i].Values, want[i].Values) && !(len(got[i].Values) == 0 && len(want[i].Values) == 0) {
			t.Errorf("batch %d values = %q, want %q", i, got[i].Values, want[i].Values)
		}
		if got[i].Kind != want[i].Kind || got[i].Replace != want[i].Replace || got[i].Source != want[i].Source {
			t.Errorf("batch %d = %v/%v/%q, want %v/%v/%q", i, got[i].Kind, got[i].Replace, got[i].Source, want[i].Kind, want[i].Replace, want[i].Source)
		}
	}
	if st.Frames != 5 || st.Records[record.KindCall] != 3 || st.Truncated != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestAppendNeedsReplay(t *testing.T) {
	j, err := Open(t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Append(context.Background(), testBatches()[0]); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Append before Replay = %v, want ErrNotReplayed", err)
	}
	if _, err := j.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(context.Background(), Batch{Kind: record.KindCall, Values: []string{"x"}}); err == nil {
		t.Fatal("Append accepted a misaligned batch")
	}
}

// TestTornTail cuts the journal at every byte of its last frame, as a
// crash during the append would, and checks that replay keeps exactly the
// complete frames, truncates the rest, and that appending then works.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	j, _, _ := openReplayed(t, src)
	bs := testBatches()[:3]
	var ends []int64
	for _, b := range bs {
		if err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, j.Size())
	}
	j.Close()
	full, err := os.ReadFile(filepath.Join(src, fileName))
	if err != nil {
		t.Fatal(err)
	}
	for cut := ends[1]; cut < ends[2]; cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName), full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		j, got, st := openReplayed(t, dir)
		if len(got) != 2 {
			t.Fatalf("cut at %d: replayed %d batches, want 2", cut, len(got))
		}
		if st.Truncated != cut-ends[1] {
			t.Fatalf("cut at %d: truncated %d bytes, want %d", cut, st.Truncated, cut-ends[1])
		}
		if err := j.Append(context.Background(), bs[2]); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if _, got, _ := openReplayed(t, dir); len(got) != 3 || !slices.Equal(got[2].Values, bs[2].Values) {
			t.Fatalf("cut at %d: after re-append replayed %d batches", cut, len(got))
		}
	}
}

func TestDamage(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(b []byte, ends []int64) []byte
		frames  int  // replayed when it is a torn tail
		corrupt bool // refused
	}{
		{"zero fill after the last frame", func(b []byte, _ []int64) []byte { return append(b, make([]byte, 4096)...) }, 3, false},
		{"garbage length at the end", func(b []byte, _ []int64) []byte { return append(b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5) }, 3, false},
		{"flipped byte in the last frame", func(b []byte, ends []int64) []byte { b[ends[1]+12] ^= 1; return b }, 2, false},
		{"flipped byte in a middle frame", func(b []byte, ends []int64) []byte { b[ends[0]+12] ^= 1; return b }, 0, true},
		{"flipped length of a middle frame", func(b []byte, ends []int64) []byte { b[ends[0]+2] ^= 0x10; return b }, 0, true},
		{"garbage after a torn frame", func(b []byte, ends []int64) []byte { return append(b[:ends[2]-5], "noise-noise"...) }, 2, false},
		{"bad header", func(b []byte, _ []int64) []byte { b[0] = 'X'; return b }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j, _, _ := openReplayed(t, dir)
			var ends []int64
			for _, b := range testBatches()[:3] {
				if err := j.Append(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				ends = append(ends, j.Size())
			}
			j.Close()
			path := filepath.Join(dir, fileName)
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, tt.damage(b, ends), 0o600); err != nil {
				t.Fatal(err)
			}
			j2, err := Open(dir, quiet)
			if err == nil {
				defer j2.Close()
				n := 0
				_, err = j2.Replay(context.Background(), func(Batch) error { n++; return nil })
				if err == nil && n != tt.frames {
					t.Fatalf("replayed %d frames, want %d", n, tt.frames)
				}
			}
			if tt.corrupt != errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want corrupt = %v", err, tt.corrupt)
			}
			if tt.corrupt {
				if after, _ := os.ReadFile(path); len(after) != len(tt.damage(b, ends)) && tt.name != "bad header" {
					t.Fatal("a corrupt journal was truncated")
				}
			}
		})
	}
}

func TestCursors(t *testing.T) {
	dir := t.TempDir()
	j, _, _ := openReplayed(t, dir)
	if c, err := j.Cursor("pull"); err != nil || c != "" {
		t.Fatalf("new cursor = %q, %v", c, err)
	}
	for _, c := range []string{"2026-03-02T01:15:00Z", "", "offset 42"} {
		if err := j.SetCursor("pull", c); err != nil {
			t.Fatal(err)
		}
		if got, err := j.Cursor("pull"); err != nil || got != c {
			t.Fatalf("cursor = %q, %v; want %q", got, err, c)
		}
	}
	// A temporary file left by a crash before the rename is ignored.
	if err := os.WriteFile(filepath.Join(dir, cursorDir, ".pull.tmp"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Cursor("pull"); got != "offset 42" {
		t.Fatalf("cursor after a stray temp file = %q", got)
	}
	for _, bad := range []string{"", ".hidden", "a/b", "../x", "名字", strings.Repeat("x", 200)} {
		if err := j.SetCursor(bad, "x"); err == nil {
			t.Errorf("SetCursor(%q) accepted a bad name", bad)
		}
	}
}

// fakeSink records what it is given.
type fakeSink struct {
	calls    []record.Call
	items    []record.Item
	replaced int
}

func (s *fakeSink) UpsertCases([]record.Case)             {}
func (s *fakeSink) UpsertEvaluations([]record.Evaluation) {}
func (s *fakeSink) UpsertTickets([]record.Ticket)         {}
func (s *fakeSink) UpsertCalls(c []record.Call)           { s.calls = append(s.calls, c...) }
func (s *fakeSink) UpsertItems(it []record.Item)          { s.items = append(s.items, it...) }
func (s *fakeSink) ReplaceCatalog(it []record.Item)       { s.items = slices.Clone(it); s.replaced++ }

func TestReplayInto(t *testing.T) {
	dir := t.TempDir()
	j, _, _ := openReplayed(t, dir)
	for _, b := range append(testBatches(), batchOf(record.KindCall, "x", callRow("K9", 1), []string{"K10", "6208", "2026-03-02 09:15:00", "1", "1"})) {
		if err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j2, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	sink := &fakeSink{}
	st, err := j2.ReplayInto(context.Background(), sink, record.NewParser(testkit.Shanghai(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.calls) != 4 || sink.calls[2].ID != "K1" || sink.calls[2].WaitSeconds != 5 {
		t.Errorf("calls = %+v", sink.calls)
	}
	if sink.replaced != 1 || len(sink.items) != 1 {
		t.Errorf("catalog replaced %d times, %d items", sink.replaced, len(sink.items))
	}
	if st.Skipped != 1 {
		t.Errorf("skipped = %d, want 1 (the bad region)", st.Skipped)
	}
}

func BenchmarkAppend(b *testing.B) {
	j, err := Open(b.TempDir(), quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Replay(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	var rows [][]string
	for i := range 1000 {
		rows = append(rows, callRow(fmt.Sprintf("K%07d", i), i%60))
	}
	batch := batchOf(record.KindCall, "bench", rows...)
	b.ResetTimer()
	for range b.N {
		if err := j.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}
