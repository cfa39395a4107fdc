package bulletin

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/scoring"
)

const monthlyYAML = `
bulletins:
  - name: gansu-monthly
    type: monthly
    title: 甘肃省政务服务数据月报
    regions: ["620000"]
    at: "09:00"
    workday: 3
`

type fakeSpecials []Special

func (f fakeSpecials) Specials(_ context.Context, region string, from, to time.Time) ([]Special, error) {
	var out []Special
	for _, s := range f {
		if !s.FiredAt.Before(from) && s.FiredAt.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

// monthlyData builds September 2026's 月报 of Gansu from the sample.
func monthlyData(t testing.TB, s *sample) (*Bulletin, *Data) {
	t.Helper()
	b, _ := mustParse(t, monthlyYAML).Lookup("gansu-monthly")
	sp := fakeSpecials{{Title: "兰州市接通率低于底线", Region: "620100", RegionName: "兰州市", Severity: "严重", State: "已解除",
		Text: "本月接通率 72.10%，低于底线 75.00%", FiredAt: time.Date(2026, 9, 12, 10, 5, 0, 0, s.loc)}}
	bd, err := NewBuilder(BuilderConfig{History: s.st, Location: s.loc, Specials: sp,
		Now: func() time.Time { return time.Date(2026, 10, 10, 9, 0, 0, 0, s.loc) }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := bd.Build(context.Background(), b, "620000", PeriodOf(Monthly, time.Date(2026, 9, 15, 0, 0, 0, 0, s.loc), s.loc))
	if err != nil {
		t.Fatal(err)
	}
	return b, d
}

// TestBuildExactAsOfPeriodEnd: the bulletin's values are the engine's at
// the end of September, not later; 环比 against August, no 同比.
func TestBuildExactAsOfPeriodEnd(t *testing.T) {
	s := loadSample(t)
	_, d := monthlyData(t, s)
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, s.loc).Add(-time.Second)
	for _, l := range d.Overview {
		r := s.result(t, end, engine.Month, l.Indicator.ID, "620000")
		if l.Value.Numerator != r.Numerator || (r.Rate && l.Value.Denominator != r.Denominator) || !l.Value.Has {
			t.Errorf("%s: bulletin %+v, engine %+v", l.Indicator.ID, l.Value, r)
		}
		if l.YoY.Delta != nil || l.YoY.Text != dash {
			t.Errorf("%s: 同比 %q without history last year", l.Indicator.ID, l.YoY.Text)
		}
	}
	if d.Title != "甘肃省政务服务数据月报（2026年9月）" {
		t.Errorf("title %q", d.Title)
	}
	if len(d.Rankings) != len(DefaultIndicators()) || len(d.Composite) != 14 {
		t.Errorf("%d rankings, %d composite rows", len(d.Rankings), len(d.Composite))
	}
	for _, rk := range d.Rankings {
		for i, row := range rk.Rows {
			if i > 0 && row.Rank != 0 && rk.Rows[i-1].Rank > row.Rank {
				t.Errorf("%s: ranks out of order", rk.Indicator.ID)
			}
		}
	}
	if len(d.Specials) != 1 || len(d.Lagging) == 0 {
		t.Errorf("%d specials, %d lagging", len(d.Specials), len(d.Lagging))
	}
}

// TestMonthlyPDF prints the 月报 of September 2026 from the sample in real
// headless Chromium and reads the PDF back with poppler.
//
// No chart straddles a page break, checked two ways. In the browser,
// before printing, with print media emulated: every chart wrapper is
// shorter than the A4 content box (a precondition: break-inside: avoid
// cannot keep a taller box on one page) and its SVG is rendered. In the
// PDF: each wrapper begins with its caption "图N …" and ends with its note
// "图N注：…"; if the wrapper were cut, its first and last lines would fall
// on different pages, so pdftotext of each page must hold both or
// neither, and the page holding them must hold the chart's own SVG text
// (its axis labels: the ranked units' names).
func TestMonthlyPDF(t *testing.T) {
	textBin, infoBin := pdftotext(t)
	s := loadSample(t)
	_, d := monthlyData(t, s)
	pages, err := NewPages("")
	if err != nil {
		t.Fatal(err)
	}
	html, err := pages.Render(d, scoring.Default().Tiers())
	if err != nil {
		t.Fatal(err)
	}
	path, remove := pages.Add(html)
	defer remove()
	srv := httptest.NewServer(pages)
	defer srv.Close()

	ctx := browsertest.Chrome(t, browsertest.Options{Width: 1000, Height: 1400, Timeout: 120 * time.Second})
	w := browsertest.Watch(ctx)
	pdf, err := PrintTab(ctx, srv.URL+path)
	if err != nil {
		t.Fatal(err)
	}
	w.Check(t, srv.URL)

	// In the browser, print media emulated (PrintTab left it on).
	var check struct {
		Figures   int      `json:"figures"`
		Rendered  int      `json:"rendered"`
		PageCSSPx float64  `json:"page"`
		TooTall   []string `json:"too_tall"`
		NoText    []string `json:"no_text"`
		Font      bool     `json:"font"`
	}
	err = chromedp.Run(ctx, chromedp.Evaluate(`(function () {
	  var mm = 96 / 25.4, page = (297 - 16 - 18) * mm;
	  var out = {figures: 0, rendered: 0, page: page, too_tall: [], no_text: [],
	    font: document.fonts.check('12px "Noto Sans SC"', "甘肃省月报")};
	  document.querySelectorAll("figure.chart-box").forEach(function (f) {
	    out.figures++;
	    var r = f.getBoundingClientRect();
	    if (r.height > page) out.too_tall.push(f.id + " " + r.height);
	    var svg = f.querySelector(".chart svg");
	    if (svg && f.querySelector(".chart[data-rendered]")) out.rendered++;
	    if (!svg || svg.querySelectorAll("text").length < 3) out.no_text.push(f.id);
	  });
	  return out;
	})()`, &check))
	if err != nil {
		t.Fatal(err)
	}
	if check.Figures != len(d.Rankings)+1 || check.Rendered != check.Figures || len(check.TooTall) > 0 || len(check.NoText) > 0 || !check.Font {
		t.Errorf("in the browser: %+v", check)
	}

	file := browsertest.Artifact(t, "bulletin-monthly-2026-09.pdf", pdf)
	info, err := exec.Command(infoBin, file).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo: no page count in\n%s", info)
	}
	n, _ := strconv.Atoi(string(m[1]))
	if n < 3 || n > 30 || CountPages(pdf) != n {
		t.Errorf("%d pages (CountPages %d)", n, CountPages(pdf))
	}
	if !regexp.MustCompile(`(?m)^Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)`).Match(info) {
		t.Errorf("not A4:\n%s", info)
	}
	t.Logf("PDF: %d pages, %d bytes", n, len(pdf))

	pageText := make([]string, n+1)
	all := ""
	for i := 1; i <= n; i++ {
		out, err := exec.Command(textBin, "-f", strconv.Itoa(i), "-l", strconv.Itoa(i), "-enc", "UTF-8", file, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext page %d: %v", i, err)
		}
		pageText[i] = strings.Join(strings.Fields(string(out)), "")
		all += pageText[i]
		// Page numbers from the footer template.
		if !strings.Contains(pageText[i], strconv.Itoa(i)+"/"+strconv.Itoa(n)) {
			t.Errorf("page %d: no page number %d / %d", i, i, n)
		}
	}
	for _, want := range []string{"甘肃省政务服务数据月报", "2026年9月", "一、总体情况", "需关注单位", "兰州市接通率低于底线"} {
		if !strings.Contains(pageText[1]+all, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if !strings.Contains(pageText[1], "甘肃省政务服务数据月报") {
		t.Error("page 1 lacks the title")
	}
	// A known value: Gansu's on-time rate of September, with its counts.
	r := s.result(t, time.Date(2026, 9, 30, 23, 59, 59, 0, s.loc), engine.Month, "on_time_rate", "620000")
	v, _ := r.Value()
	for _, want := range []string{numtext.Percent(v), numtext.Group(r.Numerator) + "/" + numtext.Group(r.Denominator)} {
		if !strings.Contains(pageText[1]+pageText[2], want) {
			t.Errorf("the first pages lack the on-time rate %q", want)
		}
	}
	// No chart cut across pages.
	for i, rk := range d.Rankings {
		num := strconv.Itoa(i + 2)
		caption, note := "图"+num+rk.Indicator.Name+"排名", "图"+num+"注："
		cp, np := 0, 0
		for p := 1; p <= n; p++ {
			if strings.Contains(pageText[p], caption) {
				cp = p
			}
			if strings.Contains(pageText[p], note) {
				np = p
			}
		}
		if cp == 0 || cp != np {
			t.Errorf("figure %s: caption on page %d, note on page %d", num, cp, np)
			continue
		}
		for _, row := range rk.Rows[:3] {
			if !strings.Contains(pageText[cp], row.Unit.Name) {
				t.Errorf("figure %s: page %d lacks its axis label %s", num, cp, row.Unit.Name)
			}
		}
	}
}
