package widget

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

// TestKinds: every type has a name of its own and a script that registers
// the painter of that name.
func TestKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Name] {
			t.Errorf("type %s registered twice", k.Name)
		}
		seen[k.Name] = true
		if !strings.Contains(k.Script, `Wall.kind("`+k.Name+`", function (w, wall) {`) {
			t.Errorf("%s: its script registers no painter %q", k.Name, k.Name)
		}
		if got, ok := Lookup(k.Name); !ok || got.Name != k.Name {
			t.Errorf("Lookup(%s) = %v, %v", k.Name, got.Name, ok)
		}
	}
}

// fakeData serves every value from one rate per region: 90 % in 620100,
// 50 % elsewhere.
type fakeData struct{ p *live.Presenter }

func (f fakeData) at() live.Stamp { return f.p.Stamp(1763900000000000000) }

func (f fakeData) result(ind, reg string) engine.Result {
	n := int64(50)
	if reg == "620100" {
		n = 90
	}
	return engine.Result{Indicator: ind, Region: reg, Numerator: n, Denominator: 100, Rate: true}
}

func (f fakeData) Value(ind, reg, period string) live.Value {
	return f.p.Value(f.result(ind, reg), period, f.at())
}

func (f fakeData) Ranking(ind, parent, period string) live.Ranking {
	by := map[string]engine.Result{}
	scores := map[string]live.Score{}
	for _, c := range f.p.Regions().Children(region.Code(parent)) {
		by[string(c)] = f.result(ind, string(c))
		x := float64(by[string(c)].Numerator)
		scores[string(c)] = live.Score{Region: string(c), Score: &x, Display: &x, Text: "x", Status: f.p.TierStatus(x)}
	}
	if ind == live.Composite {
		return f.p.RankScores(parent, period, scores, f.at())
	}
	return f.p.Rank(ind, parent, period, by, f.at())
}

func (f fakeData) Series(ind, reg string, days int) Series {
	s := Series{Dates: make([]string, days), Points: make([]*float64, days)}
	for i := range s.Dates {
		s.Dates[i] = "2026-11-" + string(rune('0'+i/10)) + string(rune('0'+i%10))
	}
	return s
}

func (fakeData) Sources() []string { return []string{"demo-cases"} }

// Reports is a board of three reports, the first titled with markup.
func (fakeData) Reports(reg string) ReportBoard {
	return ReportBoard{Region: reg, RegionName: "甘肃省", Unacked: 2, AsOf: "2026-06-01T10:05:00+08:00", Reports: []ReportItem{
		{ID: "a1", Rule: "answer", Title: `<img src=x onerror=alert(1)>`, TitleEN: "Answer rate low", Severity: "critical",
			Region: "620802", RegionName: "崆峒区", Text: "今日接通率 50.00%，低于阈值 90.00%", TextEN: "Answer rate today 50.00%, below 90.00%",
			State: "firing", FiredAt: "2026-06-01T10:01:00+08:00", FiredText: "06-01 10:01"},
		{ID: "b2", Rule: "on-time", Title: "按时办结率低", Severity: "warning", Region: "620102", RegionName: "城关区",
			Text: "今日按时办结率 80.00%", State: "acknowledged", FiredAt: "2026-06-01T09:30:00+08:00", FiredText: "06-01 09:30", AckedBy: "张三"},
		{ID: "c3", Rule: "silent", Title: "数据源中断", Severity: "info", Region: "620000", RegionName: "甘肃省",
			Text: "demo-cases 已 30 分钟无数据", State: "firing", FiredAt: "2026-06-01T08:00:00+08:00", FiredText: "06-01 08:00"},
	}}
}

// Surges is a board of three surges, the first a category named with
// markup.
func (fakeData) Surges(reg string) live.SurgeBoard {
	return live.SurgeBoard{Region: reg, RegionName: "甘肃省", AsOf: "2026-06-01T10:05:00+08:00", Rows: []live.SurgeRow{
		{Category: `</script><img src=x onerror=alert(1)>`, Region: "620802", RegionName: "崆峒区", Window: "day", Method: "nb_cusum",
			Count: 42, Expected: 9.5, Excess: 32.5, Score: 30, Since: "2026-06-01T09:10:00+08:00",
			ExpectedText: "9.5", ExcessText: "+32.5", SinceClock: "09:10"},
		{Category: "供暖", Region: "620102", RegionName: "城关区", Window: "hour", Method: "ears_c3",
			Count: 12, Expected: 2, Excess: 10, Score: 14, Since: "2026-06-01T10:00:00+08:00",
			ExpectedText: "2", ExcessText: "+10", SinceClock: "10:00"},
		{Category: "噪音", Region: "620100", RegionName: "兰州市", Window: "day", Method: "ears_c1",
			Count: 9, Expected: 3.1, Excess: 5.9, Score: 4, Since: "2026-06-01T08:00:00+08:00",
			ExpectedText: "3.1", ExcessText: "+5.9", SinceClock: "08:00"},
	}}
}

