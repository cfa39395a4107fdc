// Package filedrop watches a directory where bureaus drop their exports
// (CSV, XLSX, JSON lines), the way much of the platform's data is still
// delivered. A file is taken once it is stable (the same size and
// modification time on two polls, so a copy in progress is never read
// half-way), ingested, and moved to the archive with a timestamp; when
// rows were rejected, a report (line, field, reason) is written beside the
// archived file.
//
// No inotify: polling on the source's schedule is portable (network
// shares do not deliver events) and the schedule already exists.
package filedrop

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/recordio"
)

// Sample is a documented example configuration of a file-drop source.
//
//go:embed sample.yaml
var Sample string

// flushRows bounds the rows held in memory before they are committed.
const flushRows = 4096

// Options configure a file-drop source.
type Options struct {
	// Dir is the watched directory (relative to the config file).
	Dir string `yaml:"dir"`
	// ArchiveDir receives processed files and reject reports; default
	// Dir/archive.
	ArchiveDir string `yaml:"archive_dir,omitempty"`
	// Patterns gives, per record kind, glob patterns on the file name
	// (case-insensitive, extension included or not); default "<kind>*",
	// e.g. cases*.csv, cases_0302.xlsx.
	Patterns map[string][]string `yaml:"patterns,omitempty"`
	// ItemsReplace makes an items file a whole catalog that replaces the
	// previous one (SPEC.md section 3); default true. False upserts.
	ItemsReplace *bool `yaml:"items_replace,omitempty"`
	// MaxUnzipBytes bounds an XLSX file once uncompressed, all its parts
	// together; default 512 MiB (recordio.DefaultMaxUnzipBytes). A file
	// over it, or over the other workbook limits of recordio.Limits, is
	// archived unread with a report naming the limit.
	MaxUnzipBytes int64 `yaml:"max_unzip_bytes,omitempty"`
	// MaxXLSXRows bounds the rows of an XLSX file's sheet; default
	// 1,048,576 (Excel's own limit).
	MaxXLSXRows int `yaml:"max_xlsx_rows,omitempty"`
}

// Defaults returns the default options.
func Defaults() *Options { return &Options{} }

// Type is the "filedrop" connector type, for collectors.Types.
func Type() collectors.Type {
	return collectors.NewType(Defaults, func(o *Options, env collectors.Env) (collectors.Connector, error) {
		return New(*o, env)
	})
}

// extensions are the file types taken from the directory.
var extensions = []string{".csv", ".xlsx", ".jsonl", ".ndjson"}

// FileDrop is the connector of a file-drop source.
type FileDrop struct {
	dir, archive string
	patterns     [record.NumKinds][]string
	replace      bool
	limits       recordio.Limits
	log          *slog.Logger
	now          func() time.Time

	mu   sync.Mutex
	seen map[string]fileState // files not yet stable, by path
	done map[string]fileState // processed files that could not be moved away
}

type fileState struct {
	size  int64
	mtime time.Time
}

// New checks the options and makes the directories.
func New(o Options, env collectors.Env) (*FileDrop, error) {
	if o.Dir == "" {
		return nil, errors.New("dir: required")
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) && env.Dir != "" {
			return filepath.Join(env.Dir, p)
		}
		return p
	}
	f := &FileDrop{dir: abs(o.Dir), archive: o.ArchiveDir, replace: true, log: env.Logger, now: time.Now,
		seen: map[string]fileState{}, done: map[string]fileState{}}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.archive == "" {
		f.archive = filepath.Join(f.dir, "archive")
	} else {
		f.archive = abs(f.archive)
	}
	if o.ItemsReplace != nil {
		f.replace = *o.ItemsReplace
	}
	if o.MaxUnzipBytes < 0 || o.MaxXLSXRows < 0 {
		return nil, errors.New("max_unzip_bytes, max_xlsx_rows: must not be negative")
	}
	f.limits = recordio.Limits{MaxUnzipBytes: o.MaxUnzipBytes, MaxXLSXRows: o.MaxXLSXRows}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		f.patterns[k] = []string{k.String() + "*"}
	}
	for name, pats := range o.Patterns {
		k, ok := record.ParseKind(name)
		if !ok {
			return nil, fmt.Errorf("patterns: unknown record kind %q", name)
		}
		if len(pats) == 0 {
			return nil, fmt.Errorf("patterns.%s: no pattern", name)
		}
		for _, p := range pats {
			if _, err := filepath.Match(p, ""); err != nil {
				return nil, fmt.Errorf("patterns.%s: %q: %w", name, p, err)
			}
		}
		f.patterns[k] = slices.Clone(pats)
	}
	for _, d := range []string{f.dir, f.archive} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Collect ingests every stable file of the directory, oldest first. The
// cursor is unused: a processed file leaves the directory.
func (f *FileDrop) Collect(ctx context.Context, cursor string, acc collectors.Accumulator) (string, error) {
	ready, err := f.stable()
	if err != nil {
		return cursor, err
	}
	for _, fl := range ready {
		if err := ctx.Err(); err != nil {
			return cursor, err
		}
		if err := f.ingest(ctx, fl, acc); err != nil {
			return cursor, fmt.Errorf("%s: %w", fl.name, err)
		}
	}
	return cursor, nil
}

type dropFile struct {
	name string // base name
	path string
	kind record.Kind
	st   fileState
}

