package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/live"
)

// low and ok set the answer rate of 崆峒区 (620802, 平凉市 620800) today.
func (h *harness) low()  { h.in.set("answer_rate", "620802", engine.Day, 80, 100) }
func (h *harness) fine() { h.in.set("answer_rate", "620802", engine.Day, 99, 100) }

func TestFor(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "for: 5m\n    worse_than:", 1))
	h.low()
	h.at(t0)
	h.none("620000") // pending: not a report yet
	h.at(t0.Add(2 * time.Minute))
	h.fine() // the condition breaks: the wait starts again
	h.at(t0.Add(3 * time.Minute))
	h.low()
	h.at(t0.Add(4 * time.Minute))
	h.at(t0.Add(8*time.Minute + 59*time.Second))
	h.none("620000")
	h.expectSent()
	h.at(t0.Add(9 * time.Minute))
	r := h.only("620000")
	if r.State != StateFiring || r.FiredAt != "2026-06-01T10:09:00+08:00" || r.Text != "今日接通率 80.00%，低于阈值 90.00%" {
		t.Errorf("report %+v", r)
	}
	h.expectSent("firing county 620802 (1)")
}

func TestRepeat(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "escalate: []\n    worse_than:", 1))
	h.low()
	h.at(t0)
	h.expectSent("firing county 620802 (1)")
	h.at(t0.Add(59 * time.Minute))
	h.expectSent()
	h.at(t0.Add(time.Hour))
	h.expectSent("repeat county 620802 (1)")
	h.at(t0.Add(90 * time.Minute))
	h.expectSent()
	h.at(t0.Add(2 * time.Hour))
	h.expectSent("repeat county 620802 (1)")
}

func TestEscalation(t *testing.T) {
	h := newHarness(t, answerRule)
	h.low()
	h.at(t0)
	h.expectSent("firing county 620802 (1)")
	h.at(t0.Add(29 * time.Minute))
	h.expectSent()
	h.at(t0.Add(30 * time.Minute))
	h.expectSent("escalation city 620800 (1)")
	if r := h.only("620802"); r.Escalation != 1 || r.Level != "city" {
		t.Errorf("after the first step: %+v", r)
	}
	// The repeat goes to the level reached, an hour after it was told.
	h.at(t0.Add(89 * time.Minute))
	h.expectSent()
	h.at(t0.Add(90 * time.Minute))
	h.expectSent("repeat city 620800 (1)")
	// The province step counts from the first notification: 2h in all.
	h.at(t0.Add(119 * time.Minute))
	h.expectSent()
	h.at(t0.Add(2 * time.Hour))
	h.expectSent("escalation province 620000 (1)")
	h.at(t0.Add(3 * time.Hour))
	h.expectSent("repeat province 620000 (1)")
	if r := h.only("620802"); r.Escalation != 2 || r.Level != "province" {
		t.Errorf("after the ladder: %+v", r)
	}
}

func TestEscalationRounds(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "repeat: 0\n    escalate_repeat: 1\n    worse_than:", 1))
	h.low()
	var got []string
	for m := 0; m <= 300; m += 10 {
		h.at(t0.Add(time.Duration(m) * time.Minute))
		for _, s := range h.send.take() {
			got = append(got, fmt.Sprintf("%dm %s", m, s))
		}
	}
	want := []string{"0m firing county 620802 (1)", "30m escalation city 620800 (1)", "120m escalation province 620000 (1)",
		"150m escalation city 620800 (1)", "240m escalation province 620000 (1)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// A city's report is first told to the city: the ladder's "to: city" is
// not above it and passes, the province step keeps its time.
func TestEscalationSkipsOwnLevel(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "level: county", "level: city", 1))
	h.in.set("answer_rate", "620800", engine.Day, 1, 100)
	h.at(t0)
	h.expectSent("firing city 620800 (1)")
	h.at(t0.Add(30 * time.Minute))
	h.expectSent()
	h.at(t0.Add(2 * time.Hour))
	h.expectSent("escalation province 620000 (1)")
}