// Orders is a board of three open orders of four, the first overdue and
// addressed to a unit named with markup.
func (fakeData) Orders(reg string) OrderBoard {
	return OrderBoard{Region: reg, RegionName: "甘肃省", Open: 4, Overdue: 1, AsOf: "2026-06-01T10:05:00+08:00", Orders: []OrderItem{
		{ID: "D1", Title: "接通率整改", Unit: "620802", UnitName: `</script><img src=x onerror=alert(1)>`, Dept: "<b>民政局</b>",
			State: "signed", Timing: "overdue", Deadline: "2026-05-30T00:00:00+08:00", DeadlineText: "05-30 00:00"},
		{ID: "D2", Title: "按时办结率", Unit: "620102", UnitName: "城关区", State: "issued", Timing: "due_soon", Deadline: "2026-06-02T00:00:00+08:00", DeadlineText: "06-02 00:00"},
		{ID: "D3", Title: "满意率", Unit: "620100", UnitName: "兰州市", State: "replied", Timing: "waiting", Deadline: "2026-06-03T00:00:00+08:00", DeadlineText: "06-03 00:00"},
	}}
}

// TestRender draws one widget of every type: the first paint comes from
// the payloads (the value elements carry the server's text and status),
// and the config a script reads is JSON.
func TestRender(t *testing.T) {
	p := live.NewPresenter(nil, nil, nil)
	specs := map[string]Spec{
		"tiles":   &Tiles{Indicators: []string{"on_time_rate"}},
		"map":     &Map{ColorBy: live.Composite, Drill: true},
		"ranking": &Ranking{Indicators: []string{"on_time_rate"}, Rotate: defaultRotate, Rows: 14},
		"bar":     &Bar{Indicator: "on_time_rate", Rows: 5},
		"gauge":   &Gauge{Indicators: []string{"answer_rate"}},
		"ticker":  &Ticker{Source: SourceTickets, Rows: 20},
		"health":  &Health{},
		"trend":   &Trend{Indicator: "on_time_rate", Days: 3},
		"reports": &Reports{Rows: 2},
		"surge":   &Surge{Rows: 2},
		"orders":  &Orders{Rows: 2},
	}
	for _, k := range Kinds() {
		spec, ok := specs[k.Name]
		if !ok {
			t.Errorf("no render test for %s", k.Name)
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			pg := NewPage("zh", fakeData{p}, p)
			v, err := spec.Render(pg, Box{ID: "w0", W: 800, H: 600, Region: "620000", Period: "month"})
			if err != nil {
				t.Fatal(err)
			}
			if v.HTML == "" {
				t.Error("no HTML")
			}
			b, err := json.Marshal(v.Config)
			if err != nil || !json.Valid(b) {
				t.Fatalf("config: %v", err)
			}
			switch k.Name {
			case "tiles":
				want := `data-indicator="on_time_rate" data-region="620000" data-period="month" data-value="0.5" data-num="50" data-den="100">50.00%<`
				if !strings.Contains(string(v.HTML), want) || !strings.Contains(string(v.HTML), `class="val s-red"`) {
					t.Errorf("tile %s, want %s in red", v.HTML, want)
				}
			case "map":
				if len(pg.Scripts()) != 15 || !strings.Contains(string(b), `"topic":"rank:composite:620000:month"`) {
					t.Errorf("map of Gansu: %d map scripts, config %.200s", len(pg.Scripts()), b)
				}
			case "ranking":
				if !strings.Contains(string(v.HTML), `data-region="620100" data-rank="1"><span class="rk">1</span><span class="nm">兰州市</span>`) {
					t.Errorf("兰州市 (90 %%) is not first: %.400s", v.HTML)
				}
			case "trend":
				if !strings.Contains(string(b), `"topic":"ind:on_time_rate:620000:day"`) || v.Title != "按时办结率趋势（近3日）" {
					t.Errorf("trend %q, config %.200s", v.Title, b)
				}
			case "reports":
				// Two rows of three, in the board's order; markup stays text.
				for _, want := range []string{
					`<div class="reports" data-top="critical" data-unacked="2">`,
					`<span class="rp-unacked">未确认 2 条</span><span class="rp-total">共 3 条</span>`,
					`<li class="rp sev-critical" data-id="a1" data-state="firing"><div class="rp-line"><span class="rp-sev">严重</span><span class="rp-title">&lt;img src=x onerror=alert(1)&gt;</span><span class="rp-region">崆峒区</span><span class="rp-time">06-01 10:01</span><span class="rp-state">待确认</span></div><p class="rp-text">今日接通率 50.00%，低于阈值 90.00%</p></li>`,
					`<li class="rp sev-warning" data-id="b2" data-state="acknowledged">`, `<span class="rp-state">已确认 · 确认人 张三</span>`,
					`<span class="rp-more">另有 1 条</span>`,
				} {
					if !strings.Contains(string(v.HTML), want) {
						t.Errorf("no %s in %s", want, v.HTML)
					}
				}
				if strings.Contains(string(v.HTML), `data-id="c3"`) || !strings.Contains(string(b), `"topic":"report:620000"`) || v.Title != "特别呈报" {
					t.Errorf("reports %q, config %.300s", v.Title, b)
				}
			case "surge":
				// Two rows of three, in the board's order; the hostile
				// category stays text in the element and in its attribute
				// (html/template writes the excess's + as &#43;).
				for _, want := range []string{
					`<div class="surge" data-count="3">`,
					`<span class="sg-total">异常 3 项</span><span class="sg-more">另有 1 项</span>`,
					`<li class="sg win-day" data-category="&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" data-region="620802" data-window="day" data-method="nb_cusum">` +
						`<div class="sg-line"><span class="sg-cat">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</span><span class="sg-region">崆峒区</span><span class="sg-win">今日</span>` +
						`<span class="sg-count">42 件</span><span class="sg-base">基线 9.5</span><span class="sg-excess">&#43;32.5</span></div>` +
						`<div class="sg-meta"><span class="sg-method">负二项 CUSUM</span><span class="sg-since">09:10 起</span></div></li>`,
					`<li class="sg win-hour" data-category="供暖" data-region="620102" data-window="hour" data-method="ears_c3">`,
					`<span class="sg-win">近1小时</span><span class="sg-count">12 件</span><span class="sg-base">基线 2</span><span class="sg-excess">&#43;10</span>`,
				} {
					if !strings.Contains(string(v.HTML), want) {
						t.Errorf("no %s in %s", want, v.HTML)
					}
				}
				if strings.Contains(string(v.HTML), "<img") || strings.Contains(string(v.HTML), "</script>") || strings.Contains(string(v.HTML), "噪音") {
					t.Errorf("markup or a third row in %s", v.HTML)
				}
				if !strings.Contains(string(b), `"topic":"surge:620000"`) || !strings.Contains(string(b), `"rows":2`) || v.Title != "趋势感知" {
					t.Errorf("surge %q, config %.300s", v.Title, b)
				}
			case "orders":
				// Two rows of four, overdue first and classed for red; the
				// hostile unit name and department stay text.
				for _, want := range []string{
					`<div class="orders" data-overdue="1">`,
					`<span class="od-open">未办结 4 件</span><span class="od-late">超期 1 件</span><span class="od-more">另有 2 件</span>`,
					`<li class="od t-overdue" data-id="D1" data-state="signed" data-timing="overdue">` +
						`<span class="od-unit">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; · &lt;b&gt;民政局&lt;/b&gt;</span>` +
						`<span class="od-title">接通率整改</span><span class="od-timing">超期</span><span class="od-state">办理中</span><span class="od-due">时限 05-30 00:00</span></li>`,
					`<li class="od t-due_soon" data-id="D2" data-state="issued" data-timing="due_soon"><span class="od-unit">城关区</span>`,
				} {
					if !strings.Contains(string(v.HTML), want) {
						t.Errorf("no %s in %s", want, v.HTML)
					}
				}
				if strings.Contains(string(v.HTML), "<img") || strings.Contains(string(v.HTML), "<b>") || strings.Contains(string(v.HTML), "D3") {
					t.Errorf("markup or a third row in %s", v.HTML)
				}
				if !strings.Contains(string(b), `"topic":"orders:620000"`) || !strings.Contains(string(b), `"rows":2`) || v.Title != "督办事项" {
					t.Errorf("orders %q, config %.300s", v.Title, b)
				}
			}
		})
	}
}
