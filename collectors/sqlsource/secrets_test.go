package sqlsource

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
)

// errAcc is an Accumulator that keeps the partial failures.
type errAcc struct{ errs []error }

func (a *errAcc) Fields(k record.Kind) []string            { return k.Fields() }
func (a *errAcc) AddRow(record.Kind, []string) error       { return nil }
func (a *errAcc) AddError(err error)                       { a.errs = append(a.errs, err) }
func (a *errAcc) BeginCatalog()                            {}
func (a *errAcc) Checkpoint(context.Context, string) error { return nil }

// TestErrorsHideTheDSN: a run against a database that refuses or drops
// the connection fails with an error that names the host, never the DSN's
// password, whatever the driver puts in its message.
func TestErrorsHideTheDSN(t *testing.T) {
	// A server that accepts and drops connections, and one that refuses.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dropping := ln.Addr().String()
	refused, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedAddr := refused.Addr().String()
	refused.Close()
	host, port, _ := net.SplitHostPort(dropping)

	q := Query{SQL: "SELECT * FROM t WHERE u > $1 ORDER BY u LIMIT 10", Cursor: Columns{"u"}}
	qm := Query{SQL: "SELECT * FROM t WHERE u > ? ORDER BY u LIMIT 10", Cursor: Columns{"u"}}
	tests := []struct {
		name, driver, dsn string
		query             Query
	}{
		{"pg url, dropped", "postgres", "postgres://yiping:PGSECRET99@" + dropping + "/zwfw?sslmode=disable&connect_timeout=2", q},
		{"pg url, refused", "postgres", "postgres://yiping:PGSECRET99@" + refusedAddr + "/zwfw?sslmode=disable&connect_timeout=2", q},
		{"pg keywords", "postgres", "host=" + host + " port=" + port + " user=yiping password=PGSECRET99 dbname=zwfw sslmode=disable connect_timeout=2", q},
		{"mysql, dropped", "mysql", "yiping:PGSECRET99@tcp(" + dropping + ")/zwfw?timeout=2s", qm},
		{"mysql, refused", "mysql", "yiping:PGSECRET99@tcp(" + refusedAddr + ")/zwfw?timeout=2s", qm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Driver: tc.driver, DSN: collectors.Secret(tc.dsn), Queries: map[string]Query{"cases": tc.query}}, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			acc := &errAcc{}
			_, err = s.Collect(context.Background(), "", acc)
			if err == nil {
				t.Fatal("a run against no database succeeded")
			}
			shown := errors.Join(append(acc.errs, err)...).Error()
			t.Log(shown)
			if strings.Contains(shown, "PGSECRET99") || strings.Contains(shown, tc.dsn) {
				t.Errorf("the error shows the DSN or its password: %s", shown)
			}
		})
	}
	// What the drivers print, the hiding replaces, however it is wrapped.
	s := &Source{secrets: dsnSecrets("pgx", "postgres://u:PGSECRET99@h/db")}
	inner := errors.New("cannot connect to postgres://u:PGSECRET99@h/db (password PGSECRET99)")
	err = s.hide(inner)
	if strings.Contains(err.Error(), "PGSECRET99") || !errors.Is(err, inner) {
		t.Errorf("hide: %v", err)
	}
}
