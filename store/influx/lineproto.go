package influx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/store"
)

// Schema in InfluxDB. One measurement (Config.Measurement) holds every
// indicator:
//
//	tags:   indicator, region, dept (deptTag: "-" for all departments), period ("-" for the catalog)
//	fields: numerator (float), denominator (integer, 0 when there is none),
//	        has_denominator (boolean), value (float; absent when null)
//
// Every point writes numerator, denominator and has_denominator, so a
// rewrite of the same series and time replaces all three (InfluxDB merges
// fields of points with the same series and timestamp). Readers derive the
// value from those three; the value field is there for Flux and InfluxQL
// users, and it is absent, never 0 or NaN, when the value is null.
const emptyTag = "-"

func tagValue(s string) string {
	if s == "" {
		return emptyTag
	}
	return s
}

// maxTag bounds the dept tag: InfluxDB keeps a whole series key under 64 KiB.
const maxTag = 4096

// deptTag is the dept tag of a department. A department is any string a
// record carried, but a tag value cannot hold a newline or end in a
// backslash, and Flux strings treat quotes, backslashes and "${" apart, so
// only "plain" departments (what the store always accepted: printable
// UTF-8 without quotes, backslashes, "$" or surrounding spaces; every name
// written before this encoding existed) are written verbatim. Any other is
// written "$" followed by the department with every byte outside a small
// safe set as %XX (Chinese stays readable in InfluxDB), and one longer than
// maxTag even then as "$$" and the SHA-256 of the department in hex. No
// plain department contains "$", and the escaped form escapes "$", so the
// three forms never collide. Reads never decode a tag: a query names the
// tags of the departments it wants and matches the rows by tag.
func deptTag(d string) string {
	switch {
	case d == "":
		return emptyTag
	case plainDept(d):
		return d
	}
	var b strings.Builder
	b.WriteByte('$')
	for i := 0; i < len(d); {
		r, n := utf8.DecodeRuneInString(d[i:])
		if r == utf8.RuneError && n <= 1 || escapeRune(r) {
			for _, c := range []byte(d[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(d[i : i+n])
		}
		i += n
		if b.Len() > maxTag {
			sum := sha256.Sum256([]byte(d))
			return "$$" + hex.EncodeToString(sum[:])
		}
	}
	return b.String()
}

// plainDept reports whether d is written verbatim as a tag.
func plainDept(d string) bool {
	if d == emptyTag || len(d) > maxTag || !utf8.ValidString(d) || strings.TrimSpace(d) != d {
		return false
	}
	for _, c := range d {
		if c < 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '\\' || c == '$' || c == utf8.RuneError {
			return false
		}
	}
	return true
}

// escapeRune reports whether r is %XX-escaped in an escaped dept tag: what
// line protocol or Flux treats apart, control characters, and "%" itself.
func escapeRune(r rune) bool {
	return r <= ' ' || r == 0x7f || strings.ContainsRune(`"'\$%,={}`, r) || r == utf8.RuneError
}

var tagEscaper = strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `)

// appendLine appends p as one line of line protocol with a nanosecond
// timestamp.
func appendLine(dst []byte, measurement string, p *store.Point) []byte {
	dst = append(dst, measurement...)
	dst = append(dst, ",dept="...)
	dst = append(dst, tagEscaper.Replace(deptTag(p.Dept))...)
	dst = append(dst, ",indicator="...)
	dst = append(dst, p.Indicator...)
	dst = append(dst, ",period="...)
	dst = append(dst, tagValue(p.Period)...)
	dst = append(dst, ",region="...)
	dst = append(dst, p.Region...)
	dst = append(dst, " numerator="...)
	dst = strconv.AppendFloat(dst, p.Numerator, 'g', -1, 64)
	dst = append(dst, ",denominator="...)
	dst = strconv.AppendInt(dst, p.Denominator, 10)
	dst = append(dst, "i,has_denominator="...)
	dst = strconv.AppendBool(dst, p.HasDenominator)
	if v, ok := p.Value(); ok {
		dst = append(dst, ",value="...)
		dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time.UnixNano(), 10)
	return append(dst, '\n')
}
