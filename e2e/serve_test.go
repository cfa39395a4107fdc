package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/app"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/embedded"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls f until it returns "" or the deadline passes; generous
// because CI machines are shared and slow.
func eventually(t *testing.T, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = f(); last == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: %s", what, last)
}

func indicatorValue(t *testing.T, c *http.Client, base, ind, region string) (float64, bool) {
	code, body := getWith(t, c, base+"/api/indicators?period=month&indicator="+ind+"&region="+region)
	if code != 200 {
		return 0, false
	}
	var doc struct {
		Results []struct {
			Dept      string  `json:"dept"`
			Numerator float64 `json:"numerator"`
		} `json:"results"`
	}
	if json.Unmarshal([]byte(body), &doc) != nil {
		return 0, false
	}
	for _, r := range doc.Results {
		if r.Dept == "" {
			return r.Numerator, true
		}
	}
	return 0, false
}

// TestServeEndToEnd runs the product as the README's command does: the
// demo platform is collected over loopback HTTP, the push intake takes a
// CSV body, indicators move, health and metrics answer, and after a
// restart on the same data directory (demo off) the journal brings every
// record back.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole product")
	}
	dataDir := t.TempDir()
	t.Setenv("YIPING_INGEST_TOKEN", "test-token-0123456789")
	t.Setenv("YIPING_STORE", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	addUser(t, dataDir, "e2e-admin", access.RoleAdmin, "620000")
	addr := freeAddr(t)
	base := "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	serve := func(ctx context.Context, opts app.Options) error {
		a, err := app.New(ctx, opts)
		if err != nil {
			return err
		}
		return a.Run(ctx, nil)
	}
	go func() {
		done <- serve(ctx, app.Options{Addr: addr, DataDir: dataDir, Demo: true, HistoryEvery: time.Second, Logger: log})
	}()
	eventually(t, "readyz", func() string {
		select {
		case err := <-done:
			t.Fatalf("serve stopped before it was ready: %v", err)
		default:
		}
		if code, body := get(t, base+"/readyz"); code != 200 {
			return fmt.Sprint(code, body)
		}
		return ""
	})
	// Nothing but health answers anyone.
	if code, _ := get(t, base+"/api/indicators?period=month&region=620000"); code != http.StatusUnauthorized {
		t.Errorf("/api/indicators without a session: %d, want 401", code)
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil); err == nil {
		t.Error("websocket without a session: connected")
	}
	c, _ := signIn(t, base, "e2e-admin")
	eventually(t, "demo tickets collected", func() string {
		if v, ok := indicatorValue(t, c, base, "ticket_volume", "620000"); !ok || v < 1000 {
			return fmt.Sprintf("ticket_volume this month = %v (%v)", v, ok)
		}
		return ""
	})
	// A wall screen's live feed: subscribe before the push.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", cookieHeader(c, base))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	topic := "ind:call_volume:620802:month"
	if err := ws.WriteJSON(map[string]any{"op": "subscribe", "topics": []string{topic}}); err != nil {
		t.Fatal(err)
	}

	// Push intake: one call in a county the demo does not use for calls.
	csv := "call_id,region_code,offered_at,answered,wait_seconds\nPUSH-1,620802,%s,1,3\nPUSH-2,6208,%s,1,3\n"
	now := time.Now().Add(-time.Minute).Format(time.RFC3339)
	before, _ := indicatorValue(t, c, base, "call_volume", "620802")
	req, _ := http.NewRequest("POST", base+"/api/ingest/calls", strings.NewReader(fmt.Sprintf(csv, now, now)))
	req.Header.Set("Authorization", "Bearer test-token-0123456789")
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"accepted":1`) || !strings.Contains(string(body), `"rejected":1`) {
		t.Fatalf("intake answered %d %s", resp.StatusCode, body)
	}
	eventually(t, "pushed call counted", func() string {
		if v, _ := indicatorValue(t, c, base, "call_volume", "620802"); v != before+1 {
			return fmt.Sprintf("call_volume 620802 = %v, want %v", v, before+1)
		}
		return ""
	})
	// The change reaches the subscribed screen over the websocket.
	ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		var m struct {
			Topic string `json:"topic"`
			Data  struct {
				Numerator float64 `json:"numerator"`
			} `json:"data"`
		}
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("websocket: %v", err)
		}
		if m.Topic == topic && m.Data.Numerator == before+1 {
			break
		}
	}
	// The address itself leads to the screens (the client follows the
	// redirect), and the screens and the console answer.
	for _, path := range []string{"/", "/screens/overview", "/console"} {
		if code, body := getWith(t, c, base+path); code != 200 || !strings.Contains(body, "<html") {
			t.Errorf("GET %s: %d %.200s", path, code, body)
		}
	}
	if code, body := get(t, base+"/healthz"); code != 200 {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, body := getWith(t, c, base+"/api/collectors"); code != 200 || !strings.Contains(body, "demo-tickets") {
		t.Errorf("collector health %d %.300s", code, body)
	}
	if code, _ := get(t, base+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a session: %d, want 401", code)
	}
	if code, body := getWith(t, c, base+"/metrics"); code != 200 || !strings.Contains(body, "yiping_collector_runs_total") ||
		!strings.Contains(body, "yiping_hub_clients 1") || !strings.Contains(body, "yiping_hub_messages_sent_total") {
		t.Errorf("metrics %d lack collector runs or hub figures (one client connected)", code)
	}
	tickets, _ := indicatorValue(t, c, base, "ticket_volume", "620000")
	calls, _ := indicatorValue(t, c, base, "call_volume", "620802")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		var stacks strings.Builder
		pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Fatalf("serve did not stop within 30 s of its context's end; goroutines:\n%s", stacks.String())
	}

	// The history store holds what the screens showed.
	hist, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(dataDir, "store")})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := hist.Latest(context.Background(), store.Selector{Indicator: "ticket_volume", Period: "month", Regions: []string{"620000"}})
	hist.Close()
	if err != nil || len(pts) != 1 || pts[0].Numerator < 1000 {
		t.Errorf("history store latest ticket_volume 620000 month = %+v, %v", pts, err)
	}

	// Restart without the demo: the journal alone restores the records.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() {
		done <- serve(ctx2, app.Options{Addr: addr, DataDir: dataDir, HistoryEvery: time.Second, Logger: log})
	}()
	eventually(t, "indicators restored from the journal", func() string {
		got, _ := indicatorValue(t, c, base, "ticket_volume", "620000")
		gotCalls, _ := indicatorValue(t, c, base, "call_volume", "620802")
		if got < tickets || gotCalls != calls {
			return fmt.Sprintf("after restart ticket_volume %v (had %v), call_volume 620802 %v (had %v)", got, tickets, gotCalls, calls)
		}
		return ""
	})
	cancel2()
	<-done
}
