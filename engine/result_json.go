package engine

import (
	"strconv"

	"github.com/yiping-ioc/yiping/internal/jsonw"
)

// The JSON shape of a Result, the one every answer that lists values uses
// (compute's SPEC.md §7 document, the API, the live topics):
//
//	{"indicator": "on_time_rate", "region": "620800", "dept": "",
//	 "numerator": 1234, "denominator": 1300, "value": 0.9492307692}
//
// A count has a null denominator and its count as value; a rate without a
// denominator has a null value (SPEC.md section 5).

// AppendJSON appends r as a JSON object to dst. It is written by hand, not
// through encoding/json, because compute prints millions of them.
func (r Result) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"indicator": `...)
	dst = jsonw.AppendString(dst, r.Indicator)
	dst = append(dst, `, "region": `...)
	dst = jsonw.AppendString(dst, r.Region)
	dst = append(dst, `, "dept": `...)
	dst = jsonw.AppendString(dst, r.Dept)
	dst = append(dst, `, "numerator": `...)
	dst = strconv.AppendInt(dst, r.Numerator, 10)
	dst = append(dst, `, "denominator": `...)
	if r.Rate {
		dst = strconv.AppendInt(dst, r.Denominator, 10)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `, "value": `...)
	switch v, ok := r.Value(); {
	case !ok:
		dst = append(dst, "null"...)
	case !r.Rate:
		dst = strconv.AppendInt(dst, r.Numerator, 10)
	default:
		dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return append(dst, '}')
}

// MarshalJSON encodes r in the shape of AppendJSON.
func (r Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(make([]byte, 0, 128)), nil }
