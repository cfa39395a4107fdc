// Package wstest holds what the websocket benchmarks' clients share.
package wstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// DialSubscribed dials url with hdr, sends the subscribe request sub and
// waits (at most a minute) for the hub's "subscribed" reply, skipping the
// snapshots before it. An "error" reply is an error.
func DialSubscribed(d *websocket.Dialer, url string, hdr http.Header, sub []byte) (*websocket.Conn, error) {
	conn, resp, err := d.Dial(url, hdr)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if err := conn.WriteMessage(websocket.TextMessage, sub); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if bytes.Contains(msg, []byte(`"op":"subscribed"`)) {
			conn.SetReadDeadline(time.Time{})
			return conn, nil
		}
		if bytes.Contains(msg, []byte(`"op":"error"`)) {
			conn.Close()
			return nil, fmt.Errorf("subscribe: %s", msg)
		}
	}
}

// Child is the test binary run again as a child process for one of its
// tests (a benchmark's server or its clients, each with its own file
// limit), speaking in lines: requests on its stdin, answers on stdout.
type Child struct {
	Cmd   *exec.Cmd
	Stdin io.WriteCloser
	lines chan string
}

// StartChild runs the test binary's test named test as a child, behind
// wrap (e.g. "chrt", "--batch", "0"; none if empty), with env added to
// this process's environment. Its stderr is this process's.
func StartChild(t testing.TB, test string, wrap []string, env ...string) *Child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string(nil), wrap...), exe, "-test.run=^"+test+"$", "-test.v=false", "-test.timeout=0")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Child{Cmd: cmd, Stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20) // a client's report is one long line
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// Send writes a line to the child's stdin.
func (c *Child) Send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(c.Stdin, line+"\n"); err != nil {
		t.Fatalf("child %d: %v", c.Cmd.Process.Pid, err)
	}
}

// Expect waits for a line starting with prefix and returns the rest.
func (c *Child) Expect(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child %v ended before %q", c.Cmd.Args, prefix)
			}
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
		case <-tm.C:
			t.Fatalf("child %v: no %q in %v", c.Cmd.Args, prefix, timeout)
		}
	}
}

// Stop closes the child's stdin (its cue to end) and waits for it, 30 s
// at most before killing it.
func (c *Child) Stop() {
	c.Stdin.Close()
	done := make(chan struct{})
	go func() { c.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.Cmd.Process.Kill()
		<-done
	}
}

// Wait bounds every read and write of a Client.
const Wait = 15 * time.Second

// Frame is one message of the hub's protocol as a test reads it: a topic
// message, or a reply (Op set).
type Frame struct {
	Op       string          `json:"op"`
	Request  string          `json:"request"`
	Topics   []string        `json:"topics"`
	Error    string          `json:"error"`
	Topic    string          `json:"topic"`
	Seq      uint64          `json:"seq"`
	Snapshot bool            `json:"snapshot"`
	Data     json.RawMessage `json:"data"`
}

func (f Frame) String() string {
	if f.Op != "" {
		return fmt.Sprintf("reply %s %v %s", f.Op, f.Topics, f.Error)
	}
	return fmt.Sprintf("%s seq=%d snap=%v data=%.40s", f.Topic, f.Seq, f.Snapshot, f.Data)
}

// Client speaks the hub's protocol over a real websocket, failing T on
// anything unexpected (the hub's and cluster/bus's tests).
type Client struct {
	T    testing.TB
	Conn *websocket.Conn
}

// Dial connects to the hub at url (ws://…/ws); the connection closes
// with t.
func Dial(t testing.TB, url string, hdr http.Header) *Client {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Client{T: t, Conn: conn}
}

// Send writes v: a string as it is, anything else as JSON.
func (c *Client) Send(v any) {
	c.T.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(Wait))
	var err error
	if s, ok := v.(string); ok {
		err = c.Conn.WriteMessage(websocket.TextMessage, []byte(s))
	} else {
		err = c.Conn.WriteJSON(v)
	}
	if err != nil {
		c.T.Fatalf("send: %v", err)
	}
}

// Subscribe asks for topics, resuming after the seqs in since.
func (c *Client) Subscribe(since map[string]uint64, topics ...string) {
	c.T.Helper()
	c.Send(map[string]any{"op": "subscribe", "topics": topics, "since": since})
}

// Next reads one frame.
func (c *Client) Next() Frame {
	c.T.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(Wait))
	var f Frame
	if err := c.Conn.ReadJSON(&f); err != nil {
		c.T.Fatalf("read: %v", err)
	}
	return f
}

// Until reads up to the reply op and returns the topic messages before it.
func (c *Client) Until(op string) []Frame {
	c.T.Helper()
	var got []Frame
	for {
		f := c.Next()
		if f.Op == op {
			return got
		}
		if f.Op != "" {
			c.T.Fatalf("want reply %s, got %v", op, f)
		}
		got = append(got, f)
	}
}

// Expect reads one frame and checks it (CheckFrame).
func (c *Client) Expect(topic string, seq uint64, snapshot bool, data string) {
	c.T.Helper()
	CheckFrame(c.T, c.Next(), topic, seq, snapshot, data)
}

// CheckFrame fails t unless f is the topic message described.
func CheckFrame(t testing.TB, f Frame, topic string, seq uint64, snapshot bool, data string) {
	t.Helper()
	if f.Op != "" || f.Topic != topic || f.Seq != seq || f.Snapshot != snapshot || string(f.Data) != data {
		t.Fatalf("got %v, want %s seq=%d snap=%v data=%s", f, topic, seq, snapshot, data)
	}
}
