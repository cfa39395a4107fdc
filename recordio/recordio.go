// Package recordio reads platform export files (CSV, XLSX, JSON lines) as a
// stream of rows of raw string values aligned to a caller-chosen list of
// field names.
//
// The package deliberately stops at strings: it finds the values, their line
// numbers and the structural problems of a file (bad quoting, wrong column
// counts, invalid JSON, text that is not valid in the file's encoding).
// Turning the strings into typed records, and deciding which problems are
// fatal, is the caller's business. A structurally bad row never stops the
// stream: it is reported as a *RowError and reading continues with the next
// row, so that one bad line in a million-row export costs one line.
//
// What one file may cost is bounded (Limits): a row is at most 1 MiB (a
// longer CSV record or JSON line is read past without being kept and
// reported as a *RowError), and an XLSX workbook is checked before any row
// is read, from its zip directory and one scan of its sheets, against the
// size it unzips to, how much each part expands (a zip bomb), its rows and
// the XML of each row; a workbook over a limit is refused with a
// *LimitError naming the limit.
package recordio

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is the physical format of an export file.
type Format uint8

const (
	// CSV is comma-separated text with a header row, in UTF-8 (with or
	// without BOM) or GBK, the two encodings Excel writes in China.
	CSV Format = iota + 1
	// XLSX is an Excel workbook; the first sheet is read, its first non-empty
	// row is the header.
	XLSX
	// JSONL is JSON lines: one JSON object per line, keys are field names.
	JSONL
)

// String returns the lower-case name of the format, as used in messages.
func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case XLSX:
		return "xlsx"
	case JSONL:
		return "jsonl"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// FormatOf tells the format of a file from its extension (case-insensitive):
// .csv, .xlsx, and .jsonl, .ndjson or .json for JSON lines. The content is
// not looked at: a platform export's extension is reliable, and sniffing
// would make a mislabelled file fail in a more confusing way later.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".jsonl", ".ndjson", ".json":
		return JSONL, nil
	}
	return 0, fmt.Errorf("%s: unsupported file type (want .csv, .xlsx, .jsonl, .ndjson or .json)", path)
}

// Row is one data row of a file.
type Row struct {
	// Line is the 1-based position of the row in the file, for messages:
	// for CSV the physical line where the record starts (the header is line
	// 1, and records with embedded newlines count all their lines), for XLSX
	// the spreadsheet row number, for JSON lines the line number.
	Line int
	// Values holds one value per requested field, in the order of the fields
	// given to the reader. A value is "" when the file has no such column or
	// the cell is empty; empty means null. Values are trimmed of surrounding
	// white space.
	//
	// The slice is reused by the next call to Next: callers copy the slice
	// (not the strings) if they keep it. The strings themselves are ordinary
	// immutable strings that stay valid forever; they may share memory with
	// the other values of the same row.
	Values []string
}

// RowError is a structural problem with one row. The reader that returned it
// goes on with the next row on the next call to Next.
type RowError struct {
	File   string // the name given to the reader (the path for Open)
	Line   int    // as Row.Line
	Field  string // the requested field concerned, "" when the row as a whole is bad
	Reason string
}

// Error formats the problem as "file:line: field name: reason", the form
// editors and people recognise.
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: field %s: %s", e.File, e.Line, e.Field, e.Reason)
}

// source is the per-format part of a Reader.
type source interface {
	// next fills values (len == number of fields) with the next row and
	// returns its line. It returns a *RowError for a bad row (the source must
	// be ready to continue after it), io.EOF at the end, or a fatal error.
	next(values []string) (line int, err error)
	close() error
}

// Reader streams the rows of one file. It is not safe for concurrent use.
type Reader struct {
	name     string
	src      source
	file     io.Closer // the file opened by Open, nil for NewReader
	values   []string
	missing  []string
	encoding string
	err      error // sticky: io.EOF or a fatal error, returned by every later Next
}

// Open opens the file at path, chooses the format with FormatOf and reads the
// header, under the default Limits. The path is used as the file name in
// errors. Close releases the file.
func Open(path string, fields []string) (*Reader, error) {
	return Limits{}.Open(path, fields)
}

