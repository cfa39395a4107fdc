package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// intake plays the push intake: it checks the token and keeps every
// record it accepts, newest version per id; fail makes it answer 500.
type intake struct {
	mu       sync.Mutex
	token    string
	fail     bool
	requests int
	got      map[string]map[string]Row // kind → id → record
	t        *testing.T
}

func (in *intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.requests++
	if r.Header.Get("Authorization") != "Bearer "+in.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	if in.fail {
		http.Error(w, "journal unavailable", http.StatusInternalServerError)
		return
	}
	kind := strings.TrimPrefix(r.URL.Path, "/api/ingest/")
	k, ok := record.ParseKind(kind)
	if !ok || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			in.t.Errorf("intake: %s: %v", sc.Bytes(), err)
			continue
		}
		if in.got[kind] == nil {
			in.got[kind] = map[string]Row{}
		}
		id := row[idField[k]]
		if old, ok := in.got[kind][id]; ok && old["updated_at"] >= row["updated_at"] {
			in.t.Errorf("intake: %s %s pushed again without a newer updated_at", kind, id)
		}
		in.got[kind][id] = row
	}
	w.WriteHeader(http.StatusAccepted)
}

func TestPusher(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, clk := newTestDemo(t, time.Date(2026, 3, 10, 9, 0, 0, 0, loc), 6*time.Hour, nil)
	in := &intake{token: "s3cret", got: map[string]map[string]Row{}, t: t}
	srv := httptest.NewServer(in)
	defer srv.Close()
	p, err := d.NewPusher(PusherConfig{URL: srv.URL + "/api/ingest/", Token: "s3cret", Batch: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	check := func(when string) {
		t.Helper()
		for k, kind := range kindNames {
			raws, _ := pull(t, d.Handler(), kind, "", MaxLimit)
			want := rows(t, raws)
			got := in.got[kind]
			if len(got) != len(want) {
				t.Fatalf("%s: intake has %d %s, demo %d", when, len(got), kind, len(want))
			}
			for _, w := range want {
				if g := got[w[idField[k]]]; g["updated_at"] != w["updated_at"] {
					t.Fatalf("%s: intake has %v, demo %v", when, g, w)
				}
			}
		}
	}

	n, err := p.PushOnce(ctx)
	if err != nil {
		t.Fatalf("first push: %v", err)
	}
	check("after the first push")
	t.Logf("first push: %d records in %d requests", n, in.requests)

	// The intake fails: nothing is lost, the next push catches up.
	clk.Add(40 * time.Minute)
	d.Advance()
	in.fail = true
	if _, err := p.PushOnce(ctx); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("push to a failing intake: %v, want the 500", err)
	}
	in.fail = false
	clk.Add(3 * time.Hour)
	d.Advance()
	before := in.requests
	n, err = p.PushOnce(ctx)
	if err != nil {
		t.Fatalf("catch-up push: %v", err)
	}
	check("after catching up")
	t.Logf("catch-up: %d records in %d requests", n, in.requests-before)

	// Nothing new, nothing sent.
	before = in.requests
	if n, err := p.PushOnce(ctx); err != nil || n != 0 || in.requests != before {
		t.Fatalf("idle push: %d records, %d requests, %v", n, in.requests-before, err)
	}

	// A wrong token is an error that says so.
	bad, err := d.NewPusher(PusherConfig{URL: srv.URL + "/api/ingest", Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.PushOnce(ctx); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("push with a wrong token: %v, want a 401 that does not show the token", err)
	}
}

func TestPusherRunStops(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 9, 0, 0, 0, loc), time.Hour, nil)
	in := &intake{token: "t", got: map[string]map[string]Row{}, t: t}
	srv := httptest.NewServer(in)
	defer srv.Close()
	p, err := d.NewPusher(PusherConfig{URL: srv.URL + "/api/ingest", Token: "t", Interval: time.Millisecond, Kinds: []record.Kind{record.KindCall}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.mu.Lock()
		n := len(in.got["calls"])
		in.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run pushed nothing")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestNewPusherErrors(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 9, 0, 0, 0, loc), time.Hour, nil)
	for _, u := range []string{"", "ftp://x", "127.0.0.1:8080"} {
		if _, err := d.NewPusher(PusherConfig{URL: u}); err == nil {
			t.Errorf("NewPusher(%q): no error", u)
		}
	}
}
