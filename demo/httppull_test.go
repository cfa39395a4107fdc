package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// memAcc is a collectors.Accumulator that keeps the newest row per id.
type memAcc struct {
	kind   record.Kind
	rows   map[string][]string
	adds   int
	errs   []error
	cursor string
}

func (a *memAcc) Fields(k record.Kind) []string { return k.Fields() }
func (a *memAcc) AddRow(k record.Kind, v []string) error {
	a.adds++
	a.rows[v[0]] = append([]string(nil), v...)
	return nil
}
func (a *memAcc) Reject(k record.Kind, field, reason string) {
	a.errs = append(a.errs, fmt.Errorf("reject %s: %s", field, reason))
}
func (a *memAcc) AddError(err error)              { a.errs = append(a.errs, err) }
func (a *memAcc) BeginCatalog()                   {}
func (a *memAcc) Flush(ctx context.Context) error { return nil }
func (a *memAcc) Checkpoint(ctx context.Context, cursor string) error {
	a.cursor = cursor
	return nil
}

var _ collectors.Accumulator = (*memAcc)(nil)

// TestHTTPPullConnector points the real httppull connector (the one serve
// wires to the demo) at the demo's handler, with pages small enough that
// page boundaries fall inside seconds shared by several records, and polls
// while simulated time moves: it must end up with every record in its
// newest version.
func TestHTTPPullConnector(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, clk := newTestDemo(t, time.Date(2026, 3, 10, 10, 0, 0, 0, loc), 3*time.Hour, nil)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	for k, kind := range kindNames {
		t.Run(kind, func(t *testing.T) {
			opts := pullOptions(srv.URL, record.Kind(k))
			opts.PageSize = 4
			p, err := httppull.New(opts, collectors.Env{Name: "demo-" + kind, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			acc := &memAcc{kind: record.Kind(k), rows: map[string][]string{}}
			cursor := ""
			for _, step := range []time.Duration{0, 10 * time.Minute, 2 * time.Hour} {
				clk.Add(step)
				d.Advance()
				if cursor, err = p.Collect(context.Background(), cursor, acc); err != nil {
					t.Fatalf("Collect: %v", err)
				}
				if len(acc.errs) > 0 {
					t.Fatalf("Collect: %v", acc.errs)
				}
			}
			raws, _ := pull(t, d.Handler(), kind, "", MaxLimit)
			want := rows(t, raws)
			if len(acc.rows) != len(want) {
				t.Fatalf("httppull collected %d %s, the demo holds %d", len(acc.rows), kind, len(want))
			}
			for _, w := range want {
				got := acc.rows[w[idField[k]]]
				for i, f := range record.Kind(k).Fields() {
					if got[i] != w[f] {
						t.Fatalf("%s %s: %s = %q, want %q", kind, w[idField[k]], f, got[i], w[f])
					}
				}
			}
			t.Logf("%d records in %d rows delivered", len(want), acc.adds)
		})
	}
}

// pullOptions are the options serve gives the httppull source of kind k
// when it wires the in-process demo: the demo's endpoint and its
// "records" array; the rest are httppull's defaults (page-number mode).
func pullOptions(baseURL string, k record.Kind) httppull.Options {
	o := *httppull.Defaults()
	o.Kind = k.String()
	o.URL = baseURL + "/api/v1/" + k.String()
	o.Records = "records"
	o.PageSize = 1000
	return o
}

// demoSources is the wiring serve uses: one httppull source per kind,
// pointed at the in-process demo.
func demoSources(t testing.TB, baseURL string) []collectors.Source {
	var out []collectors.Source
	for k := record.Kind(0); k < record.NumKinds; k++ {
		o := pullOptions(baseURL, k)
		name := "demo-" + k.String()
		conn, err := httppull.New(o, collectors.Env{Name: name, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, collectors.Source{Name: name, Type: "httppull", Schedule: "@every 10s", Options: &o, Connector: conn})
	}
	return out
}

// TestServeWiring runs the collectors runner over the demo the way serve
// wires it, into a real engine: after one run of each source the engine
// holds exactly what the demo serves.
func TestServeWiring(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 15, 0, 0, 0, loc), 30*time.Hour, nil)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	eng, err := engine.New(engine.Config{Calendar: d.m.cal, Now: d.Now().UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := collectors.NewRunner(collectors.Config{Sources: demoSources(t, srv.URL), Location: loc}, eng, nil, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		res, err := r.RunNow(context.Background(), "demo-"+k.String())
		if err != nil || res.Rejected > 0 || len(res.Errors) > 0 {
			t.Fatalf("%s: %+v, %v", k, res, err)
		}
	}
	st := d.Stats()
	if got := eng.Len(); got != st.Records {
		t.Fatalf("engine holds %v, the demo serves %v", got, st.Records)
	}
	res, err := eng.Results(engine.Day, false)
	if err != nil {
		t.Fatal(err)
	}
	x := indexResults(res)
	t.Logf("today by 15:00: %d tickets, %d calls, answer rate %.3f", x.get(t, "ticket_volume", "620000").Numerator,
		x.get(t, "call_volume", "620000").Numerator, x.rate(t, "answer_rate", "620000"))
}
