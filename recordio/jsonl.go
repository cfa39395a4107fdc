package recordio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth is the deepest nesting accepted inside an ignored value; it
// matches encoding/json's limit so the two agree on what is valid.
const maxJSONDepth = 10000

// jsonlSource reads JSON lines with a small hand-written scanner instead of
// encoding/json, which would allocate a map or a value per key and would not
// keep the literal text of numbers without a json.Number round trip. The
// scanner accepts exactly RFC 8259 JSON (the fuzz test checks it against
// json.Valid) and additionally rejects strings that are not valid UTF-8,
// which encoding/json would silently replace with U+FFFD.
type jsonlSource struct {
	name    string
	fields  []string
	keys    map[string]int // normalised field name -> index
	keyList []string       // normalised field names
	br      *bufio.Reader
	maxRow  int // bytes of one line (Limits.MaxRowBytes)
	line    int
	rawBuf  []byte // a line longer than the bufio buffer
	lower   []byte // scratch: a key in lower case

	// order remembers which field (or -1) the k-th key of the previous
	// line was, and orderKey that key in lower case; export lines nearly
	// always list their keys in the same order, so one comparison usually
	// replaces lower-casing the key and a map lookup.
	order    []int
	orderKey []string

	buf []byte // the requested values of the current line, back to back
	bnd []int  // field f is buf[bnd[2f]:bnd[2f+1]]

	nested int // field index of the first requested nested value, or -1
}

func newJSONLSource(r io.Reader, name string, fields, keys []string, maxRow int) *jsonlSource {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	return &jsonlSource{
		name:    name,
		fields:  fields,
		keys:    m,
		keyList: keys,
		br:      bufio.NewReaderSize(r, sniffSize),
		maxRow:  maxRow,
		bnd:     make([]int, 2*len(fields)),
	}
}

