//go:build linux

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/report"
)

// The figure behind docs/PERFORMANCE.md's "Special reports" section
// (issue 11): from an ingest that makes a rule true to the report on a
// subscribed screen, ≤ 1 s p99. Run by scripts/bench-reports:
//
//	go test -run '^$' -bench 'ReportLatency$' -benchtime 400x ./app
//
// A real App (New + Run: collectors, feed, judge loop, hub) with a rules
// file of one threshold rule (崆峒区's answer rate today below 80%, no
// receivers: the screens only) serves on loopback. A websocket signed in
// as an administrator subscribes to report:620802 and, the named peer, to
// ind:answer_rate:620802:day. Each iteration POSTs ten calls of 崆峒区
// through the intake (the same ids every time, all unanswered or all
// answered, so the rule turns true and false in turn) and waits for both
// topics to show the new state: the indicator's numerator, and the board
// with or without the report. The clock starts before the POST (its
// journal fsync included). Metrics, in ms, over the iterations that
// turned the rule true (fire) or false (resolve): fire-p50/p99 and
// resolve-p50/p99 on the report topic, ind-p50/p99 on the indicator
// topic for the same ingests, and x-ind = the report's p99 / the
// indicator's p99.
func BenchmarkReportLatency(b *testing.B) {
	now := time.Now().In(testkit.Shanghai(b))
	if m := now.Hour()*60 + now.Minute(); m < 5 || m > 24*60-5 {
		b.Skip("within 5 minutes of midnight in Asia/Shanghai: the day's values turn over")
	}
	dir := b.TempDir()
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := access.New(access.Config{Store: st, Logger: quietBenchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.AddUser(ctx, access.Actor{Name: "bench"}, access.NewUser{Name: "admin", Role: access.RoleAdmin, Region: "620000", Password: benchPassword}); err != nil {
		b.Fatal(err)
	}
	st.Close()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(`
defaults: {for: 0s, repeat: 0, quiet: [], escalate: [], min_count: 1}
rules:
  - {name: bench-floor, title: 接通率过低, type: threshold, indicator: answer_rate, period: day, regions: ["620802"], worse_than: 80%}
`), 0o600); err != nil {
		b.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	a, err := New(runCtx, Options{Addr: "127.0.0.1:0", DataDir: dir, HistoryEvery: time.Hour, RulesFile: rules,
		Getenv: func(k string) string {
			if k == "YIPING_INGEST_TOKEN" {
				return ingestToken
			}
			return ""
		},
		Logger: quietBenchLogger()})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Cleanup(cancel)
	l, url := listenLoopback(b)
	runApp(b, runCtx, cancel, a, l)

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Post(url+"/api/login", "application/json", strings.NewReader(`{"name":"admin","password":"`+benchPassword+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("login: %s", resp.Status)
	}
	h := http.Header{"Origin": {url}}
	req, _ := http.NewRequest("GET", url, nil)
	for _, c := range jar.Cookies(req.URL) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", h)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	indTopic, repTopic := live.IndicatorTopic("answer_rate", "620802", "day"), live.ReportTopic("620802")
	ws.WriteJSON(map[string]any{"op": "subscribe", "topics": []string{indTopic, repTopic}})

	type frame struct {
		at       time.Time
		topic    string
		op       string
		num      int64 // the indicator's numerator
		reported bool  // the board lists the rule's report
	}
	frames := make(chan frame, 64)
	go func() {
		defer close(frames)
		for {
			_, data, err := ws.ReadMessage()
			at := time.Now()
			if err != nil {
				return
			}
			var m struct {
				Op    string          `json:"op"`
				Topic string          `json:"topic"`
				Data  json.RawMessage `json:"data"`
			}
			if json.Unmarshal(data, &m) != nil {
				continue
			}
			f := frame{at: at, topic: m.Topic, op: m.Op}
			switch {
			case m.Topic == indTopic && len(m.Data) > 0:
				var v live.Value
				json.Unmarshal(m.Data, &v)
				f.num = v.Numerator
			case m.Topic == repTopic && len(m.Data) > 0:
				var bd report.Board
				json.Unmarshal(m.Data, &bd)
				_, f.reported = findReport(bd.Reports, "bench-floor", "620802")
			default:
				if m.Op == "" {
					continue
				}
			}
			frames <- f
		}
	}()

	ingest := func(answered int) {
		var body bytes.Buffer
		body.WriteString("call_id,region_code,offered_at,answered,wait_seconds\n")
		at := time.Now().In(testkit.Shanghai(b)).Add(-time.Minute).Format(time.DateTime)
		for i := range 10 {
			a := 0
			if i < answered {
				a = 1
			}
			fmt.Fprintf(&body, "bench-%d,620802,%s,%d,12\n", i, at, a)
		}
		req, _ := http.NewRequest("POST", url+"/api/ingest/calls", &body)
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+ingestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("ingest: %s", resp.Status)
		}
	}
	// wait reads frames until the indicator shows num and the board
	// shows the report or not, and returns when each did after t0.
	wait := func(t0 time.Time, num int64, reported bool) (ind, rep time.Duration) {
		timeout := time.After(10 * time.Second)
		for ind == 0 || rep == 0 {
			select {
			case f, ok := <-frames:
				if !ok {
					b.Fatal("websocket closed")
				}
				if f.op == "error" {
					b.Fatalf("websocket: %+v", f)
				}
				if f.topic == indTopic && f.num == num && ind == 0 {
					ind = f.at.Sub(t0)
				}
				if f.topic == repTopic && f.reported == reported && rep == 0 {
					rep = f.at.Sub(t0)
				}
			case <-timeout:
				b.Fatalf("timed out waiting for numerator %d and report %v (indicator after %v, report after %v)", num, reported, ind, rep)
			}
		}
		return ind, rep
	}
	// Start from answered calls: no report (the report topic has no
	// board until a report first fires).
	ingest(10)
	timeout := time.After(10 * time.Second)
	for ready := false; !ready; {
		select {
		case f, ok := <-frames:
			if !ok {
				b.Fatal("websocket closed")
			}
			ready = f.topic == indTopic && f.num == 10
		case <-timeout:
			b.Fatal("timed out waiting for the first value")
		}
	}

	var fire, resolve, indFire, indAll []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		on := i%2 == 0
		answered, num := 10, int64(10)
		if on {
			answered, num = 0, 0
		}
		t0 := time.Now()
		ingest(answered)
		ind, rep := wait(t0, num, on)
		indAll = append(indAll, ind)
		if on {
			fire, indFire = append(fire, rep), append(indFire, ind)
		} else {
			resolve = append(resolve, rep)
		}
	}
	b.StopTimer()
	if len(fire) == 0 || len(resolve) == 0 {
		return
	}
	f, r, ind := summarize(fire), summarize(resolve), summarize(indFire)
	b.ReportMetric(msOf(f.p50), "fire-p50-ms")
	b.ReportMetric(msOf(f.p99), "fire-p99-ms")
	b.ReportMetric(msOf(f.max), "fire-max-ms")
	b.ReportMetric(msOf(r.p50), "resolve-p50-ms")
	b.ReportMetric(msOf(r.p99), "resolve-p99-ms")
	b.ReportMetric(msOf(ind.p50), "ind-p50-ms")
	b.ReportMetric(msOf(ind.p99), "ind-p99-ms")
	b.ReportMetric(float64(f.p50)/float64(ind.p50), "p50-x-ind")
	b.ReportMetric(float64(f.p99)/float64(ind.p99), "p99-x-ind")
	b.ReportMetric(float64(len(fire)), "fires")
}
