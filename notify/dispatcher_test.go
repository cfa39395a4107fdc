package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/notify/notifytest"
)

var testStart = time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC) // 09:00 in Beijing

// testMessage is the i-th message of a test, with a body of body bytes
// (about) of Chinese text.
func testMessage(i, body int) Message {
	return Message{
		ID:         fmt.Sprintf("rpt-%03d#1", i),
		Title:      fmt.Sprintf("崆峒区 12345 供水投诉激增（第 %d 条）", i),
		Markdown:   "今日供水类工单 **42** 件，为近 28 日基线的 5.3 倍。\n" + strings.Repeat("涉及小区：东关、西关、南关。\n", body/39),
		Text:       "今日供水类工单 42 件，为近 28 日基线的 5.3 倍。",
		URL:        fmt.Sprintf("https://yiping.example.gov.cn/reports/rpt-%03d", i),
		Severity:   SeverityCritical,
		RegionCode: "620802", RegionName: "崆峒区",
		Time:   testStart,
		Labels: map[string]string{"rule": "surge"},
	}
}

// newTestDispatcher runs a Dispatcher on a fake clock with a memory log
// and no jitter; Close is deferred to the test's end.
func newTestDispatcher(t *testing.T, clk *notifytest.Clock, retry RetryPolicy, receivers ...Receiver) (*Dispatcher, *MemoryLog) {
	t.Helper()
	log := &MemoryLog{}
	d, err := New(Config{Receivers: receivers, Log: log, Clock: clk, Retry: retry, Rand: func() float64 { return 0.5 },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // give up at once: a test that wanted a drain closed already
		d.Close(ctx)
	})
	return d, log
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sentIDs counts, per message id, the sent deliveries that carried it.
func sentIDs(ds []Delivery) map[string]int {
	n := map[string]int{}
	for _, d := range ds {
		if d.Status == StatusSent {
			for _, id := range d.MessageIDs {
				n[id]++
			}
		}
	}
	return n
}

func statuses(ds []Delivery) []Status {
	out := make([]Status, len(ds))
	for i, d := range ds {
		out[i] = d.Status
	}
	return out
}

// eventually polls cond until it holds or ctx ends: for a state that is
// reached through another goroutine and announces itself nowhere (a
// worker that has gone to sleep on the clock, or not).
func eventually(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// TestRateLimitAndOverflow sends 25 messages within a minute to a signed
// DingTalk robot that allows 20 a minute (and answers 130101 past it):
// 20 go one by one, the 5 that the window cannot carry wait for it and go
// as one digest; nothing is refused, lost or sent twice.
func TestRateLimitAndOverflow(t *testing.T) {
	ctx := testContext(t)
	clk := notifytest.NewClock(testStart)
	robot := notifytest.NewDingTalk("TOKEN123", "SECsecret", clk.Now)
	defer robot.Close()
	d, log := newTestDispatcher(t, clk, RetryPolicy{},
		Receiver{Name: "ding", Notifier: &DingTalk{URL: robot.URL(), Secret: "SECsecret", Now: clk.Now}})

	for i := range 25 {
		if i > 0 {
			clk.Advance(2 * time.Second) // 25 messages over 48 s
		}
		if err := d.Send(ctx, testMessage(i, 300), "ding"); err != nil {
			t.Fatal(err)
		}
		if i < 20 {
			if err := log.Wait(ctx, func(ds []Delivery) bool { return len(sentIDs(ds)) == i+1 }); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	}
	// The 21st waits on the clock for the first send to leave the window.
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(robot.Received()); n != 20 {
		t.Fatalf("%d requests before the window opened, want 20", n)
	}
	clk.Advance(12 * time.Second) // t = 60 s
	if err := log.Wait(ctx, func(ds []Delivery) bool { return len(sentIDs(ds)) == 25 }); err != nil {
		t.Fatal(err)
	}

	got := robot.Received()
	if len(got) != 21 {
		t.Errorf("%d requests, want 20 single + 1 digest", len(got))
	}
	for i, m := range got {
		if m.ErrCode != 0 || m.BodyBytes > DingTalkMaxBytes {
			t.Errorf("request %d: errcode %d %s, %d bytes", i, m.ErrCode, m.ErrMsg, m.BodyBytes)
		}
	}
	last := got[len(got)-1]
	if !last.At.Equal(testStart.Add(time.Minute)) || !strings.Contains(last.Title, "汇总 5 条") {
		t.Errorf("digest at %v titled %q", last.At, last.Title)
	}
	for i := 20; i < 25; i++ {
		if !strings.Contains(last.Text, testMessage(i, 0).URL) {
			t.Errorf("digest lacks message %d:\n%s", i, last.Text)
		}
	}
	ds := log.Deliveries()
	for id, n := range sentIDs(ds) {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	dg := ds[len(ds)-1]
	if dg.Digest == "" || len(dg.MessageIDs) != 5 || dg.MessageIDs[0] != "rpt-020#1" || dg.Attempt != 1 || dg.Status != StatusSent {
		t.Errorf("digest delivery %+v", dg)
	}
}

// TestOverflowSplitsAtSizeLimit sends 60 long messages at once to a WeCom
// robot (4,096 bytes of markdown, 20 a minute): long bodies are cut with
// a note, digests stop at the limit with an "(n more)" line, and every
// message arrives exactly once, none over the limit, none refused.
func TestOverflowSplitsAtSizeLimit(t *testing.T) {
	ctx := testContext(t)
	clk := notifytest.NewClock(testStart)
	robot := notifytest.NewWeCom("KEY-0001", clk.Now)
	defer robot.Close()
	d, log := newTestDispatcher(t, clk, RetryPolicy{}, Receiver{Name: "wecom", Notifier: &WeCom{URL: robot.URL()}})

	const total = 60
	for i := range total {
		m := testMessage(i, 6000) // over the limit alone
		m.Title += strings.Repeat("，请相关单位立即核查处置", 6)
		if err := d.Send(ctx, m, "wecom"); err != nil {
			t.Fatal(err)
		}
	}
	minutes := 0
	for {
		done := func() bool { return len(sentIDs(log.Deliveries())) == total }
		eventually(ctx, t, "the worker to finish or wait on the clock", func() bool { return done() || clk.Waiters() > 0 })
		if done() {
			break
		}
		clk.Advance(time.Minute)
		minutes++
	}
	if minutes < 1 {
		t.Errorf("all delivered at once: the rate limit did not hold")
	}
	var cut, more int
	perMinute := map[time.Time]int{}
	for i, m := range robot.Received() {
		if m.ErrCode != 0 || len(m.Text) > WeComMaxBytes {
			t.Errorf("request %d: errcode %d %s, %d bytes", i, m.ErrCode, m.ErrMsg, len(m.Text))
		}
		perMinute[m.At]++
		if strings.Contains(m.Text, "已截断") {
			cut++
		}
		if strings.Contains(m.Text, " more）") {
			more++
		}
	}
	for at, n := range perMinute {
		if n > WeComPerMinute {
			t.Errorf("%d requests at %v", n, at)
		}
	}
	t.Logf("%d requests over %d minutes: %d truncated, %d digests with more to follow", len(robot.Received()), minutes, cut, more)
	if cut == 0 || more == 0 {
		t.Errorf("%d truncated, %d digests with more to follow: want some of each", cut, more)
	}
	for id, n := range sentIDs(log.Deliveries()) {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
}

// TestRetries: a webhook that fails three times (503, echoing its URL
// with a token) and then takes the message; the log shows each attempt,
// the backoff doubling, and no token.
func TestRetries(t *testing.T) {
	ctx := testContext(t)
	clk := notifytest.NewClock(testStart)
	hook := notifytest.NewWebhook()
	hook.Status = func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	defer hook.Close()
	d, log := newTestDispatcher(t, clk, RetryPolicy{Initial: 10 * time.Second, Max: time.Hour, Jitter: -1},
		Receiver{Name: "hook", Notifier: &Webhook{Name: "hook", URL: hook.URL + "/in?token=HOOKSECRET"}})

	if err := d.Send(ctx, testMessage(1, 100), "hook"); err != nil {
		t.Fatal(err)
	}
	waits := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	for k, wait := range waits {
		if err := log.Wait(ctx, func(ds []Delivery) bool { return len(ds) == k+1 }); err != nil {
			t.Fatal(err)
		}
		e := log.Deliveries()[k]
		if e.Status != StatusRetrying || !e.Next.Equal(clk.Now().Add(wait)) {
			t.Fatalf("attempt %d: %+v, want retrying in %v", k+1, e, wait)
		}
		if err := clk.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(wait)
	}
	if err := log.Wait(ctx, func(ds []Delivery) bool { return len(ds) == 4 }); err != nil {
		t.Fatal(err)
	}
	ds := log.Deliveries()
	if got := statuses(ds); !slices.Equal(got, []Status{StatusRetrying, StatusRetrying, StatusRetrying, StatusSent}) {
		t.Errorf("statuses %v", got)
	}
	for i, e := range ds {
		if e.Receiver != "hook" || e.Attempt != i+1 || !slices.Equal(e.MessageIDs, []string{"rpt-001#1"}) || e.Latency < 0 {
			t.Errorf("delivery %d: %+v", i, e)
		}
		if e.Status == StatusRetrying && (!strings.Contains(e.Error, "HTTP 503") || !strings.Contains(e.Error, "token=<redacted>")) {
			t.Errorf("delivery %d error %q", i, e.Error)
		}
		if strings.Contains(fmt.Sprintf("%+v", e), "HOOKSECRET") {
			t.Errorf("the token shows in the log: %+v", e)
		}
	}
	if want := testStart.Add(70 * time.Second); !ds[3].Time.Equal(want) {
		t.Errorf("sent at %v, want %v", ds[3].Time, want)
	}
	reqs := hook.Received()
	for _, r := range reqs {
		if r.Header.Get("Idempotency-Key") != "rpt-001#1" {
			t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
		}
	}
	if len(reqs) != 4 {
		t.Errorf("%d requests, want 4", len(reqs))
	}
}

// TestNotRetried: permanent failures are tried once and logged failed;
// retries end at MaxAttempts or MaxAge.
func TestNotRetried(t *testing.T) {
	tests := []struct {
		name     string
		status   func(n int) int
		retry    RetryPolicy
		advance  time.Duration // per retry
		statuses []Status
		errText  string
	}{
		{"400 permanent", func(int) int { return http.StatusBadRequest }, RetryPolicy{}, 0,
			[]Status{StatusFailed}, "HTTP 400"},
		{"404 permanent", func(int) int { return http.StatusNotFound }, RetryPolicy{}, 0,
			[]Status{StatusFailed}, "HTTP 404"},
		{"max attempts", func(int) int { return http.StatusBadGateway }, RetryPolicy{Initial: time.Second, MaxAttempts: 3, Jitter: -1}, time.Minute,
			[]Status{StatusRetrying, StatusRetrying, StatusFailed}, "gave up after 3 attempts"},
		{"max age", func(int) int { return http.StatusBadGateway }, RetryPolicy{Initial: 40 * time.Second, MaxAge: time.Minute, Jitter: -1}, time.Hour,
			[]Status{StatusRetrying, StatusFailed}, "max age 1m0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			clk := notifytest.NewClock(testStart)
			hook := notifytest.NewWebhook()
			hook.Status = tc.status
			defer hook.Close()
			d, log := newTestDispatcher(t, clk, tc.retry, Receiver{Name: "hook", Notifier: &Webhook{URL: hook.URL}})
			if err := d.Send(ctx, testMessage(1, 100), "hook"); err != nil {
				t.Fatal(err)
			}
			for k := range tc.statuses {
				if err := log.Wait(ctx, func(ds []Delivery) bool { return len(ds) == k+1 }); err != nil {
					t.Fatal(err)
				}
				if k < len(tc.statuses)-1 {
					if err := clk.BlockUntil(ctx, 1); err != nil {
						t.Fatal(err)
					}
					clk.Advance(tc.advance)
				}
			}
			if err := d.Close(ctx); err != nil {
				t.Fatal(err)
			}
			ds := log.Deliveries()
			if got := statuses(ds); !slices.Equal(got, tc.statuses) {
				t.Errorf("statuses %v, want %v", got, tc.statuses)
			}
			if last := ds[len(ds)-1]; !strings.Contains(last.Error, tc.errText) {
				t.Errorf("error %q lacks %q", last.Error, tc.errText)
			}
			if n := len(hook.Received()); n != len(tc.statuses) {
				t.Errorf("%d requests, want %d", n, len(tc.statuses))
			}
		})
	}
}

// notifierFunc adapts a function to a Notifier.
type notifierFunc func(ctx context.Context, m Message) (bool, error)

func (f notifierFunc) Notify(ctx context.Context, m Message) (bool, error) { return f(ctx, m) }

// TestClose: Close drains what waits, then refuses; a Close whose
// context ends gives up and logs the rest as dropped.
func TestClose(t *testing.T) {
	t.Run("drains", func(t *testing.T) {
		ctx := testContext(t)
		hook := notifytest.NewWebhook()
		defer hook.Close()
		d, log := newTestDispatcher(t, notifytest.NewClock(testStart), RetryPolicy{}, Receiver{Name: "hook", Notifier: &Webhook{URL: hook.URL}})
		for i := range 3 {
			if err := d.Send(ctx, testMessage(i, 10), "hook"); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(sentIDs(log.Deliveries())); n != 3 {
			t.Errorf("%d sent, want 3", n)
		}
		if err := d.Send(ctx, testMessage(9, 10), "hook"); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		ctx := testContext(t)
		clk := notifytest.NewClock(testStart)
		down := notifierFunc(func(context.Context, Message) (bool, error) { return true, errors.New("connection refused") })
		d, log := newTestDispatcher(t, clk, RetryPolicy{}, Receiver{Name: "down", Notifier: down})
		for i := range 2 {
			if err := d.Send(ctx, testMessage(i, 10), "down"); err != nil {
				t.Fatal(err)
			}
		}
		if err := clk.BlockUntil(ctx, 1); err != nil { // the first waits to retry
			t.Fatal(err)
		}
		closeCtx, cancel := context.WithCancel(ctx)
		cancel()
		if err := d.Close(closeCtx); !errors.Is(err, context.Canceled) {
			t.Errorf("Close: %v", err)
		}
		ds := log.Deliveries()
		if got := statuses(ds); !slices.Equal(got, []Status{StatusRetrying, StatusDropped, StatusDropped}) {
			t.Fatalf("statuses %v", got)
		}
		if ds[1].MessageIDs[0] != "rpt-000#1" || ds[1].Attempt != 1 || ds[2].MessageIDs[0] != "rpt-001#1" || ds[2].Attempt != 0 {
			t.Errorf("dropped %+v", ds[1:])
		}
	})
}

// TestSend: unknown receivers, ids, duplicates, a full queue.
func TestSend(t *testing.T) {
	ctx := testContext(t)
	release := make(chan struct{})
	var calls []string
	slow := notifierFunc(func(ctx context.Context, m Message) (bool, error) {
		calls = append(calls, m.ID)
		<-release
		return false, nil
	})
	log := &MemoryLog{}
	d, err := New(Config{Receivers: []Receiver{{Name: "slow", Notifier: slow}}, Log: log, QueueSize: 2, Logger: slog.New(slog.DiscardHandler), Clock: notifytest.NewClock(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, testMessage(0, 10), "nobody"); !errors.Is(err, ErrUnknownReceiver) {
		t.Errorf("unknown receiver: %v", err)
	}
	if err := d.Send(ctx, Message{Title: "no id"}, "slow"); err == nil {
		t.Error("a message without an id was taken")
	}
	if err := d.Send(ctx, testMessage(0, 10), "slow"); err != nil { // taken, blocks the worker
		t.Fatal(err)
	}
	eventually(ctx, t, "the first message in flight", func() bool { return d.Pending("slow") == 0 })
	for _, i := range []int{1, 2, 2} { // the repeat is not queued twice
		if err := d.Send(ctx, testMessage(i, 10), "slow"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Send(ctx, testMessage(3, 10), "slow"); !errors.Is(err, ErrQueueFull) {
		t.Errorf("full queue: %v", err)
	}
	close(release)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []string{"rpt-000#1", "rpt-001#1", "rpt-002#1"}) {
		t.Errorf("sent %v", calls)
	}
	ds := log.Deliveries()
	if got := statuses(ds); !slices.Equal(got, []Status{StatusDropped, StatusSent, StatusSent, StatusSent}) || !strings.Contains(ds[0].Error, "queue full") {
		t.Errorf("log %+v", ds)
	}
}

// TestNewRejects receivers without a name or notifier and duplicates.
func TestNewRejects(t *testing.T) {
	hook := &Webhook{URL: "http://127.0.0.1:1/"}
	for _, rs := range [][]Receiver{
		{{Name: "", Notifier: hook}},
		{{Name: "a"}},
		{{Name: "a", Notifier: hook}, {Name: "a", Notifier: hook}},
	} {
		if _, err := New(Config{Receivers: rs}); err == nil {
			t.Errorf("New(%v) took it", rs)
		}
	}
}
