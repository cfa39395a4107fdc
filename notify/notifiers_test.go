package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/notify/notifytest"
)

// TestDingTalkSignature delivers to a robot that checks signatures as
// DingTalk does: the right secret passes, a wrong or missing one and a
// clock an hour off are refused with 310000 and not retried.
func TestDingTalkSignature(t *testing.T) {
	ctx := testContext(t)
	robotNow := func() time.Time { return testStart }
	robot := notifytest.NewDingTalk("TOKEN123", "SECright", robotNow)
	defer robot.Close()
	tests := []struct {
		name    string
		secret  collectors.Secret
		skew    time.Duration
		errcode int
		errmsg  string
	}{
		{"signed", "SECright", 0, 0, "ok"},
		{"59 minutes off", "SECright", 59 * time.Minute, 0, "ok"},
		{"wrong secret", "SECwrong", 0, notifytest.DingTalkBadSign, "sign not match"},
		{"unsigned", "", 0, notifytest.DingTalkBadSign, "sign not match"},
		{"clock ahead", "SECright", 61 * time.Minute, notifytest.DingTalkBadSign, "invalid timestamp"},
		{"clock behind", "SECright", -2 * time.Hour, notifytest.DingTalkBadSign, "invalid timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &DingTalk{URL: robot.URL(), Secret: tc.secret, Now: func() time.Time { return testStart.Add(tc.skew) }}
			retry, err := n.Notify(ctx, testMessage(1, 100))
			got := robot.Received()
			last := got[len(got)-1]
			if last.ErrCode != tc.errcode || last.ErrMsg != tc.errmsg {
				t.Errorf("robot answered %d %q, want %d %q", last.ErrCode, last.ErrMsg, tc.errcode, tc.errmsg)
			}
			if (err == nil) != (tc.errcode == 0) || retry {
				t.Errorf("Notify = %v, %v", retry, err)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("errcode %d", tc.errcode)) {
				t.Errorf("error %q", err)
			}
			if tc.errcode == 0 && (last.Title == "" || !strings.Contains(last.Text, "### 【紧急】") || !strings.Contains(last.Text, "[查看详情](https://")) {
				t.Errorf("markdown %q / %q", last.Title, last.Text)
			}
		})
	}
}

// TestWeComSizeLimit: WeCom refuses markdown over 4,096 bytes (40058,
// not retried); the same message cut by the Dispatcher's fit passes.
func TestWeComSizeLimit(t *testing.T) {
	ctx := testContext(t)
	robot := notifytest.NewWeCom("KEY-1", nil)
	defer robot.Close()
	n := &WeCom{URL: robot.URL()}
	m := testMessage(1, 5000)
	retry, err := n.Notify(ctx, m)
	if err == nil || retry || !strings.Contains(err.Error(), "errcode 40058") {
		t.Errorf("oversized: %v, %v", retry, err)
	}
	fitted, _ := fit(m, n.Size, WeComMaxBytes)
	if retry, err := n.Notify(ctx, fitted); err != nil || retry {
		t.Errorf("fitted: %v, %v", retry, err)
	}
	bad := &WeCom{URL: strings.Replace(robot.URL(), "KEY-1", "KEY-2", 1)}
	if _, err := bad.Notify(ctx, m); err == nil || !strings.Contains(err.Error(), "93000") || strings.Contains(err.Error(), "KEY-2") {
		t.Errorf("wrong key: %v", err)
	}
}

