package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// DingTalk's custom robot (钉钉自定义机器人) limits: 20 messages a minute
// (past that the robot is throttled for 10 minutes) and a request body
// of at most 20,000 bytes.
const (
	DingTalkPerMinute = 20
	DingTalkMaxBytes  = 20000
	dingTalkThrottle  = 10 * time.Minute
)

// DingTalk's errcodes a later attempt can get past: -1 is "system busy",
// 130101 "send too fast, exceed 20 times per minute".
var (
	dingTalkRetryable = []int{-1}
	dingTalkThrottled = []int{130101}
)

// DingTalk posts markdown messages to a DingTalk custom robot.
type DingTalk struct {
	// URL is the robot's webhook,
	// https://oapi.dingtalk.com/robot/send?access_token=…; the token is a
	// secret and shown redacted.
	URL string
	// Secret, when set, signs every request (the robot's 加签 setting).
	Secret collectors.Secret
	// PerMinute caps the messages in any minute; 0 is DingTalkPerMinute.
	PerMinute int
	// Client sends the requests; nil is a client with DefaultTimeout.
	Client *http.Client
	// Location is the zone of the times shown; nil is Asia/Shanghai.
	Location *time.Location
	// Now is the signing clock; nil is time.Now. DingTalk refuses a
	// timestamp more than an hour off its own.
	Now func() time.Time
}

var _ Limited = (*DingTalk)(nil)

// DingTalkSign is the signature of a request at timestamp (Unix
// milliseconds): HMAC-SHA256 of timestamp + "\n" + secret keyed with the
// secret, in standard base64. It goes in the query URL-encoded, as
// &timestamp=…&sign=….
func DingTalkSign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Notify posts m as a markdown message and checks the robot's answer: it
// says 200 to most failures and puts them in errcode.
func (d *DingTalk) Notify(ctx context.Context, m Message) (bool, error) {
	target := d.URL
	if d.Secret != "" {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		ts := now().UnixMilli()
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(DingTalkSign(string(d.Secret), ts))
	}
	_, answer, retry, err := post(ctx, httpClient(d.Client), target, nil, d.body(m))
	if err != nil {
		return retry, fmt.Errorf("dingtalk: %w", err)
	}
	return checkRobotAnswer("dingtalk", answer, dingTalkRetryable, dingTalkThrottled, dingTalkThrottle)
}

// Limits are the robot's.
func (d *DingTalk) Limits() Limits {
	return Limits{PerMinute: perMinute(d.PerMinute, DingTalkPerMinute), MaxBytes: DingTalkMaxBytes}
}

// Size is the length of the request body: the whole body counts.
func (d *DingTalk) Size(m Message) int { return len(d.body(m)) }

func (d *DingTalk) body(m Message) []byte {
	type markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	return marshal(struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
	}{"markdown", markdown{Title: shortTitle(m.Title), Text: renderMarkdown(m, zone(d.Location))}})
}

// perMinute is n, or the channel's cap when n is 0 or above it.
func perMinute(n, max int) int {
	if n <= 0 || n > max {
		return max
	}
	return n
}
