package recordio_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/yiping-ioc/yiping/recordio"
)

func ExampleNewReader() {
	const data = "call_id,region_code,answered,extra\r\n" +
		"K1-0,620800,1,x\r\n" +
		"K1-1,620100\r\n" + // a column short: reported, then skipped
		"\"K1-2\",\" 620802 \",0,y\r\n"
	r, err := recordio.NewReader(strings.NewReader(data), "calls.csv", recordio.CSV,
		[]string{"call_id", "region_code", "answered", "wait_seconds"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	fmt.Println("encoding:", r.Encoding(), "missing:", r.Missing())
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var rowErr *recordio.RowError
		if errors.As(err, &rowErr) {
			fmt.Println("skip:", rowErr)
			continue
		}
		if err != nil {
			fmt.Println(err) // I/O: give up on the file
			return
		}
		fmt.Printf("line %d: %q\n", row.Line, row.Values)
	}
	// Output:
	// encoding: utf-8 missing: [wait_seconds]
	// line 2: ["K1-0" "620800" "1" ""]
	// skip: calls.csv:3: 2 columns, header has 4
	// line 4: ["K1-2" "620802" "0" ""]
}