// TestAnswers classifies what receivers answer: success, what a retry
// can pass, what it cannot, and how long a throttle lasts.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		status  int
		header  string // Retry-After
		body    string
		retry   bool
		ok      bool
		after   time.Duration
		errText string
	}{
		{"dingtalk ok", TypeDingTalk, 200, "", `{"errcode":0,"errmsg":"ok"}`, false, true, 0, ""},
		{"dingtalk too fast", TypeDingTalk, 200, "", `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, true, false, 10 * time.Minute, "errcode 130101"},
		{"dingtalk busy", TypeDingTalk, 200, "", `{"errcode":-1,"errmsg":"系统繁忙"}`, true, false, 0, "系统繁忙"},
		{"dingtalk keywords", TypeDingTalk, 200, "", `{"errcode":310000,"errmsg":"keywords not in content"}`, false, false, 0, "keywords"},
		{"dingtalk proxy page", TypeDingTalk, 200, "", `<html>gateway</html>`, true, false, 0, "unexpected answer"},
		{"dingtalk 502", TypeDingTalk, 502, "", `bad gateway`, true, false, 0, "HTTP 502"},
		{"wecom ok", TypeWeCom, 200, "", `{"errcode":0,"errmsg":"ok"}`, false, true, 0, ""},
		{"wecom freq", TypeWeCom, 200, "", `{"errcode":45009,"errmsg":"api freq out of limit"}`, true, false, time.Minute, "45009"},
		{"wecom too long", TypeWeCom, 200, "", `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`, false, false, 0, "40058"},
		{"webhook 204", TypeWebhook, 204, "", ``, false, true, 0, ""},
		{"webhook 429", TypeWebhook, 429, "30", `slow down`, true, false, 30 * time.Second, "HTTP 429"},
		{"webhook 408", TypeWebhook, 408, "", ``, true, false, 0, "HTTP 408"},
		{"webhook 401", TypeWebhook, 401, "", `who are you`, false, false, 0, "HTTP 401"},
		{"webhook 500", TypeWebhook, 500, "", `oops`, true, false, 0, "HTTP 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			var n Notifier
			switch tc.kind {
			case TypeDingTalk:
				n = &DingTalk{URL: srv.URL + "?access_token=T"}
			case TypeWeCom:
				n = &WeCom{URL: srv.URL + "?key=K"}
			default:
				n = &Webhook{URL: srv.URL}
			}
			retry, err := n.Notify(testContext(t), testMessage(1, 10))
			if retry != tc.retry || (err == nil) != tc.ok {
				t.Fatalf("Notify = %v, %v; want retry %v, ok %v", retry, err, tc.retry, tc.ok)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("error %q lacks %q", err, tc.errText)
			}
			ra, isRA := errors.AsType[*RetryAfterError](err)
			if (tc.after > 0) != isRA || (isRA && ra.After != tc.after) {
				t.Errorf("retry after %v (%v), want %v", ra, isRA, tc.after)
			}
		})
	}
	// Refused and unreachable: retry, and the URL's token stays hidden.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	retry, err := (&DingTalk{URL: closed.URL + "/robot/send?access_token=TOPSECRET"}).Notify(testContext(t), testMessage(1, 10))
	if !retry || err == nil || strings.Contains(err.Error(), "TOPSECRET") || !strings.Contains(err.Error(), "access_token=<redacted>") {
		t.Errorf("refused: %v, %v", retry, err)
	}
}

// TestWebhookPayload checks the documented body and headers, for one
// message and for a digest.
func TestWebhookPayload(t *testing.T) {
	ctx := testContext(t)
	hook := notifytest.NewWebhook()
	defer hook.Close()
	n := &Webhook{Name: "ops", URL: hook.URL + "/yiping", Headers: map[string]collectors.Secret{"Authorization": "Bearer B123"}}
	m := testMessage(7, 10)
	m.Markdown = "a < b & c" // not escaped to \u003c
	if _, err := n.Notify(ctx, m); err != nil {
		t.Fatal(err)
	}
	parts := []Message{testMessage(1, 10), testMessage(2, 10)}
	if _, err := n.Notify(ctx, digest(parts, 0, businessZone)); err != nil {
		t.Fatal(err)
	}
	got := hook.Received()
	one := got[0]
	if one.Header.Get("Authorization") != "Bearer B123" || one.Header.Get("Idempotency-Key") != "rpt-007#1" ||
		!strings.HasPrefix(one.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", one.Header)
	}
	if !strings.Contains(string(one.Body), `"markdown":"a < b & c"`) {
		t.Errorf("body %s", one.Body)
	}
	var p WebhookPayload
	if err := json.Unmarshal(one.Body, &p); err != nil {
		t.Fatal(err)
	}
	want := WebhookPayload{Version: "1", Receiver: "ops", WebhookMessage: WebhookMessage{
		ID: "rpt-007#1", Title: m.Title, Markdown: m.Markdown, Text: m.Text, URL: m.URL, Severity: SeverityCritical,
		Region: WebhookRegion{Code: "620802", Name: "崆峒区"}, Time: "2026-12-03T09:00:00+08:00", Labels: map[string]string{"rule": "surge"},
	}}
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Errorf("payload\n%+v\nwant\n%+v", p, want)
	}
	var d WebhookPayload
	if err := json.Unmarshal(got[1].Body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Parts) != 2 || d.Parts[1].ID != "rpt-002#1" || !strings.HasPrefix(d.ID, "digest-") || got[1].Header.Get("Idempotency-Key") != d.ID {
		t.Errorf("digest payload %+v", d)
	}
}
