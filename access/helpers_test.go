package access

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
)

// clock is a fake clock for timeouts and limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Whole microseconds, as the store keeps them.
	return &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheapHash keeps tests fast; TestHashDefaults checks the real cost.
var cheapHash = HashParams{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// opener makes a fresh, empty store; a second call with the same name
// opens the same database again (as another process would).
type opener func(t *testing.T, name string) *SQLStore

func sqliteOpener(t *testing.T) opener {
	dir := t.TempDir()
	return func(t *testing.T, name string) *SQLStore {
		t.Helper()
		s, err := OpenSQLite(context.Background(), filepath.Join(dir, name, SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// postgresOpener starts one PostgreSQL for the calling test; each name is
// a database of its own.
func postgresOpener(t *testing.T) opener {
	srv := pgtest.Start(t)
	var mu sync.Mutex
	made := map[string]bool{}
	return func(t *testing.T, name string) *SQLStore {
		t.Helper()
		db := fmt.Sprintf("t_%x", name)
		mu.Lock()
		if !made[db] {
			srv.Exec("CREATE DATABASE " + db)
			made[db] = true
		}
		mu.Unlock()
		s, err := OpenPostgres(context.Background(), srv.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// engines runs f against each store implementation.
func engines(t *testing.T, f func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteOpener(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresOpener(t)) })
}

func newService(t *testing.T, st Store, c *clock, mod ...func(*Config)) *Service {
	t.Helper()
	cfg := Config{Store: st, Now: c.Now, Logger: quietLog(), Hash: cheapHash}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const goodPassword = "correct horse battery"

func mustAddUser(t *testing.T, s *Service, name string, role Role, reg string) User {
	t.Helper()
	u, err := s.AddUser(t.Context(), Actor{Name: "test"}, NewUser{Name: name, Role: role, Region: reg, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
