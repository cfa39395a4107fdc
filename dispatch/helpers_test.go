package dispatch

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/region"
)

// cst is the business time zone of the tests (Asia/Shanghai has had no
// DST since 1991; a fixed zone needs no tzdata).
var cst = time.FixedZone("CST", 8*3600)

var testCal = calendar.Default(cst)

// at parses a time in the business zone: "2026-09-29 10:00".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func user(name string, role access.Role, reg string) *access.Principal {
	return &access.Principal{Kind: access.KindUser, Name: name, Role: role, Region: region.Code(reg)}
}

// The cast: the order goes from the city 620800 (平凉市) to its county
// 620802 (崆峒区).
var (
	wang    = user("wang", access.RoleOperator, "620800")    // the issuer
	zhao    = user("zhao", access.RoleOperator, "620800")    // the issuer's colleague
	sun     = user("sun", access.RoleOperator, "620000")     // the province's operator
	padmin  = user("padmin", access.RoleAdmin, "620000")     // the province's administrator
	li      = user("li", access.RoleOperator, "620802")      // the unit's operator
	liadmin = user("liadmin", access.RoleAdmin, "620802")    // the unit's administrator
	chen    = user("chen", access.RoleLeader, "620802")      // the unit's leader
	zhou    = user("zhou", access.RoleOperator, "620802001") // a township of the unit
	qian    = user("qian", access.RoleOperator, "620803")    // another county
	wu      = user("wu", access.RoleOperator, "620100")      // another city
	he      = user("he", access.RoleAnalyst, "620000")       // the province's analyst
	screen  = &access.Principal{Kind: access.KindScreen, Name: "token:t1", Role: access.RoleScreen, Region: "620000"}
)

func ptr[T any](v T) *T { return &v }

// sample is an order to the county from a red indicator.
func sample() NewOrder {
	return NewOrder{
		Unit:   Unit{Region: "620802"},
		Title:  "好差评差评整改率低于目标",
		Reason: "本月差评按期整改率 82%，低于目标 100%，请于期限内整改并反馈。",
		Evidence: Evidence{Indicator: "rectify_on_time", Name: "差评整改率", Value: ptr(0.82), Target: ptr(1.0),
			Numerator: ptr(int64(41)), Denominator: ptr(int64(50)), Period: "month", AsOf: time.Date(2026, 9, 28, 17, 0, 0, 0, cst)},
		Source: Source{Kind: SourceIndicator, Ref: "rectify_on_time"},
		Days:   3,
	}
}

// desk is a service on a store with a fake clock.
type desk struct {
	*Service
	st    *Store
	acc   *access.SQLStore
	clock *clock
}

func newDesk(t *testing.T, acc *access.SQLStore, now time.Time, mod ...func(*Config)) *desk {
	t.Helper()
	st, err := NewStore(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: now}
	cfg := Config{Store: st, Calendar: testCal, Now: c.Now, Logger: quietLog()}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &desk{Service: s, st: st, acc: acc, clock: c}
}

func (d *desk) issue(t *testing.T, p *access.Principal, n NewOrder) Order {
	t.Helper()
	o, err := d.Issue(t.Context(), p, "10.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (d *desk) do(t *testing.T, p *access.Principal, o Order, a Action, comment string, days int) Order {
	t.Helper()
	next, err := d.Apply(t.Context(), p, Request{ID: o.ID, Action: a, Version: o.Version, Comment: comment, Days: days, Addr: "10.0.0.2"})
	if err != nil {
		t.Fatalf("%s %s by %s: %v", a, o.ID, p.Name, err)
	}
	return next
}
