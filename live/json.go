package live

import (
	"strconv"

	"github.com/yiping-ioc/yiping/internal/jsonw"
)

// The payloads that go out every cycle are encoded by hand: a demo pull
// publishes tens of thousands of values and rankings in one cycle, and
// encoding/json's reflection was 40% of the feed's time. The shapes are
// the structs' JSON tags; TestPayloadJSON checks both ways agree.

// AppendJSON appends v as JSON to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"indicator":`...)
	dst = jsonw.AppendString(dst, v.Indicator)
	dst = append(dst, `,"region":`...)
	dst = jsonw.AppendString(dst, v.Region)
	dst = append(dst, `,"period":`...)
	dst = jsonw.AppendString(dst, v.Period)
	dst = append(dst, `,"numerator":`...)
	dst = strconv.AppendInt(dst, v.Numerator, 10)
	dst = append(dst, `,"denominator":`...)
	if v.Denominator == nil {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, *v.Denominator, 10)
	}
	dst = append(dst, `,"value":`...)
	dst = appendFloat(dst, v.Value)
	dst = append(dst, `,"display":`...)
	dst = appendFloat(dst, v.Display)
	dst = append(dst, `,"text":`...)
	dst = jsonw.AppendString(dst, v.Text)
	dst = append(dst, `,"status":`...)
	dst = jsonw.AppendString(dst, v.Status)
	dst = append(dst, `,"as_of":`...)
	dst = jsonw.AppendString(dst, v.AsOf)
	dst = append(dst, `,"date":`...)
	dst = jsonw.AppendString(dst, v.Date)
	return append(dst, '}')
}

// MarshalJSON encodes v as AppendJSON does.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(make([]byte, 0, 256)), nil }

// AppendJSON appends r as JSON to dst.
func (r Ranking) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"indicator":`...)
	dst = jsonw.AppendString(dst, r.Indicator)
	dst = append(dst, `,"region":`...)
	dst = jsonw.AppendString(dst, r.Region)
	dst = append(dst, `,"period":`...)
	dst = jsonw.AppendString(dst, r.Period)
	dst = append(dst, `,"rows":[`...)
	for i, row := range r.Rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"region":`...)
		dst = jsonw.AppendString(dst, row.Region)
		dst = append(dst, `,"name":`...)
		dst = jsonw.AppendString(dst, row.Name)
		dst = append(dst, `,"rank":`...)
		dst = strconv.AppendInt(dst, int64(row.Rank), 10)
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, row.Value)
		dst = append(dst, `,"display":`...)
		dst = appendFloat(dst, row.Display)
		dst = append(dst, `,"text":`...)
		dst = jsonw.AppendString(dst, row.Text)
		dst = append(dst, `,"status":`...)
		dst = jsonw.AppendString(dst, row.Status)
		dst = append(dst, `,"bar":`...)
		dst = strconv.AppendFloat(dst, row.Bar, 'g', -1, 64)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"as_of":`...)
	dst = jsonw.AppendString(dst, r.AsOf)
	return append(dst, '}')
}

// MarshalJSON encodes r as AppendJSON does.
func (r Ranking) MarshalJSON() ([]byte, error) { return r.AppendJSON(make([]byte, 0, 1024)), nil }

func appendFloat(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, *f, 'g', -1, 64)
}
