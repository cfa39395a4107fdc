package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/journal"
)

// diskNS is a user and mount namespace holding a small tmpfs: a real disk
// that fills. A holder process keeps the namespace (and the tmpfs) alive
// across restarts of the product, which nsenter starts inside it; the test
// reaches the tmpfs from outside through /proc/<holder>/root.
type diskNS struct {
	holder *exec.Cmd
	dir    string // the mount point, as seen inside the namespace
}

// newDiskNS mounts a tmpfs of size (e.g. "16m") in a new namespace, or
// skips the test where unprivileged namespaces are not allowed.
func newDiskNS(t *testing.T, size string) *diskNS {
	t.Helper()
	if err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "true").Run(); err != nil {
		t.Skipf("no user and mount namespaces here (unshare: %v): a real full disk cannot be made", err)
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skipf("no nsenter: %v", err)
	}
	ns := &diskNS{dir: t.TempDir()}
	ns.holder = exec.Command("unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		`mount -t tmpfs -o size=`+size+` tmpfs "$0" && echo mounted && exec sleep 3600`, ns.dir)
	out, err := ns.holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ns.holder.Stderr = os.Stderr
	if err := ns.holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.holder.Process.Kill(); ns.holder.Wait() })
	line := make([]byte, 8)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "mounted\n" {
		t.Fatalf("mounting a tmpfs in a namespace: %q, %v", line, err)
	}
	return ns
}

// path is p (inside the tmpfs) as the test sees it.
func (ns *diskNS) path(p string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", ns.holder.Process.Pid), ns.dir, p)
}

// fill writes a filler file until the disk is full.
func (ns *diskNS) fill(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(ns.path("filler"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

func (ns *diskNS) free(t *testing.T) {
	t.Helper()
	if err := os.Remove(ns.path("filler")); err != nil {
		t.Fatal(err)
	}
}

// addAdmin creates an admin through the product's CLI inside ns (SQLite
// resolves /proc/<pid>/root to the host's root, so the access store cannot
// be written from outside).
func (ns *diskNS) addAdmin(t *testing.T, bin, name string) {
	t.Helper()
	cmd := exec.Command("nsenter", "--target", fmt.Sprint(ns.holder.Process.Pid), "--user", "--mount",
		bin, "user", "add", "--data-dir", filepath.Join(ns.dir, "data"), "--name", name, "--role", string(access.RoleAdmin), "--region", "620000")
	cmd.Env = append(os.Environ(), "YIPING_CONFIG=", "YIPING_ACCESS_DSN=")
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("yiping user add: %v\n%s", err, out)
	}
}

// serving is one yiping serve process inside the namespace.
type serving struct {
	cmd    *exec.Cmd
	log    string
	base   string
	exited chan struct{} // closed when the process ended, after err is set
	err    error
}

const diskToken = "disk-full-token-0123456789"

// serve starts the product inside ns, its data directory on the tmpfs.
func (ns *diskNS) serve(t *testing.T, bin string) *serving {
	t.Helper()
	addr := freeAddr(t)
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--target", fmt.Sprint(ns.holder.Process.Pid), "--user", "--mount",
		bin, "serve", "--demo=false", "--addr", addr, "--data-dir", filepath.Join(ns.dir, "data"), "--history-every", "1s")
	cmd.Env = append(os.Environ(), "YIPING_INGEST_TOKEN="+diskToken, "YIPING_STORE=", "YIPING_CONFIG=",
		"YIPING_STORE_MIN_FREE=1MiB")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serving{cmd: cmd, log: logf.Name(), base: "http://" + addr, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); logf.Close(); close(s.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
	})
	return s
}

func (s *serving) logText() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// ready waits for /readyz to answer 200.
func (s *serving) ready(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			t.Fatalf("yiping serve exited (%v) before it was ready; log:\n%s", s.err, s.logText())
		default:
		}
		code, body := get(t, s.base+"/readyz")
		if code == 200 {
			return
		}
		last = fmt.Sprint(code, " ", body)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz not ready within %s: %s; log:\n%s", within, last, s.logText())
}

// stop sends SIGTERM and waits for the process to end promptly; with
// clean, it must also exit 0.
func (s *serving) stop(t *testing.T, clean bool) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil && clean {
			t.Errorf("yiping serve ended with %v after SIGTERM; log:\n%s", s.err, s.logText())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("yiping serve still running 20 s after SIGTERM; log:\n%s", s.logText())
	}
	t.Logf("SIGTERM to exit: %s (%v)", time.Since(start).Round(time.Millisecond), s.err)
}

