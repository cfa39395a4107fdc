package influx

import (
	"strconv"
	"strings"

	"github.com/yiping-ioc/yiping/store"
)

// Schema in InfluxDB. One measurement (Config.Measurement) holds every
// indicator:
//
//	tags:   indicator, region, dept ("-" for all departments), period ("-" for the catalog)
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

func untag(s string) string {
	if s == emptyTag {
		return ""
	}
	return s
}

var tagEscaper = strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `)

// appendLine appends p as one line of line protocol with a nanosecond
// timestamp.
func appendLine(dst []byte, measurement string, p *store.Point) []byte {
	dst = append(dst, measurement...)
	dst = append(dst, ",dept="...)
	dst = append(dst, tagEscaper.Replace(tagValue(p.Dept))...)
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