// NewReader reads rows of format f from r, under the default Limits; name is
// used in errors. For CSV and XLSX it reads the header before returning, so a
// file whose header is unusable (a requested column appearing twice, bad
// quoting in the header) is reported here. XLSX needs random access, so an
// XLSX stream is read into memory whole (excelize does so in any case), and
// every check of Limits on a workbook is made here, before any row.
func NewReader(r io.Reader, name string, f Format, fields []string) (*Reader, error) {
	return Limits{}.NewReader(r, name, f, fields)
}

// Next returns the next row, or io.EOF after the last one.
//
// A structurally bad row is returned as a *RowError (with Row.Line set and
// Row.Values nil); the next call continues with the following row. Any other
// error is fatal: it names the file and is returned again by every later
// call. Row.Values is only valid until the next call to Next (see Row).
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	line, err := r.src.next(r.values)
	if err == nil {
		return Row{Line: line, Values: r.values}, nil
	}
	var re *RowError
	if errors.As(err, &re) {
		return Row{Line: re.Line}, err
	}
	if err == io.EOF {
		r.err = io.EOF
	} else {
		r.err = fmt.Errorf("read %s: %w", r.name, err)
	}
	return Row{}, r.err
}

// Encoding reports the text encoding detected for a CSV file: "utf-8",
// "utf-8-bom" or "gbk". It is "" for the other formats, whose encoding is
// fixed by their specification.
func (r *Reader) Encoding() string { return r.encoding }

// Missing lists, in the order requested, the fields that the header of a CSV
// or XLSX file does not have; their values are always "". Whether that is
// fatal depends on the field, so the caller decides. It is nil for JSON
// lines, which have no header, and for a file with no header row at all (an
// empty file has no rows, so nothing is missing from them).
func (r *Reader) Missing() []string {
	if len(r.missing) == 0 {
		return nil
	}
	return append([]string(nil), r.missing...)
}

// Close releases the resources of the reader, and closes the file if the
// reader was made by Open. Calling it more than once is harmless.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = fmt.Errorf("read %s: reader closed", r.name)
	}
	var err error
	if r.src != nil {
		err = r.src.close()
		r.src = nil
	}
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
		r.file = nil
	}
	return err
}

// normName is the form in which header names and field names are compared:
// without surrounding white space or a byte-order mark (Excel puts one before
// the first header name of a UTF-8 file, and some tools leave it there after
// decoding), and case-folded.
func normName(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "\uFEFF") {
		s = strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF"))
	}
	return strings.ToLower(s)
}

// fieldKeys returns the normalised names of the requested fields, rejecting
// empty and repeated ones: a caller asking for the same field twice has a bug
// that is better reported than silently served.
func fieldKeys(fields []string) ([]string, error) {
	keys := make([]string, len(fields))
	for i, f := range fields {
		k := normName(f)
		if k == "" {
			return nil, fmt.Errorf("requested field %d has an empty name", i+1)
		}
		for _, prev := range keys[:i] {
			if prev == k {
				return nil, fmt.Errorf("field %q requested twice", f)
			}
		}
		keys[i] = k
	}
	return keys, nil
}

// mapHeader returns, for each header column, the index of the requested
// field it holds or -1, and the requested fields the header lacks.
//
// A requested field that appears twice in the header is an error, since
// either column could be the right one. A repeated column that was not asked
// for is ignored like any other unknown column: it cannot change the result,
// and exports sometimes carry repeated free-text columns ("备注") that should
// not make a whole file unreadable.
func mapHeader(header []string, fields, keys []string) (colField []int, missing []string, err error) {
	colField = make([]int, len(header))
	seen := make([]bool, len(fields))
	for c, h := range header {
		colField[c] = -1
		k := normName(h)
		if k == "" {
			continue
		}
		for i, key := range keys {
			if key != k {
				continue
			}
			if seen[i] {
				return nil, nil, fmt.Errorf("header: duplicate column %q", strings.TrimSpace(h))
			}
			seen[i] = true
			colField[c] = i
			break
		}
	}
	for i, ok := range seen {
		if !ok {
			missing = append(missing, fields[i])
		}
	}
	return colField, missing, nil
}
