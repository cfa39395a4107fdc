package recordio

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/recordio/recordiotest"
)

// bombXLSX is recordiotest's bomb added to seedXLSX.
func bombXLSX(t testing.TB, b recordiotest.Bomb) []byte {
	t.Helper()
	b.Base = seedXLSX(t)
	data, err := b.XLSX()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// allocated returns the bytes allocated while f runs (by every goroutine:
// the tests that use it do not run in parallel).
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestXLSXZipBombsDefaultLimits is two of TestXLSXZipBombs' bombs through the
// plain NewReader, which takes the default limits.
func TestXLSXZipBombsDefaultLimits(t *testing.T) {
	for _, b := range []recordiotest.Bomb{
		recordiotest.SharedStrings(1 << 30),
		{Part: "xl/worksheets/sheet1.xml", Head: `<worksheet><sheetData>`, Unit: `<row><c><v>1</v></c></row>`,
			Tail: `</sheetData></worksheet>`, Size: 300 << 20},
	} {
		data := bombXLSX(t, b)
		var err error
		n := allocated(func() {
			var r *Reader
			if r, err = NewReader(bytes.NewReader(data), "bomb.xlsx", XLSX, []string{"a"}); err != nil {
				return
			}
			defer r.Close()
			for err == nil {
				_, err = r.Next()
			}
		})
		if err == nil || err == io.EOF || !strings.Contains(err.Error(), "bomb.xlsx") {
			t.Errorf("%s: error %v, want one naming the file", b.Part, err)
		}
		if limit := 4*uint64(len(data)) + 4<<20; n > limit {
			t.Errorf("%s: %d MiB allocated, want at most %d KiB", b.Part, n>>20, limit>>10)
		}
	}
}