func TestAckStopsEscalation(t *testing.T) {
	h := newHarness(t, answerRule)
	h.low()
	h.at(t0)
	h.expectSent("firing county 620802 (1)")
	id := h.only("620802").ID
	h.clock.Set(t0.Add(10 * time.Minute))
	r, err := h.m.Ack(context.Background(), id, "张三", "已安排加派坐席")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateAcknowledged || r.AckedBy != "张三" || r.AckComment != "已安排加派坐席" || r.AckedAt != "2026-06-01T10:10:00+08:00" {
		t.Errorf("acked %+v", r)
	}
	for _, m := range []time.Duration{30, 120, 180, 300} {
		h.at(t0.Add(m * time.Minute))
	}
	h.expectSent()
	// Still shown (acknowledged is open), and a second person may add
	// theirs.
	if r := h.only("620000"); r.State != StateAcknowledged {
		t.Errorf("%+v", r)
	}
	h.clock.Set(t0.Add(5*time.Hour + time.Minute))
	if _, err := h.m.Ack(context.Background(), id, "李四", "市级已知悉"); err != nil {
		t.Fatal(err)
	}
	h.fine()
	h.at(t0.Add(6 * time.Hour))
	h.expectSent("resolved county 620802 (1)")
	if _, err := h.m.Ack(context.Background(), id, "王五", ""); !errors.Is(err, ErrResolved) {
		t.Errorf("ack of a resolved report: %v", err)
	}
	if _, err := h.m.Ack(context.Background(), "nope", "王五", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack of no report: %v", err)
	}
	if _, err := h.m.Ack(context.Background(), id, "  ", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("ack without a name: %v", err)
	}
	d, err := h.m.Detail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var trans []string
	for _, tr := range d.Transitions {
		trans = append(trans, tr.From+">"+tr.To+" "+tr.Actor)
	}
	if want := []string{"pending>firing ", "firing>acknowledged 张三", "acknowledged>resolved "}; !slices.Equal(trans, want) {
		t.Errorf("transitions %q, want %q", trans, want)
	}
	if len(d.Acknowledgements) != 2 || d.Acknowledgements[0].By != "张三" || d.Acknowledgements[1].By != "李四" {
		t.Errorf("acks %+v", d.Acknowledgements)
	}
	var log []string
	for _, n := range d.Notifications {
		log = append(log, n.Kind+" "+n.State)
	}
	if want := []string{"firing sent", "resolved sent"}; !slices.Equal(log, want) {
		t.Errorf("notifications %q, want %q", log, want)
	}
}

// An acknowledgement withdraws a notification still held by quiet hours.
func TestAckWithdrawsHeld(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "quiet: [nights]\n    worse_than:", 1))
	h.low()
	night := time.Date(2026, 6, 1, 23, 0, 0, 0, cst)
	h.at(night)
	h.expectSent()
	h.clock.Set(night.Add(time.Hour))
	if _, err := h.m.Ack(context.Background(), h.only("620802").ID, "值班员", ""); err != nil {
		t.Fatal(err)
	}
	h.at(night.Add(8 * time.Hour))
	h.expectSent()
}

func TestResolveNotifiesOnce(t *testing.T) {
	h := newHarness(t, answerRule)
	h.low()
	h.at(t0)
	h.at(t0.Add(30 * time.Minute))
	h.expectSent("firing county 620802 (1)", "escalation city 620800 (1)")
	h.fine()
	h.at(t0.Add(40 * time.Minute))
	// Each level told hears it resolved, once.
	h.expectSent("resolved county 620802 (1)", "resolved city 620800 (1)")
	for _, m := range []time.Duration{41, 120, 300} {
		h.at(t0.Add(m * time.Minute))
	}
	h.expectSent()
	h.none("620000")
	if b, ok := h.pub.board(live.ReportTopic("620802")); !ok || len(b.Reports) != 0 {
		t.Errorf("board after resolving: %+v", b)
	}
	// Firing again is a new report.
	h.low()
	h.at(t0.Add(6 * time.Hour))
	h.expectSent("firing county 620802 (1)")
}

