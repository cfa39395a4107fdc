// Package recordiotest builds hostile export files for tests: XLSX zip
// bombs that are real, valid workbooks, generated in milliseconds instead of
// committed as binaries.
package recordiotest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Bomb describes a workbook part that inflates to Head, then Unit repeated
// until the part is at least Size bytes, then Tail.
type Bomb struct {
	// Base is the workbook the part is added to or replaced in; nil is a
	// new workbook whose first sheet has a header row (case_id, category).
	Base []byte
	// Part is the part's name, e.g. xl/sharedStrings.xml.
	Part             string
	Head, Unit, Tail string
	Size             int64
}

// XLSX returns the workbook. The part is a real deflate stream whose CRC
// and sizes are right, so a reader that does not stop early reads all of
// it: a test of limits, not of the zip library's checksums.
//
// Compressing hundreds of MB would take seconds, so the repetition is
// compressed once: a 64 KiB chunk (whole units, more than deflate's 32 KiB
// window) is compressed twice in a row with a sync flush after each, and
// the second output, whose back-references reach only the chunk before it,
// is repeated as often as needed. The tail follows as stored blocks, which
// reference nothing.
func (b Bomb) XLSX() ([]byte, error) {
	if b.Unit == "" {
		return nil, fmt.Errorf("recordiotest: empty unit")
	}
	chunk := []byte(strings.Repeat(b.Unit, (64<<10)/len(b.Unit)+1))
	n := max((b.Size-int64(len(b.Head))-int64(len(b.Tail))+int64(len(chunk))-1)/int64(len(chunk)), 2)

	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	fw.Write([]byte(b.Head))
	fw.Write(chunk)
	fw.Flush()
	first := comp.Len()
	fw.Write(chunk)
	fw.Flush()
	repeat := bytes.Clone(comp.Bytes()[first:])
	for i := int64(2); i < n; i++ {
		comp.Write(repeat)
	}
	tw, _ := flate.NewWriter(&comp, flate.NoCompression)
	tw.Write([]byte(b.Tail))
	tw.Close()

	crc := crc32.Update(0, crc32.IEEETable, []byte(b.Head))
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte(b.Tail))
	size := uint64(len(b.Head)) + uint64(n)*uint64(len(chunk)) + uint64(len(b.Tail))

	var out bytes.Buffer
	zw, err := copyParts(&out, b.Base, b.Part)
	if err != nil {
		return nil, err
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: b.Part, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
	if err != nil {
		return nil, err
	}
	w.Write(comp.Bytes())
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Common bombs: shared strings of one-letter strings, a sheet of one
// endless row, a sheet of endless empty rows.

// SharedStrings is a shared-strings part of size bytes.
func SharedStrings(size int64) Bomb {
	return Bomb{Part: "xl/sharedStrings.xml",
		Head: `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`,
		Unit: `<si><t>a</t></si>`, Tail: `</sst>`, Size: size}
}

// OneRow is a first sheet of size bytes that is one row of cells.
func OneRow(size int64) Bomb {
	return Bomb{Part: "xl/worksheets/sheet1.xml", Head: `<worksheet><sheetData><row r="1">`,
		Unit: `<c><v>1</v></c>`, Tail: `</row></sheetData></worksheet>`, Size: size}
}

// EmptyRows is a first sheet of size bytes of empty rows.
func EmptyRows(size int64) Bomb {
	return Bomb{Part: "xl/worksheets/sheet1.xml", Head: `<worksheet><sheetData>`,
		Unit: `<row/>`, Tail: `</sheetData></worksheet>`, Size: size}
}

// WithPart returns the workbook base (nil: a new one, as for Bomb) with the part name set to body,
// compressed as a spreadsheet program would (deflate, default level).
func WithPart(base []byte, name string, body []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := copyParts(&out, base, name)
	if err != nil {
		return nil, err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	w.Write(body)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// copyParts starts a zip in out with every part of base but skip, copied
// as they are (still compressed).
func copyParts(out io.Writer, base []byte, skip string) (*zip.Writer, error) {
	if base == nil {
		var err error
		if base, err = newWorkbook(); err != nil {
			return nil, err
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		return nil, fmt.Errorf("recordiotest: base workbook: %w", err)
	}
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		if f.Name == skip {
			continue
		}
		raw, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateRaw(&f.FileHeader)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, raw); err != nil {
			return nil, err
		}
	}
	return zw, nil
}

// newWorkbook is a workbook whose first sheet has a header row (case_id,
// category).
func newWorkbook() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"case_id", "category"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
