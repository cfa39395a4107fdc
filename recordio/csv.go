package recordio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// textEnc is the text encoding of a CSV file.
type textEnc uint8

const (
	encUTF8 textEnc = iota
	encUTF8BOM
	encGBK
)

func (e textEnc) String() string {
	switch e {
	case encUTF8BOM:
		return "utf-8-bom"
	case encGBK:
		return "gbk"
	}
	return "utf-8"
}

// sniffSize is how much of a file without BOM is looked at to choose
// between UTF-8 and GBK. Chinese text in GBK is almost never valid UTF-8,
// so one non-ASCII cell in the first 64 KiB settles it. It is also the
// bufio buffer size, large enough that ReadSlice rarely has to copy.
const sniffSize = 64 << 10

var (
	utf8BOM = []byte{0xEF, 0xBB, 0xBF}

	// gb18030FFFD is U+FFFD encoded in GB18030: the decoder writes U+FFFD for
	// bytes it cannot decode, so a U+FFFD in its output means bad input
	// unless the input spelled U+FFFD itself.
	gb18030FFFD = []byte{0x84, 0x31, 0xA4, 0x37}
)

// errRowTooLong is returned by readLine for a line longer than maxRow,
// with the part of it read so far.
var errRowTooLong = errors.New("row too long")

// tooLongError is a record longer than maxRow, read past and not kept.
type tooLongError struct {
	max          int
	unterminated bool // the file ended inside a quoted field
}

func (e *tooLongError) Error() string {
	msg := fmt.Sprintf("row longer than max_row_bytes (%s); skipped", bytesSize(int64(e.max)))
	if e.unterminated {
		msg += ": a quote opened in it is never closed"
	}
	return msg
}

// quoteError is a CSV quoting error in a 1-based column of the current record.
type quoteError struct {
	col  int
	bare bool // a quote inside an unquoted field, rather than after a quoted one
}

func (e *quoteError) Error() string {
	if e.bare {
		return fmt.Sprintf(`bad quoting: bare " in unquoted column %d`, e.col)
	}
	return fmt.Sprintf(`bad quoting: extraneous or missing " in quoted column %d`, e.col)
}

// csvSource parses RFC 4180 CSV by hand over a bufio.Reader.
//
// The parsing rules are exactly those of encoding/csv with Comma ',',
// LazyQuotes false and FieldsPerRecord -1 (the fuzz test checks the two
// against each other), so the behaviour on odd input is the well-known one.
// It exists because it is faster: a line without quotes (nearly all of them)
// is split in place in the bufio buffer, checked for valid text in one pass,
// and copied once into a single string that all the row's values share, so
// a row costs one allocation however many fields it has.
//
// GBK is parsed as raw bytes and only the requested fields are decoded: GBK
// and GB18030 never use the bytes of ',', '"', CR or LF inside a multibyte
// character, so the structure is visible without decoding, and the common
// all-ASCII row needs no decoding at all.
type csvSource struct {
	name   string
	fields []string
	br     *bufio.Reader
	enc    textEnc
	dec    transform.Transformer // GB18030 decoder, GBK files only
	maxRow int                   // bytes of one record (Limits.MaxRowBytes)

	line     int // physical lines consumed so far
	noHeader bool
	ncols    int   // columns in the header
	colField []int // header column -> requested field index, or -1
	missing  []string

	// The current record: field i is rec[bounds[2i]:bounds[2i+1]], and
	// start is the line it starts on. rec points into the bufio buffer or
	// into recBuf, so it is valid only until the next read.
	rec    []byte
	bounds []int
	start  int

	rawBuf []byte // a line longer than the bufio buffer
	recBuf []byte // unquoted field bytes of a record that has quotes
	decBuf []byte // requested fields of a GBK row, decoded
	decBnd []int  // bounds into decBuf, as bounds
}

