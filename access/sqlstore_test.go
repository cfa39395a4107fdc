package access

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := OpenStore(t.Context(), StoreConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := filepath.Join(dir, SQLiteFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600 (it holds password hashes)", path, st.Mode().Perm())
	}
	if s.Dialect() != SQLite || s.String() != "sqlite "+path {
		t.Errorf("store %s %s", s.Dialect(), s)
	}
	var mode string
	if err := s.DB().QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q %v, want wal", mode, err)
	}
	if _, err := OpenSQLite(t.Context(), filepath.Join(dir, "a?b.db")); err == nil {
		t.Error("a path with ? opened")
	}
}

func TestOpenPostgresHidesPassword(t *testing.T) {
	_, err := OpenPostgres(t.Context(), "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error shows the password: %v", err)
	}
	_, err = OpenPostgres(t.Context(), "postgres://u:s3cret@[bad")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad DSN: %v", err)
	}
}

func TestRebind(t *testing.T) {
	pg := &SQLStore{dialect: Postgres}
	if got := pg.Rebind(`SELECT a FROM t WHERE b = ? AND c < ?`); got != `SELECT a FROM t WHERE b = $1 AND c < $2` {
		t.Fatal(got)
	}
	lite := &SQLStore{dialect: SQLite}
	if got := lite.Rebind(`x = ?`); got != `x = ?` {
		t.Fatal(got)
	}
}

func TestCut(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdefgh", 5, "ab…"},
		{"详细信息", 7, "详…"},
		{"a\x00b", 10, "a\uFFFDb"},
		{"a\xffb", 10, "a\uFFFDb"},
	}
	for _, tc := range cases {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestNewStoreBelongsToDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 4242, 4243); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(t.Context(), filepath.Join(dir, SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4242 || st.Gid != 4243 {
		t.Fatalf("owner %d:%d, want the directory's 4242:4243", st.Uid, st.Gid)
	}
}
