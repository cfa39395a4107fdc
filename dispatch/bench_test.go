package dispatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/region"
)

// benchOrders is the size of the list benchmark's table (issue 12 asks
// for the order list's p99 at 100,000 orders).
const benchOrders = 100_000

var bench struct {
	once sync.Once
	d    *desk
	err  error
	// counties are the county codes of Gansu the orders go to.
	counties []region.Code
}

// benchDesk fills a SQLite store with benchOrders orders in one
// transaction: Gansu's counties, issued over a year by city operators,
// every state (about half awaiting the unit, a fifth of all overdue at
// the list's instant), and the clock at the end of that year.
func benchDesk(b *testing.B) *desk {
	bench.once.Do(func() {
		ctx := context.Background()
		acc, err := access.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench", access.SQLiteFile))
		if err != nil {
			bench.err = err
			return
		}
		// Not closed: shared by the sub-benchmarks until the process ends.
		st, err := NewStore(ctx, acc)
		if err != nil {
			bench.err = err
			return
		}
		end := time.Date(2026, 12, 1, 10, 0, 0, 0, cst)
		c := &clock{t: end}
		s, err := New(Config{Store: st, Calendar: testCal, Now: c.Now, Logger: quietLog()})
		if err != nil {
			bench.err = err
			return
		}
		d := &desk{Service: s, st: st, acc: acc, clock: c}
		tab := region.Default()
		for _, city := range tab.Children("620000") {
			bench.counties = append(bench.counties, tab.Children(city)...)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		tx, err := acc.DB().BeginTx(ctx, nil)
		if err != nil {
			bench.err = err
			return
		}
		defer tx.Rollback()
		states := []State{StateIssued, StateSigned, StateReturned, StateReplied, StateVerified, StateVerified, StateWithdrawn}
		base := sample()
		for i := range benchOrders {
			unit := bench.counties[rng.IntN(len(bench.counties))]
			city, _ := unit.Parent()
			issuedAt := end.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			o := Order{ID: fmt.Sprintf("DB%s-%06d", issuedAt.In(cst).Format("20060102"), i), Version: 1,
				Unit: Unit{Region: unit}, Title: fmt.Sprintf("%s 第 %d 号督办", base.Title, i), Reason: base.Reason,
				Evidence: base.Evidence, Source: base.Source, Issuer: "op" + string(city), IssuerRegion: city,
				IssuedAt: issuedAt, State: states[rng.IntN(len(states))], UpdatedAt: issuedAt}
			if rng.IntN(5) == 0 {
				o.Unit.Dept = "医保局"
			}
			days := 1 + rng.IntN(20)
			s.terms.newTerm(&o, issuedAt, days, s.terms.deadline(issuedAt, days), issuedAt)
			e := Entry{Order: o.ID, At: issuedAt, Actor: o.Issuer, Action: string(ActIssue), To: StateIssued, Days: days, Deadline: o.Deadline}
			if err := st.insertTx(ctx, tx, &o, &e); err != nil {
				bench.err = err
				return
			}
		}
		if err := tx.Commit(); err != nil {
			bench.err = err
			return
		}
		if _, err := acc.DB().ExecContext(ctx, `ANALYZE`); err != nil {
			bench.err = err
			return
		}
		bench.d = d
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.d
}

// peer runs the same selection without the overdue-first order: the
// page in primary-key order, and the same count.
func peer(ctx context.Context, d *desk, f Filter) error {
	where, args, err := f.where(d.Now(), d.acc.Dialect())
	if err != nil {
		return err
	}
	if _, err := d.st.query(ctx, "peer", `SELECT `+orderCols+` FROM dispatch_orders`+where+` ORDER BY id LIMIT ?`, append(slices.Clone(args), DefaultLimit+1)...); err != nil {
		return err
	}
	var n int
	return d.acc.DB().QueryRowContext(ctx, d.acc.Rebind(`SELECT COUNT(*) FROM dispatch_orders`+where), args...).Scan(&n)
}

// BenchmarkList measures Service.List (a page of 50 and the total) at
// 100,000 orders on SQLite, and in the same run its peer: the same
// selection and count in primary-key order instead of overdue first,
// then by deadline. It reports both p99s and their ratio.
func BenchmarkList(b *testing.B) {
	d := benchDesk(b)
	ctx := context.Background()
	county := string(bench.counties[3])
	cases := []struct {
		name string
		p    *access.Principal
		f    Filter
	}{
		{"province", sun, Filter{}},
		{"city", wang, Filter{}},
		{"county", sun, Filter{Region: county}},
		{"overdue", sun, Filter{Overdue: true}},
		{"dept+state", sun, Filter{Dept: "医保局", States: []State{StateSigned, StateReturned}}},
		{"text", sun, Filter{Text: "第 4242 号"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var list, other []time.Duration
			total := 0
			i := 0
			for b.Loop() {
				// Alternate which runs first, so neither always finds the
				// cache warmed by the other.
				for k := range 2 {
					start := time.Now()
					if (i+k)%2 == 0 {
						pg, err := d.List(ctx, c.p, c.f)
						if err != nil {
							b.Fatal(err)
						}
						total = pg.Total
						list = append(list, time.Since(start))
					} else {
						if err := peer(ctx, d, mustScope(b, c.p, c.f)); err != nil {
							b.Fatal(err)
						}
						other = append(other, time.Since(start))
					}
				}
				i++
			}
			lp, op := pct(list, 0.99), pct(other, 0.99)
			b.ReportMetric(float64(total), "matched")
			b.ReportMetric(ms(pct(list, 0.5)), "p50-ms")
			b.ReportMetric(ms(lp), "p99-ms")
			b.ReportMetric(ms(op), "peer-p99-ms")
			b.ReportMetric(float64(lp)/float64(op), "p99/peer")
			b.ReportMetric(0, "ns/op")
		})
	}
	// Paging deep by keyset costs what the first page costs.
	b.Run("page-40", func(b *testing.B) {
		var durs []time.Duration
		for b.Loop() {
			f := Filter{}
			for range 40 {
				start := time.Now()
				pg, err := d.List(ctx, sun, f)
				if err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
				f.After = pg.Next
			}
		}
		b.ReportMetric(ms(pct(durs, 0.99)), "p99-ms")
		b.ReportMetric(0, "ns/op")
	})
}

func mustScope(b *testing.B, p *access.Principal, f Filter) Filter {
	f, err := scoped(p, f)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
