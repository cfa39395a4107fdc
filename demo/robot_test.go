package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRobotChecksTheSignature(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	rb := newRobot("SECdemo", func() time.Time { return now })
	srv := httptest.NewServer(rb)
	defer srv.Close()
	sign := func(secret string, ts int64) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + secret))
		return base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	send := func(secret string, at time.Time) int {
		ts := at.UnixMilli()
		u := srv.URL + "/robot/send?access_token=demo&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(sign(secret, ts))
		resp, err := http.Post(u, "application/json", strings.NewReader(`{"msgtype":"markdown","markdown":{"title":"特别呈报","text":"## 接通率低"}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct{ Errcode int }
		json.NewDecoder(resp.Body).Decode(&a)
		return a.Errcode
	}
	if c := send("SECdemo", now); c != 0 {
		t.Errorf("signed: errcode %d", c)
	}
	if c := send("SECwrong", now); c != 310000 {
		t.Errorf("wrong secret: errcode %d", c)
	}
	if c := send("SECdemo", now.Add(-2*time.Hour)); c != 310000 {
		t.Errorf("old timestamp: errcode %d", c)
	}
	if ms := rb.Messages(); len(ms) != 1 || ms[0].Title != "特别呈报" {
		t.Errorf("messages = %+v", ms)
	}
}
