package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/notify/notifytest"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/store"
)

// The special reports of issue 11, end to end: a rules file with one rule
// of each type and real receivers on loopback (notifytest's DingTalk robot
// checks every signature, its WeCom robot the markdown, a generic
// webhook), records pushed through the intake, the reports seen on a
// websocket subscribed to report:<region>, in GET /api/reports, in the
// delivery log (GET /api/deliveries) and at the receivers; then records
// that end the conditions, and the reports resolve. Silences and quiet
// hours hold delivery back; the escalation ladder climbs without an
// acknowledgement and not with one; a restart in the middle sends nothing
// twice and forgets no acknowledgement.
//
// Time: the report manager is judged by Options.ReportClock, a clock the
// test moves (an escalation's half hour passes in a call). Everything else
// (the engine, the collectors, the robots' signature check) runs on the
// wall clock.

// reportClock is a clock that stands still until the test moves it.
type reportClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reportClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *reportClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.t) {
		panic("reportClock: moving back")
	}
	c.t = t
}

func (c *reportClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// reportEnv is an App with a rules file and a report clock, restartable
// on the same data directory.
type reportEnv struct {
	*fixture
	rulesFile string
	clock     *reportClock
	loc       *time.Location
	stopFn    func()
}

// newReportEnv writes the rules, creates the users of fixture.addUsers
// and an operator "duty" of the province, and starts the App.
func newReportEnv(t *testing.T, rules string, clock *reportClock) *reportEnv {
	t.Helper()
	skipNearMidnight(t)
	f := &fixture{dataDir: t.TempDir(), tokens: map[string]string{}, ids: map[string]string{}}
	f.addUsers(t)
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: f.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddUser(ctx, access.Actor{Name: "test"}, access.NewUser{Name: "duty", Role: access.RoleOperator, Region: "620000", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	e := &reportEnv{fixture: f, clock: clock, loc: testkit.Shanghai(t), rulesFile: filepath.Join(t.TempDir(), "rules.yaml")}
	if err := os.WriteFile(e.rulesFile, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	return e
}

// skipNearMidnight skips a test whose records of "today" would straddle
// the business day's turn (the engine's day values would start again).
func skipNearMidnight(t *testing.T) {
	t.Helper()
	now := time.Now().In(testkit.Shanghai(t))
	if m := now.Hour()*60 + now.Minute(); m < 15 || m > 24*60-15 {
		t.Skipf("%s: within 15 minutes of midnight in Asia/Shanghai; the day's values turn over", now.Format("15:04"))
	}
}

// start runs the App on a loopback listener; stop ends it (and the
// test's end does, if the test did not).
func (e *reportEnv) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.logs = &bytes.Buffer{}
	a, err := New(ctx, Options{
		Addr: "127.0.0.1:0", DataDir: e.dataDir, HistoryEvery: time.Hour, RulesFile: e.rulesFile,
		ReportClock: e.clock.Now,
		Getenv: func(k string) string {
			if k == "YIPING_INGEST_TOKEN" {
				return ingestToken
			}
			return ""
		},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e.a = a
	var l net.Listener
	l, e.srv.URL = listenLoopback(t)
	e.stopFn = runApp(t, ctx, cancel, a, l)
}

func (e *reportEnv) stop() { e.stopFn() }

// ingest posts CSV rows of kind through the push intake; every row must
// be accepted.
func (e *reportEnv) ingest(t *testing.T, kind string, rows ...string) {
	t.Helper()
	header := map[string]string{
		"calls":   "call_id,region_code,offered_at,answered,wait_seconds",
		"cases":   "case_id,region_code,dept_code,item_code,channel,full_online,submitted_at,accepted_at,promised_days,closed_at,status",
		"tickets": "ticket_id,region_code,unit_code,category,kind,channel,received_at,direct,assigned_at,deadline_days,closed_at,callback",
	}[kind]
	body := header + "\n" + strings.Join(rows, "\n") + "\n"
	code, answer := e.do(t, caller{client: http.DefaultClient, token: ingestToken}, "POST", "/api/ingest/"+kind, "text/csv", []byte(body))
	var res struct{ Accepted, Rejected int }
	json.Unmarshal([]byte(answer), &res)
	if code != 200 || res.Accepted != len(rows) || res.Rejected != 0 {
		t.Fatalf("ingest %d %s: %d %s", len(rows), kind, code, answer)
	}
}

// stamp writes t as the records do, in the business time zone.
func (e *reportEnv) stamp(t time.Time) string { return t.In(e.loc).Format(time.DateTime) }

// calls makes n calls of region reg offered just now, the first answered
// of them answered, with ids prefix-0.. (posting them again with other
// answers replaces them).
func (e *reportEnv) calls(prefix, reg string, n, answered int) []string {
	at := e.stamp(time.Now().Add(-time.Minute))
	var rows []string
	for i := range n {
		a := 0
		if i < answered {
			a = 1
		}
		rows = append(rows, fmt.Sprintf("%s-%d,%s,%s,%d,12", prefix, i, reg, at, a))
	}
	return rows
}

// getJSON GETs path as c and decodes the answer into v.
func (e *reportEnv) getJSON(t *testing.T, c caller, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// reports lists GET /api/reports?query.
func (e *reportEnv) reports(t *testing.T, c caller, query string) []report.Report {
	t.Helper()
	var ans struct{ Reports []report.Report }
	e.getJSON(t, c, "/api/reports?"+query, &ans)
	return ans.Reports
}

func (e *reportEnv) detail(t *testing.T, c caller, id string) report.Detail {
	t.Helper()
	var d report.Detail
	e.getJSON(t, c, "/api/reports/"+id, &d)
	return d
}

// deliveries lists GET /api/deliveries?query.
func (e *reportEnv) deliveries(t *testing.T, c caller, query string) []notify.LoggedDelivery {
	t.Helper()
	var ans struct{ Deliveries []notify.LoggedDelivery }
	e.getJSON(t, c, "/api/deliveries?"+query, &ans)
	return ans.Deliveries
}

// findReport returns the report of rule in region among rs.
func findReport(rs []report.Report, rule, reg string) (report.Report, bool) {
	i := slices.IndexFunc(rs, func(r report.Report) bool { return r.Rule == rule && (reg == "" || r.Region == reg) })
	if i < 0 {
		return report.Report{}, false
	}
	return rs[i], true
}

// boardWatch follows report boards on a websocket.
type boardWatch struct {
	mu      sync.Mutex
	boards  map[string]report.Board // by topic, the latest
	changed chan struct{}
	err     error
}

// watchBoards opens a websocket as c and subscribes to topics.
func watchBoards(t *testing.T, e *reportEnv, c caller, topics ...string) *boardWatch {
	t.Helper()
	ws, _, err := dialWS(t, e.fixture, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if fr := subscribe(t, ws, topics...); fr.Op != "subscribed" {
		t.Fatalf("subscribe %v: %+v", topics, fr)
	}
	w := &boardWatch{boards: map[string]report.Board{}, changed: make(chan struct{})}
	go func() {
		ws.SetReadDeadline(time.Time{})
		for {
			var m struct {
				Topic string          `json:"topic"`
				Data  json.RawMessage `json:"data"`
			}
			err := ws.ReadJSON(&m)
			w.mu.Lock()
			if err != nil {
				w.err = err
			} else if strings.HasPrefix(m.Topic, "report:") && len(m.Data) > 0 {
				var b report.Board
				if jerr := json.Unmarshal(m.Data, &b); jerr != nil {
					w.err = jerr
				} else {
					w.boards[m.Topic] = b
				}
			}
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return w
}

// wait returns the board of topic once ok holds for it.
func (w *boardWatch) wait(t *testing.T, what, topic string, ok func(report.Board) bool) report.Board {
	t.Helper()
	deadline := time.After(testkit.WaitTimeout)
	for {
		w.mu.Lock()
		b, have := w.boards[topic]
		err, ch := w.err, w.changed
		w.mu.Unlock()
		if have && ok(b) {
			return b
		}
		if err != nil {
			t.Fatalf("websocket ended waiting for %s: %v", what, err)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s on %s; last board: %s", testkit.WaitTimeout, what, topic, boardSummary(b))
		}
	}
}

func boardSummary(b report.Board) string {
	var out []string
	for _, r := range b.Reports {
		out = append(out, r.Rule+"@"+r.Region+"="+r.State)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// onBoard reports whether rule's report of reg is on b in state.
func onBoard(b report.Board, rule, reg, state string) bool {
	r, ok := findReport(b.Reports, rule, reg)
	return ok && (state == "" || r.State == state)
}

// robotTitles are the texts of the messages a robot accepted.
func robotTexts(ms []notifytest.RobotMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Title+"\n"+m.Text)
	}
	return out
}

// countContaining counts the texts containing every one of subs.
func countContaining(texts []string, subs ...string) int {
	n := 0
	for _, s := range texts {
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(s, sub)
		}
		if all {
			n++
		}
	}
	return n
}

// hookTexts are the title and text of each request a webhook received.
func hookTexts(h *notifytest.Webhook) []string {
	var out []string
	for _, r := range h.Received() {
		var p notify.WebhookPayload
		json.Unmarshal(r.Body, &p)
		s := p.Title + "\n" + p.Text + "\n" + p.Labels["kind"] + "|" + p.Labels["level"] + "|" + p.Region.Code
		for _, part := range p.Parts {
			s += "\n" + part.Title + "\n" + part.Text
		}
		out = append(out, s)
	}
	return out
}

// hookIDs are the message ids a webhook received, with repeats.
func hookIDs(h *notifytest.Webhook) []string {
	var out []string
	for _, r := range h.Received() {
		var p notify.WebhookPayload
		json.Unmarshal(r.Body, &p)
		out = append(out, p.ID)
		for _, part := range p.Parts {
			out = append(out, part.ID)
		}
	}
	return out
}

func duplicates(ids []string) []string {
	seen := map[string]int{}
	var dup []string
	for _, id := range ids {
		if seen[id]++; seen[id] == 2 {
			dup = append(dup, id)
		}
	}
	return dup
}

// The rules of TestReportsEveryRuleType: one of each type, each in its
// own regions so that the records of one do not touch another.
const everyTypeRules = `
defaults:
  for: 0s
  repeat: 0
  quiet: []
  escalate: []
  min_count: 1
  receivers:
    county: [ding, wecom, hook]
    province: [ding, wecom, hook]
receivers:
  - {name: ding, type: dingtalk, url: "DING_URL", secret: "DING_SECRET"}
  - {name: ding-forged, type: dingtalk, url: "DING_URL", secret: "not-the-robot-secret"}
  - {name: wecom, type: wecom, url: "WECOM_URL"}
  - {name: hook, type: webhook, url: "HOOK_URL"}
rules:
  - name: answer-low
    title: {zh: 接通率过低, en: Answer rate low}
    type: threshold
    indicator: answer_rate
    period: day
    regions: ["620802"]
    worse_than: 80%
    receivers: {county: [ding, wecom, hook, ding-forged]}
  - name: answer-drop
    title: {zh: 接通率环比下降, en: Answer rate dropping}
    type: drop
    indicator: answer_rate
    period: day
    regions: ["620502"]
    points: 10
  - name: answer-bottom
    title: {zh: 接通率排名末位, en: Answer rate last}
    type: bottom
    indicator: answer_rate
    period: day
    level: county
    regions: ["620100"]
    bottom: 1
  - name: overdue-many
    title: {zh: 超期件过多, en: Too many overdue}
    type: overdue
    regions: ["620821"]
    above: 2
  - name: intake-silent
    title: {zh: 推送中断, en: Intake silent}
    type: silent
    sources: [push]
    after: 1m
  - name: water-surge
    title: {zh: 供水工单激增, en: Water surge}
    type: surge
    level: county
    regions: ["620822"]
    categories: [供水]
`

// titleOf is each rule's Chinese title above.
var everyTypeTitles = map[string]string{
	"answer-low": "接通率过低", "answer-drop": "接通率环比下降", "answer-bottom": "接通率排名末位",
	"overdue-many": "超期件过多", "intake-silent": "推送中断", "water-surge": "供水工单激增",
}

// TestReportsEveryRuleType is the first "done when" of issue 11: records
// pushed through the intake make each rule type fire; each report is on
// the websocket, in GET /api/reports, in the delivery log and at the
// DingTalk (signature verified), WeCom and webhook receivers; records that
// end the conditions resolve them, and the receivers hear so.
func TestReportsEveryRuleType(t *testing.T) {
	const secret = "SEC-robot-secret-0123456789abcdef"
	ding := notifytest.NewDingTalk("ding-token-1", secret, nil)
	wecom := notifytest.NewWeCom("wecom-key-1", nil)
	hook := notifytest.NewWebhook()
	for _, s := range []interface{ Close() }{ding, wecom, hook} {
		t.Cleanup(s.Close)
	}
	rules := strings.NewReplacer("DING_URL", ding.URL(), "DING_SECRET", secret, "WECOM_URL", wecom.URL(), "HOOK_URL", hook.URL).Replace(everyTypeRules)
	// The report clock stands two minutes behind the wall clock, so that
	// the intake's last success is in its future until the test moves it
	// (the silent rule).
	clock := &reportClock{t: time.Now().Add(-2 * time.Minute)}
	e := newReportEnv(t, rules, clock)
	admin := e.signIn(t, "admin")
	w := watchBoards(t, e, admin, live.ReportTopic("620000"))
	topic := live.ReportTopic("620000")

	// Drop: yesterday's answer rate of 秦州区 was 100% (the history store
	// is where drop rules read the previous period).
	today := time.Now().In(e.loc)
	midnight := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, e.loc)
	if err := e.a.hist.Write(context.Background(), []store.Point{{Indicator: "answer_rate", Region: "620502", Dept: store.AllDepts,
		Period: "day", Time: midnight.Add(-time.Hour), Numerator: 100, Denominator: 100, HasDenominator: true}}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Surge: five weeks of one 供水 ticket an hour in 灵台县, today's
	// hours so far too, then 25 in the last few minutes (by the report
	// clock, which the detector is asked at).
	var tickets []string
	ticket := func(id string, at time.Time) string {
		return fmt.Sprintf("%s,620822,U1,供水,complaint,phone,%s,,,,,", id, e.stamp(at))
	}
	for d := 35; d >= 0; d-- {
		for h := range 24 {
			at := midnight.AddDate(0, 0, -d).Add(time.Duration(h)*time.Hour + 30*time.Minute)
			if d == 0 && !at.Before(clock.Now().Add(-time.Hour)) {
				break
			}
			tickets = append(tickets, ticket(fmt.Sprintf("base-%d-%d", d, h), at))
		}
	}
	burstAt := clock.Now().Add(-4 * time.Minute)
	if burstAt.Before(midnight) {
		t.Skip("too early in the day for a burst today")
	}
	var burst []string
	for i := range 25 {
		burst = append(burst, ticket(fmt.Sprintf("burst-%d", i), burstAt))
	}
	e.ingest(t, "tickets", tickets...)

	// Overdue: three cases of 泾川县 accepted 20 days ago, due in one
	// working day, still open.
	overdue := func(closed bool) []string {
		var rows []string
		sub := e.stamp(today.AddDate(0, 0, -20))
		for i := range 3 {
			closedAt, status := "", "accepted"
			if closed {
				closedAt, status = e.stamp(time.Now().Add(-time.Minute)), "closed"
			}
			rows = append(rows, fmt.Sprintf("od-%d,620821,D1,I1,window,0,%s,%s,1,%s,%s", i, sub, sub, closedAt, status))
		}
		return rows
	}

	// Everything goes wrong at once.
	e.ingest(t, "calls", slices.Concat(
		e.calls("low", "620802", 10, 0),        // threshold: 0% < 80%
		e.calls("drop", "620502", 10, 5),       // drop: 50% against yesterday's 100%
		e.calls("rank-a", "620102", 10, 10),    // bottom: 城关 100%,
		e.calls("rank-b", "620103", 10, 9),     // 七里河 90%,
		e.calls("rank-c", "620104", 10, 5))...) // 西固 50%: last
	e.ingest(t, "cases", overdue(false)...)
	e.ingest(t, "tickets", burst...)

	fired := map[string]string{ // rule → region
		"answer-low": "620802", "answer-drop": "620502", "answer-bottom": "620104", "overdue-many": "620821", "water-surge": "620822",
	}
	w.wait(t, "five reports firing", topic, func(b report.Board) bool {
		for rule, reg := range fired {
			if !onBoard(b, rule, reg, report.StateFiring) {
				return false
			}
		}
		return true
	})
	// Silent: the intake's last success is a minute and a second behind
	// the report clock now.
	var last time.Time
	for _, h := range e.a.runner.Health() {
		if h.Source == "push" {
			last = h.LastSuccess
		}
	}
	if last.IsZero() {
		t.Fatal("the push source has no last success")
	}
	clock.Set(last.Add(61 * time.Second))
	e.a.pokeJudge()
	fired["intake-silent"] = "620000"
	b := w.wait(t, "six reports firing", topic, func(b report.Board) bool {
		return onBoard(b, "intake-silent", "620000", report.StateFiring)
	})
	if len(b.Reports) != 6 || b.Unacked != 6 {
		t.Errorf("board: %d reports, %d unacknowledged, want 6 and 6: %s", len(b.Reports), b.Unacked, boardSummary(b))
	}

	// The archive, the receivers and the delivery log.
	listed := e.reports(t, admin, "region=620000&state=firing")
	ids := map[string]string{} // rule → report id
	for rule, reg := range fired {
		r, ok := findReport(listed, rule, reg)
		if !ok {
			t.Errorf("GET /api/reports lacks %s of %s", rule, reg)
			continue
		}
		ids[rule] = r.ID
		if r.Text == "" || r.FiredAt == "" {
			t.Errorf("%s: text %q, fired %q", rule, r.Text, r.FiredAt)
		}
	}
	for rule, title := range everyTypeTitles {
		testkit.WaitFor(t, "the firing of "+rule+" at DingTalk, WeCom and the webhook", func() bool {
			return countContaining(robotTexts(ding.Accepted()), "特别呈报", title) == 1 &&
				countContaining(robotTexts(wecom.Accepted()), "特别呈报", title) == 1 &&
				countContaining(hookTexts(hook), "特别呈报", title, "firing|") == 1
		})
	}
	// The robot refuses a request signed with another secret: its check
	// is real, and every accepted request passed it.
	testkit.WaitFor(t, "the forged signature refused", func() bool {
		for _, m := range ding.Received() {
			if m.ErrCode == notifytest.DingTalkBadSign {
				return true
			}
		}
		return false
	})
	for _, m := range ding.Accepted() {
		if m.Timestamp == 0 {
			t.Errorf("DingTalk accepted an unsigned request: %q", m.Title)
		}
	}
	for rule, id := range ids {
		d := e.detail(t, admin, id)
		var sent []string
		for _, n := range d.Notifications {
			if n.Kind == report.KindFiring && n.State == "sent" {
				sent = append(sent, n.ID)
			}
		}
		if len(sent) != 1 {
			t.Errorf("%s: notifications %+v, want one firing sent", rule, d.Notifications)
			continue
		}
		want := []string{"ding", "wecom", "hook"}
		if rule == "answer-low" {
			want = append(want, "ding-forged")
		}
		testkit.WaitFor(t, "the delivery log of "+rule, func() bool {
			got := map[string]notify.Status{}
			for _, dl := range e.deliveries(t, admin, "report="+sent[0]) {
				got[dl.Receiver] = dl.Status
			}
			for _, r := range want {
				wantStatus := notify.StatusSent
				if r == "ding-forged" {
					wantStatus = notify.StatusFailed
				}
				if got[r] != wantStatus {
					return false
				}
			}
			return len(got) == len(want)
		})
	}

	// Everything recovers: the same ids again, now good.
	time.Sleep(time.Until(last.Add(1100 * time.Millisecond))) // the intake's next success is within the silent rule's minute
	e.ingest(t, "calls", slices.Concat(
		e.calls("low", "620802", 10, 10),
		e.calls("drop", "620502", 10, 10),
		e.calls("rank-c", "620104", 10, 10))...) // 西固 100%: 七里河 is last now
	e.ingest(t, "cases", overdue(true)...)
	var moved []string // the burst's tickets were misdated: they are from long ago
	for i := range 25 {
		moved = append(moved, ticket(fmt.Sprintf("burst-%d", i), today.AddDate(0, 0, -80)))
	}
	e.ingest(t, "tickets", moved...)
	e.a.pokeJudge()
	b = w.wait(t, "the six reports resolved", topic, func(b report.Board) bool {
		for rule, reg := range fired {
			if onBoard(b, rule, reg, "") {
				return false
			}
		}
		return true
	})
	if len(b.Reports) != 1 || !onBoard(b, "answer-bottom", "620103", report.StateFiring) {
		t.Errorf("board after recovery: %s, want only answer-bottom of 620103 (七里河, last now)", boardSummary(b))
	}
	resolved := e.reports(t, admin, "region=620000&state=resolved")
	for rule, id := range ids {
		if i := slices.IndexFunc(resolved, func(r report.Report) bool { return r.ID == id }); i < 0 || resolved[i].ResolvedAt == "" {
			t.Errorf("%s (%s) is not listed resolved", rule, id)
		}
	}
	for rule, title := range everyTypeTitles {
		testkit.WaitFor(t, "the resolution of "+rule+" at DingTalk, WeCom and the webhook", func() bool {
			return countContaining(robotTexts(ding.Accepted()), "已恢复", title) == 1 &&
				countContaining(robotTexts(wecom.Accepted()), "已恢复", title) == 1 &&
				countContaining(hookTexts(hook), "已恢复", title, "resolved|") == 1
		})
	}
	if dup := duplicates(hookIDs(hook)); len(dup) > 0 {
		t.Errorf("the webhook received messages %v more than once", dup)
	}
	for _, r := range hook.Received() {
		var p notify.WebhookPayload
		json.Unmarshal(r.Body, &p)
		if want := "/m?region=" + p.Region.Code; p.URL != want {
			t.Errorf("message %s links %q, want the phone page of its region %q", p.ID, p.URL, want)
		}
	}
	// The log is written after the robot answered.
	testkit.WaitFor(t, "13 entries of ding in the delivery log (7 firing, 6 resolved)", func() bool {
		return len(e.deliveries(t, admin, "receiver=ding&limit=1000")) >= 13
	})
}

// quietRules: one rule under quiet hours that hold now, one a silence
// will mute, and two controls; all tell the same webhook.
const quietRules = `
defaults:
  for: 0s
  repeat: 0
  escalate: []
  min_count: 1
  receivers: {county: [hook]}
quiet_hours:
  now:
    - {start: "QSTART", end: "QEND"}
receivers:
  - {name: hook, type: webhook, url: "HOOK_URL"}
rules:
  - {name: held, title: 静时规则, type: threshold, indicator: answer_rate, period: day, regions: ["620802"], worse_than: 80%, quiet: [now]}
  - {name: muted, title: 静默规则, type: threshold, indicator: answer_rate, period: day, regions: ["620821"], worse_than: 80%}
  - {name: control, title: 对照规则, type: threshold, indicator: answer_rate, period: day, regions: ["620102"], worse_than: 80%}
  - {name: marker, title: 标记规则, type: threshold, indicator: answer_rate, period: day, regions: ["620103"], worse_than: 80%}
`

// TestReportsSilenceAndQuietHours: a silence (POST /api/silences) and
// quiet hours covering now keep a firing report's notification from the
// receivers while the screens still show the quiet one; expiring the
// silence and the quiet hours ending deliver them.
func TestReportsSilenceAndQuietHours(t *testing.T) {
	hook := notifytest.NewWebhook()
	t.Cleanup(hook.Close)
	clock := &reportClock{t: time.Now()}
	loc := testkit.Shanghai(t)
	// Quiet from half an hour ago (by the report clock) for two hours.
	from := clock.Now().In(loc).Add(-30 * time.Minute)
	to := from.Add(2 * time.Hour)
	rules := strings.NewReplacer("HOOK_URL", hook.URL, "QSTART", from.Format("15:04"), "QEND", to.Format("15:04")).Replace(quietRules)
	e := newReportEnv(t, rules, clock)
	duty := e.signIn(t, "duty")
	w := watchBoards(t, e, duty, live.ReportTopic("620000"))
	topic := live.ReportTopic("620000")

	// A silence of the rule "muted" in 泾川县, by the operator on duty.
	body, _ := json.Marshal(map[string]string{"rule": "muted", "region": "620821", "duration": "1h", "comment": "泾川县话务系统割接"})
	code, answer := e.do(t, duty, "POST", "/api/silences", "application/json", body)
	var sil report.Silence
	json.Unmarshal([]byte(answer), &sil)
	if code != http.StatusCreated || sil.ID == "" || sil.CreatedBy != "duty" {
		t.Fatalf("POST /api/silences: %d %s", code, answer)
	}

	e.ingest(t, "calls", slices.Concat(e.calls("held", "620802", 10, 0), e.calls("muted", "620821", 10, 0), e.calls("control", "620102", 10, 0))...)
	testkit.WaitFor(t, "the control's notification", func() bool { return countContaining(hookTexts(hook), "对照规则") == 1 })
	// A later evaluation's notification (the marker) arrives after
	// anything the first one sent: then nothing of held or muted came.
	e.ingest(t, "calls", e.calls("marker", "620103", 10, 0)...)
	testkit.WaitFor(t, "the marker's notification", func() bool { return countContaining(hookTexts(hook), "标记规则") == 1 })
	if n := countContaining(hookTexts(hook), "静时规则") + countContaining(hookTexts(hook), "静默规则"); n != 0 {
		t.Fatalf("quiet hours or the silence let %d notifications through: %q", n, hookTexts(hook))
	}
	// The screens show the quiet report (quiet hours hold messages, not
	// the wall) and not the silenced one.
	b := w.wait(t, "the held report on the board", topic, func(b report.Board) bool {
		return onBoard(b, "held", "620802", report.StateFiring) && onBoard(b, "control", "620102", report.StateFiring)
	})
	if onBoard(b, "muted", "", "") {
		t.Errorf("the silenced report is on the board: %s", boardSummary(b))
	}
	all := e.reports(t, duty, "region=620000&state=firing")
	held, ok1 := findReport(all, "held", "620802")
	muted, ok2 := findReport(all, "muted", "620821")
	if !ok1 || !ok2 {
		t.Fatalf("GET /api/reports: %+v", all)
	}
	if d := e.detail(t, duty, held.ID); d.Report.HeldUntil == "" || len(d.Notifications) != 1 || d.Notifications[0].State != "held" {
		t.Errorf("held report: held_until %q, notifications %+v; want one held", d.Report.HeldUntil, d.Notifications)
	}
	if d := e.detail(t, duty, muted.ID); !d.Report.Silenced || len(d.Notifications) != 0 {
		t.Errorf("silenced report: silenced %v, notifications %+v; want silenced, none", d.Report.Silenced, d.Notifications)
	}
	// The log is written after the receiver answered: wait for both
	// entries, then there must be no more.
	var ds []notify.LoggedDelivery
	testkit.WaitFor(t, "the delivery log of the control and the marker", func() bool {
		ds = e.deliveries(t, duty, "limit=1000")
		return len(ds) >= 2
	})
	if len(ds) != 2 {
		t.Errorf("delivery log: %d entries, want 2 (control, marker): %+v", len(ds), ds)
	}

	// The silence ends: the muted report is told, and shown.
	if code, answer := e.do(t, duty, "POST", "/api/silences/"+sil.ID+"/expire", "", nil); code != http.StatusNoContent {
		t.Fatalf("expire the silence: %d %s", code, answer)
	}
	e.a.pokeJudge()
	testkit.WaitFor(t, "the muted report's notification after the silence", func() bool { return countContaining(hookTexts(hook), "静默规则", "firing|") == 1 })
	w.wait(t, "the muted report on the board", topic, func(b report.Board) bool { return onBoard(b, "muted", "620821", report.StateFiring) })
	if countContaining(hookTexts(hook), "静时规则") != 0 {
		t.Fatal("the held report went out before its quiet hours ended")
	}
	// The quiet hours end: what they held goes out.
	clock.Set(to.Add(time.Minute))
	e.a.pokeJudge()
	testkit.WaitFor(t, "the held report's notification after the quiet hours", func() bool { return countContaining(hookTexts(hook), "静时规则", "firing|") == 1 })
	if dup := duplicates(hookIDs(hook)); len(dup) > 0 || len(hook.Received()) != 4 {
		t.Errorf("webhook: %d requests (duplicates %v), want 4: %q", len(hook.Received()), dup, hookTexts(hook))
	}
}

// ladderRules: county reports climbing to the city after 30 minutes and
// to the province after an hour, the ladder run twice.
const ladderRules = `
defaults:
  for: 0s
  repeat: 0
  quiet: []
  min_count: 1
  escalate:
    - {after: 30m, to: city}
    - {after: 1h, to: province}
  escalate_repeat: 1
  receivers:
    county: [county-hook]
    city: [city-hook]
    province: [province-hook]
receivers:
  - {name: county-hook, type: webhook, url: "COUNTY_URL"}
  - {name: city-hook, type: webhook, url: "CITY_URL"}
  - {name: province-hook, type: webhook, url: "PROVINCE_URL"}
rules:
  - {name: answer-ladder, title: 接通率过低待确认, type: threshold, indicator: answer_rate, period: day, level: county, regions: ["620800"], worse_than: 80%}
`

// TestReportsEscalationAndRestart: two county reports; the one
// acknowledged before T never leaves the county, the other climbs the
// ladder (city after 30 min, province after 1 h, then once more) and no
// further. In the middle the App is stopped and started again on the
// same data directory: the acknowledgement is still there, nothing is
// sent twice, and the ladder goes on from where it was.
func TestReportsEscalationAndRestart(t *testing.T) {
	county, city, province := notifytest.NewWebhook(), notifytest.NewWebhook(), notifytest.NewWebhook()
	for _, h := range []*notifytest.Webhook{county, city, province} {
		t.Cleanup(h.Close)
	}
	clock := &reportClock{t: time.Now()}
	rules := strings.NewReplacer("COUNTY_URL", county.URL, "CITY_URL", city.URL, "PROVINCE_URL", province.URL).Replace(ladderRules)
	e := newReportEnv(t, rules, clock)
	duty := e.signIn(t, "duty")
	w := watchBoards(t, e, duty, live.ReportTopic("620800"))
	topic := live.ReportTopic("620800")

	e.ingest(t, "calls", slices.Concat(e.calls("kt", "620802", 10, 0), e.calls("jc", "620821", 10, 0))...)
	w.wait(t, "two reports", topic, func(b report.Board) bool {
		return onBoard(b, "answer-ladder", "620802", report.StateFiring) && onBoard(b, "answer-ladder", "620821", report.StateFiring)
	})
	testkit.WaitFor(t, "both counties told", func() bool {
		return countContaining(hookTexts(county), "崆峒区", "firing|county|620802") == 1 && countContaining(hookTexts(county), "泾川县", "firing|county|620821") == 1
	})
	rs := e.reports(t, duty, "region=620800")
	kt, _ := findReport(rs, "answer-ladder", "620802")
	jc, _ := findReport(rs, "answer-ladder", "620821")
	if kt.ID == "" || jc.ID == "" {
		t.Fatalf("GET /api/reports: %+v", rs)
	}

	// 泾川 acknowledges within the half hour.
	body, _ := json.Marshal(map[string]string{"comment": "已联系县热线中心，增派坐席"})
	code, answer := e.do(t, duty, "POST", "/api/reports/"+jc.ID+"/ack", "application/json", body)
	var acked report.Report
	json.Unmarshal([]byte(answer), &acked)
	if code != 200 || acked.State != report.StateAcknowledged || acked.AckedBy != "duty" {
		t.Fatalf("ack: %d %s", code, answer)
	}
	w.wait(t, "the acknowledgement on the board", topic, func(b report.Board) bool {
		return onBoard(b, "answer-ladder", "620821", report.StateAcknowledged) && b.Unacked == 1
	})

	// 31 minutes: the city hears of 崆峒 only.
	clock.Advance(31 * time.Minute)
	e.a.pokeJudge()
	testkit.WaitFor(t, "the escalation to the city", func() bool { return len(city.Received()) == 1 })
	if got := hookTexts(city)[0]; !strings.Contains(got, "升级呈报") || !strings.Contains(got, "崆峒区") || strings.Contains(got, "泾川县") || !strings.Contains(got, "escalation|city|620800") {
		t.Errorf("the city's message: %q; want an escalation of 崆峒区 alone", got)
	}

	// Restart.
	before := map[string]int{"county": len(county.Received()), "city": len(city.Received()), "province": len(province.Received())}
	e.stop()
	e.start(t)
	duty = e.signIn(t, "duty")
	d := e.detail(t, duty, jc.ID)
	if d.Report.State != report.StateAcknowledged || d.Report.AckedBy != "duty" || len(d.Acknowledgements) != 1 || d.Acknowledgements[0].Comment != "已联系县热线中心，增派坐席" {
		t.Errorf("after the restart, 泾川's report: state %s, acked by %q, acknowledgements %+v", d.Report.State, d.Report.AckedBy, d.Acknowledgements)
	}
	if d := e.detail(t, duty, kt.ID); d.Report.Escalation != 1 || d.Report.Level != "city" {
		t.Errorf("after the restart, 崆峒's report: escalation %d, level %q; want 1, city", d.Report.Escalation, d.Report.Level)
	}
	w = watchBoards(t, e, duty, topic)

	// 62 minutes: the province. 93, 124: the ladder again. Then no more.
	// Each step is awaited by the count of every receiver, so that a
	// message sent twice (after the restart) is not taken for the next.
	counts := func() [3]int { return [3]int{len(county.Received()), len(city.Received()), len(province.Received())} }
	for i, want := range []struct {
		hook       *notifytest.Webhook
		level, reg string
		counts     [3]int // county, city, province
	}{{province, "province", "620000", [3]int{2, 1, 1}}, {city, "city", "620800", [3]int{2, 2, 1}}, {province, "province", "620000", [3]int{2, 2, 2}}} {
		clock.Advance(31 * time.Minute)
		e.a.pokeJudge()
		testkit.WaitFor(t, fmt.Sprintf("escalation %d to the %s", i+2, want.level), func() bool {
			n := counts()
			return n[0]+n[1]+n[2] >= want.counts[0]+want.counts[1]+want.counts[2]
		})
		if n := counts(); n != want.counts {
			t.Fatalf("escalation %d: requests county/city/province = %v, want %v: county %q city %q province %q",
				i+2, n, want.counts, hookTexts(county), hookTexts(city), hookTexts(province))
		}
		texts := hookTexts(want.hook)
		got := texts[len(texts)-1]
		if !strings.Contains(got, "崆峒区") || strings.Contains(got, "泾川县") || !strings.Contains(got, "escalation|"+want.level+"|"+want.reg) {
			t.Errorf("escalation %d: %q", i+2, got)
		}
	}
	clock.Advance(3 * time.Hour)
	e.a.pokeJudge()
	// The conditions end: every level that was told hears "resolved"
	// once; a later evaluation than any escalation would have been.
	e.ingest(t, "calls", slices.Concat(e.calls("kt", "620802", 10, 10), e.calls("jc", "620821", 10, 10))...)
	w.wait(t, "both resolved", topic, func(b report.Board) bool { return len(b.Reports) == 0 })
	testkit.WaitFor(t, "the resolutions", func() bool {
		return countContaining(hookTexts(county), "resolved|county|620802") == 1 && countContaining(hookTexts(county), "resolved|county|620821") == 1 &&
			countContaining(hookTexts(city), "resolved|city|620800") == 1 && countContaining(hookTexts(province), "resolved|province|620000") == 1
	})
	for name, h := range map[string]*notifytest.Webhook{"county": county, "city": city, "province": province} {
		if dup := duplicates(hookIDs(h)); len(dup) > 0 {
			t.Errorf("%s received %v twice", name, dup)
		}
	}
	// county: two firings and two resolutions; city: two escalations, one
	// resolution; province: the same. Before the restart: 2, 1, 0.
	if n := [3]int{len(county.Received()), len(city.Received()), len(province.Received())}; n != [3]int{4, 3, 3} || before["county"] != 2 || before["city"] != 1 || before["province"] != 0 {
		t.Errorf("requests county/city/province = %v (before the restart %v), want [4 3 3] (2, 1, 0): county %q city %q province %q",
			n, before, hookTexts(county), hookTexts(city), hookTexts(province))
	}
	if d := e.detail(t, duty, jc.ID); d.Report.Escalation != 0 || d.Report.State != report.StateResolved {
		t.Errorf("泾川's report: %+v; want resolved, never escalated", d.Report)
	}
}

func TestReportLinkIsAbsoluteUnderTheAllowedOrigin(t *testing.T) {
	for _, c := range []struct {
		origins []string
		want    string
	}{
		{nil, "/m"},
		{[]string{"https://ioc.example.gov.cn"}, "https://ioc.example.gov.cn/m"},
		{[]string{"https://ioc.example.gov.cn/", "https://b.example"}, "https://ioc.example.gov.cn/m"},
	} {
		if got := reportLink(c.origins); got != c.want {
			t.Errorf("reportLink(%q) = %q, want %q", c.origins, got, c.want)
		}
	}
}
