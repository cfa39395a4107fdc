package journal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/record"
)

// Compaction rewrites the log so that it holds what replaying it builds and
// nothing more: the last version of every record (records are upserted by
// their id, the first field of every kind) and, for the item catalog, only
// what follows its last whole-catalog batch. Sources send a record again
// each time it changes (accepted, closed, rectified…), so a log holds many
// versions of most records; without compaction it, and the time to replay
// it at start, grow without bound.
//
// It runs on a closed journal directory before Open (serve does it at
// start, before the replay): two passes over the log, the survivors written
// to a new log in a scratch directory, fsync'd, then renamed over the old
// one. A crash before the rename leaves the old log as it was; the scratch
// directory is removed by the next compaction.

const (
	compactDir   = ".compact"
	compactState = "compacted" // size of the log after the last compaction
)

// CompactStats says what a compaction did.
type CompactStats struct {
	Before, After int64 // log bytes
	Rows, Kept    int   // rows read, rows written
	Took          time.Duration
}

// CompactOptions decide when Compact rewrites the log.
type CompactOptions struct {
	// MinBytes: a smaller log is left alone (default 64 MiB).
	MinBytes int64
	// Growth: the log is rewritten only once it is this many times its
	// size after the last compaction (default 2), so a log of mostly
	// distinct records is not rewritten at every start.
	Growth float64
	// Force rewrites whatever the size.
	Force  bool
	Logger *slog.Logger
}

// Compact rewrites the journal in dir when CompactOptions say it is worth
// it, and reports what it did (zero stats when it was left alone). The
// journal must not be open.
func Compact(ctx context.Context, dir string, o CompactOptions) (_ CompactStats, err error) {
	if o.MinBytes <= 0 {
		o.MinBytes = 64 << 20
	}
	if o.Growth <= 1 {
		o.Growth = 2
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	started := time.Now()
	scratch := filepath.Join(dir, compactDir)
	if err := os.RemoveAll(scratch); err != nil {
		return CompactStats{}, fmt.Errorf("journal compact: %w", err)
	}
	info, err := os.Stat(filepath.Join(dir, fileName))
	if os.IsNotExist(err) {
		return CompactStats{}, nil
	}
	if err != nil {
		return CompactStats{}, fmt.Errorf("journal compact: %w", err)
	}
	last := int64(0)
	if b, err := os.ReadFile(filepath.Join(dir, compactState)); err == nil {
		last, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	if !o.Force && (info.Size() < o.MinBytes || float64(info.Size()) < o.Growth*float64(last)) {
		return CompactStats{}, nil
	}

	old, err := Open(dir, o.Logger)
	if err != nil {
		return CompactStats{}, err
	}
	defer old.Close()
	st := CompactStats{Before: info.Size()}

	// Pass 2 writes the survivors to a new log in a scratch directory.
	if err := os.MkdirAll(scratch, 0o750); err != nil {
		return st, fmt.Errorf("journal compact: %w", err)
	}
	// A compaction that failed (a full disk, typically) gives its space
	// back at once: the start goes on with the old log, and the store
	// opened next must not find the disk filled by a half-written copy.
	defer func() {
		if err != nil {
			os.RemoveAll(scratch)
		}
	}()
	fresh, err := Open(scratch, o.Logger)
	if err != nil {
		return st, err
	}
	defer fresh.Close()
	if _, err := fresh.Replay(ctx, nil); err != nil {
		return st, err
	}
	var end int64 // the position just past the last batch written
	st.Rows, st.Kept, err = CompactBatches(func(fn func(Batch) error) error {
		_, err := old.Replay(ctx, fn)
		return err
	}, func(b Batch) error {
		pos, err := fresh.Write(b)
		end = pos
		return err
	})
	if err != nil {
		return st, fmt.Errorf("journal compact: %w", err)
	}
	if err := fresh.Sync(ctx, end); err != nil {
		return st, fmt.Errorf("journal compact: %w", err)
	}
	st.After = fresh.Size()
	fresh.Close()
	old.Close()
	if err := os.Rename(filepath.Join(scratch, fileName), filepath.Join(dir, fileName)); err != nil {
		return st, fmt.Errorf("journal compact: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return st, err
	}
	// Only a hint for the next decision: losing it costs one extra
	// compaction, never a record.
	os.WriteFile(filepath.Join(dir, compactState), []byte(strconv.FormatInt(st.After, 10)+"\n"), 0o640)
	os.RemoveAll(scratch)
	st.Took = time.Since(started)
	o.Logger.Info("journal compacted", "before_bytes", st.Before, "after_bytes", st.After, "rows", st.Rows, "kept", st.Kept, "took", st.Took.String())
	return st, nil
}

// CompactBatches keeps what replaying a sequence of batches builds and
// nothing more: the last version of every record (upserted by id, the
// first field of every kind) and, for the item catalog, what follows its
// last whole-catalog batch. replay must hand the same batches in the same
// order each time it is called (twice); emit gets the survivors, batch by
// batch in their order. It returns the rows read and kept. The journal's
// Compact and the cluster's shared log (cluster/records) both use it.
func CompactBatches(replay func(fn func(Batch) error) error, emit func(Batch) error) (rows, kept int, err error) {
	// Pass 1: the row number of the last version of every id, and where
	// the last whole catalog starts.
	var lastRow [record.NumKinds]map[string]int
	for k := range lastRow {
		lastRow[k] = map[string]int{}
	}
	catalogFrom := -1 // first row of the last whole-catalog batch
	row := 0
	if err := replay(func(b Batch) error {
		if b.Kind == record.KindItem && b.Replace {
			catalogFrom = row
		}
		for i := range b.Len() {
			lastRow[b.Kind][b.Row(i)[0]] = row
			row++
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	rows = row

	// Pass 2: the survivors, batch by batch in their order.
	row = 0
	err = replay(func(b Batch) error {
		nf := len(b.Kind.Fields())
		keep := Batch{Kind: b.Kind, Source: b.Source}
		// Only the last whole catalog matters; earlier ones are dropped
		// with their items.
		keep.Replace = b.Replace && b.Kind == record.KindItem && row == catalogFrom
		for i := range b.Len() {
			r := b.Row(i)
			alive := lastRow[b.Kind][r[0]] == row
			if b.Kind == record.KindItem && row < catalogFrom {
				alive = false // replaced by a later whole catalog
			}
			if alive {
				keep.Values = append(keep.Values, b.Values[i*nf:(i+1)*nf]...)
			}
			row++
		}
		// The last whole catalog keeps its flag even when all its items
		// were updated later: it still clears what came before.
		if len(keep.Values) == 0 && !keep.Replace {
			return nil
		}
		kept += keep.Len()
		return emit(keep)
	})
	return rows, kept, err
}
