package testkit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DiskEnv names the environment variable that tells a test binary run by
// InTinyDisk where its tiny disk is mounted.
const DiskEnv = "YIPING_DISKFULL_DIR"

// TinyDisk returns the directory of the tiny disk when the test runs
// inside InTinyDisk's namespace, or "".
func TinyDisk() string { return os.Getenv(DiskEnv) }

// InTinyDisk runs the test named test again, in this test binary, inside
// a new user and mount namespace (unshare) where a tmpfs of size (e.g.
// "8m") is mounted on a fresh directory: a real disk that really fills.
// The child finds the directory with TinyDisk; env adds variables (a case
// name). The parent fails unless the child passed. It skips where
// unprivileged namespaces are not allowed, and under -short.
func InTinyDisk(t *testing.T, size, test string, env ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a tmpfs in a namespace")
	}
	if err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "true").Run(); err != nil {
		t.Skipf("no user and mount namespaces here (unshare: %v): a real full disk cannot be made", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := `mount -t tmpfs -o size=` + size + ` tmpfs "$` + DiskEnv + `" && exec "$@"`
	cmd := exec.CommandContext(ctx, "unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh",
		os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), DiskEnv+"="+t.TempDir()), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("%s in a %s tmpfs: %v\n%s", test, size, err, out)
	}
}

// FillDisk writes a file into dir until the disk is full and returns its
// path (delete it to free the space).
func FillDisk(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}