// stable lists the files that have not changed since the previous poll.
func (f *FileDrop) stable() ([]dropFile, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.dir, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ready []dropFile
	present := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
			continue
		}
		if !slices.Contains(extensions, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		k, ok := f.kindOf(name)
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		path := filepath.Join(f.dir, name)
		present[path] = true
		st := fileState{size: info.Size(), mtime: info.ModTime()}
		if d, ok := f.done[path]; ok && d == st {
			continue
		}
		prev, ok := f.seen[path]
		f.seen[path] = st
		if !ok || prev != st {
			continue // new or still growing: look again next poll
		}
		ready = append(ready, dropFile{name: name, path: path, kind: k, st: st})
	}
	for p := range f.seen {
		if !present[p] {
			delete(f.seen, p)
		}
	}
	for p := range f.done {
		if !present[p] {
			delete(f.done, p)
		}
	}
	slices.SortFunc(ready, func(a, b dropFile) int {
		return cmp.Or(a.st.mtime.Compare(b.st.mtime), strings.Compare(a.name, b.name))
	})
	return ready, nil
}

func (f *FileDrop) kindOf(name string) (record.Kind, bool) {
	lower := strings.ToLower(name)
	stem := strings.TrimSuffix(lower, strings.ToLower(filepath.Ext(name)))
	for k, pats := range f.patterns {
		for _, p := range pats {
			p = strings.ToLower(p)
			if ok, _ := filepath.Match(p, lower); ok {
				return record.Kind(k), true
			}
			if ok, _ := filepath.Match(p, stem); ok {
				return record.Kind(k), true
			}
		}
	}
	return 0, false
}

// reject is one line of a reject report.
type reject struct {
	line          int
	field, reason string
}

// ingest reads one file into acc, commits it, then writes its reject
// report and archives it. A crash before the move leaves the file in place
// to be read again, which changes nothing: records are upserted by id.
func (f *FileDrop) ingest(ctx context.Context, fl dropFile, acc collectors.Accumulator) error {
	start := f.now()
	rd, err := f.limits.Open(fl.path, acc.Fields(fl.kind))
	if err != nil {
		// Unreadable as a whole (not a workbook, a broken header, over a
		// limit): report it and archive it, or it would fail on every poll.
		acc.AddError(fmt.Errorf("%s: unreadable, archived with a report: %w", fl.name, err))
		acc.Reject(fl.kind, "", err.Error())
		return f.archiveFile(fl, start, []reject{{0, "", err.Error()}})
	}
	defer rd.Close()
	if miss := rd.Missing(); len(miss) > 0 {
		f.log.Warn("file lacks columns; their values are empty", "file", fl.name, "columns", strings.Join(miss, ", "))
	}
	catalog := fl.kind == record.KindItem && f.replace
	if catalog {
		acc.BeginCatalog()
	}
	var rejects []reject
	rows, pending := 0, 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *recordio.RowError
			if errors.As(err, &re) {
				rows++
				acc.Reject(fl.kind, re.Field, re.Reason)
				rejects = append(rejects, reject{re.Line, re.Field, re.Reason})
				continue
			}
			var le *recordio.LimitError
			if errors.As(err, &le) {
				// Reading it again would stop at the same place: keep
				// the rows before, report the rest as refused, archive.
				acc.AddError(fmt.Errorf("%s: %w; the rest of the file is not read", fl.name, err))
				acc.Reject(fl.kind, "", err.Error())
				rejects = append(rejects, reject{le.Line, "", err.Error() + "; the rest of the file is not read"})
				break
			}
			return err // I/O trouble: leave the file for the next poll
		}
		rows++
		if err := acc.AddRow(fl.kind, row.Values); err != nil {
			var fe *record.FieldError
			if errors.As(err, &fe) {
				rejects = append(rejects, reject{row.Line, fe.Field, fe.Reason})
			} else {
				rejects = append(rejects, reject{row.Line, "", err.Error()})
			}
			continue
		}
		if pending++; pending >= flushRows && !catalog {
			if err := acc.Flush(ctx); err != nil {
				return err
			}
			pending = 0
		}
	}
	if catalog && rows == len(rejects) {
		// An items file with no good row is a broken export, not an
		// empty catalog: keep the current one.
		acc.AddError(fmt.Errorf("%s: no readable item; the catalog is kept", fl.name))
	}
	if err := acc.Flush(ctx); err != nil {
		return err
	}
	f.log.Info("file ingested", "file", fl.name, "kind", fl.kind.String(), "rows", rows, "rejected", len(rejects))
	return f.archiveFile(fl, start, rejects)
}

// archiveFile writes the reject report, if any, then moves the file.
func (f *FileDrop) archiveFile(fl dropFile, at time.Time, rejects []reject) error {
	dest := filepath.Join(f.archive, at.Format("20060102T150405.000")+"_"+fl.name)
	if len(rejects) > 0 {
		if err := writeReport(dest+".rejects.csv", rejects); err != nil {
			return err
		}
	}
	if err := os.Rename(fl.path, dest); err != nil {
		// Remember it, so it is not ingested again on every poll while
		// an operator sorts out the archive.
		f.mu.Lock()
		f.done[fl.path] = fl.st
		f.mu.Unlock()
		return fmt.Errorf("archive: %w", err)
	}
	f.mu.Lock()
	delete(f.seen, fl.path)
	f.mu.Unlock()
	return nil
}

// writeReport writes line, field, reason as CSV, in UTF-8 with a BOM so
// that Excel shows the Chinese reasons correctly.
func writeReport(path string, rejects []reject) error {
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("reject report: %w", err)
	}
	w := csv.NewWriter(fh)
	_, err = fh.WriteString("\uFEFF")
	if err == nil {
		err = w.Write([]string{"line", "field", "reason"})
	}
	for _, r := range rejects {
		if err != nil {
			break
		}
		err = w.Write([]string{strconv.Itoa(r.line), r.field, r.reason})
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reject report: %w", err)
	}
	return nil
}