func newCSVSource(r io.Reader, name string, fields, keys []string, maxRow int) (*csvSource, error) {
	s := &csvSource{name: name, fields: fields, br: bufio.NewReaderSize(r, sniffSize), maxRow: maxRow}
	if err := s.detect(); err != nil {
		return nil, err
	}
	err := s.readRecord()
	if err == io.EOF {
		s.noHeader = true
		return s, nil
	}
	if err != nil {
		var qe *quoteError
		var tl *tooLongError
		if errors.As(err, &qe) || errors.As(err, &tl) {
			return nil, fmt.Errorf("header (line %d): %w", s.start, err)
		}
		return nil, err
	}
	header := make([]string, len(s.bounds)/2)
	for c := range header {
		f := s.rec[s.bounds[2*c]:s.bounds[2*c+1]]
		if s.enc == encGBK && !isASCII(f) {
			var ok bool
			if s.decBuf, ok = s.decodeGBK(s.decBuf[:0], f); !ok {
				return nil, fmt.Errorf("header (line %d): column %d is not valid GBK text", s.start, c+1)
			}
			header[c] = string(s.decBuf)
		} else {
			header[c] = string(f)
		}
	}
	if s.colField, s.missing, err = mapHeader(header, fields, keys); err != nil {
		return nil, err
	}
	s.ncols = len(header)
	return s, nil
}

// detect chooses the encoding: a UTF-8 BOM means UTF-8; otherwise the first
// sniffSize bytes decide, UTF-8 if they are valid UTF-8, GBK if not. A file
// whose first 64 KiB are pure ASCII is taken as UTF-8; should it hold GBK
// further on, those rows are reported as invalid UTF-8 rather than guessed.
func (s *csvSource) detect() error {
	b, err := s.br.Peek(sniffSize)
	if err != nil && err != io.EOF {
		return err
	}
	switch {
	case bytes.HasPrefix(b, utf8BOM):
		s.enc = encUTF8BOM
		_, err = s.br.Discard(len(utf8BOM))
		return err
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		// Neither is possible at the start of GBK or UTF-8 text; this is what
		// Excel's "Unicode text" export looks like.
		return errors.New("UTF-16 text is not supported; save the file as CSV (UTF-8 or GBK)")
	}
	if err == nil {
		// The sniff window is full, so its end may cut a character in two;
		// judge only the complete characters.
		b = dropIncompleteRune(b)
	}
	if utf8.Valid(b) {
		s.enc = encUTF8
	} else {
		s.enc = encGBK
		s.dec = simplifiedchinese.GB18030.NewDecoder()
	}
	return nil
}

// dropIncompleteRune removes from the end of b the first bytes of a UTF-8
// sequence that b cuts short.
func dropIncompleteRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// readLine returns the next physical line, with CRLF normalised to LF, like
// encoding/csv. The line is valid until the next call. A line longer than
// maxRow is not read to its end: readLine returns errRowTooLong and the part
// read so far, for skipRecord to go on from.
func (s *csvSource) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.rawBuf = append(s.rawBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.rawBuf) > s.maxRow {
				return s.rawBuf, errRowTooLong
			}
			line, err = s.br.ReadSlice('\n')
			s.rawBuf = append(s.rawBuf, line...)
		}
		line = s.rawBuf
	}
	if len(line) > s.maxRow {
		return line, errRowTooLong
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		// encoding/csv drops a CR just before EOF; do the same.
		if line[n-1] == '\r' {
			line = line[:n-1]
			n--
		}
	}
	if err == nil {
		s.line++
	}
	if n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

// lengthNL reports the number of bytes of the trailing '\n' of b.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// readRecord reads the next non-empty record into rec, bounds and start. It
// returns io.EOF at the end, a *quoteError for bad quoting (the record's
// lines are consumed, so the next call reads the following record), or a
// fatal error.
func (s *csvSource) readRecord() error {
	var line []byte
	var err error
	for {
		line, err = s.readLine()
		if err == errRowTooLong {
			s.start = s.line + 1
			return s.skipRecord(line, csvFieldStart)
		}
		if err != nil {
			return err
		}
		if len(line) != lengthNL(line) {
			break
		}
	}
	s.start = s.line

	if bytes.IndexByte(line, '"') < 0 {
		// Fast path: no quotes, so the fields are the pieces between commas,
		// left where they are.
		body := line[:len(line)-lengthNL(line)]
		s.rec, s.bounds = body, splitCommas(body, s.bounds[:0])
		return nil
	}
	return s.readQuoted(line)
}

// csvState is where skipRecord is in a record's syntax.
type csvState uint8

const (
	csvFieldStart csvState = iota
	csvUnquoted
	csvQuoted
	csvQuoteInQuoted // a '"' inside a quoted field: its end, or half of ""
	csvBadToEOL      // after bad quoting, the record ends with its line
)

