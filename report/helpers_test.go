package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/access/accesstest"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
)

// cst is the business time zone of the tests (Asia/Shanghai has had no
// DST since 1991; a fixed zone needs no tzdata).
var cst = time.FixedZone("CST", 8*3600)

// t0 is a Monday, a working day, 10:00.
var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, cst)

func testCalendar() *calendar.Calendar { return calendar.Default(cst) }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clock is a fake clock for Ack and silences.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeInput is the engine's values, the sources' health and the surges,
// set by the test.
type fakeInput struct {
	mu sync.Mutex
	// list holds each period's values, as the engine returns them; at
	// indexes them by "indicator|region".
	list    map[engine.Period][]engine.Result
	at      map[engine.Period]map[string]int
	health  []collectors.Health
	surges  []SurgeFinding
	failing map[engine.Period]bool
}

func newInput() *fakeInput {
	return &fakeInput{list: map[engine.Period][]engine.Result{}, at: map[engine.Period]map[string]int{}, failing: map[engine.Period]bool{}}
}

// set puts a value: a rate when den ≥ 0, a count when den < 0.
func (f *fakeInput) set(ind, reg string, p engine.Period, num, den int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.at[p]
	if m == nil {
		m = map[string]int{}
		f.at[p] = m
	}
	def, _ := indicator.Lookup(ind)
	r := engine.Result{Indicator: ind, Region: reg, Numerator: num, Rate: def.Rate}
	if def.Rate {
		r.Denominator = den
	}
	if i, ok := m[ind+"|"+reg]; ok {
		f.list[p][i] = r
		return
	}
	m[ind+"|"+reg] = len(f.list[p])
	f.list[p] = append(f.list[p], r)
}

func (f *fakeInput) Results(_ context.Context, p engine.Period) ([]engine.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing[p] {
		return nil, errors.New("engine unavailable")
	}
	return append([]engine.Result(nil), f.list[p]...), nil
}

func (f *fakeInput) Health() []collectors.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]collectors.Health(nil), f.health...)
}

func (f *fakeInput) Surges(time.Time) []SurgeFinding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SurgeFinding(nil), f.surges...)
}

// sender records notifications; fail makes Send refuse.
type sender struct {
	mu   sync.Mutex
	got  []Notification
	fail bool
}

func (s *sender) Send(_ context.Context, n Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("dispatcher down")
	}
	s.got = append(s.got, n)
	return nil
}

// take returns and forgets what was sent, as "kind level region (n)".
func (s *sender) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.got {
		out = append(out, fmt.Sprintf("%s %s %s (%d)", n.Kind, n.Level, n.Region, len(n.Reports)))
	}
	s.got = nil
	return out
}

func (s *sender) all() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.got...)
}

// publisher keeps the last payload of each topic.
type publisher struct {
	mu   sync.Mutex
	last map[string]Board
	n    int
}

func (p *publisher) Publish(topic string, data json.RawMessage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b Board
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	if p.last == nil {
		p.last = map[string]Board{}
	}
	p.last[topic] = b
	p.n++
	return nil
}

func (p *publisher) board(topic string) (Board, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.last[topic]
	return b, ok
}

// fakePast is the history of drop rules: "indicator|region|period" → value.
type fakePast struct {
	vals  map[string][2]int64
	asked []time.Time
}

func (f *fakePast) AsOf(_ context.Context, ind, reg, period string, t time.Time) (int64, int64, bool, error) {
	f.asked = append(f.asked, t)
	v, ok := f.vals[ind+"|"+reg+"|"+period]
	return v[0], v[1], ok, nil
}

// harness is a manager with fakes around it.
type harness struct {
	t     *testing.T
	m     *Manager
	in    *fakeInput
	send  *sender
	pub   *publisher
	clock *clock
	past  *fakePast
	store *access.SQLStore
	rules *Rules
}

func mustParse(t testing.TB, yaml string) *Rules {
	t.Helper()
	rs, err := Parse("rules.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	return rs
}

// newHarness builds a manager on a fresh SQLite database with the rules.
func newHarness(t *testing.T, rules string) *harness {
	t.Helper()
	return newHarnessOn(t, accesstest.SQLite(t)(t, "db"), rules)
}

func newHarnessOn(t *testing.T, st *access.SQLStore, rules string) *harness {
	t.Helper()
	h := &harness{t: t, in: newInput(), send: &sender{}, pub: &publisher{}, clock: &clock{t: t0},
		past: &fakePast{vals: map[string][2]int64{}}, store: st, rules: mustParse(t, rules)}
	h.m = h.start()
	return h
}

// start builds a manager on the harness's store (again: a restart).
func (h *harness) start() *Manager {
	h.t.Helper()
	m, err := New(context.Background(), Config{Rules: h.rules, Store: h.store, Calendar: testCalendar(), Past: h.past,
		Sender: h.send, Publisher: h.pub, Root: "620000", Now: h.clock.Now, Logger: quietLog()})
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// at evaluates at t (the clock moves there too).
func (h *harness) at(t time.Time) {
	h.t.Helper()
	h.clock.Set(t)
	if err := h.m.Evaluate(context.Background(), t, h.in); err != nil {
		h.t.Fatalf("evaluate at %s: %v", t.Format("15:04"), err)
	}
}

// only returns the one open report of the region, or fails.
func (h *harness) only(reg string) Report {
	h.t.Helper()
	rs := h.m.Open(reg)
	if len(rs) != 1 {
		h.t.Fatalf("open reports of %s: %d, want 1: %+v", reg, len(rs), rs)
	}
	return rs[0]
}

func (h *harness) none(reg string) {
	h.t.Helper()
	if rs := h.m.Open(reg); len(rs) != 0 {
		h.t.Fatalf("open reports of %s: %+v, want none", reg, rs)
	}
}

func (h *harness) expectSent(want ...string) {
	h.t.Helper()
	got := h.send.take()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Fatalf("sent %q, want %q", got, want)
	}
}

// rulesHead is the top of the lifecycle tests' rules: escalation from
// county to city after 30m and province after 2h, repeat every hour.
const rulesHead = `
defaults:
  repeat: 1h
  min_count: 1
  escalate:
    - {after: 30m, to: city}
    - {after: 2h, to: province}
  receivers:
    county: [county-duty]
    city: [city-duty]
    province: [province-duty]
quiet_hours:
  nights:
    - {start: "22:00", end: "07:00"}
  weekends:
    - {days: non_working}
`

// answerRule fires when a county's answer rate today is below 90%.
const answerRule = rulesHead + `
rules:
  - name: answer
    title: {zh: 接通率低, en: Answer rate low}
    type: threshold
    indicator: answer_rate
    period: day
    level: county
    worse_than: "90%"
`
