package sqlsource

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// state is the cursor of a source: per record kind, where to resume.
type state map[string]kindCursor

// kindCursor is where a kind resumes: after the row whose cursor columns
// hold After, and, for a tie key, past the rows at After whose tie keys
// are in Seen.
type kindCursor struct {
	After []cursorValue `json:"after"`
	Seen  []string      `json:"seen,omitempty"`

	seen map[string]bool // Seen as a set
}

// cursorValue is one cursor column's value with its type, so that it goes
// back to the database as what it came as: a timestamp with its full
// precision and zone, an integer, or text.
type cursorValue struct {
	T *time.Time `json:"t,omitempty"`
	I *int64     `json:"i,omitempty"`
	F *float64   `json:"f,omitempty"`
	S *string    `json:"s,omitempty"`
}

func decodeCursor(s string) (state, error) {
	st := state{}
	if s == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, fmt.Errorf("sql source: cursor %q is not one this connector wrote: %w", s, err)
	}
	for k, kc := range st {
		kc.seen = make(map[string]bool, len(kc.Seen))
		for _, id := range kc.Seen {
			kc.seen[id] = true
		}
		st[k] = kc
	}
	return st, nil
}

func (st state) encode() string {
	if len(st) == 0 {
		return ""
	}
	b, err := json.Marshal(st)
	if err != nil {
		// Only times beyond year 9999 fail to marshal; a database does not
		// hand those out as update times.
		panic("sqlsource: encode cursor: " + err.Error())
	}
	return string(b)
}

// args are the query's parameters.
func (kc kindCursor) args() []any {
	out := make([]any, len(kc.After))
	for i, v := range kc.After {
		out[i] = v.arg()
	}
	return out
}

func (v cursorValue) arg() any {
	switch {
	case v.T != nil:
		return *v.T
	case v.I != nil:
		return *v.I
	case v.F != nil:
		return *v.F
	case v.S != nil:
		return *v.S
	}
	return nil
}

func (v cursorValue) equal(w cursorValue) bool {
	switch {
	case v.T != nil && w.T != nil:
		return v.T.Equal(*w.T)
	case v.I != nil && w.I != nil:
		return *v.I == *w.I
	case v.F != nil && w.F != nil:
		return *v.F == *w.F
	case v.S != nil && w.S != nil:
		return *v.S == *w.S
	}
	return false
}

func (v cursorValue) String() string {
	switch {
	case v.T != nil:
		return v.T.Format(time.RFC3339Nano)
	case v.I != nil:
		return strconv.FormatInt(*v.I, 10)
	case v.F != nil:
		return strconv.FormatFloat(*v.F, 'g', -1, 64)
	case v.S != nil:
		return strconv.Quote(*v.S)
	}
	return "NULL"
}

// toCursorValue keeps a scanned value for the cursor.
func toCursorValue(v any) (cursorValue, error) {
	switch x := v.(type) {
	case time.Time:
		return cursorValue{T: &x}, nil
	case int64:
		return cursorValue{I: &x}, nil
	case float64:
		return cursorValue{F: &x}, nil
	case string:
		return cursorValue{S: &x}, nil
	case []byte:
		s := string(x)
		return cursorValue{S: &s}, nil
	case nil:
		return cursorValue{}, fmt.Errorf("NULL: a cursor column must not be NULL, or its rows cannot be ordered")
	}
	s := fmt.Sprint(v)
	return cursorValue{S: &s}, nil
}

// sameValue reports whether at is the cursor's position (all columns).
func (kc kindCursor) sameValue(at []cursorValue) bool {
	if len(at) != len(kc.After) {
		return false
	}
	for i := range at {
		if !at[i].equal(kc.After[i]) {
			return false
		}
	}
	return true
}

// clone copies the cursor, so that a page can move its copy row by row
// and leave the original as it was if the page fails.
func (kc kindCursor) clone() kindCursor {
	c := kindCursor{After: kc.After, Seen: append([]string(nil), kc.Seen...), seen: make(map[string]bool, len(kc.seen))}
	for k := range kc.seen {
		c.seen[k] = true
	}
	return c
}

// move puts the cursor after a row at position at with tie key tie.
func (kc *kindCursor) move(at []cursorValue, tie string, ties bool) {
	switch {
	case !ties:
		kc.After = at
	case kc.sameValue(at):
		kc.Seen = append(kc.Seen, tie)
		if kc.seen == nil {
			kc.seen = map[string]bool{}
		}
		kc.seen[tie] = true
	default:
		kc.After, kc.Seen, kc.seen = at, []string{tie}, map[string]bool{tie: true}
	}
}

// equal reports whether two cursors resume at the same place.
func (kc kindCursor) equal(o kindCursor) bool {
	return kc.sameValue(o.After) && len(kc.Seen) == len(o.Seen)
}

func (kc kindCursor) describe() string { return describe(kc.After) }

func describe(at []cursorValue) string {
	parts := make([]string, len(at))
	for i, v := range at {
		parts[i] = v.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
