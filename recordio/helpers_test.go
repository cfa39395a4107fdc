package recordio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// got is one outcome of Next, in a form that is easy to compare: either a
// row "L: v1|v2|..." or an error "L: error: reason" / "L: error: field f: reason".
func outcome(row Row, err error) string {
	if err != nil {
		var re *RowError
		if !errors.As(err, &re) {
			return "fatal: " + err.Error()
		}
		if re.Field != "" {
			return fmt.Sprintf("%d: error: field %s: %s", re.Line, re.Field, re.Reason)
		}
		return fmt.Sprintf("%d: error: %s", re.Line, re.Reason)
	}
	return fmt.Sprintf("%d: %s", row.Line, strings.Join(row.Values, "|"))
}

// readAll reads everything r yields, checking the invariants every reader
// must keep: len(Values) == len(fields), lines strictly increasing.
func readAll(t testing.TB, r *Reader, nfields int) []string {
	t.Helper()
	var out []string
	last := 0
	for i := 0; ; i++ {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			out = append(out, outcome(row, err))
			break
		}
		if err == nil && len(row.Values) != nfields {
			t.Fatalf("row %d: %d values, want %d", i, len(row.Values), nfields)
		}
		if row.Line <= last {
			t.Fatalf("line %d after line %d", row.Line, last)
		}
		last = row.Line
		out = append(out, outcome(row, err))
		if i > 1e6 {
			t.Fatal("runaway reader")
		}
	}
	return out
}

func readBytes(t testing.TB, data []byte, f Format, fields []string) (*Reader, []string, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), "t."+f.String(), f, fields)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	return r, readAll(t, r, len(fields)), nil
}

func equalLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
