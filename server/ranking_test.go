package server

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
)

// fakeIndicators is a fixed set of live values.
type fakeIndicators []engine.Result

func (f fakeIndicators) Results(engine.Period, bool) ([]engine.Result, error) { return f, nil }
func (f fakeIndicators) Now() int64                                           { return 0 }

func rate(ind, reg string, num, den int64) engine.Result {
	return engine.Result{Indicator: ind, Region: reg, Numerator: num, Denominator: den, Rate: true}
}

func TestRankTiesNullsDirection(t *testing.T) {
	rs := []engine.Result{
		rate("on_time_rate", "620100", 9, 10),
		rate("on_time_rate", "620200", 8, 10),
		rate("on_time_rate", "620300", 4, 5), // 0.8 ties 620200
		rate("on_time_rate", "620400", 0, 0), // null
		rate("on_time_rate", "620500", 1, 2),
		rate("on_time_rate", "620802", 1, 1), // a county: not a child of the province
		rate("on_time_rate", "620000", 1, 1), // the province itself
		{Indicator: "overdue_open", Region: "620100", Numerator: 5},
		{Indicator: "overdue_open", Region: "620200", Numerator: 1},
	}
	names := region.Default()
	def, _ := indicator.Lookup("on_time_rate")
	got := rank(rs, def, "620000", names)
	want := []struct {
		region string
		rank   int
	}{{"620100", 1}, {"620200", 2}, {"620300", 2}, {"620500", 4}, {"620400", 0}}
	if len(got) != len(want) {
		t.Fatalf("ranked %d units, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Region != w.region || got[i].Rank != w.rank {
			t.Errorf("row %d = %s rank %d, want %s rank %d", i, got[i].Region, got[i].Rank, w.region, w.rank)
		}
	}
	if got[0].Name != "兰州市" {
		t.Errorf("name of 620100 = %q", got[0].Name)
	}
	lower, _ := indicator.Lookup("overdue_open")
	if got := rank(rs, lower, "620000", names); got[0].Region != "620200" {
		t.Errorf("lower-is-better ranking starts with %s, want 620200", got[0].Region)
	}
}

// TestRankingPageIsOffline renders the page and checks that every script it
// loads is served by Yiping itself.
func TestRankingPageIsOffline(t *testing.T) {
	s := New(Config{}, fakeIndicators{rate("answer_rate", "620100", 95, 100), rate("answer_rate", "620800", 90, 100)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/screens/ranking?indicator=answer_rate&period=day&region=620000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, "接通率") || !strings.Contains(page, "兰州市") || !strings.Contains(page, "95") {
		t.Fatalf("page %d:\n%.600s", resp.StatusCode, page)
	}
	srcs := regexp.MustCompile(`<script[^>]+src="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) == 0 {
		t.Fatal("page loads no script")
	}
	for _, m := range srcs {
		if !strings.HasPrefix(m[1], "/assets/") {
			t.Errorf("script %s is not served by Yiping", m[1])
			continue
		}
		r, err := srv.Client().Get(srv.URL + m[1])
		if err != nil || r.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", m[1], err, r)
		}
		if r != nil {
			r.Body.Close()
		}
	}
	for _, bad := range []string{"?indicator=nope", "?period=decade", "?region=12"} {
		r, _ := srv.Client().Get(srv.URL + "/screens/ranking" + bad)
		if r.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", bad, r.StatusCode)
		}
		r.Body.Close()
	}
}
