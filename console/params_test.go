package console

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBadParams: every bad parameter is a 400 with a JSON error in
// Chinese and English that names the parameter.
func TestBadParams(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	cases := []struct{ url, param string }{
		{"/api/ranking", "indicator"},
		{"/api/ranking?indicator=nope", "indicator"},
		{"/api/ranking?indicator=composite", "indicator"},
		{"/api/ranking?indicator=answer_rate&period=fortnight", "period"},
		{"/api/ranking?indicator=answer_rate&region=62", "region"},
		{"/api/ranking?indicator=answer_rate&region=999999", "region"},
		{"/api/ranking?indicator=answer_rate&region=abcdef", "region"},
		{"/api/ranking?indicator=answer_rate&level=village", "level"},
		{"/api/ranking?indicator=answer_rate&region=620100&level=city", "level"},
		{"/api/ranking?indicator=answer_rate&level=county&by=dept", "level"},
		{"/api/ranking?indicator=answer_rate&by=person", "by"},
		{"/api/ranking?indicator=answer_rate&as_of=yesterday", "as_of"},
		{"/api/ranking?indicator=answer_rate&as_of=2026-10-09T12:00:00", "as_of"},
		{"/api/ranking?indicator=answer_rate&as_of=2026-02-30", "as_of"},
		{"/api/ranking?indicator=answer_rate&as_of=2027-01-01", "as_of"},
		{"/api/ranking?indicator=answer_rate&as_of=1999-12-31", "as_of"},
		{"/api/ranking?indicator=answer_rate&regoin=620100", "regoin"},
		{"/api/composite?period=hour", "period"},
		{"/api/composite?indicator=answer_rate", "indicator"},
		{"/api/units/6201", "region"},
		{"/api/units/620100?dept=%22x%22", "dept"},
		{"/api/units/620100?as_of=soon", "as_of"},
		{"/api/trend?region=620100", "indicator"},
		{"/api/trend?indicator=answer_rate&rollup=week", "rollup"},
		{"/api/trend?indicator=answer_rate&rollup=none&from=2026-01-01&to=2026-10-01", "rollup"},
		{"/api/trend?indicator=answer_rate&from=2026-10-02&to=2026-10-01", "from"},
		{"/api/trend?indicator=answer_rate&to=tomorrow", "to"},
		{"/api/regions/12", "code"},
		{"/api/regions/620100?x=1", "x"},
		{"/api/export/ranking.csv?indicator=nope", "indicator"},
		{"/api/export/ranking.xlsx?indicator=answer_rate&period=x", "period"},
	}
	for _, tc := range cases {
		code, b, hdr := get(t, app, tc.url)
		if code != 400 {
			t.Errorf("%s: status %d, want 400 (%s)", tc.url, code, b)
			continue
		}
		if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", tc.url, hdr.Get("Content-Type"))
		}
		var e errorBody
		if err := json.Unmarshal(b, &e); err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if e.Param != tc.param || !strings.Contains(e.Error, "参数 "+tc.param) || !strings.Contains(e.Error, "parameter "+tc.param) {
			t.Errorf("%s: error %q param %q, want one naming %s in both languages", tc.url, e.Error, e.Param, tc.param)
		}
		if strings.Contains(e.Error, "%!") {
			t.Errorf("%s: formatting noise in %q", tc.url, e.Error)
		}
	}
}

// TestPageFallsBack: the page shows a bad parameter's default and says
// what was wrong rather than failing.
func TestPageFallsBack(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	code, b, _ := get(t, app, "/console?indicator=nope&region=999999&"+asOfQ)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{`未知指标 \"nope\"`, "未知地区 999999", `"region":"620000"`, `"indicator":"on_time_rate"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestTimeParamMessages: a time parameter outside the accepted dates, or
// in no accepted form, is a 400 with a clean sentence naming the parameter
// and the accepted range or forms: no fmt noise (%!(EXTRA …)) and no local
// mean time offset (+08:05, Shanghai before 1901).
func TestTimeParamMessages(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	const rangeEN = "outside the accepted range 2000-01-01 to 2199-12-31"
	for _, tc := range []struct{ url, param, want string }{
		{"/api/trend?indicator=answer_rate&to=9999-12-31", "to", rangeEN},
		{"/api/trend?indicator=answer_rate&from=1900-01-01", "from", rangeEN},
		{"/api/trend?indicator=answer_rate&from=1900-01-01T00:00:00%2B08:00", "from", rangeEN},
		{"/api/trend?indicator=answer_rate&to=2200-01-01", "to", rangeEN},
		{"/api/trend?indicator=answer_rate&from=1969-12-31", "from", rangeEN},
		{"/api/ranking?indicator=answer_rate&as_of=1900-01-01", "as_of", rangeEN},
		{"/api/units/620100?as_of=1999-12-31", "as_of", rangeEN},
		{"/api/trend?indicator=answer_rate&to=tomorrow", "to", "want YYYY-MM-DD or RFC 3339 with an offset"},
		{"/api/trend?indicator=answer_rate&from=2026-02-30", "from", "want YYYY-MM-DD or RFC 3339 with an offset"},
		{"/api/ranking?indicator=answer_rate&as_of=2027-01-01", "as_of", "in the future"},
	} {
		code, b, _ := get(t, app, tc.url)
		var e errorBody
		if code != 400 || json.Unmarshal(b, &e) != nil {
			t.Errorf("%s: %d %s", tc.url, code, b)
			continue
		}
		if e.Param != tc.param || !strings.Contains(e.Error, "参数 "+tc.param) || !strings.Contains(e.Error, "parameter "+tc.param) {
			t.Errorf("%s: %q does not name %s", tc.url, e.Error, tc.param)
		}
		if !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %q does not say %q", tc.url, e.Error, tc.want)
		}
		if strings.Contains(e.Error, "%!") || strings.Contains(e.Error, "+08:05") || strings.Contains(e.Error, "LMT") {
			t.Errorf("%s: unclean message %q", tc.url, e.Error)
		}
	}
	// The page falls back with the same sentence.
	_, b, _ := get(t, app, "/console?as_of=9999-12-31")
	if !strings.Contains(string(b), rangeEN) || strings.Contains(string(b), "%!") {
		t.Error("the page does not explain the bad as_of")
	}
}
