package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// WeCom's group robot (企业微信群机器人) limits: 20 messages a minute and
// markdown content of at most 4,096 bytes of UTF-8.
const (
	WeComPerMinute = 20
	WeComMaxBytes  = 4096
	weComThrottle  = time.Minute
)

// WeCom's errcodes a later attempt can get past: -1 is "system busy",
// 45009 "api freq out of limit".
var (
	weComRetryable = []int{-1}
	weComThrottled = []int{45009}
)

// WeCom posts markdown messages to a WeCom group robot.
type WeCom struct {
	// URL is the robot's webhook,
	// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…; the key is
	// a secret and shown redacted.
	URL string
	// PerMinute caps the messages in any minute; 0 is WeComPerMinute.
	PerMinute int
	// Client sends the requests; nil is a client with DefaultTimeout.
	Client *http.Client
	// Location is the zone of the times shown; nil is Asia/Shanghai.
	Location *time.Location
}

var _ Limited = (*WeCom)(nil)

// Notify posts m as a markdown message and checks the robot's answer.
func (w *WeCom) Notify(ctx context.Context, m Message) (bool, error) {
	_, answer, retry, err := post(ctx, httpClient(w.Client), w.URL, nil, w.body(m))
	if err != nil {
		return retry, fmt.Errorf("wecom: %w", err)
	}
	return checkRobotAnswer("wecom", answer, weComRetryable, weComThrottled, weComThrottle)
}

// Limits are the robot's.
func (w *WeCom) Limits() Limits {
	return Limits{PerMinute: perMinute(w.PerMinute, WeComPerMinute), MaxBytes: WeComMaxBytes}
}

// Size is the length of the markdown content, which is what WeCom counts.
func (w *WeCom) Size(m Message) int { return len(w.content(m)) }

func (w *WeCom) content(m Message) string { return renderMarkdown(m, zone(w.Location)) }

func (w *WeCom) body(m Message) []byte {
	type markdown struct {
		Content string `json:"content"`
	}
	return marshal(struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
	}{"markdown", markdown{w.content(m)}})
}