func TestSilence(t *testing.T) {
	h := newHarness(t, answerRule)
	ctx := context.Background()
	s, err := h.m.AddSilence(ctx, Silence{Region: "620800", EndsAt: t0.Add(time.Hour), CreatedBy: "值班员", Comment: "线路检修"})
	if err != nil {
		t.Fatal(err)
	}
	h.low()
	h.at(t0)
	h.none("620000") // silenced reports are not listed
	h.at(t0.Add(59 * time.Minute))
	h.expectSent()
	if got := h.m.Silences(); len(got) != 1 || got[0].ID != s.ID || got[0].CreatedBy != "值班员" {
		t.Errorf("silences %+v", got)
	}
	// The silence ends: the report is told and shown.
	h.at(t0.Add(time.Hour))
	h.expectSent("firing county 620802 (1)")
	h.only("620000")
	if len(h.m.Silences()) != 0 {
		t.Errorf("ended silence still listed")
	}

	// A silence on a firing report stops its escalation until expired.
	s2, err := h.m.AddSilence(ctx, Silence{Rule: "answer", Severity: "warning", EndsAt: t0.Add(10 * time.Hour), CreatedBy: "值班员"})
	if err != nil {
		t.Fatal(err)
	}
	h.none("620000")
	h.at(t0.Add(3 * time.Hour))
	h.expectSent()
	h.clock.Set(t0.Add(3*time.Hour + time.Minute))
	if err := h.m.ExpireSilence(ctx, s2.ID, "值班员"); err != nil {
		t.Fatal(err)
	}
	h.only("620000")
	// Nobody acknowledged for hours: the ladder runs on at once.
	h.at(t0.Add(3*time.Hour + 2*time.Minute))
	h.expectSent("escalation city 620800 (1)")

	bad := []Silence{
		{EndsAt: t0.Add(24 * time.Hour), CreatedBy: "x"},                  // no matcher
		{Rule: "nope", EndsAt: t0.Add(24 * time.Hour), CreatedBy: "x"},    // unknown rule
		{Region: "62", EndsAt: t0.Add(24 * time.Hour), CreatedBy: "x"},    // bad region
		{Severity: "big", EndsAt: t0.Add(24 * time.Hour), CreatedBy: "x"}, // bad severity
		{Rule: "answer", EndsAt: t0, CreatedBy: "x"},                      // ended
		{Rule: "answer", EndsAt: t0.Add(24 * time.Hour)},                  // no creator
	}
	for _, b := range bad {
		if _, err := h.m.AddSilence(ctx, b); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddSilence(%+v) = %v, want ErrInvalid", b, err)
		}
	}
	if err := h.m.ExpireSilence(ctx, "nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expire unknown: %v", err)
	}
}

func TestQuietHoursHoldThenRelease(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "quiet: [nights]\n    worse_than:", 1))
	h.low()
	night := time.Date(2026, 6, 1, 23, 0, 0, 0, cst)
	h.at(night)
	h.expectSent()
	// Screens still show it, with when its news goes out.
	r := h.only("620000")
	if r.State != StateFiring || r.HeldUntil != "2026-06-02T07:00:00+08:00" {
		t.Errorf("held report %+v", r)
	}
	h.at(night.Add(7*time.Hour + 59*time.Minute))
	h.expectSent()
	morning := time.Date(2026, 6, 2, 7, 0, 0, 0, cst)
	h.at(morning)
	h.expectSent("firing county 620802 (1)")
	if r := h.only("620000"); r.HeldUntil != "" {
		t.Errorf("released report %+v", r)
	}
	// Escalation counts from when someone was told.
	h.at(morning.Add(29 * time.Minute))
	h.expectSent()
	h.at(morning.Add(30 * time.Minute))
	h.expectSent("escalation city 620800 (1)")
}

