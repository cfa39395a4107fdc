// Package pgtest runs a throwaway PostgreSQL server for tests: initdb into
// a temporary directory, postgres on a free loopback port, stopped and
// removed when the test ends.
//
// The server binaries come from the machine: $YIPING_PG_BIN, initdb on the
// PATH, or Debian's /usr/lib/postgresql/*/bin. scripts/install-postgres
// installs them on a fresh Debian machine. When they are missing a test
// fails and says to run that script, unless YIPING_SKIP_POSTGRES=1, which
// skips it instead (for machines that cannot install packages).
//
// PostgreSQL refuses to run as root. Run as root (CI, containers), the
// server runs as the "postgres" user that Debian's package creates, and the
// data directory is made that user's.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Server is a running test server.
type Server struct {
	// BinDir holds initdb and postgres.
	BinDir string
	// DataDir is the cluster; SocketDir holds its Unix socket.
	DataDir, SocketDir string
	// Port is the TCP port on 127.0.0.1.
	Port int

	t    testing.TB
	cred *syscall.Credential // nil: run as the current user
	dir  string
	proc *process
	log  string
}

// process is a running postgres and the goroutine that owns it.
type process struct {
	cmd  *exec.Cmd
	done chan error
}

// BinDir finds the directory of the PostgreSQL server binaries, or returns
// an error that says how to install them.
func BinDir() (string, error) {
	if d := os.Getenv("YIPING_PG_BIN"); d != "" {
		if ok(d) {
			return d, nil
		}
		return "", fmt.Errorf("YIPING_PG_BIN=%s has no initdb and postgres: set it to the directory scripts/install-postgres prints, or set YIPING_SKIP_POSTGRES=1 to skip the PostgreSQL tests", d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) }) // newest first
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, postgres) on this machine: run scripts/install-postgres, or set YIPING_SKIP_POSTGRES=1 to skip the PostgreSQL tests")
}

func ok(dir string) bool {
	for _, b := range []string{"initdb", "postgres"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start runs initdb and starts a server, or fails (skips, with
// YIPING_SKIP_POSTGRES=1) the test when PostgreSQL is not installed. The
// server is stopped and its files removed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		if os.Getenv("YIPING_SKIP_POSTGRES") == "1" {
			t.Skipf("YIPING_SKIP_POSTGRES=1: %v", err)
		}
		t.Fatal(err)
	}
	s := &Server{BinDir: bin, t: t}
	// Not t.TempDir: its parent directory is private to this user, and the
	// server may have to run as another one.
	s.dir, err = os.MkdirTemp("", "yiping-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	s.DataDir, s.SocketDir = filepath.Join(s.dir, "data"), filepath.Join(s.dir, "sock")
	s.log = filepath.Join(s.dir, "postgres.log")
	if err := os.Mkdir(s.SocketDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs an unprivileged user and there is no \"postgres\" user (%v): run scripts/install-postgres", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, p := range []string{s.dir, s.SocketDir} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.DataDir, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Port = freePort(t)
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// DSN returns a URL for database db ("postgres" when empty) over TCP.
func (s *Server) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Restart starts the server again after Stop (Start starts it the first
// time) and waits until it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	if s.proc != nil {
		s.t.Fatal("pgtest: server already running")
	}
	started := make(chan error, 1)
	p := &process{done: make(chan error, 1)}
	go func() {
		// The server dies with the test process (Pdeathsig), so a test
		// killed by a timeout leaves no server behind. The signal follows
		// the thread that started the child, so the thread stays locked
		// to this goroutine until the server exits.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			started <- err
			return
		}
		defer logf.Close()
		p.cmd = exec.Command(filepath.Join(s.BinDir, "postgres"), "-D", s.DataDir, "-k", s.SocketDir,
			"-p", strconv.Itoa(s.Port), "-h", "127.0.0.1",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=20", "-c", "shared_buffers=16MB")
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		p.cmd.Env = append(os.Environ(), "LC_ALL=C")
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.done <- p.cmd.Wait()
	}()
	if err := <-started; err != nil {
		s.t.Fatalf("start postgres: %v", err)
	}
	s.proc = p
	if err := s.waitReady(60 * time.Second); err != nil {
		s.Stop()
		out, _ := os.ReadFile(s.log)
		s.t.Fatalf("postgres did not come up: %v\n%s", err, out)
	}
}

func (s *Server) waitReady(limit time.Duration) error {
	db, err := sql.Open("pgx", s.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case err := <-s.proc.done:
			s.proc.done <- err
			return fmt.Errorf("postgres exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down (fast shutdown: connections are closed) and
// waits for it; it does nothing when the server is not running.
func (s *Server) Stop() {
	p := s.proc
	if p == nil {
		return
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		// Kill the whole process group: the postmaster and its children.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Exec runs SQL statements on database "postgres", failing the test on an
// error.
func (s *Server) Exec(stmts ...string) {
	s.t.Helper()
	db, err := sql.Open("pgx", s.DSN(""))
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			s.t.Fatalf("exec %s: %v", strings.TrimSpace(q), err)
		}
	}
}
