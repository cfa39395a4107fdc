// Package ingest reads platform export files (SPEC.md section 3) into a
// record sink such as the engine: one pipeline per file, reading and
// parsing in one goroutine and filing batches in another, so that a file's
// rows are upserted in file order while different files proceed in
// parallel. Every row that cannot be read is reported with file, line,
// field and reason, and skipped; nothing is guessed.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/recordio"
)

// Sink receives parsed records in file order. engine.Engine implements it.
// It is record.Sink, named here for the readers of this package.
type Sink = record.Sink

// Stats counts what one file gave.
type Stats struct {
	File    string
	Kind    record.Kind
	Rows    int // data rows read, good and bad
	Skipped int // rows reported and skipped
}

// BadRow describes one skipped row.
type BadRow = recordio.RowError

// Reporter is told about every skipped row. It may be called from several
// goroutines at once.
type Reporter func(*BadRow)

// required lists, per kind, the columns without which no row can be read.
var required = [record.NumKinds][]string{
	{"case_id", "region_code", "channel", "submitted_at", "promised_days", "status"},
	{"eval_id", "region_code", "channel", "score", "evaluated_at"},
	{"ticket_id", "region_code", "kind", "channel", "received_at"},
	{"call_id", "region_code", "offered_at"},
	{"item_code", "region_code", "visits"},
}

// ErrMissingColumn is wrapped when a file lacks a required column.
var ErrMissingColumn = errors.New("missing required column")

const batchSize = 2048

// ReadFile reads one export file of kind k into sink. parse converts rows;
// give each concurrent ReadFile its own Parser.
func ReadFile(ctx context.Context, path string, k record.Kind, p *record.Parser, sink Sink, report Reporter) (Stats, error) {
	st := Stats{File: path, Kind: k}
	r, err := recordio.Open(path, k.Fields())
	if err != nil {
		return st, err
	}
	defer r.Close()
	name := path
	if missing := missingRequired(k, r.Missing()); len(missing) > 0 {
		// No row of this file can be read. Count them so the loss is
		// visible, and report it once rather than once per row.
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *recordio.RowError
			if err != nil && !errors.As(err, &re) {
				return st, err
			}
			st.Rows++
		}
		st.Skipped = st.Rows
		report(&recordio.RowError{File: name, Line: 1, Field: strings.Join(missing, ", "),
			Reason: fmt.Sprintf("%v; all %d rows skipped", ErrMissingColumn, st.Rows)})
		return st, nil
	}
	batches := make(chan *record.Batch, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range batches {
			b.FileInto(sink, false)
		}
	}()
	b := &record.Batch{Kind: k}
	var readErr error
	for {
		if st.Rows%4096 == 0 && ctx.Err() != nil {
			readErr = ctx.Err()
			break
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *recordio.RowError
			if errors.As(err, &re) {
				st.Rows++
				st.Skipped++
				report(re)
				continue
			}
			readErr = err
			break
		}
		st.Rows++
		if perr := b.Add(p, row.Values); perr != nil {
			st.Skipped++
			re := &recordio.RowError{File: name, Line: row.Line, Reason: perr.Error()}
			var fe *record.FieldError
			if errors.As(perr, &fe) {
				re.Field, re.Reason = fe.Field, fe.Reason
			}
			report(re)
			continue
		}
		if b.Len() >= batchSize {
			batches <- b
			b = &record.Batch{Kind: k}
		}
	}
	if b.Len() > 0 {
		batches <- b
	}
	close(batches)
	<-done
	return st, readErr
}

func missingRequired(k record.Kind, missing []string) []string {
	var out []string
	for _, m := range missing {
		for _, req := range required[k] {
			if m == req {
				out = append(out, m)
			}
		}
	}
	return out
}

// Extensions lists the file forms an export may take, in lookup order.
var Extensions = []string{".csv", ".xlsx", ".jsonl", ".ndjson"}

// Find returns, per kind, the export file in dir ("cases.csv", or
// cases.xlsx / cases.jsonl), or "" when there is none. Two forms of the
// same kind are an error: which one is newer cannot be told, and guessing
// would silently drop the other.
func Find(dir string) ([record.NumKinds]string, error) {
	var paths [record.NumKinds]string
	info, err := os.Stat(dir)
	if err != nil {
		return paths, fmt.Errorf("data directory: %w", err)
	}
	if !info.IsDir() {
		return paths, fmt.Errorf("data directory %s is not a directory", dir)
	}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		for _, ext := range Extensions {
			p := filepath.Join(dir, k.String()+ext)
			if _, err := os.Stat(p); err == nil {
				if paths[k] != "" {
					return paths, fmt.Errorf("both %s and %s exist: keep one", filepath.Base(paths[k]), filepath.Base(p))
				}
				paths[k] = p
			}
		}
	}
	return paths, nil
}

// ReadDir reads every export file Find locates in dir into sink, the files
// in parallel. newParser gives each file its own parser. It returns the
// stats of the files read; the first error stops nothing else but is
// returned.
func ReadDir(ctx context.Context, dir string, newParser func() *record.Parser, sink Sink, report Reporter) ([]Stats, error) {
	paths, err := Find(dir)
	if err != nil {
		return nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		stats []Stats
		errs  []error
	)
	for k, path := range paths {
		if path == "" {
			continue
		}
		wg.Add(1)
		go func(k record.Kind, path string) {
			defer wg.Done()
			st, err := ReadFile(ctx, path, k, newParser(), sink, report)
			mu.Lock()
			defer mu.Unlock()
			stats = append(stats, st)
			if err != nil {
				errs = append(errs, err)
			}
		}(record.Kind(k), path)
	}
	wg.Wait()
	return stats, errors.Join(errs...)
}