func TestQuietHoursHoldEscalation(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "quiet: [nights]\n    worse_than:", 1))
	h.low()
	evening := time.Date(2026, 6, 1, 21, 50, 0, 0, cst)
	h.at(evening)
	h.expectSent("firing county 620802 (1)")
	h.at(evening.Add(30 * time.Minute)) // 22:20: held
	h.expectSent()
	h.at(evening.Add(3 * time.Hour))
	h.expectSent()
	h.at(time.Date(2026, 6, 2, 7, 0, 0, 0, cst))
	h.expectSent("escalation city 620800 (1)")
}

func TestQuietHoursResolvedMeanwhile(t *testing.T) {
	h := newHarness(t, strings.Replace(answerRule, "worse_than:", "quiet: [nights, weekends]\n    worse_than:", 1))
	h.low()
	friday := time.Date(2026, 6, 5, 23, 0, 0, 0, cst)
	h.at(friday)
	if r := h.only("620000"); r.HeldUntil != "2026-06-08T07:00:00+08:00" {
		t.Errorf("held until %q, want Monday 07:00", r.HeldUntil)
	}
	h.fine()
	h.at(friday.Add(24 * time.Hour))
	// Nobody was told it fired: nobody is told it resolved.
	h.at(time.Date(2026, 6, 8, 7, 0, 0, 0, cst))
	h.expectSent()
	var states []string
	rows, err := h.store.DB().Query(`SELECT kind, state FROM report_notifications`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, s string
		rows.Scan(&k, &s)
		states = append(states, k+" "+s)
	}
	if !slices.Equal(states, []string{"firing cancelled"}) {
		t.Errorf("log %q", states)
	}
}

// Reports of one rule told to the same receivers at the same time go in
// one message.
func TestGrouping(t *testing.T) {
	h := newHarness(t, rulesHead+`
rules:
  - name: surge
    title: {zh: 激增, en: Surge}
    type: surge
    level: county
`)
	h.in.surges = []SurgeFinding{
		{Category: "供水", Region: "620802", Count: 40, Expected: 5, Score: 6},
		{Category: "供暖", Region: "620802", Count: 30, Expected: 5, Score: 4},
		{Category: "供水", Region: "620821", Count: 20, Expected: 5, Score: 3},
	}
	h.at(t0)
	h.expectSent("firing county 620802 (2)", "firing county 620821 (1)")
	// The city hears of both counties in one message.
	h.at(t0.Add(30 * time.Minute))
	ns := h.send.all()
	if len(ns) != 1 || ns[0].Kind != KindEscalation || ns[0].Region != "620800" || len(ns[0].Reports) != 3 {
		t.Fatalf("escalation %+v", ns)
	}
	n := ns[0]
	if n.Title != "【升级呈报】激增 · 平凉市（3 项）" || n.TitleEN != "[Escalated] Surge · 平凉市 (3)" ||
		!strings.HasPrefix(n.Text, "崆峒区：「供") || strings.Count(n.Text, "\n") != 2 ||
		!strings.Contains(n.Text, "（10:00 起未确认）") || n.Severity != Warning ||
		!slices.Equal(n.Receivers, []string{"city-duty"}) {
		t.Errorf("message %+v", n)
	}
}

func TestSendRetries(t *testing.T) {
	h := newHarness(t, answerRule)
	h.send.fail = true
	h.low()
	h.at(t0)
	h.at(t0.Add(29 * time.Second))
	h.send.fail = false
	h.at(t0.Add(30 * time.Second))
	ns := h.send.all()
	if len(ns) != 1 || ns[0].Attempt != 2 {
		t.Fatalf("sent %+v", ns)
	}
	// The escalation clock starts when it went.
	h.send.take()
	h.at(t0.Add(30 * time.Minute))
	h.expectSent()
	h.at(t0.Add(30*time.Minute + 30*time.Second))
	h.expectSent("escalation city 620800 (1)")
}

