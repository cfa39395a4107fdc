package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/engine"
)

// The kill -9 test runs the manager in a child process (this test binary
// again, running TestKillChild), drives it line by line over stdin, kills
// it with SIGKILL at chosen points and starts a new one on the same
// database. A loopback HTTP receiver counts what arrives.

const (
	envKillDB  = "YIPING_REPORT_KILL_DB"
	envKillURL = "YIPING_REPORT_KILL_URL"
)

// httpSender posts notifications as JSON, as a generic webhook would.
type httpSender struct{ url string }

func (s httpSender) Send(ctx context.Context, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// TestKillChild is the child: it answers each command with a line
// "CHILD ..." once the command's effects are committed.
func TestKillChild(t *testing.T) {
	path := os.Getenv(envKillDB)
	if path == "" {
		t.Skip("the child of TestKill9")
	}
	ctx := context.Background()
	st, err := access.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	in, clk := newInput(), &clock{t: t0}
	m, err := New(ctx, Config{Rules: mustParse(t, answerRule), Store: st, Calendar: testCalendar(),
		Sender: httpSender{os.Getenv(envKillURL)}, Root: "620000", Now: clk.Now, Logger: quietLog(), SendTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	reply := func(s string) { fmt.Fprintf(os.Stdout, "CHILD %s\n", s) }
	minutes := func(s string) time.Time {
		n, _ := strconv.Atoi(s)
		return t0.Add(time.Duration(n) * time.Minute)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch f[0] {
		case "low":
			in.set("answer_rate", "620802", engine.Day, 80, 100)
			reply("ok")
		case "fine":
			in.set("answer_rate", "620802", engine.Day, 99, 100)
			reply("ok")
		case "eval": // eval MINUTES after t0
			clk.Set(minutes(f[1]))
			if err := m.Evaluate(ctx, minutes(f[1]), in); err != nil {
				reply("error " + err.Error())
				continue
			}
			reply("ok")
		case "ack": // ack MINUTES NAME
			clk.Set(minutes(f[1]))
			open := m.Open("620000")
			if len(open) != 1 {
				reply(fmt.Sprintf("error %d open reports", len(open)))
				continue
			}
			if _, err := m.Ack(ctx, open[0].ID, f[2], "收到"); err != nil {
				reply("error " + err.Error())
				continue
			}
			reply("ok")
		case "show":
			b, _ := json.Marshal(m.Open("620000"))
			reply(string(b))
		}
	}
}

// delivery is what the receiver saw.
type delivery struct {
	id, what string
}

// receiver records every notification posted to it; hold makes it keep
// the requests of one kind unanswered (the sender waits) until released.
type receiver struct {
	mu   sync.Mutex
	got  []delivery
	hold string
	seen chan string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, delivery{n.ID, fmt.Sprintf("%s %s %s", n.Kind, n.Level, n.Region)})
	hold := rc.hold == n.Kind
	rc.mu.Unlock()
	if hold {
		rc.seen <- n.ID
		<-r.Context().Done() // the child dies with the request open
		return
	}
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func (rc *receiver) whats() []string {
	var out []string
	for _, d := range rc.deliveries() {
		out = append(out, d.what)
	}
	return out
}

// child is a running child process.
type child struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startChild(t *testing.T, db, url string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillDB+"="+db, envKillURL+"="+url)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() { c.kill() })
	return c
}

// do sends a command and returns the child's answer.
func (c *child) do(cmd string) string {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		c.t.Fatalf("%s: %v", cmd, err)
	}
	for c.out.Scan() {
		if s, ok := strings.CutPrefix(c.out.Text(), "CHILD "); ok {
			if strings.HasPrefix(s, "error") {
				c.t.Fatalf("%s: %s", cmd, s)
			}
			return s
		}
	}
	c.t.Fatalf("%s: the child ended: %v", cmd, c.out.Err())
	return ""
}

// send writes a command without waiting for its answer.
func (c *child) send(cmd string) {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		c.t.Fatalf("%s: %v", cmd, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

func TestKill9(t *testing.T) {
	if os.Getenv(envKillDB) != "" {
		t.Skip("in the child")
	}
	rc := &receiver{seen: make(chan string, 1)}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), access.SQLiteFile)
	want := func(ws ...string) {
		t.Helper()
		if got := rc.whats(); !slices.Equal(got, ws) {
			t.Fatalf("deliveries %q, want %q", got, ws)
		}
	}

	c := startChild(t, db, srv.URL)
	c.do("low")
	c.do("eval 0")
	want("firing county 620802")
	c.do("eval 10")
	// Killed after firing, before escalation.
	c.kill()

	c = startChild(t, db, srv.URL)
	c.do("low")
	c.do("eval 11")
	c.do("eval 29")
	want("firing county 620802")
	c.do("eval 30") // escalation on time
	want("firing county 620802", "escalation city 620800")
	c.do("ack 35 张三")
	// Killed right after the acknowledgement.
	c.kill()

	c = startChild(t, db, srv.URL)
	c.do("low")
	c.do("eval 120") // the province would be told now, were it not acknowledged
	c.do("eval 180")
	want("firing county 620802", "escalation city 620800")
	var open []Report
	if err := json.Unmarshal([]byte(c.do("show")), &open); err != nil || len(open) != 1 ||
		open[0].State != StateAcknowledged || open[0].AckedBy != "张三" || open[0].AckedAt != "2026-06-01T10:35:00+08:00" {
		t.Fatalf("after restart: %+v, %v", open, err)
	}
	c.do("fine")
	c.do("eval 181")
	want("firing county 620802", "escalation city 620800", "resolved county 620802", "resolved city 620800")
	c.kill()

	c = startChild(t, db, srv.URL)
	c.do("fine")
	c.do("eval 240")
	want("firing county 620802", "escalation city 620800", "resolved county 620802", "resolved city 620800")
	seen := map[string]bool{}
	for _, d := range rc.deliveries() {
		if seen[d.id] {
			t.Errorf("notification %s delivered twice", d.id)
		}
		seen[d.id] = true
	}
}

// TestKill9MidSend kills the child while the receiver holds its request:
// the restarted manager sends the same notification again, with the same
// ID (at least once; the receiver may drop the repeat by its ID), and
// nothing after it is lost.
func TestKill9MidSend(t *testing.T) {
	if os.Getenv(envKillDB) != "" {
		t.Skip("in the child")
	}
	rc := &receiver{seen: make(chan string, 1), hold: KindEscalation}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), access.SQLiteFile)

	c := startChild(t, db, srv.URL)
	c.do("low")
	c.do("eval 0")
	c.send("eval 30")
	var held string
	select {
	case held = <-rc.seen:
	case <-time.After(30 * time.Second):
		t.Fatal("the escalation never came")
	}
	c.kill()

	rc.mu.Lock()
	rc.hold = ""
	rc.mu.Unlock()
	c = startChild(t, db, srv.URL)
	c.do("low")
	c.do("eval 31")
	ds := rc.deliveries()
	if len(ds) != 3 || ds[1].id != held || ds[2].id != held || ds[2].what != "escalation city 620800" {
		t.Fatalf("deliveries %+v, want the firing and the escalation %s twice", ds, held)
	}
	c.do("eval 100") // a repeat is due an hour after the city heard
	if ds := rc.deliveries(); len(ds) != 4 || ds[3].what != "repeat city 620800" {
		t.Fatalf("deliveries %+v", ds)
	}
}
