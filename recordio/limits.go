package recordio

import (
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

// Defaults of Limits.
const (
	// DefaultMaxRowBytes bounds one row. Real rows are a few hundred
	// bytes; a megabyte leaves room for long ignored free-text columns
	// (a ticket's full text) while keeping a hostile row cheap to refuse.
	DefaultMaxRowBytes = 1 << 20
	// DefaultMaxUnzipBytes bounds an XLSX workbook uncompressed: sixteen
	// times the push intake's default body limit (32 MiB). A real
	// export's XML is 5 to 20 times its zip.
	DefaultMaxUnzipBytes = 512 << 20
	// DefaultMaxXLSXRows is Excel's own limit on the rows of a sheet.
	DefaultMaxXLSXRows = excelize.TotalRows
	// DefaultMaxInflateRatio bounds how much one part of a workbook may
	// expand: Apache POI's long-standing default (ZipSecureFile's minimum
	// inflate ratio of 0.01). Spreadsheet XML compresses 5 to 30 times; a
	// zip bomb, a thousand times.
	DefaultMaxInflateRatio = 100

	// inflateGrace is the size under which a part's ratio is not checked:
	// small parts cost nothing, and tiny ones compress unpredictably.
	inflateGrace = 1 << 20
)

// Limits bound what a reader holds and does for one file, so that a broken
// or hostile file (a 30 MB field, an XLSX zip bomb) costs bounded memory and
// time, and is refused with a reason naming the limit. A zero field takes
// its default. Open and NewReader use the defaults.
//
// The names in messages (max_row_bytes, ...) are the configuration keys of
// the push intake and the file drop.
type Limits struct {
	// MaxRowBytes bounds one row: a CSV record (all its lines), a JSON
	// line, or the XML of one XLSX row. A longer CSV or JSON row is read
	// past without being kept, and reported as a *RowError; an XLSX row
	// that long makes the workbook unreadable (a *LimitError), since
	// excelize would parse it whole. Default DefaultMaxRowBytes (1 MiB).
	MaxRowBytes int
	// MaxUnzipBytes bounds an XLSX workbook: its file, and the sum of its
	// parts uncompressed. Each part other than the worksheets (shared
	// strings, styles ...), which excelize parses whole in memory at
	// several bytes per byte, may take an eighth of it. Default
	// DefaultMaxUnzipBytes (512 MiB).
	MaxUnzipBytes int64
	// MaxXLSXRows bounds the rows of an XLSX worksheet, empty ones
	// included: its row elements, and the highest row number read. Default
	// DefaultMaxXLSXRows (1,048,576). CSV and JSON lines have no row limit:
	// their rows cost their own bytes, which the caller bounds.
	MaxXLSXRows int
	// MaxInflateRatio bounds how many times one part of an XLSX workbook
	// (over 1 MiB) may expand when uncompressed. Default
	// DefaultMaxInflateRatio (100).
	MaxInflateRatio int
}

func (l Limits) maxRowBytes() int {
	if l.MaxRowBytes > 0 {
		return l.MaxRowBytes
	}
	return DefaultMaxRowBytes
}

func (l Limits) maxUnzipBytes() int64 {
	if l.MaxUnzipBytes > 0 {
		return l.MaxUnzipBytes
	}
	return DefaultMaxUnzipBytes
}

// maxPartBytes bounds one part parsed whole; it is also excelize's
// UnzipXMLSizeLimit, so the shared strings are always parsed in memory
// (excelize's temporary-file path for them costs a system call per
// string: minutes for a bomb of tiny strings) and worksheets larger than
// it are streamed from a temporary file.
func (l Limits) maxPartBytes() int64 { return max(l.maxUnzipBytes()/8, 1) }

func (l Limits) maxXLSXRows() int {
	if l.MaxXLSXRows > 0 {
		return l.MaxXLSXRows
	}
	return DefaultMaxXLSXRows
}

func (l Limits) maxInflateRatio() int64 {
	if l.MaxInflateRatio > 0 {
		return int64(l.MaxInflateRatio)
	}
	return DefaultMaxInflateRatio
}

// LimitError says that a file exceeds one of the Limits. Unlike a
// *RowError it is fatal: the file is refused as a whole. An XLSX workbook is
// checked before its first row is delivered, so no row of it is used.
type LimitError struct {
	// Limit is the name of the limit: max_row_bytes, max_unzip_bytes,
	// max_xlsx_rows or max_inflate_ratio.
	Limit string
	// Max is the limit's value.
	Max int64
	// Line is the row concerned (as Row.Line), 0 for the file as a whole.
	Line int
	// Reason says what was found, naming the limit.
	Reason string
}

func (e *LimitError) Error() string { return e.Reason }

// Open is the package's Open under these limits.
func (l Limits) Open(path string, fields []string) (*Reader, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	if f == XLSX {
		// Refuse an oversized workbook before reading it into memory.
		if st, err := fh.Stat(); err == nil && st.Size() > l.maxUnzipBytes() {
			fh.Close()
			return nil, fmt.Errorf("read %s: %w", path, fileTooLarge(st.Size(), l.maxUnzipBytes()))
		}
	}
	r, err := l.NewReader(fh, path, f, fields)
	if err != nil {
		fh.Close()
		return nil, err
	}
	r.file = fh
	return r, nil
}

// NewReader is the package's NewReader under these limits.
func (l Limits) NewReader(r io.Reader, name string, f Format, fields []string) (*Reader, error) {
	keys, err := fieldKeys(fields)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	rd := &Reader{name: name, values: make([]string, len(fields))}
	switch f {
	case CSV:
		s, err := newCSVSource(r, name, fields, keys, l.maxRowBytes())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		rd.src, rd.missing, rd.encoding = s, s.missing, s.enc.String()
	case XLSX:
		s, err := newXLSXSource(r, name, fields, keys, l)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		rd.src, rd.missing = s, s.missing
	case JSONL:
		rd.src = newJSONLSource(r, name, fields, keys, l.maxRowBytes())
	default:
		return nil, fmt.Errorf("read %s: unknown format %v", name, f)
	}
	return rd, nil
}

func fileTooLarge(size, limit int64) *LimitError {
	return &LimitError{Limit: "max_unzip_bytes", Max: limit,
		Reason: fmt.Sprintf("xlsx file of %s is over max_unzip_bytes (%s)", bytesSize(size), bytesSize(limit))}
}

// bytesSize formats a byte count for messages: "512 MiB", "1.5 GiB",
// "300 bytes".
func bytesSize(n int64) string {
	const (
		kib = 1 << 10
		mib = 1 << 20
		gib = 1 << 30
	)
	unit := func(div int64, name string) string {
		if n%div == 0 {
			return fmt.Sprintf("%d %s", n/div, name)
		}
		return fmt.Sprintf("%.1f %s", float64(n)/float64(div), name)
	}
	switch {
	case n >= gib:
		return unit(gib, "GiB")
	case n >= mib:
		return unit(mib, "MiB")
	case n >= kib:
		return unit(kib, "KiB")
	}
	return fmt.Sprintf("%d bytes", n)
}
