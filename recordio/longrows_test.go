package recordio

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// readPlain reads data with NewReader, under the default limits, returning
// every outcome and the fatal error, if any.
func readPlain(data []byte, f Format, fields []string) (got []string, err error) {
	r, err := NewReader(bytes.NewReader(data), "t."+f.String(), f, fields)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return got, nil
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			return got, err
		}
		got = append(got, outcome(row, err))
	}
}

// TestLongRows: a 30 MB field costs its row only, and is read past without
// being held: the reader allocates a few times max_row_bytes, not the field.
func TestLongRows(t *testing.T) {
	big := strings.Repeat("x", 30<<20)
	bigLines := strings.Repeat("y\n", 15<<20)
	tests := []struct {
		name   string
		format Format
		data   string
		want   []string
	}{
		{"csv unquoted", CSV, "a,b,c\n1,2,3\n4," + big + ",6\n7,8,9\n",
			[]string{"2: 1|2|3", "3: error: row longer than max_row_bytes (1 MiB); skipped", "4: 7|8|9"}},
		{"csv quoted over lines", CSV, "a,b,c\n1,2,3\n4,\"" + bigLines + "\"\"\",6\n7,8,9\n",
			[]string{"2: 1|2|3", "3: error: row longer than max_row_bytes (1 MiB); skipped", strconv.Itoa(3+15<<20+1) + ": 7|8|9"}},
		{"csv quoted, long line", CSV, "a,b,c\n\"" + big + "\",2,3\n7,8,9",
			[]string{"2: error: row longer than max_row_bytes (1 MiB); skipped", "3: 7|8|9"}},
		{"csv quote never closed", CSV, "a,b,c\n1,2,3\n4,\"" + big + "\n7,8,9\n",
			[]string{"2: 1|2|3", "3: error: row longer than max_row_bytes (1 MiB); skipped: a quote opened in it is never closed"}},
		{"csv gbk", CSV, "a,b,c\n" + gbk(t, "兰州,城关,") + big + "\n1,2,3\n",
			[]string{"2: error: row longer than max_row_bytes (1 MiB); skipped", "3: 1|2|3"}},
		{"jsonl", JSONL, `{"a":"1"}` + "\n" + `{"a":"` + big + `"}` + "\n" + `{"c":3}` + "\n",
			[]string{"1: 1||", "2: error: line longer than max_row_bytes (1 MiB); skipped", "3: ||3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			var got []string
			var err error
			n := allocated(func() { got, err = readPlain(data, tc.format, []string{"a", "b", "c"}) })
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if len(g) > 200 {
					got[i] = g[:200] + "..." // a row that was kept, in short
				}
			}
			equalLines(t, got, tc.want)
			if n > 8<<20 {
				t.Errorf("%d MiB allocated for a 30 MB row, want at most 8", n>>20)
			}
		})
	}
}
