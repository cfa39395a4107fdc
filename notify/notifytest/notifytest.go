// Package notifytest plays the receivers of package notify on loopback,
// as strictly as the real ones: a DingTalk custom robot that verifies
// its signature and rate, a WeCom group robot that refuses oversized
// markdown, a generic webhook whose answers a test scripts. And a fake
// clock that moves only when told. It imports nothing of notify, so that
// notify's own tests and the product's can both use it.
package notifytest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Clock is a fake clock: Now stands still until Advance moves it, and
// After fires when the clock passes its time. It satisfies notify.Clock.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced when a waiter is added
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires once the clock has been advanced by d (at once for d ≤ 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	return ch
}

// Advance moves the clock by d and fires every After it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waiters = slices.DeleteFunc(c.waiters, func(w waiter) bool {
		if w.at.After(c.now) {
			return false
		}
		w.ch <- c.now
		return true
	})
}

// Waiters is how many Afters have not fired yet.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits until at least n Afters are pending (the code under
// test is waiting on the clock) or ctx ends.
func (c *Clock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d waiters on the fake clock: %w", n, ctx.Err())
		}
	}
}

// RobotMessage is one request a fake robot received.
type RobotMessage struct {
	// Title (DingTalk only) and Text (DingTalk's text, WeCom's content).
	Title, Text string
	// BodyBytes is the size of the request body.
	BodyBytes int
	// Timestamp is DingTalk's signed timestamp (Unix ms), 0 if unsigned.
	Timestamp int64
	// At is when it arrived, by the robot's clock.
	At time.Time
	// ErrCode is what the robot answered (0: accepted).
	ErrCode int
	ErrMsg  string
}

// robot is what both fake robots share: a server, a clock, a log of
// requests and a per-minute limit.
type robot struct {
	*httptest.Server
	now       func() time.Time
	perMinute int

	mu       sync.Mutex
	received []RobotMessage
}

func (r *robot) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// Received returns every request, accepted or not, in arrival order.
func (r *robot) Received() []RobotMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.received)
}

// Accepted returns the requests answered with errcode 0.
func (r *robot) Accepted() []RobotMessage {
	return slices.DeleteFunc(r.Received(), func(m RobotMessage) bool { return m.ErrCode != 0 })
}

// tooFast says whether one more accepted message now would be more than
// perMinute in the last minute; the caller holds mu.
func (r *robot) tooFast(now time.Time) bool {
	n := 0
	for _, m := range r.received {
		if m.ErrCode == 0 && now.Sub(m.At) < time.Minute {
			n++
		}
	}
	return n >= r.perMinute
}

// answer logs m and writes the robot's JSON answer (HTTP 200 always, as
// the robots do).
func (r *robot) answer(w http.ResponseWriter, m RobotMessage) {
	r.mu.Lock()
	r.received = append(r.received, m)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"errcode": m.ErrCode, "errmsg": m.ErrMsg})
}

// DingTalk plays a DingTalk custom robot at /robot/send.
type DingTalk struct {
	robot
	token, secret string
}

// The DingTalk errcodes the fake answers.
const (
	DingTalkBadToken  = 300001 // token is not exist
	DingTalkBadSign   = 310000 // sign not match, invalid timestamp
	DingTalkTooFast   = 130101 // send too fast, exceed 20 times per minute
	DingTalkTooLong   = 460101 // message too long, exceed 20000 bytes
	DingTalkBadParams = 40035  // missing or invalid parameters
)

// NewDingTalk starts a robot whose webhook carries token; when secret is
// set it demands signed requests (加签). now is its clock (nil: the wall
// clock); it accepts 20 messages in any minute.
func NewDingTalk(token, secret string, now func() time.Time) *DingTalk {
	d := &DingTalk{robot: robot{now: now, perMinute: 20}, token: token, secret: secret}
	d.Server = httptest.NewServer(http.HandlerFunc(d.serve))
	return d
}

// URL is the robot's webhook, without a signature.
func (d *DingTalk) URL() string { return d.Server.URL + "/robot/send?access_token=" + d.token }

