package recordio

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readWorkbook reads an XLSX stream into memory, refusing one larger than
// max_unzip_bytes without reading more than that.
func readWorkbook(r io.Reader, lim Limits) ([]byte, error) {
	limit := lim.maxUnzipBytes()
	if l, ok := r.(interface{ Len() int }); ok && int64(l.Len()) > limit {
		return nil, fileTooLarge(int64(l.Len()), limit)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fileTooLarge(int64(len(data)), limit)
	}
	return data, nil
}

// checkWorkbook refuses a workbook that would cost more than lim allows,
// before excelize inflates anything: excelize keeps every part but the
// worksheets and the shared strings in memory whatever their size, parses
// the shared strings, styles and others whole, and spends microseconds per
// cell, so a few kilobytes of zip could cost minutes and gigabytes.
//
// The sizes come from the zip's directory and cost nothing to check; they
// can be trusted because archive/zip fails a part that inflates to more
// than its declared size. The worksheets are then inflated once and
// scanned for their rows, without parsing, which costs a fraction of what
// excelize's parse of them does.
func checkWorkbook(data []byte, lim Limits) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("open xlsx: %w", err)
	}
	maxTotal, maxPart, ratio := lim.maxUnzipBytes(), lim.maxPartBytes(), lim.maxInflateRatio()
	var total uint64
	var sheets []*zip.File
	for _, f := range zr.File {
		size := f.UncompressedSize64
		total += size
		if total > uint64(maxTotal) {
			return &LimitError{Limit: "max_unzip_bytes", Max: maxTotal,
				Reason: fmt.Sprintf("xlsx workbook unzips to more than max_unzip_bytes (%s): a zip bomb?", bytesSize(maxTotal))}
		}
		if size > inflateGrace && size/max(f.CompressedSize64, 1) > uint64(ratio) {
			return &LimitError{Limit: "max_inflate_ratio", Max: ratio,
				Reason: fmt.Sprintf("xlsx part %s expands %d times (%s), more than max_inflate_ratio (%d): a zip bomb?",
					f.Name, size/max(f.CompressedSize64, 1), bytesSize(int64(size)), ratio)}
		}
		if isWorksheet(f.Name) {
			sheets = append(sheets, f)
		} else if size > uint64(maxPart) {
			return &LimitError{Limit: "max_unzip_bytes", Max: maxPart,
				Reason: fmt.Sprintf("xlsx part %s unzips to %s, more than an eighth of max_unzip_bytes (%s)",
					f.Name, bytesSize(int64(size)), bytesSize(maxPart))}
		}
	}
	for _, f := range sheets {
		if err := scanWorksheet(f, lim); err != nil {
			return err
		}
	}
	return nil
}

// isWorksheet tells the worksheet parts the way excelize does, by name.
func isWorksheet(name string) bool {
	return strings.HasPrefix(strings.ToLower(strings.ReplaceAll(name, `\`, "/")), "xl/worksheets/sheet")
}

// scanWorksheet counts the rows of a worksheet and measures the XML of each,
// looking only at element names: a "<" followed by row (with any namespace
// prefix) starts a row. Markup inside text is escaped in XML, so only a
// comment or CDATA section could hide a false "<row"; that would only make
// rows look more numerous or shorter, and the size limits still hold.
func scanWorksheet(f *zip.File, lim Limits) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open xlsx part %s: %w", f.Name, err)
	}
	defer rc.Close()
	maxRows, maxRow := lim.maxXLSXRows(), int64(lim.maxRowBytes())
	br := bufio.NewReaderSize(rc, 64<<10)
	var off int64      // bytes read
	start := int64(-1) // offset of the current row's "<", -1 outside rows
	rows := 0
	tooLong := func() error {
		return &LimitError{Limit: "max_row_bytes", Max: maxRow, Line: rows,
			Reason: fmt.Sprintf("xlsx %s row %d: more than max_row_bytes (%s) of XML", f.Name, rows, bytesSize(maxRow))}
	}
	for {
		b, err := br.ReadSlice('<')
		off += int64(len(b))
		if start >= 0 && off-start > maxRow {
			return tooLong()
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read xlsx part %s: %w", f.Name, err)
		}
		next, _ := br.Peek(32) // short at the end of the part
		switch name, end := tagName(next); {
		case !end && string(name) == "row":
			if rows++; rows > maxRows {
				return &LimitError{Limit: "max_xlsx_rows", Max: int64(maxRows), Line: rows,
					Reason: fmt.Sprintf("xlsx %s has more than max_xlsx_rows (%d) rows", f.Name, maxRows)}
			}
			start = off - 1
		case end && string(name) == "sheetData":
			start = -1
		}
	}
}

// tagName returns the name of the tag that b starts (just after its "<"),
// without a namespace prefix, and whether it is an end tag.
func tagName(b []byte) (name []byte, end bool) {
	if len(b) > 0 && b[0] == '/' {
		end, b = true, b[1:]
	}
	i := bytes.IndexAny(b, " \t\r\n/>")
	if i < 0 {
		return nil, end
	}
	name = b[:i]
	if j := bytes.LastIndexByte(name, ':'); j >= 0 {
		name = name[j+1:]
	}
	return name, end
}
