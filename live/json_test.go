package live

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestPayloadJSON: the hand-written encodings read back into the same
// values encoding/json would produce, for plain and hostile strings and
// nulls.
func TestPayloadJSON(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	d := int64(7)
	for _, v := range []Value{
		{Indicator: "answer_rate", Region: "620802", Period: "day", Numerator: 3, Denominator: &d, Value: f(3.0 / 7), Display: f(42.86), Text: "42.86%", Status: "red", AsOf: "2026-12-03T10:00:00+08:00", Date: "2026-12-03"},
		{Indicator: "case_volume", Region: "620000", Period: "month", Numerator: 12, Text: "—"},
		{Indicator: `</script>"\`, Region: "部门\n", Text: "<b>&"},
	} {
		b := v.AppendJSON(nil)
		var back Value
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("Value %s read back as %+v (%v)", b, back, err)
		}
	}
	r := Ranking{Indicator: "answer_rate", Region: "620800", Period: "day", AsOf: "x", Rows: []RankRow{
		{Region: "620802", Name: "崆峒区", Rank: 1, Value: f(0.9), Display: f(90), Text: "90.00%", Status: "green", Bar: 100},
		{Region: "620821", Name: "<泾川>", Text: "—"},
	}}
	b := r.AppendJSON(nil)
	var back Ranking
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("Ranking %s read back as %+v (%v)", b, back, err)
	}
	if empty := (Ranking{Indicator: "x"}).AppendJSON(nil); !json.Valid(empty) {
		t.Errorf("empty ranking %s", empty)
	}
}
