// Package accesstest runs a test against the access database on both of
// its engines, for the packages that keep their state there (report,
// dispatch): SQLite in a temporary directory, and a real PostgreSQL
// (pgtest: the binaries of $YIPING_PG_BIN or the machine's).
package accesstest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
)

// Opener opens a store; the same name opens the same database again, as
// a restarted process or a second one would.
type Opener func(t *testing.T, name string) *access.SQLStore

// SQLite opens stores in a temporary directory of t.
func SQLite(t *testing.T) Opener {
	dir := t.TempDir()
	return func(t *testing.T, name string) *access.SQLStore {
		t.Helper()
		s, err := access.OpenSQLite(context.Background(), filepath.Join(dir, name, access.SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// Postgres starts one PostgreSQL for t; each name is a database of its own.
func Postgres(t *testing.T) Opener {
	srv := pgtest.Start(t)
	var mu sync.Mutex
	made := map[string]bool{}
	return func(t *testing.T, name string) *access.SQLStore {
		t.Helper()
		db := fmt.Sprintf("d_%x", name)
		mu.Lock()
		if !made[db] {
			srv.Exec("CREATE DATABASE " + db)
			made[db] = true
		}
		mu.Unlock()
		s, err := access.OpenPostgres(context.Background(), srv.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// Each runs fn on SQLite and on PostgreSQL (not in -short mode).
func Each(t *testing.T, fn func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		if testing.Short() {
			t.Skip("PostgreSQL in -short mode")
		}
		fn(t, Postgres(t))
	})
}
