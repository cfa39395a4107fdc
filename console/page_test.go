package console

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestViewIsThePageData: /api/view answers exactly the data the page
// starts from (one shape for the first view and every later one), with
// the charts composed, the compare list cut to its last four units and
// the links of the view.
func TestViewIsThePageData(t *testing.T) {
	s := loadSample(t)
	_, app := s.console(t)
	for _, q := range []string{
		"region=620000&compare=620100,620200,620300,620400,620500&" + asOfQ,
		"indicator=composite&region=620100&level=township&lang=en&" + asOfQ,
		"indicator=satisfaction_rate&region=620100&by=dept&level=county&" + asOfQ,
	} {
		code, page, _ := get(t, app, "/console?"+q)
		if code != 200 {
			t.Fatalf("%s: page %d", q, code)
		}
		m := regexp.MustCompile(`(?s)<script type="application/json" id="console-data">(.*?)</script>`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("%s: no console-data element", q)
		}
		code, view, _ := get(t, app, "/api/view?"+q)
		if code != 200 {
			t.Fatalf("%s: view %d %s", q, code, view)
		}
		if !bytes.Equal(bytes.TrimSpace(m[1]), bytes.TrimSpace(view)) {
			t.Errorf("%s: /api/view differs from the page's data", q)
		}
		var d pageData
		if err := json.Unmarshal(view, &d); err != nil {
			t.Fatal(err)
		}
		var chart, trend json.RawMessage
		switch {
		case d.Ranking != nil:
			chart = d.Ranking.Chart
			trend = d.Trend.Chart
		case d.Composite != nil:
			chart = d.Composite.Chart
		}
		var opt struct {
			Series []struct {
				Type string `json:"type"`
				Data []any  `json:"data"`
			} `json:"series"`
		}
		if err := json.Unmarshal(chart, &opt); err != nil || len(opt.Series) != 1 || opt.Series[0].Type != "bar" {
			t.Errorf("%s: rank chart %.200s (%v)", q, chart, err)
		}
		if d.Ranking != nil && (len(trend) == 0 || !strings.Contains(string(trend), `"type":"line"`)) {
			t.Errorf("%s: trend chart %.200s", q, trend)
		}
		if !strings.HasPrefix(d.Links.Self, "/console?") || !strings.HasPrefix(d.Links.CSV, "/api/export/ranking.csv?") {
			t.Errorf("%s: links %+v", q, d.Links)
		}
	}
	var d pageData
	getJSON(t, app, "/api/view?region=620000&compare=620100,620200,620300,620400,620500&"+asOfQ, &d)
	if got := strings.Join(d.State.Compare, ","); got != "620200,620300,620400,620500" || len(d.Compare) != 4 {
		t.Errorf("compare %q (%d units), want the last four", got, len(d.Compare))
	}
	if !strings.Contains(d.Links.Self, "compare=620200%2C620300%2C620400%2C620500") || strings.Contains(d.Links.CSV, "compare") {
		t.Errorf("links %+v", d.Links)
	}
	getJSON(t, app, "/api/view?indicator=on_time_rate&region=620100&by=dept&level=county&"+asOfQ, &d)
	if d.State.Level != "" || !d.LevelsDisabled || d.Ranking.By != "dept" {
		t.Errorf("by=dept: level %q, levels disabled %v, by %q", d.State.Level, d.LevelsDisabled, d.Ranking.By)
	}
	if code, b, _ := get(t, app, "/api/view?regoin=620100"); code != 400 {
		t.Errorf("unknown parameter: %d %s", code, b)
	}
}
