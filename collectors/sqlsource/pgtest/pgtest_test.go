package pgtest

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

func TestStartStopRestart(t *testing.T) {
	began := time.Now()
	s := Start(t)
	t.Logf("initdb and start: %v (binaries in %s)", time.Since(began), s.BinDir)
	s.Exec(`CREATE TABLE t (x int)`, `INSERT INTO t VALUES (1)`)
	db, err := sql.Open("pgx", s.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("ping succeeds while the server is stopped")
	}
	s.Restart()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after restart: %d rows, %v", n, err)
	}
}
