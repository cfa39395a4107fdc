package recordio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
	"github.com/xuri/nfp"
)

// xlsxDateTime is the number format dates and times are rendered with: the
// canonical timestamp form of the records (SPEC section 3), read in the
// business time zone, which is also how Excel means its serial numbers
// (local wall time). The explicit locale [$-409] (en-US, digits only) is for
// speed: without one, excelize looks the empty locale up by scanning its
// whole language table for every date cell, which made reading four times
// slower.
const xlsxDateTime = "[$-409]yyyy-mm-dd hh:mm:ss"

// xlsxSource reads the first sheet of a workbook with excelize's streaming
// row iterator.
//
// The iterator gives each cell as text formatted by the cell's number
// format, but not the format itself, and a date is only a date by its
// format. So before iterating, the workbook's cell formats are rewritten in
// memory: every date or time format becomes built-in format 14 rendered as
// xlsxDateTime (through Options.ShortDatePattern), and every other format
// becomes an id that has no format at all, for which excelize returns the
// number as stored, shortest form, at most 15 significant digits ("5", "0.5",
// "0.3" for 0.30000000000000004; no "5.00" or "50%"). Not General: excelize's
// General imitates Excel's 11-character cell display and would turn
// 123456789012 into "1.23456789E+11". The file itself is never written.
type xlsxSource struct {
	name     string
	fields   []string
	f        *excelize.File
	rows     *excelize.Rows
	row      int // spreadsheet row number of the last row read
	maxRow   int // the highest row number allowed (Limits.MaxXLSXRows)
	noHeader bool
	colField []int
	missing  []string
}

func newXLSXSource(r io.Reader, name string, fields, keys []string, lim Limits) (s *xlsxSource, err error) {
	data, err := readWorkbook(r, lim)
	if err != nil {
		return nil, err
	}
	if err := checkWorkbook(data, lim); err != nil {
		return nil, err
	}
	s = &xlsxSource{name: name, fields: fields, maxRow: lim.maxXLSXRows()}
	// excelize is not written to be robust against malformed workbooks; a
	// bad upload must be an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			s.close()
			s, err = nil, fmt.Errorf("malformed xlsx workbook (%v)", p)
		}
	}()
	s.f, err = excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		ShortDatePattern:  xlsxDateTime,
		UnzipSizeLimit:    lim.maxUnzipBytes(),
		UnzipXMLSizeLimit: lim.maxPartBytes(),
	})
	if err != nil {
		if s.f != nil {
			s.f.Close()
		}
		return nil, fmt.Errorf("open xlsx: %w", err)
	}
	sheets := s.f.GetSheetList()
	if len(sheets) == 0 {
		s.close()
		return nil, errors.New("xlsx workbook has no sheet")
	}
	canonicalFormats(s.f)
	if s.rows, err = s.f.Rows(sheets[0]); err != nil {
		s.close()
		return nil, fmt.Errorf("sheet %q: %w", sheets[0], err)
	}
	var header []string
	for {
		cells, ok, err := s.nextCells()
		if err != nil {
			s.close()
			return nil, err
		}
		if !ok {
			s.noHeader = true
			return s, nil
		}
		if !allBlank(cells) {
			header = cells
			break
		}
	}
	if s.colField, s.missing, err = mapHeader(header, fields, keys); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// nextCells returns the cells of the next spreadsheet row (nil for a row
// that is not in the file), or false at the end of the sheet.
func (s *xlsxSource) nextCells() ([]string, bool, error) {
	if !s.rows.Next() {
		return nil, false, nil
	}
	s.row++
	// The iterator reports every row number up to the highest one in the
	// file, and checkWorkbook counted row elements, not numbers: a row
	// numbered beyond the limit would spin through billions of empty rows.
	if s.row > s.maxRow {
		return nil, false, &LimitError{Limit: "max_xlsx_rows", Max: int64(s.maxRow), Line: s.row,
			Reason: fmt.Sprintf("xlsx row %d: more than max_xlsx_rows (%d) rows", s.row, s.maxRow)}
	}
	cells, err := s.rows.Columns()
	if err != nil {
		// The XML of the sheet is broken; later rows cannot be trusted.
		return nil, false, fmt.Errorf("xlsx row %d: %w", s.row, err)
	}
	return cells, true, nil
}

