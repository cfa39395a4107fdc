package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Robot plays a DingTalk custom robot (钉钉自定义机器人) on the demo
// platform, so the demo's special reports are delivered somewhere real:
// it checks each request's signature as DingTalk does (timestamp in ms
// within an hour, sign = base64(HMAC-SHA256(secret, timestamp + "\n" +
// secret))) and keeps the last messages for GET /robot/messages.
type Robot struct {
	Secret string
	now    func() time.Time

	mu   sync.Mutex
	msgs []RobotMessage
}

// RobotMessage is one message the robot accepted.
type RobotMessage struct {
	At       time.Time `json:"at"`
	Title    string    `json:"title"`
	Markdown string    `json:"markdown"`
}

// robotKeep is how many messages the robot keeps.
const robotKeep = 200

func newRobot(secret string, now func() time.Time) *Robot {
	return &Robot{Secret: secret, now: now}
}

// ServeHTTP answers POST /robot/send like DingTalk and GET /robot/messages
// with what it received, newest first.
func (rb *Robot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
	}
	if r.Method == http.MethodGet {
		rb.mu.Lock()
		out := make([]RobotMessage, len(rb.msgs))
		for i, m := range rb.msgs {
			out[len(rb.msgs)-1-i] = m
		}
		rb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"messages": out})
		return
	}
	ts, err := strconv.ParseInt(r.URL.Query().Get("timestamp"), 10, 64)
	if err != nil || rb.now().Sub(time.UnixMilli(ts)).Abs() > time.Hour {
		answer(310000, "sign not match, timestamp invalid")
		return
	}
	mac := hmac.New(sha256.New, []byte(rb.Secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + rb.Secret))
	if !hmac.Equal([]byte(r.URL.Query().Get("sign")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
		answer(310000, "sign not match")
		return
	}
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 20_000+1)).Decode(&body); err != nil || body.MsgType != "markdown" {
		answer(40035, "invalid message")
		return
	}
	rb.mu.Lock()
	rb.msgs = append(rb.msgs, RobotMessage{At: rb.now(), Title: body.Markdown.Title, Markdown: body.Markdown.Text})
	if len(rb.msgs) > robotKeep {
		rb.msgs = rb.msgs[len(rb.msgs)-robotKeep:]
	}
	rb.mu.Unlock()
	answer(0, "ok")
}

// Messages returns what the robot accepted, oldest first.
func (rb *Robot) Messages() []RobotMessage {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	return append([]RobotMessage(nil), rb.msgs...)
}