// errLineTooLong is returned by readLine for a line over maxRow.
var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline, valid until the next
// call. A line over maxRow is read past without being kept and reported as
// errLineTooLong, which costs that line only.
func (s *jsonlSource) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.rawBuf = append(s.rawBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.br.ReadSlice('\n')
			if len(s.rawBuf) <= s.maxRow {
				s.rawBuf = append(s.rawBuf, line...)
			}
		}
		line = s.rawBuf
	}
	if len(line) > s.maxRow {
		if err == nil || (err == io.EOF && len(line) > 0) {
			s.line++
			err = errLineTooLong
		}
		return nil, err
	}
	if len(line) == 0 {
		if err == nil {
			err = io.ErrNoProgress // cannot happen with bufio; be safe
		}
		return nil, err
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	s.line++
	if line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	if s.line == 1 {
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	return line, nil
}

func (s *jsonlSource) next(values []string) (int, error) {
	for {
		line, err := s.readLine()
		if err == errLineTooLong {
			return 0, &RowError{File: s.name, Line: s.line,
				Reason: fmt.Sprintf("line longer than max_row_bytes (%s); skipped", bytesSize(int64(s.maxRow)))}
		}
		if err != nil {
			return 0, err
		}
		if skipWS(line, 0) == len(line) {
			continue // blank line
		}
		if err := s.parse(line); err != nil {
			return 0, err
		}
		var str string
		if len(s.buf) > 0 {
			str = string(s.buf) // one allocation for the whole row
		}
		for f := range values {
			v := str[s.bnd[2*f]:s.bnd[2*f+1]]
			if !trimmed(v) {
				v = strings.TrimSpace(v)
			}
			values[f] = v
		}
		return s.line, nil
	}
}

func (s *jsonlSource) close() error { return nil }

// jsonError is a syntax error at a byte offset of the line.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("%s at column %d", e.msg, e.off+1) }

// errBadUTF8 marks a string that is not valid UTF-8 (as opposed to bad syntax).
var errBadUTF8 = errors.New("invalid UTF-8")

func (s *jsonlSource) rowError(field int, reason string) *RowError {
	e := &RowError{File: s.name, Line: s.line, Reason: reason}
	if field >= 0 {
		e.Field = s.fields[field]
	}
	return e
}

// parse scans one line, which must hold one JSON object, into buf and bnd.
func (s *jsonlSource) parse(p []byte) *RowError {
	s.buf = s.buf[:0]
	clear(s.bnd)
	s.nested = -1
	i := skipWS(p, 0)
	if p[i] != '{' {
		if json.Valid(p) {
			return s.rowError(-1, "not a JSON object")
		}
		return s.rowError(-1, "invalid JSON: "+(&jsonError{i, "expected '{'"}).Error())
	}
	// One pass over the line is cheaper than one per string; only a line
	// with bad UTF-8 needs its strings checked one by one, to name the field.
	end, field, err := s.object(p, i, !utf8.Valid(p))
	if err == nil {
		if end = skipWS(p, end); end < len(p) {
			err = &jsonError{end, "data after the object"}
		}
	}
	switch {
	case err == errBadUTF8:
		return s.rowError(field, "invalid UTF-8")
	case err != nil:
		return s.rowError(-1, "invalid JSON: "+err.Error())
	case s.nested >= 0:
		return s.rowError(s.nested, "value is a JSON object or array, want a string, number, boolean or null")
	}
	return nil
}

// object scans the top-level object starting at p[i] == '{' and returns the
// offset after it. With errBadUTF8 it also returns the field concerned (-1
// for a key). check says whether strings must be checked for valid UTF-8.
func (s *jsonlSource) object(p []byte, i int, check bool) (int, int, error) {
	i = skipWS(p, i+1)
	if i < len(p) && p[i] == '}' {
		return i + 1, -1, nil
	}
	for k := 0; ; k++ {
		if i >= len(p) || p[i] != '"' {
			return i, -1, &jsonError{i, "expected a string key"}
		}
		key, esc, next, err := scanString(p, i, check)
		if err != nil {
			return i, -1, err
		}
		f := s.lookup(k, key, esc)
		i = skipWS(p, next)
		if i >= len(p) || p[i] != ':' {
			return i, -1, &jsonError{i, "expected ':'"}
		}
		i = skipWS(p, i+1)
		if i >= len(p) {
			return i, -1, &jsonError{i, "expected a value"}
		}
		switch c := p[i]; {
		case c == '"':
			val, esc, next, err := scanString(p, i, check)
			if err != nil {
				return i, f, err
			}
			if f >= 0 {
				start := len(s.buf)
				if esc {
					s.buf = appendUnescaped(s.buf, p[i:next])
				} else {
					s.buf = append(s.buf, val...)
				}
				s.bnd[2*f], s.bnd[2*f+1] = start, len(s.buf)
			}
			i = next
		case c == '{' || c == '[':
			next, err := skipValue(p, i, 2, check) // the line's object is level 1
			if err != nil {
				return next, f, err
			}
			if f >= 0 && s.nested < 0 {
				s.nested = f
			}
			i = next
		case c == 't' || c == 'f' || c == 'n':
			next, err := scanLiteral(p, i)
			if err != nil {
				return i, -1, err
			}
			if f >= 0 {
				if c == 'n' {
					s.bnd[2*f], s.bnd[2*f+1] = 0, 0 // null: empty
				} else {
					start := len(s.buf)
					s.buf = append(s.buf, p[i:next]...)
					s.bnd[2*f], s.bnd[2*f+1] = start, len(s.buf)
				}
			}
			i = next
		default:
			next, err := scanNumber(p, i)
			if err != nil {
				return next, -1, err
			}
			if f >= 0 {
				start := len(s.buf)
				s.buf = append(s.buf, p[i:next]...) // the literal as written
				s.bnd[2*f], s.bnd[2*f+1] = start, len(s.buf)
			}
			i = next
		}
		i = skipWS(p, i)
		if i < len(p) && p[i] == ',' {
			i = skipWS(p, i+1)
			continue
		}
		if i < len(p) && p[i] == '}' {
			return i + 1, -1, nil
		}
		return i, -1, &jsonError{i, "expected ',' or '}'"}
	}
}

// lookup returns the field index of the k-th key of the line, or -1. raw is
// the key as it appears between the quotes; esc says it has escapes.
func (s *jsonlSource) lookup(k int, raw []byte, esc bool) int {
	if esc {
		var key string
		_ = json.Unmarshal(appendQuoted(nil, raw), &key) // scanString validated it
		raw = []byte(key)
	}
	raw = bytes.TrimSpace(raw)
	if k < len(s.order) && equalLower(raw, s.orderKey[k]) {
		return s.order[k]
	}
	s.lower = appendLower(s.lower[:0], raw)
	f, ok := s.keys[string(s.lower)]
	if !ok {
		f = -1
	}
	for len(s.order) <= k {
		s.order = append(s.order, -1)
		s.orderKey = append(s.orderKey, "")
	}
	s.order[k], s.orderKey[k] = f, string(s.lower)
	return f
}

// equalLower reports whether b in ASCII lower case is lower. It can only
// err towards false (for upper-case non-ASCII letters), which sends lookup
// down its slow path.
func equalLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	if string(b) == lower {
		return true
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// appendLower appends b in lower case, the form of the field keys.
func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return append(dst[:0], strings.ToLower(string(b))...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendQuoted(dst, raw []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, raw...)
	return append(dst, '"')
}

// appendUnescaped appends the value of the JSON string literal q (with its
// quotes), already validated by scanString.
func appendUnescaped(dst, q []byte) []byte {
	var v string
	_ = json.Unmarshal(q, &v)
	return append(dst, v...)
}

func skipWS(p []byte, i int) int {
	for i < len(p) {
		switch p[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// strStop marks the bytes that end the fast scan of a string's content.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanString scans the string literal at p[i] == '"'. It returns the raw
// content between the quotes, whether it has escapes, and the offset after
// the closing quote. With check, it also returns errBadUTF8 if the content
// is not valid UTF-8 (the caller skips that when the whole line is valid).
func scanString(p []byte, i int, check bool) (raw []byte, esc bool, next int, err error) {
	j := i + 1
	for {
		for j+8 <= len(p) && !special8(binary.LittleEndian.Uint64(p[j:])) {
			j += 8
		}
		for j < len(p) && !strStop[p[j]] {
			j++
		}
		if j >= len(p) {
			return nil, false, j, &jsonError{i, "unterminated string"}
		}
		switch c := p[j]; {
		case c == '"':
			raw = p[i+1 : j]
			if check && !utf8.Valid(raw) {
				return nil, false, j, errBadUTF8
			}
			return raw, esc, j + 1, nil
		case c == '\\':
			esc = true
			if j+1 >= len(p) {
				return nil, false, j, &jsonError{j, "unterminated string"}
			}
			switch p[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(p) || !isHex(p[j+2]) || !isHex(p[j+3]) || !isHex(p[j+4]) || !isHex(p[j+5]) {
					return nil, false, j, &jsonError{j, `bad \u escape`}
				}
				j += 6
			default:
				return nil, false, j, &jsonError{j, "bad escape"}
			}
		default:
			return nil, false, j, &jsonError{j, "control character in string"}
		}
	}
}

// special8 reports whether any of the eight bytes in x ends the fast scan
// of a string: a quote, a backslash or a control character. Word-at-a-time
// tests: exact as yes/no answers, which is all that is needed here.
func special8(x uint64) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	hasZero := func(v uint64) uint64 { return (v - ones) &^ v & high }
	return hasZero(x^('"'*ones))|hasZero(x^('\\'*ones))|(x-0x20*ones)&^x&high != 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber scans a JSON number at p[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(p []byte, i int) (int, error) {
	j := i
	if j < len(p) && p[j] == '-' {
		j++
	}
	switch {
	case j < len(p) && p[j] == '0':
		j++
	case j < len(p) && '1' <= p[j] && p[j] <= '9':
		for j < len(p) && isDigit(p[j]) {
			j++
		}
	default:
		return j, &jsonError{j, "invalid value"}
	}
	if j < len(p) && p[j] == '.' {
		j++
		if j >= len(p) || !isDigit(p[j]) {
			return j, &jsonError{j, "invalid number"}
		}
		for j < len(p) && isDigit(p[j]) {
			j++
		}
	}
	if j < len(p) && (p[j] == 'e' || p[j] == 'E') {
		j++
		if j < len(p) && (p[j] == '+' || p[j] == '-') {
			j++
		}
		if j >= len(p) || !isDigit(p[j]) {
			return j, &jsonError{j, "invalid number"}
		}
		for j < len(p) && isDigit(p[j]) {
			j++
		}
	}
	return j, nil
}

// scanLiteral scans true, false or null at p[i].
func scanLiteral(p []byte, i int) (int, error) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(p[i:], []byte(lit)) {
			return i + len(lit), nil
		}
	}
	return i, &jsonError{i, "invalid value"}
}

// skipValue scans and validates any JSON value at p[i] (p[i] is not white
// space) and returns the offset after it; depth is the nesting level the
// value has if it is an object or array. It is used for nested values, which
// are never delivered but must still be well-formed for the line to be valid.
func skipValue(p []byte, i, depth int, check bool) (int, error) {
	if i >= len(p) {
		return i, &jsonError{i, "expected a value"}
	}
	switch c := p[i]; c {
	case '"':
		_, _, next, err := scanString(p, i, check)
		return next, err
	case 't', 'f', 'n':
		return scanLiteral(p, i)
	case '{', '[':
		if depth > maxJSONDepth {
			// Also what keeps the recursion bounded.
			return i, &jsonError{i, "nesting too deep"}
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(p, i+1)
		if i < len(p) && p[i] == closer {
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(p) || p[i] != '"' {
					return i, &jsonError{i, "expected a string key"}
				}
				_, _, next, err := scanString(p, i, check)
				if err != nil {
					return next, err
				}
				i = skipWS(p, next)
				if i >= len(p) || p[i] != ':' {
					return i, &jsonError{i, "expected ':'"}
				}
				i = skipWS(p, i+1)
			}
			next, err := skipValue(p, i, depth+1, check)
			if err != nil {
				return next, err
			}
			i = skipWS(p, next)
			if i < len(p) && p[i] == ',' {
				i = skipWS(p, i+1)
				continue
			}
			if i < len(p) && p[i] == closer {
				return i + 1, nil
			}
			return i, &jsonError{i, fmt.Sprintf("expected ',' or '%c'", closer)}
		}
	}
	return scanNumber(p, i)
}