func TestOpenAndBoards(t *testing.T) {
	h := newHarness(t, rulesHead+`
rules:
  - name: answer
    title: {zh: 接通率低, en: Answer rate low}
    type: threshold
    indicator: answer_rate
    period: day
    level: county
    worse_than: "90%"
  - name: overdue
    title: {zh: 超期, en: Overdue}
    type: overdue
    level: county
    above: 5
    severity: critical
`)
	h.in.set("answer_rate", "620102", engine.Day, 1, 100) // 兰州市城关区
	h.at(t0.Add(-time.Minute))
	h.low()
	h.at(t0)
	h.in.set("overdue_open", "620821", engine.Day, 9, -1) // 泾川县, later
	h.at(t0.Add(time.Minute))
	var got []string
	for _, r := range h.m.Open("620000") {
		got = append(got, r.Rule+" "+r.Region)
	}
	// Most severe first, then newest.
	if want := []string{"overdue 620821", "answer 620802", "answer 620102"}; !slices.Equal(got, want) {
		t.Errorf("open %q, want %q", got, want)
	}
	if n := len(h.m.Open("620800")); n != 2 {
		t.Errorf("平凉市 has %d open reports, want 2", n)
	}
	if n := len(h.m.Open("620802")); n != 1 {
		t.Errorf("崆峒区 has %d open reports, want 1", n)
	}
	// Boards went to the region and every ancestor.
	for reg, n := range map[string]int{"620802": 1, "620821": 1, "620800": 2, "620000": 3, "620102": 1, "620100": 1} {
		b, ok := h.pub.board(live.ReportTopic(reg))
		if !ok || len(b.Reports) != n || b.Unacked != n || b.Region != reg {
			t.Errorf("board %s: %+v, want %d reports", reg, b, n)
		}
	}
	if b, _ := h.pub.board(live.ReportTopic("620800")); b.RegionName != "平凉市" || b.Reports[0].RegionName != "泾川县" {
		t.Errorf("names %+v", b)
	}
	// An acknowledgement republishes the boards above it.
	before := h.pub.n
	h.clock.Set(t0.Add(2 * time.Minute))
	if _, err := h.m.Ack(context.Background(), h.m.Open("620821")[0].ID, "甲", ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := h.pub.board(live.ReportTopic("620000")); b.Unacked != 2 || h.pub.n != before+3 {
		t.Errorf("after ack: %+v, %d publishes", b, h.pub.n-before)
	}
	// Nothing changed: nothing published.
	before = h.pub.n
	h.at(t0.Add(3 * time.Minute))
	if h.pub.n != before {
		t.Errorf("%d publishes without a change", h.pub.n-before)
	}
	list, err := h.m.List(context.Background(), Filter{Region: "620800", States: []string{StateFiring}})
	if err != nil || len(list) != 1 || list[0].Region != "620802" {
		t.Errorf("list %+v, %v", list, err)
	}
}

// Values that cannot be read resolve nothing.
func TestStaleValuesKeepReports(t *testing.T) {
	h := newHarness(t, answerRule)
	h.low()
	h.at(t0)
	h.in.failing[engine.Day] = true
	h.clock.Set(t0.Add(time.Minute))
	if err := h.m.Evaluate(context.Background(), t0.Add(time.Minute), h.in); err == nil {
		t.Error("no error for unreadable values")
	}
	h.only("620802")
}

// The report JSON shape screens and phones get.
func TestReportJSON(t *testing.T) {
	h := newHarness(t, answerRule)
	h.low()
	h.at(t0)
	b, _ := h.pub.board(live.ReportTopic("620802"))
	r := b.Reports[0]
	want := Report{ID: r.ID, Rule: "answer", Type: Threshold, Title: "接通率低", TitleEN: "Answer rate low", Severity: Warning,
		Region: "620802", RegionName: "崆峒区", Indicator: "answer_rate", Period: "day", Value: "80.00%", Threshold: "90.00%",
		Text: "今日接通率 80.00%，低于阈值 90.00%", TextEN: "Answer rate today 80.00%, below the threshold of 90.00%",
		State: StateFiring, FiredAt: "2026-06-01T10:00:00+08:00", FiredText: "06-01 10:00", Level: "county"}
	if r != want {
		t.Errorf("report\n%+v\nwant\n%+v", r, want)
	}
}