func (d *DingTalk) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/robot/send" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	now := d.clock()
	m := RobotMessage{BodyBytes: len(body), At: now}
	q := r.URL.Query()
	if q.Get("access_token") != d.token {
		m.ErrCode, m.ErrMsg = DingTalkBadToken, "token is not exist"
		d.answer(w, m)
		return
	}
	if d.secret != "" {
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		m.Timestamp = ts
		switch {
		case err != nil || q.Get("sign") == "":
			m.ErrCode, m.ErrMsg = DingTalkBadSign, "sign not match"
		case now.Sub(time.UnixMilli(ts)).Abs() > time.Hour:
			m.ErrCode, m.ErrMsg = DingTalkBadSign, "invalid timestamp"
		case !hmac.Equal([]byte(q.Get("sign")), []byte(dingTalkSign(d.secret, q.Get("timestamp")))):
			m.ErrCode, m.ErrMsg = DingTalkBadSign, "sign not match"
		}
		if m.ErrCode != 0 {
			d.answer(w, m)
			return
		}
	}
	var msg struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
	}
	d.mu.Lock()
	tooFast := d.tooFast(now)
	d.mu.Unlock()
	switch {
	case len(body) > 20000:
		m.ErrCode, m.ErrMsg = DingTalkTooLong, "message too long, exceed 20000 bytes"
	case json.Unmarshal(body, &msg) != nil || msg.MsgType != "markdown" || msg.Markdown.Title == "" || msg.Markdown.Text == "":
		m.ErrCode, m.ErrMsg = DingTalkBadParams, "missing or invalid parameters"
	case tooFast:
		m.ErrCode, m.ErrMsg = DingTalkTooFast, "send too fast, exceed 20 times per minute"
	}
	m.Title, m.Text = msg.Markdown.Title, msg.Markdown.Text
	if m.ErrCode == 0 {
		m.ErrMsg = "ok"
	}
	d.answer(w, m)
}

// dingTalkSign is DingTalk's check, written from its documentation and
// apart from notify's: base64 of HMAC-SHA256(key secret, timestamp as
// sent + "\n" + secret).
func dingTalkSign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, timestamp+"\n"+secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// WeCom plays a WeCom group robot at /cgi-bin/webhook/send.
type WeCom struct {
	robot
	key string
}

// The WeCom errcodes the fake answers.
const (
	WeComBadKey    = 93000 // invalid webhook url
	WeComTooLong   = 40058 // markdown.content exceed max length 4096
	WeComTooFast   = 45009 // api freq out of limit
	WeComBadParams = 40008 // invalid message type
)

// NewWeCom starts a robot whose webhook carries key; now is its clock
// (nil: the wall clock); it accepts 20 messages in any minute.
func NewWeCom(key string, now func() time.Time) *WeCom {
	c := &WeCom{robot: robot{now: now, perMinute: 20}, key: key}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	return c
}

// URL is the robot's webhook.
func (c *WeCom) URL() string { return c.Server.URL + "/cgi-bin/webhook/send?key=" + c.key }

func (c *WeCom) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/cgi-bin/webhook/send" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	now := c.clock()
	m := RobotMessage{BodyBytes: len(body), At: now}
	var msg struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	c.mu.Lock()
	tooFast := c.tooFast(now)
	c.mu.Unlock()
	switch {
	case r.URL.Query().Get("key") != c.key:
		m.ErrCode, m.ErrMsg = WeComBadKey, "invalid webhook url"
	case json.Unmarshal(body, &msg) != nil || msg.MsgType != "markdown" || msg.Markdown.Content == "":
		m.ErrCode, m.ErrMsg = WeComBadParams, "invalid message type"
	case len(msg.Markdown.Content) > 4096:
		m.ErrCode, m.ErrMsg = WeComTooLong, "markdown.content exceed max length 4096"
	case tooFast:
		m.ErrCode, m.ErrMsg = WeComTooFast, "api freq out of limit"
	default:
		m.ErrMsg = "ok"
	}
	m.Text = msg.Markdown.Content
	c.answer(w, m)
}

// WebhookRequest is one request a fake webhook received.
type WebhookRequest struct {
	Header http.Header
	Body   []byte
	// Payload is the body decoded as JSON (nil when it is not JSON).
	Payload map[string]any
	// Status is what the webhook answered.
	Status int
}

// Webhook plays a generic JSON webhook at any path.
type Webhook struct {
	*httptest.Server
	// Status gives the HTTP status of the n-th request (1-based); nil
	// answers 200 to all. Set it before the first request.
	Status func(n int) int

	mu       sync.Mutex
	received []WebhookRequest
}

// NewWebhook starts a webhook.
func NewWebhook() *Webhook {
	h := &Webhook{}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	req := WebhookRequest{Header: r.Header.Clone(), Body: body, Status: http.StatusOK}
	if json.Unmarshal(body, &req.Payload) != nil {
		req.Payload = nil
	}
	h.mu.Lock()
	if h.Status != nil {
		req.Status = h.Status(len(h.received) + 1)
	}
	h.received = append(h.received, req)
	h.mu.Unlock()
	w.WriteHeader(req.Status)
	fmt.Fprintf(w, `{"status":%d,"url":%q}`, req.Status, r.URL.String())
}

// Received returns every request in arrival order.
func (h *Webhook) Received() []WebhookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.received)
}
