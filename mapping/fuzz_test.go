package mapping

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// FuzzApply feeds arbitrary values through a mapping with value maps and
// time layouts. Apply must never panic, must keep the row aligned, and a
// time it converts must be read by the parser as the instant the layout
// means (the conversion never shifts a time).
func FuzzApply(f *testing.F) {
	f.Add("网办", "2026/03/02 09:15", "1772414100000", "已办结")
	f.Add("", "", "", "")
	f.Add("online", "2026-03-02 09:15:00", "x", "closed")
	f.Add("自助", "20261302091500", "-1", "撤件")
	f.Add("窗口", "2026/02/29 24:00", "99999999999999999999", "\xff")
	m, _, err := Parse("gansu.yaml", []byte(gansu))
	if err != nil {
		f.Fatal(err)
	}
	sh := testkit.Shanghai(f)
	p := record.NewParser(sh)
	f.Fuzz(func(t *testing.T, channel, submitted, epoch, status string) {
		in := []string{"C", "620802", "", "", channel, "", submitted, "", "1", "", status}
		out, err := m.Kind(record.KindCase).Apply(nil, in)
		if err != nil {
			var fe *record.FieldError
			if !errors.As(err, &fe) || fe.Field != "submitted_at" {
				t.Fatalf("unexpected error %v", err)
			}
		} else {
			if len(out) != len(in) {
				t.Fatalf("Apply returned %d values for %d", len(out), len(in))
			}
			if c, err := p.Case(out); err == nil {
				for _, l := range []string{"2006/01/02 15:04", "2006/01/02 15:04:05", "20060102150405"} {
					if want, err := time.ParseInLocation(l, submitted, sh); err == nil && !canonicalShape(submitted) {
						if c.Submitted != want.UnixNano() {
							t.Fatalf("%q read as %v, want %v", submitted, time.Unix(0, c.Submitted), want)
						}
						break
					}
				}
			}
		}
		call, err := m.Kind(record.KindCall).Apply(nil, []string{"K", "620802", epoch, "1", ""})
		if err == nil && strings.TrimSpace(epoch) != "" {
			if k, err := p.Call(call); err == nil && k.Offered%int64(time.Millisecond) != 0 {
				t.Fatalf("epoch %q read as %d, not whole milliseconds", epoch, k.Offered)
			}
		}
	})
}

// FuzzCompile reads arbitrary documents as mapping files. Reading must
// never panic, every error must name the file, and a config that compiles
// must map the parser's known-good rows without panicking.
func FuzzCompile(f *testing.F) {
	f.Add(gansu)
	f.Add(`cases: {columns: {a: case_id}, values: {channel: {x: online}}}`)
	f.Add(`calls: {time_layouts: [unix], defaults: {answered: "1"}}`)
	f.Add(`{items: {times: {x_at: ["2006"]}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		m, _, err := Parse("f.yaml", []byte(doc))
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml") {
					t.Fatalf("error line %q does not name the file", line)
				}
			}
			return
		}
		for k := record.Kind(0); k < record.NumKinds; k++ {
			mk := m.Kind(k)
			if len(mk.SourceFields()) != len(k.Fields()) {
				t.Fatalf("%s: %d source fields", k, len(mk.SourceFields()))
			}
			if _, err := mk.Apply(nil, sampleRows[k]); err != nil {
				var fe *record.FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("%s: %v", k, err)
				}
			}
		}
	})
}
