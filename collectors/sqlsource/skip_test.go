package sqlsource

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingPostgresFailsLoudly checks the contract of pgtest without
// binaries: a test fails with the install command unless
// YIPING_SKIP_POSTGRES=1, which skips it. It runs a child test process
// with YIPING_PG_BIN pointing at an empty directory.
func TestMissingPostgresFailsLoudly(t *testing.T) {
	if os.Getenv("SQLSOURCE_CHILD") == "1" {
		t.Skip("child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, skip := range []string{"", "1"} {
		cmd := exec.Command(exe, "-test.run=^TestPostgresStall$", "-test.v")
		cmd.Env = append(os.Environ(), "YIPING_PG_BIN="+empty, "YIPING_SKIP_POSTGRES="+skip, "SQLSOURCE_CHILD=1")
		out, err := cmd.CombinedOutput()
		switch skip {
		case "":
			if err == nil || !strings.Contains(string(out), "scripts/install-postgres") {
				t.Errorf("without binaries: %v\n%s", err, out)
			}
		case "1":
			if err != nil || !strings.Contains(string(out), "SKIP") {
				t.Errorf("with YIPING_SKIP_POSTGRES=1: %v\n%s", err, out)
			}
		}
	}
}