// step advances the state by one byte, and reports whether the byte ends
// the record. The rules are readQuoted's (and encoding/csv's): a newline
// ends the record except inside quotes, and after bad quoting the rest of
// the line belongs to the bad record.
func (st csvState) step(c byte) (csvState, bool) {
	switch st {
	case csvFieldStart:
		switch c {
		case '"':
			return csvQuoted, false
		case ',':
			return csvFieldStart, false
		case '\n':
			return st, true
		}
		return csvUnquoted, false
	case csvUnquoted:
		switch c {
		case ',':
			return csvFieldStart, false
		case '\n':
			return st, true
		case '"':
			return csvBadToEOL, false
		}
		return st, false
	case csvQuoted:
		if c == '"' {
			return csvQuoteInQuoted, false
		}
		return st, false
	case csvQuoteInQuoted:
		switch c {
		case '"':
			return csvQuoted, false
		case ',':
			return csvFieldStart, false
		case '\n':
			return st, true
		}
		return csvBadToEOL, false
	}
	return st, c == '\n'
}

// skipRecord reads past the rest of a record longer than maxRow without
// keeping it, so that the record costs its own row and the next one is
// read in step. read is the part of its current line already read (the
// whole line, or its start), st the state at the start of that part. The
// record ends at a newline outside quotes, or with the file.
func (s *csvSource) skipRecord(read []byte, st csvState) error {
	chunk := read
	var err error
	for {
		for _, c := range chunk {
			var end bool
			if st, end = st.step(c); end {
				s.line++
				return &tooLongError{max: s.maxRow}
			}
		}
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			s.line++ // a newline inside quotes
		}
		switch {
		case err == io.EOF:
			return &tooLongError{max: s.maxRow, unterminated: st == csvQuoted}
		case err != nil && err != bufio.ErrBufferFull:
			return err
		}
		chunk, err = s.br.ReadSlice('\n')
	}
}

// splitCommas appends to b the bounds of the comma-separated fields of
// line. It looks at eight bytes at a time: fields are short (ten bytes or
// so), so calling bytes.IndexByte once per field costs more in call overhead
// than it saves.
func splitCommas(line []byte, b []int) []int {
	const (
		ones   = 0x0101010101010101
		low7   = 0x7f7f7f7f7f7f7f7f
		commas = ',' * ones
	)
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ commas // zero bytes where the commas are
		// High bit of each byte set iff that byte of x is zero; exact,
		// since no byte sum can carry into the next byte.
		z := ^((x&low7 + low7) | x | low7)
		for z != 0 {
			c := i + bits.TrailingZeros64(z)>>3
			b = append(b, start, c)
			start = c + 1
			z &= z - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			b = append(b, start, i)
			start = i + 1
		}
	}
	return append(b, start, len(line))
}

// readQuoted parses a record that has quotes somewhere, copying the field
// contents without their quotes into recBuf. It follows encoding/csv's
// readRecord step by step.
func (s *csvSource) readQuoted(line []byte) error {
	buf := s.recBuf[:0]
	b := s.bounds[:0]
	defer func() { s.recBuf = buf }()
	col := 1
	for {
		if len(line) == 0 || line[0] != '"' {
			// Unquoted field.
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return &quoteError{col: col, bare: true}
			}
			b = append(b, len(buf))
			buf = append(buf, field...)
			b = append(b, len(buf))
			if i < 0 {
				break
			}
			line = line[i+1:]
			col++
			continue
		}
		// Quoted field.
		line = line[1:]
		b = append(b, len(buf))
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				buf = append(buf, line[:i]...)
				line = line[i+1:]
				if len(line) > 0 && line[0] == '"' {
					buf = append(buf, '"') // "" is an escaped quote
					line = line[1:]
					continue
				}
				if len(line) > 0 && line[0] == ',' {
					line = line[1:]
					b = append(b, len(buf))
					col++
					break
				}
				if len(line) == lengthNL(line) {
					b = append(b, len(buf))
					s.rec, s.bounds = buf, b
					return nil
				}
				return &quoteError{col: col}
			}
			if len(line) == 0 {
				// The file ended inside the quotes.
				return &quoteError{col: col}
			}
			// The field goes on on the next line.
			buf = append(buf, line...)
			if len(buf) > s.maxRow {
				return s.skipRecord(nil, csvQuoted)
			}
			var err error
			line, err = s.readLine()
			if err == errRowTooLong {
				return s.skipRecord(line, csvQuoted)
			}
			if err == io.EOF {
				line = nil
			} else if err != nil {
				return err
			}
		}
	}
	s.rec, s.bounds = buf, b
	return nil
}

