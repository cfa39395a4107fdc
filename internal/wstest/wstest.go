// Package wstest holds what the websocket benchmarks' clients share.
package wstest

import (
	"bufio"
	"bytes"
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
