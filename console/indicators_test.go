package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
)

// indicatorsAnswer is the answer of /api/indicators.
type indicatorsAnswer struct {
	AsOf    string  `json:"as_of"`
	Period  string  `json:"period"`
	Region  string  `json:"region"`
	Below   bool    `json:"below"`
	Results []res   `json:"results"`
	Next    *string `json:"next"`
}

// res is one result in engine.Result's JSON shape.
type res struct {
	Indicator   string   `json:"indicator"`
	Region      string   `json:"region"`
	Dept        string   `json:"dept"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Value       *float64 `json:"value"`
}

func (r res) String() string { return r.Indicator + "/" + r.Region + "/" + r.Dept }

// indicatorsConsole serves live values of a province, a city, a county, a
// township, another city and their departments, in no particular order.
func indicatorsConsole(t *testing.T) *Console {
	t.Helper()
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	var rs []engine.Result
	for _, reg := range []string{"620102001", "620200", "620000", "620102", "620100"} {
		rs = append(rs, engine.Result{Indicator: "overdue_open", Region: reg, Numerator: 7}, rateResult("answer_rate", reg, 9, 10))
		for _, dept := range []string{"民政局", "</script>"} {
			rs = append(rs, engine.Result{Indicator: "overdue_open", Region: reg, Dept: dept, Numerator: 7},
				engine.Result{Indicator: "answer_rate", Region: reg, Dept: dept, Rate: true})
		}
	}
	c, err := New(Config{Live: &fakeLive{now: now.UnixNano(), rs: rs}, History: &fakeHistory{}, Regions: region.Default(),
		Location: loc, Logger: quietLogger(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getIndicators(t *testing.T, c *Console, query string) indicatorsAnswer {
	t.Helper()
	var a indicatorsAnswer
	getJSON(t, mount(c), "/api/indicators?"+query, &a)
	return a
}

func names(rs []res) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.String())
	}
	return strings.Join(s, " ")
}

// TestIndicatorsScope: an answer covers one region (exactly, or with
// below=true the region and what is below it), one indicator when asked,
// departments only for an explicit region, sorted; the default region is
// the console's.
func TestIndicatorsScope(t *testing.T) {
	c := indicatorsConsole(t)
	for _, tc := range []struct{ query, want string }{
		// What serve_test and the pixel benchmark call: one region exactly.
		{"period=month&indicator=answer_rate&region=620100", "answer_rate/620100/"},
		{"period=day&region=620000", "answer_rate/620000/ overdue_open/620000/"},
		{"", "answer_rate/620000/ overdue_open/620000/"},
		{"indicator=overdue_open&region=620100&below=true",
			"overdue_open/620100/ overdue_open/620102/ overdue_open/620102001/"},
		{"indicator=overdue_open&region=620100&by=dept",
			"overdue_open/620100/ overdue_open/620100/</script> overdue_open/620100/民政局"},
		{"indicator=overdue_open&region=620102&below=true&by=dept",
			"overdue_open/620102/ overdue_open/620102/</script> overdue_open/620102/民政局 " +
				"overdue_open/620102001/ overdue_open/620102001/</script> overdue_open/620102001/民政局"},
		{"region=621200", ""},
	} {
		a := getIndicators(t, c, tc.query)
		if got := names(a.Results); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.query, got, tc.want)
		}
		if a.Next != nil || a.AsOf != "2026-10-09T12:00:00+08:00" || a.Period == "" || a.Results == nil {
			t.Errorf("%s: as_of %q period %q next %v results %v", tc.query, a.AsOf, a.Period, a.Next, a.Results)
		}
	}
	a := getIndicators(t, c, "indicator=answer_rate&region=620100")
	if r := a.Results[0]; r.Numerator != 9 || r.Denominator == nil || *r.Denominator != 10 || r.Value == nil || *r.Value != 0.9 {
		t.Errorf("rate in the compute shape: %+v", r)
	}
	a = getIndicators(t, c, "indicator=overdue_open&region=620100")
	if r := a.Results[0]; r.Denominator != nil || r.Value == nil || *r.Value != 7 {
		t.Errorf("count in the compute shape: %+v", r)
	}
}

// TestIndicatorsPaging walks an answer page by page with the cursor: the
// pages put together are the whole answer, in order, with no result twice.
func TestIndicatorsPaging(t *testing.T) {
	c := indicatorsConsole(t)
	whole := getIndicators(t, c, "region=620100&below=true&by=dept&limit=10000")
	if len(whole.Results) != 18 {
		t.Fatalf("%d results, want 18: %s", len(whole.Results), names(whole.Results))
	}
	for _, limit := range []int{1, 2, 5, 17, 18} {
		var walked []res
		q := fmt.Sprintf("region=620100&below=true&by=dept&limit=%d", limit)
		for page := 0; ; page++ {
			a := getIndicators(t, c, q)
			if len(a.Results) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(a.Results))
			}
			walked = append(walked, a.Results...)
			if a.Next == nil {
				break
			}
			if page > 20 {
				t.Fatalf("limit %d: the walk does not end", limit)
			}
			q = fmt.Sprintf("region=620100&below=true&by=dept&limit=%d&cursor=%s", limit, url.QueryEscape(*a.Next))
		}
		if names(walked) != names(whole.Results) {
			t.Errorf("limit %d: walked\n %s\nwant\n %s", limit, names(walked), names(whole.Results))
		}
	}
	if a := getIndicators(t, c, "region=620100&below=true&by=dept"); len(a.Results) != 18 || a.Next != nil {
		t.Errorf("default limit: %d results, next %v", len(a.Results), a.Next)
	}
}

// TestIndicatorsBadParams: every bound is a 400 naming its parameter.
func TestIndicatorsBadParams(t *testing.T) {
	app := mount(indicatorsConsole(t))
	for _, tc := range []struct{ query, param string }{
		{"by=dept", "by"},
		{"by=person&region=620000", "by"},
		{"region=62", "region"},
		{"indicator=nope", "indicator"},
		{"period=decade", "period"},
		{"below=yes", "below"},
		{"limit=0", "limit"},
		{"limit=10001", "limit"},
		{"limit=x", "limit"},
		{"cursor=%%%", "cursor"},
		{"cursor=bm90IGpzb24", "cursor"},
		{"regoin=620100", "regoin"},
	} {
		code, b, _ := get(t, app, "/api/indicators?"+tc.query)
		var e errorBody
		if code != 400 || json.Unmarshal(b, &e) != nil || e.Param != tc.param {
			t.Errorf("%s: %d %s, want a 400 naming %s", tc.query, code, b, tc.param)
		}
	}
}

// TestIndicatorsFromEngine walks a province's monthly values by
// department from the real engine (its unsorted AppendResults) and
// compares them with engine.Results.
func TestIndicatorsFromEngine(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	rs, err := s.eng.Results(engine.Month, true)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rs {
		if within(region.Code(r.Region), "620100", true) {
			want = append(want, r.Indicator+"/"+r.Region+"/"+r.Dept)
		}
	}
	var got []string
	q := "period=month&region=620100&below=true&by=dept&limit=500"
	for {
		var a indicatorsAnswer
		getJSON(t, app, "/api/indicators?"+q, &a)
		for _, r := range a.Results {
			got = append(got, r.String())
		}
		if a.Next == nil {
			break
		}
		q = "period=month&region=620100&below=true&by=dept&limit=500&cursor=" + url.QueryEscape(*a.Next)
	}
	if len(want) < 1000 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("walked %d results, want the engine's %d", len(got), len(want))
	}
}

// TestIndicatorsBounded: however much the engine holds, one answer holds
// at most limit results (default 1000, at most 10,000). A province's
// yearly values by department once came as one 31 MB answer.
func TestIndicatorsBounded(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	var rs []engine.Result
	for i := 1; i <= 999; i++ {
		for d := range 12 {
			rs = append(rs, rateResult("answer_rate", fmt.Sprintf("620102%03d", i), 9, 10))
			rs[len(rs)-1].Dept = fmt.Sprintf("dept-%02d", d)
		}
	}
	c, err := New(Config{Live: &fakeLive{now: now.UnixNano(), rs: rs}, History: &fakeHistory{}, Regions: region.Default(),
		Location: loc, Logger: quietLogger(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	app := mount(c)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"period=year&region=620000&below=true&by=dept", defaultLimit},
		{"period=year&region=620000&below=true&by=dept&limit=10000", 10000},
	} {
		code, b, _ := get(t, app, "/api/indicators?"+tc.query)
		var a indicatorsAnswer
		if code != 200 || json.Unmarshal(b, &a) != nil {
			t.Fatalf("%s: %d %.300s", tc.query, code, b)
		}
		if len(a.Results) != tc.want || a.Next == nil {
			t.Errorf("%s: %d results (next %v), want %d and a cursor", tc.query, len(a.Results), a.Next, tc.want)
		}
		if perResult := len(b) / len(a.Results); perResult > 200 {
			t.Errorf("%s: %d bytes a result", tc.query, perResult)
		}
	}
}