func (s *xlsxSource) next(values []string) (line int, err error) {
	if s.noHeader {
		return 0, io.EOF
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed xlsx workbook near row %d (%v)", s.row, p)
		}
	}()
	for {
		cells, ok, err := s.nextCells()
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, io.EOF
		}
		if allBlank(cells) {
			continue // like an empty CSV line
		}
		clear(values)
		for c, v := range cells {
			if c < len(s.colField) && s.colField[c] >= 0 {
				values[s.colField[c]] = xlsxValue(v)
			}
		}
		return s.row, nil
	}
}

// xlsxValue trims a formatted cell value and spells booleans, which the
// iterator gives as TRUE and FALSE, in lower case as the other formats do.
func xlsxValue(v string) string {
	v = strings.TrimSpace(v)
	switch v {
	case "TRUE":
		return "true"
	case "FALSE":
		return "false"
	}
	return v
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (s *xlsxSource) close() error {
	var err error
	if s.rows != nil {
		err = s.rows.Close()
		s.rows = nil
	}
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
		s.f = nil
	}
	return err
}

// canonicalFormats rewrites, in memory, the number format of every cell
// style: dates and times to built-in format 14 (which the reader's
// ShortDatePattern renders as xlsxDateTime), everything else to an id with no
// format, so that the value comes out unformatted.
func canonicalFormats(f *excelize.File) {
	st := f.Styles
	if st == nil || st.CellXfs == nil {
		return
	}
	custom := map[int]string{}
	if st.NumFmts != nil {
		for _, nf := range st.NumFmts.NumFmt {
			if nf == nil {
				continue
			}
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			custom[nf.NumFmtID] = code
		}
	}
	// Built-in ids are 0 to 81 and custom ones are listed; a negative id
	// that is not listed is never a format.
	unformatted := -1
	for _, ok := custom[unformatted]; ok; _, ok = custom[unformatted] {
		unformatted--
	}
	for i := range st.CellXfs.Xf {
		xf := &st.CellXfs.Xf[i]
		id := 0
		if xf.NumFmtID != nil {
			id = *xf.NumFmtID
		}
		isDate := builtinDate(id)
		if code, ok := custom[id]; ok {
			// excelize, like Excel, lets a custom format override a
			// built-in one with the same id.
			isDate = dateFormat(code)
		}
		n := unformatted
		if isDate {
			n = 14
		}
		xf.NumFmtID = &n
	}
	// A custom format with id 14 would override the built-in one the date
	// styles now point to; make it say what the built-in says.
	if st.NumFmts != nil {
		for _, nf := range st.NumFmts.NumFmt {
			if nf != nil && nf.NumFmtID == 14 {
				nf.FormatCode, nf.FormatCode16 = xlsxDateTime, ""
			}
		}
	}
}

// builtinDate reports whether a built-in number format shows a date or a
// time: 14-22 and 45, 47 everywhere, 27-36 and 50-58 in the East Asian
// locales (年月日 forms). 46 ([h]:mm:ss) is a duration, not a time of day.
func builtinDate(id int) bool {
	switch {
	case 14 <= id && id <= 22, id == 45, id == 47, 27 <= id && id <= 36, 50 <= id && id <= 58:
		return true
	}
	return false
}

// dateFormat reports whether a custom number format code shows a date or a
// time of day: its first section has date or time tokens and no elapsed-time
// ones ([h], a duration). excelize's own format parser does the tokenising,
// so quoted text ("年"), escapes and colours are understood the same way.
func dateFormat(code string) bool {
	p := nfp.NumberFormatParser() // a Parser keeps state; one per code
	sections := p.Parse(code)
	if len(sections) == 0 {
		return false
	}
	date := false
	for _, tok := range sections[0].Items {
		switch tok.TType {
		case nfp.TokenTypeElapsedDateTimes:
			return false
		case nfp.TokenTypeDateTimes:
			date = true
		}
	}
	return date
}
