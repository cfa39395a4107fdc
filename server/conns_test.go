package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// dialFrom opens a TCP connection to addr from a given local loopback
// address (127.0.0.2 is a different client than 127.0.0.1).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// alive reports whether the server still serves c: a request on it gets
// an answer (a refused connection was closed at once by the server).
func alive(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200")
}

func serveHealth(t *testing.T, cfg Config) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	cfg.Handler = mux
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String()
}

// Finding 3 of issue 10: ten thousand idle keep-alive connections took
// every file descriptor and /healthz stopped answering. Now one address
// gets at most PerAddress connections and health checks still answer.
func TestOneClientCannotTakeEveryConnection(t *testing.T) {
	addr := serveHealth(t, Config{Conns: ConnLimits{Total: 60, PerAddress: 20, LoopbackReserve: 4}})
	var kept int
	for range 50 {
		if alive(dialFrom(t, "127.0.0.2", addr)) {
			kept++
		}
	}
	if kept != 20 {
		t.Errorf("one client kept %d connections, want 20", kept)
	}
	// Another client, and the host's own health check, still get in.
	if !alive(dialFrom(t, "127.0.0.3", addr)) {
		t.Error("a second client was refused")
	}
	if !alive(dialFrom(t, "127.0.0.1", addr)) {
		t.Error("the health check was refused")
	}
}

func TestTotalCapKeepsAReserveForLoopback(t *testing.T) {
	only1 := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	addr := serveHealth(t, Config{Conns: ConnLimits{Total: 6, PerAddress: 2, LoopbackReserve: 2, Reserved: only1}})
	open := 0
	for i := 2; i < 8; i++ { // 6 clients × 2 = 12 tries against a total of 6
		for range 2 {
			if alive(dialFrom(t, fmt.Sprintf("127.0.1.%d", i), addr)) {
				open++
			}
		}
	}
	if open != 6 {
		t.Errorf("%d connections open, want the total of 6", open)
	}
	// The reserved address uses the reserve beyond the total.
	if !alive(dialFrom(t, "127.0.0.1", addr)) {
		t.Error("a loopback health check was refused although the reserve is free")
	}
}

func TestIdleConnectionsAreClosed(t *testing.T) {
	addr := serveHealth(t, Config{IdleTimeout: 200 * time.Millisecond, Conns: ConnLimits{Total: 10, PerAddress: 1}})
	c := dialFrom(t, "127.0.0.2", addr)
	if !alive(c) {
		t.Fatal("first request failed")
	}
	time.Sleep(600 * time.Millisecond) // idle beyond IdleTimeout: the server hangs up
	if alive(c) {
		t.Error("an idle keep-alive connection was kept past the idle timeout")
	}
	// Its slot is free again.
	if !alive(dialFrom(t, "127.0.0.2", addr)) {
		t.Error("the closed connection's slot was not given back")
	}
}
