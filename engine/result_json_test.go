package engine

import (
	"encoding/json"
	"testing"
)

func TestResultJSON(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{Indicator: "on_time_rate", Region: "620800", Numerator: 3, Denominator: 4, Rate: true},
			`{"indicator": "on_time_rate", "region": "620800", "dept": "", "numerator": 3, "denominator": 4, "value": 0.75}`},
		{Result{Indicator: "on_time_rate", Region: "620800", Rate: true},
			`{"indicator": "on_time_rate", "region": "620800", "dept": "", "numerator": 0, "denominator": 0, "value": null}`},
		{Result{Indicator: "case_volume", Region: "620000", Dept: "民政厅", Numerator: 12},
			`{"indicator": "case_volume", "region": "620000", "dept": "民政厅", "numerator": 12, "denominator": null, "value": 12}`},
		{Result{Indicator: "case_volume", Region: "620000", Dept: "</script>\"\\"},
			`{"indicator": "case_volume", "region": "620000", "dept": "\u003c/script\u003e\"\\", "numerator": 0, "denominator": null, "value": 0}`},
	} {
		got := string(tc.r.AppendJSON(nil))
		if got != tc.want {
			t.Errorf("AppendJSON =\n %s\nwant\n %s", got, tc.want)
		}
		var back map[string]any
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("not JSON: %v", err)
		}
		m, _ := json.Marshal(tc.r)
		var compact map[string]any
		if err := json.Unmarshal(m, &compact); err != nil || len(compact) != 6 {
			t.Errorf("MarshalJSON = %s (%v)", m, err)
		}
	}
}
