package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// Notifier delivers a message over one channel.
type Notifier interface {
	// Notify delivers m once. On failure retry says whether trying again
	// later can help (a timeout, a 5xx, a rate limit) or not (a rejected
	// signature, a 4xx, a body the channel refuses). An error may wrap a
	// *RetryAfterError to say how long to wait.
	Notify(ctx context.Context, m Message) (retry bool, err error)
}

// Limits are what a channel accepts; the Dispatcher keeps to them.
type Limits struct {
	// PerMinute caps the requests in any 60-second window; 0 is no cap.
	PerMinute int
	// MaxBytes caps a message's size as Size counts it; 0 is no cap.
	MaxBytes int
}

// Limited is a Notifier whose channel has limits.
type Limited interface {
	Notifier
	Limits() Limits
	// Size is how many bytes m takes against Limits().MaxBytes (the
	// request body, or the part of it the channel counts).
	Size(m Message) int
}

// RetryAfterError is a failure whose receiver said when to try again (an
// HTTP Retry-After, a robot's rate limit): the Dispatcher waits at least
// After before the next attempt.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// The Dispatcher's own errors.
var (
	// ErrClosed: Send after Close.
	ErrClosed = errors.New("notify: dispatcher closed")
	// ErrQueueFull: the receiver's queue holds QueueSize messages already.
	ErrQueueFull = errors.New("notify: queue full")
	// ErrUnknownReceiver: Send names a receiver the Dispatcher has not.
	ErrUnknownReceiver = errors.New("notify: unknown receiver")
)

// maxAnswer bounds what is read of a receiver's answer: an answer is a
// few dozen bytes of JSON, and an error page only needs its start.
const maxAnswer = 64 << 10

// post sends body to url as JSON and returns the answer's status and
// (bounded) body. Errors say whether a retry can help and are redacted:
// a robot's URL carries its token.
func post(ctx context.Context, client *http.Client, url string, header http.Header, body []byte) (int, []byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, false, collectors.RedactError(fmt.Errorf("request: %w", err))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		// Refused, reset, timed out: the receiver may be back later.
		return 0, nil, true, collectors.RedactError(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, nil, true, collectors.RedactError(fmt.Errorf("reading the answer: %w", err))
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet(answer))
		retry := retryableStatus(resp.StatusCode)
		if after := retryAfter(resp.Header.Get("Retry-After")); retry && after > 0 {
			err = &RetryAfterError{After: after, Err: err}
		}
		return resp.StatusCode, answer, retry, collectors.RedactError(err)
	}
	return resp.StatusCode, answer, false, nil
}

// retryableStatus: a timeout, too early, too many requests or a server
// error can pass; any other 4xx says the request itself is wrong.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

// retryAfter reads a Retry-After header given in seconds (the HTTP-date
// form is rare from webhooks and ignored); 0 when absent or unreadable.
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(h)
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, time.Hour)
}

// snippet is the start of an answer for an error message, redacted: an
// error page may echo the request URL.
func snippet(b []byte) string {
	const n = 200
	s := string(bytes.TrimSpace(b))
	if len(s) > n {
		s = prefix(s, n) + "…"
	}
	return collectors.RedactText(s)
}

// robotAnswer is the JSON both robots answer: errcode 0 is success.
type robotAnswer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// checkRobotAnswer reads a robot's answer; retryable lists the errcodes
// a later attempt can get past, throttled those that are a rate limit
// (waited out for throttle).
func checkRobotAnswer(channel string, answer []byte, retryable, throttled []int, throttle time.Duration) (bool, error) {
	var a robotAnswer
	if err := json.Unmarshal(answer, &a); err != nil || a.ErrCode == nil {
		// 200 with something else: a proxy's page, say. It may pass.
		return true, fmt.Errorf("%s: unexpected answer: %s", channel, snippet(answer))
	}
	code := *a.ErrCode
	if code == 0 {
		return false, nil
	}
	err := fmt.Errorf("%s: errcode %d: %s", channel, code, snippet([]byte(a.ErrMsg)))
	for _, c := range throttled {
		if c == code {
			return true, &RetryAfterError{After: throttle, Err: err}
		}
	}
	for _, c := range retryable {
		if c == code {
			return true, err
		}
	}
	return false, err
}

// marshal encodes v as JSON without HTML escaping: markdown holds < and
// &, and "\u003c" would spend six bytes of a size limit on one.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only strings, numbers and maps of strings are encoded here.
		panic(fmt.Sprintf("notify: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