// push sends one call record and returns the status and body.
func (s *serving) push(t *testing.T, id string) (int, string) {
	t.Helper()
	body := fmt.Sprintf("call_id,region_code,offered_at,answered,wait_seconds\n%s,620802,%s,1,3\n",
		id, time.Now().Add(-time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest("POST", s.base+"/api/ingest/calls", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+diskToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pushUntilRefused pushes records until one is refused with 503 and
// returns that answer; records taken by the last bytes of the disk are
// added to acked.
func (s *serving) pushUntilRefused(t *testing.T, prefix string, acked *[]string) string {
	t.Helper()
	for i := range 200 {
		id := fmt.Sprintf("%s-%d", prefix, i)
		switch code, body := s.push(t, id); code {
		case 200:
			*acked = append(*acked, id)
		case 503:
			return body
		default:
			t.Fatalf("push on a full disk: %d %s", code, body)
		}
	}
	t.Fatal("a full disk took 200 pushes")
	return ""
}

// journalIDs replays the journal of a stopped product.
func journalIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	j, err := journal.Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ids := map[string]int{}
	if _, err := j.Replay(context.Background(), func(b journal.Batch) error {
		for i := range b.Len() {
			ids[b.Row(i)[0]]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestDiskFullServe runs the product on a real disk that fills (a 16 MiB
// tmpfs): pushes are refused with 503 and a plain reason while it is full,
// /readyz fails, the log stays small, and once a file is deleted pushes
// succeed again and /readyz is ready, with no restart; SIGTERM on a full
// disk ends it promptly. A start on a disk that is already full either
// exits at once with one clear error or runs with /readyz failing, and
// honours SIGTERM. After all that, every record acknowledged with 200 is in
// the journal once and counted once.
func TestDiskFullServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole product on a tmpfs")
	}
	ns := newDiskNS(t, "16m")
	bin := buildYiping(t)
	ns.addAdmin(t, bin, "e2e-admin")

	// 1. A running product whose disk fills, then frees.
	s := ns.serve(t, bin)
	s.ready(t, 90*time.Second)
	var acked []string
	for i := range 5 {
		id := fmt.Sprintf("OK-%d", i)
		if code, body := s.push(t, id); code != 200 {
			t.Fatalf("push %s: %d %s", id, code, body)
		}
		acked = append(acked, id)
	}
	ns.fill(t)
	refused := s.pushUntilRefused(t, "FILL", &acked)
	if !strings.Contains(refused, "disk is full") && !strings.Contains(refused, "no space left") {
		t.Errorf("503 without a plain reason: %s", refused)
	}
	logBefore := len(s.logText())
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if code, body := s.push(t, "REFUSED"); code != 503 {
			t.Fatalf("push on a full disk: %d %s", code, body)
		}
		if code, body := get(t, s.base+"/readyz"); code == 200 {
			t.Fatalf("/readyz answers 200 while records cannot be stored: %s", body)
		}
	}
	if grown := len(s.logText()) - logBefore; grown > 64<<10 {
		t.Errorf("3 s on a full disk wrote %d bytes of log:\n%.3000s", grown, s.logText()[logBefore:])
	}
	ns.free(t)
	s.ready(t, 30*time.Second)
	if code, body := s.push(t, "AFTER-1"); code != 200 {
		t.Fatalf("push with space freed: %d %s", code, body)
	}
	acked = append(acked, "AFTER-1")
	// SIGTERM on a full disk: the last history cycle and the store's close
	// cannot write, and must not hold the exit up.
	ns.fill(t)
	s.pushUntilRefused(t, "REFILL", &acked)
	s.stop(t, false)

	// 2. A start on a disk that is already full.
	s = ns.serve(t, bin)
	select {
	case <-s.exited:
		err := s.err
		if err == nil {
			t.Errorf("a start on a full disk exited 0; log:\n%s", s.logText())
		}
		if log := s.logText(); len(log) > 16<<10 || !strings.Contains(log, "no space left") && !strings.Contains(log, "disk is full") {
			t.Errorf("a start on a full disk should end with one clear error; log (%d bytes):\n%.3000s", len(log), log)
		}
		t.Logf("start on a full disk: exited (%v)", err)
	case <-time.After(10 * time.Second):
		// Degraded: serving, never ready, and SIGTERM still works.
		if code, body := get(t, s.base+"/readyz"); code == 200 {
			t.Errorf("/readyz answers 200 on a full disk: %s", body)
		}
		if log := s.logText(); len(log) > 64<<10 {
			t.Errorf("10 s of a start on a full disk wrote %d bytes of log:\n%.3000s", len(log), log)
		}
		s.stop(t, false)
		t.Log("start on a full disk: ran degraded")
	}
	ns.free(t)

	// 3. Space is back: every acknowledged record is there, once.
	s = ns.serve(t, bin)
	s.ready(t, 90*time.Second)
	if code, body := s.push(t, "AFTER-2"); code != 200 {
		t.Fatalf("push after the restart: %d %s", code, body)
	}
	acked = append(acked, "AFTER-2")
	want := float64(len(acked))
	c, _ := signIn(t, s.base, "e2e-admin")
	eventually(t, "every acknowledged call counted once", func() string {
		if v, ok := indicatorValue(t, c, s.base, "call_volume", "620802"); !ok || v != want {
			return fmt.Sprintf("call_volume 620802 = %v (%v), want the %v acknowledged", v, ok, want)
		}
		return ""
	})
	s.stop(t, true)
	ids := journalIDs(t, ns.path("data/journal"))
	for _, id := range acked {
		if ids[id] != 1 {
			t.Errorf("acknowledged record %s is %d times in the journal, want once", id, ids[id])
		}
	}
}
