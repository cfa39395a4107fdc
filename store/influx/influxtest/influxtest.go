// Package influxtest starts a throw-away InfluxDB 1.8.10 server for tests
// and benchmarks: all ports on 127.0.0.1, all files in one directory, Flux
// enabled, authentication off.
//
// The binary is found by Find. If it is missing, Start fails the test with
// a message that says to run scripts/install-influxd, unless the
// environment has YIPING_SKIP_INFLUX=1, in which case the test is skipped.
package influxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the InfluxDB release the project tests against.
const Version = "v1.8.10"

// ErrNotInstalled is returned by Find when no influxd is found.
var ErrNotInstalled = errors.New("influxd " + Version + " is not installed: run scripts/install-influxd (it runs `go install github.com/influxdata/influxdb/cmd/influxd@" + Version + "`), or set YIPING_SKIP_INFLUX=1 to skip the InfluxDB tests")

// Find returns the path of influxd: $YIPING_INFLUXD, else influxd on PATH,
// else $GOBIN/influxd, else $(go env GOPATH)/bin/influxd.
func Find() (string, error) {
	if p := os.Getenv("YIPING_INFLUXD"); p != "" {
		if isExec(p) {
			return p, nil
		}
		return "", fmt.Errorf("YIPING_INFLUXD=%s is not an executable file", p)
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		f := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(f) == 2 {
			if g := strings.TrimSpace(f[0]); g != "" {
				dirs = append(dirs, g)
			}
			for _, p := range filepath.SplitList(strings.TrimSpace(f[1])) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "influxd"); isExec(p) {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Options tunes a server. The zero value is fine for tests.
type Options struct {
	// CompactQuickly makes InfluxDB snapshot its cache and fully compact
	// shards after one second without writes (for measuring disk per point).
	CompactQuickly bool
	// Log receives influxd's output. Default: a file influxd.log in Dir.
	Log io.Writer
}

// Server is a running (or stopped) influxd.
type Server struct {
	Bin      string
	Dir      string // holds meta/, data/, wal/, influxd.conf, influxd.log
	HTTPPort int
	URL      string // http://127.0.0.1:port

	opts Options
	cmd  *exec.Cmd
	done chan struct{}
	logf *os.File
}

// StartServer starts influxd with its files in dir (created if missing).
func StartServer(ctx context.Context, dir string, opts Options) (*Server, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Bin: bin, Dir: dir, HTTPPort: httpPort, URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), opts: opts}
	cold := [2]string{"10m0s", "4h0m0s"}
	if opts.CompactQuickly {
		cold = [2]string{"1s", "1s"}
	}
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q
  logging-enabled = false

[data]
  dir = %q
  wal-dir = %q
  index-version = "inmem"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = %q
  compact-full-write-cold-duration = %q

[retention]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = false
  log-enabled = false
  flux-enabled = true
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), cold[0], cold[1], httpPort)
	if err := os.WriteFile(filepath.Join(dir, "influxd.conf"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command(s.Bin, "run", "-config", filepath.Join(s.Dir, "influxd.conf"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.opts.Log != nil {
		cmd.Stdout, cmd.Stderr = s.opts.Log, s.opts.Log
	} else {
		f, err := os.OpenFile(filepath.Join(s.Dir, "influxd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		s.logf = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("influxtest: start %s: %w", s.Bin, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		if pingOK(ctx, s.URL) {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("influxtest: influxd exited during start-up; see %s", s.logPath())
		case <-ctx.Done():
			_ = s.Kill()
			return fmt.Errorf("influxtest: influxd did not answer /ping: %w; see %s", ctx.Err(), s.logPath())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) logPath() string { return filepath.Join(s.Dir, "influxd.log") }

// Log returns the tail of influxd's log file (for failure messages).
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func pingOK(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ping", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Kill stops the server at once with SIGKILL (a crash, or a pulled cable:
// connections are refused from then on).
func (s *Server) Kill() error {
	if !s.Running() {
		return nil
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	return nil
}

// Stop stops the server with SIGTERM, then SIGKILL after 15 seconds.
func (s *Server) Stop() error {
	if !s.Running() {
		if s.logf != nil {
			_ = s.logf.Close()
			s.logf = nil
		}
		return nil
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.Kill()
	}
	if s.logf != nil {
		_ = s.logf.Close()
		s.logf = nil
	}
	return nil
}

// Restart starts a stopped or killed server again on the same port and
// directory.
func (s *Server) Restart(ctx context.Context) error {
	if s.Running() {
		return errors.New("influxtest: server is running")
	}
	if s.logf != nil {
		_ = s.logf.Close()
		s.logf = nil
	}
	return s.start(ctx)
}

// Query runs an InfluxQL statement through the 1.x /query endpoint.
func (s *Server) Query(ctx context.Context, q string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("influxtest: %s: %w", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
		return "", fmt.Errorf("influxtest: %s: %s %s", q, resp.Status, body)
	}
	return string(body), nil
}

// CreateDatabase creates database name and returns the bucket that names
// its default retention policy, "name/autogen".
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if _, err := s.Query(ctx, fmt.Sprintf("CREATE DATABASE %q", name)); err != nil {
		return "", err
	}
	return name + "/autogen", nil
}

// DiskUsage returns the bytes under data/<db> and wal/<db>.
func (s *Server) DiskUsage(db string) (int64, error) {
	var n int64
	for _, sub := range []string{"data", "wal"} {
		err := filepath.Walk(filepath.Join(s.Dir, sub, db), func(_ string, fi os.FileInfo, err error) error {
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			if !fi.IsDir() {
				n += fi.Size()
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Start starts a server for t in t.TempDir() and stops it in t.Cleanup.
// Without influxd it fails t, or skips it when YIPING_SKIP_INFLUX=1.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s, err := StartServer(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("influxtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("influxd log tail:\n%s", s.Log())
		}
		_ = s.Stop()
	})
	return s
}

// Require fails t when influxd is not installed, or skips it when
// YIPING_SKIP_INFLUX=1, and returns the binary's path.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv("YIPING_SKIP_INFLUX") == "1" {
			t.Skipf("YIPING_SKIP_INFLUX=1: %v", err)
		}
		t.Fatal(err)
	}
	return bin
}