func (s *csvSource) next(values []string) (int, error) {
	if s.noHeader {
		return 0, io.EOF
	}
	if err := s.readRecord(); err != nil {
		var qe *quoteError
		var tl *tooLongError
		switch {
		case errors.As(err, &qe):
			return 0, s.rowError("", qe.col, qe.Error())
		case errors.As(err, &tl):
			return 0, s.rowError("", 0, tl.Error())
		}
		return 0, err
	}
	if n := len(s.bounds) / 2; n != s.ncols {
		return 0, s.rowError("", 0, fmt.Sprintf("%d columns, header has %d", n, s.ncols))
	}
	rec, bounds := s.rec, s.bounds
	switch s.enc {
	case encGBK:
		if !isASCII(rec) {
			if err := s.decodeRow(); err != nil {
				return 0, err
			}
			rec, bounds = s.decBuf, s.decBnd
		}
	default:
		if !utf8.Valid(rec) {
			// Only the requested columns matter; an ignored column may
			// hold anything.
			for c, f := range s.colField {
				if f >= 0 && !utf8.Valid(rec[bounds[2*c]:bounds[2*c+1]]) {
					return 0, s.rowError(s.fields[f], 0, "invalid UTF-8")
				}
			}
		}
	}
	// One string for the whole row; the values are slices of it.
	str := string(rec)
	for c, f := range s.colField {
		if f >= 0 {
			v := str[bounds[2*c]:bounds[2*c+1]]
			if !trimmed(v) {
				v = strings.TrimSpace(v)
			}
			values[f] = v
		}
	}
	return s.start, nil
}

// rowError reports a problem with the current record. A 1-based column, if
// known, names the requested field it holds or else appears in the reason.
func (s *csvSource) rowError(field string, col int, reason string) *RowError {
	if field == "" && col > 0 && col <= len(s.colField) && s.colField[col-1] >= 0 {
		field = s.fields[s.colField[col-1]]
	}
	return &RowError{File: s.name, Line: s.start, Field: field, Reason: reason}
}

// decodeRow decodes the requested fields of the current GBK record into
// decBuf, with decBnd as their bounds (empty for the other columns).
func (s *csvSource) decodeRow() error {
	buf := s.decBuf[:0]
	bnd := append(s.decBnd[:0], s.bounds...)
	for c, f := range s.colField {
		if f < 0 {
			bnd[2*c], bnd[2*c+1] = 0, 0
			continue
		}
		start := len(buf)
		var ok bool
		if buf, ok = s.decodeGBK(buf, s.rec[s.bounds[2*c]:s.bounds[2*c+1]]); !ok {
			s.decBuf, s.decBnd = buf, bnd
			return s.rowError(s.fields[f], 0, "invalid GBK text")
		}
		bnd[2*c], bnd[2*c+1] = start, len(buf)
	}
	s.decBuf, s.decBnd = buf, bnd
	return nil
}

// decodeGBK appends src decoded from GB18030 (a superset of GBK) to dst and
// reports whether src was valid.
func (s *csvSource) decodeGBK(dst, src []byte) ([]byte, bool) {
	if isASCII(src) {
		return append(dst, src...), true
	}
	// A GB18030 byte becomes at most 3 bytes of UTF-8 (an undecodable byte
	// becomes U+FFFD), so one Transform call with this much room suffices.
	start := len(dst)
	need := start + 3*len(src) + utf8.UTFMax
	if cap(dst) < need {
		dst = append(make([]byte, 0, need+need/2), dst...)
	}
	s.dec.Reset()
	n, _, err := s.dec.Transform(dst[start:need], src, true)
	if err != nil {
		return dst, false
	}
	dst = dst[:start+n]
	if bytes.Contains(dst[start:], []byte("\uFFFD")) && !bytes.Contains(src, gb18030FFFD) {
		return dst, false
	}
	return dst, true
}

// trimmed reports whether s has nothing for strings.TrimSpace (which also
// trims the full-width space U+3000 that Chinese exports pad cells with) to
// remove because it starts and ends with a printable ASCII byte. It is small
// enough to inline, which saves the call for nearly every value.
func trimmed(s string) bool {
	return len(s) > 0 && s[0]-'!' < '~'-'!'+1 && s[len(s)-1]-'!' < '~'-'!'+1
}

// isASCII reports whether b is 7-bit, eight bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (s *csvSource) close() error { return nil }
