package dispatch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access/accesstest"

	"github.com/yiping-ioc/yiping/access"
)

// TestStoreContract is the one suite both engines pass.
func TestStoreContract(t *testing.T) {
	accesstest.Each(t, func(t *testing.T, open accesstest.Opener) {
		t.Run("lifecycle", func(t *testing.T) { contractLifecycle(t, open(t, "lifecycle")) })
		t.Run("scope", func(t *testing.T) { contractScope(t, open(t, "scope")) })
		t.Run("concurrent verify", func(t *testing.T) { contractConcurrent(t, open(t, "concurrent")) })
		t.Run("list", func(t *testing.T) { contractList(t, open(t, "list")) })
		t.Run("scan", func(t *testing.T) { contractScan(t, open(t, "scan")) })
		t.Run("append-only", func(t *testing.T) { contractAppendOnly(t, open(t, "appendonly")) })
		t.Run("export", func(t *testing.T) { contractExport(t, open(t, "export")) })
		t.Run("two processes", func(t *testing.T) { contractShared(t, open(t, "shared"), open(t, "shared")) })
	})
}

// contractLifecycle walks one order through every state and the return
// path, with an extension approved and one refused, and reads back the
// order, its history and the audit log.
func contractLifecycle(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	o := d.issue(t, wang, sample())
	if !validID(o.ID) || !strings.HasPrefix(o.ID, "DB20260929-") || o.State != StateIssued || o.Version != 1 {
		t.Fatalf("issued %+v", o)
	}
	// 3 working days across National Day: 09-30, 10-08, 10-09.
	if want := at(t, "2026-10-10 00:00"); !o.Deadline.Equal(want) || !o.RemindAt.Equal(at(t, "2026-10-09 09:00")) {
		t.Fatalf("deadline %s remind %s, want %s", o.Deadline.In(cst), o.RemindAt.In(cst), want)
	}
	got, err := d.Get(ctx, chen, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Evidence.Value == nil || *got.Evidence.Value != 0.82 || *got.Evidence.Denominator != 50 ||
		!got.Evidence.AsOf.Equal(sample().Evidence.AsOf) || got.Title != o.Title || got.IssuerRegion != "620800" {
		t.Fatalf("read back %+v", got)
	}

	d.clock.Set(at(t, "2026-09-30 09:30"))
	o = d.do(t, li, o, ActSign, "", 0)
	d.clock.Set(at(t, "2026-10-08 10:00"))
	o = d.do(t, li, o, ActExtend, "需要调取三个乡镇的台账", 2)
	if o.Extension == nil || o.Extension.Days != 2 {
		t.Fatalf("extension %+v", o.Extension)
	}
	d.clock.Set(at(t, "2026-10-08 11:00"))
	o = d.do(t, zhao, o, ActApprove, "同意", 0)
	// Two working days after Friday 10-09: Saturday 10-10 (make-up) and Monday 10-12.
	if want := at(t, "2026-10-13 00:00"); !o.Deadline.Equal(want) || o.Days != 5 || o.Extension != nil {
		t.Fatalf("after approval: deadline %s days %d ext %+v", o.Deadline.In(cst), o.Days, o.Extension)
	}
	d.clock.Set(at(t, "2026-10-12 16:00"))
	o = d.do(t, li, o, ActReply, "已完成整改，整改率提升至 100%。", 0)
	if o.Late || o.RepliedBy != "li" {
		t.Fatalf("reply %+v", o)
	}
	d.clock.Set(at(t, "2026-10-13 09:00"))
	o = d.do(t, wang, o, ActReturn, "缺少整改台账", 2)
	if want := at(t, "2026-10-16 00:00"); o.State != StateReturned || !o.Deadline.Equal(want) || o.Returns != 1 {
		t.Fatalf("returned %+v, want deadline %s", o, want)
	}
	o = d.do(t, liadmin, o, ActSign, "收到", 0)
	o = d.do(t, li, o, ActExtend, "再延一天", 1)
	o = d.do(t, sun, o, ActRefuse, "时限内完成", 0)
	d.clock.Set(at(t, "2026-10-16 08:00"))
	o = d.do(t, li, o, ActReply, "已补充台账", 0)
	if !o.Late {
		t.Fatal("a reply after the deadline is late")
	}
	d.clock.Set(at(t, "2026-10-16 10:00"))
	o = d.do(t, wang, o, ActVerify, "核验通过", 0)
	if o.State != StateVerified || o.ClosedBy != "wang" || o.Version != 11 {
		t.Fatalf("verified %+v", o)
	}
	if again, err := d.Get(ctx, wang, o.ID); err != nil || !sameOrder(again, o) {
		t.Fatalf("stored %+v, returned %+v (%v)", again, o, err)
	}
	hist, err := d.History(ctx, chen, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"issue wang →issued", "sign li issued→signed", "extend li signed→signed", "approve zhao signed→signed",
		"reply li signed→replied", "return wang replied→returned", "sign liadmin returned→signed", "extend li signed→signed",
		"refuse sun signed→signed", "reply li signed→replied", "verify wang replied→verified"}
	var gotH []string
	for i, e := range hist {
		gotH = append(gotH, fmt.Sprintf("%s %s %s→%s", e.Action, e.Actor, e.From, e.To))
		if i > 0 && (e.Seq <= hist[i-1].Seq || e.At.Before(hist[i-1].At)) {
			t.Errorf("entry %d out of order", i)
		}
		if e.Addr == "" || e.Order != o.ID {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if !slices.Equal(gotH, want) {
		t.Fatalf("history\n%s\nwant\n%s", strings.Join(gotH, "\n"), strings.Join(want, "\n"))
	}
	if e := hist[5]; e.Comment != "缺少整改台账" || e.Days != 2 || !e.Deadline.Equal(at(t, "2026-10-16 00:00")) || e.Addr != "10.0.0.2" {
		t.Errorf("return entry %+v", e)
	}
	if e := hist[0]; e.Addr != "10.0.0.1" || e.Days != 3 || !e.At.Equal(at(t, "2026-09-29 10:00")) {
		t.Errorf("issue entry %+v", e)
	}
	audit, err := acc.Audit(ctx, access.AuditFilter{Target: "order:" + o.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != len(want) {
		t.Fatalf("%d audit entries, want %d: %+v", len(audit), len(want), audit)
	}
	slices.Reverse(audit) // newest first
	for i, a := range audit {
		if a.Action != "dispatch_"+hist[i].Action || a.Actor != hist[i].Actor || a.Addr != hist[i].Addr || !a.At.Equal(hist[i].At) {
			t.Errorf("audit %d: %+v, history %+v", i, a, hist[i])
		}
	}
	if !strings.Contains(audit[5].Detail, "replied→returned") || !strings.Contains(audit[5].Detail, "缺少整改台账") {
		t.Errorf("return audit detail %q", audit[5].Detail)
	}
}

// sameOrder compares orders field by field, times by instant.
func sameOrder(a, b Order) bool {
	x, _ := json.Marshal(norm(a))
	y, _ := json.Marshal(norm(b))
	return string(x) == string(y)
}

func norm(o Order) Order {
	u := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	for _, t := range []*time.Time{&o.IssuedAt, &o.TermStart, &o.Deadline, &o.RemindAt, &o.SignedAt, &o.RepliedAt, &o.ClosedAt, &o.UpdatedAt, &o.Evidence.AsOf} {
		u(t)
	}
	if o.Extension != nil {
		x := *o.Extension
		u(&x.At)
		o.Extension = &x
	}
	return o
}

func contractScope(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	o := d.issue(t, wang, sample())
	// Outside the scope: not found, for reading and for acting.
	for _, p := range []*access.Principal{qian, wu, zhou} {
		if _, err := d.Get(ctx, p, o.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get by %s: %v, want ErrNotFound", p.Name, err)
		}
		if _, err := d.Apply(ctx, p, Request{ID: o.ID, Action: ActSign}); !errors.Is(err, ErrNotFound) {
			t.Errorf("sign by %s: %v, want ErrNotFound", p.Name, err)
		}
		if _, err := d.History(ctx, p, o.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("History by %s: %v, want ErrNotFound", p.Name, err)
		}
	}
	// In the scope, not theirs to act: forbidden; readers read.
	for _, p := range []*access.Principal{chen, he, screen, sun} {
		if _, err := d.Apply(ctx, p, Request{ID: o.ID, Action: ActSign}); !errors.Is(err, ErrForbidden) {
			t.Errorf("sign by %s: %v, want ErrForbidden", p.Name, err)
		}
		if _, err := d.Get(ctx, p, o.ID); err != nil {
			t.Errorf("Get by %s: %v", p.Name, err)
		}
	}
	if _, err := d.Apply(ctx, li, Request{ID: o.ID, Action: ActVerify}); !errors.Is(err, ErrForbidden) {
		t.Errorf("verify by the unit: %v", err)
	}
	// The state is named.
	_, err := d.Apply(ctx, wang, Request{ID: o.ID, Action: ActVerify})
	var se *StateError
	if !errors.As(err, &se) || se.State != StateIssued || !strings.Contains(err.Error(), "it is issued") {
		t.Errorf("verify an issued order: %v", err)
	}
	// Ids that cannot be, and stale versions.
	for _, id := range []string{"", "x' OR 1=1 --", "db20260929-aaaaaa", strings.Repeat("A", 41), "DB20260929-ZZZZZZ"} {
		if _, err := d.Get(ctx, wang, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
	if _, err := d.Apply(ctx, li, Request{ID: o.ID, Action: ActSign, Version: 7}); !errors.Is(err, ErrConflict) {
		t.Errorf("stale version: %v", err)
	}
	// Issuing.
	for _, c := range []struct {
		p    *access.Principal
		unit Unit
		err  error
	}{
		{li, Unit{Region: "620800"}, ErrForbidden},           // above the scope
		{chen, Unit{Region: "620802001"}, ErrForbidden},      // a leader
		{he, Unit{Region: "620802"}, ErrForbidden},           // an analyst
		{screen, Unit{Region: "620802"}, ErrForbidden},       // a screen
		{nil, Unit{Region: "620802"}, ErrForbidden},          // nobody
		{wang, Unit{Region: "620100"}, ErrForbidden},         // another city
		{wang, Unit{Region: "620800"}, ErrInvalid},           // own region, no department
		{wang, Unit{Region: "620800", Dept: "市政务服务中心"}, nil}, // own region, a department
		{li, Unit{Region: "620802001"}, nil},                 // a county to its township
		{padmin, Unit{Region: "620802", Dept: "区数据局"}, nil},  // an administrator
		{wang, Unit{Region: "6208020010"}, ErrInvalid},       // not a code
	} {
		n := sample()
		n.Unit = c.unit
		_, err := d.Issue(ctx, c.p, "", n)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("issue to %v by %v: %v, want %v", c.unit, c.p, err, c.err)
		}
	}
	// Lists: scoped, and a region outside is forbidden.
	for _, c := range []struct {
		p      *access.Principal
		region string
		n      int
		err    error
	}{
		{wang, "", 4, nil}, {sun, "", 4, nil}, {li, "", 3, nil}, {zhou, "", 1, nil}, {qian, "", 0, nil},
		{li, "620800", 0, ErrForbidden}, {wang, "620802", 3, nil}, {screen, "620802001", 1, nil},
		{wang, "6208", 0, ErrInvalid},
	} {
		pg, err := d.List(ctx, c.p, Filter{Region: c.region})
		if c.err != nil && !errors.Is(err, c.err) || c.err == nil && (err != nil || len(pg.Orders) != c.n || pg.Total != c.n) {
			t.Errorf("list by %s of %q: %d/%d %v, want %d %v", c.p.Name, c.region, len(pg.Orders), pg.Total, err, c.n, c.err)
		}
	}
}

// contractConcurrent: two operators verify the same order at once; one
// wins, the other is told it changed. Many rounds, to let the race
// happen both ways.
func contractConcurrent(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	for round := range 10 {
		o := d.issue(t, wang, sample())
		o = d.do(t, li, o, ActSign, "", 0)
		o = d.do(t, li, o, ActReply, "已整改", 0)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, p := range []*access.Principal{wang, zhao} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				version := o.Version
				if round%2 == 1 {
					version = 0 // decided on a fresh read: the store still refuses the second
				}
				_, errs[i] = d.Apply(ctx, p, Request{ID: o.ID, Action: ActVerify, Version: version})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrConflict), round%2 == 1 && errors.Is(err, ErrState):
			default:
				t.Errorf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d verified, want 1: %v", round, ok, errs)
		}
		h, err := d.History(ctx, wang, o.ID)
		if err != nil || len(h) != 4 || h[3].Action != "verify" {
			t.Fatalf("round %d: history %+v %v", round, h, err)
		}
	}
}

// TestStaleUpdate: the store itself refuses a change decided on an old
// version, whatever the service checked before.
func TestStaleUpdate(t *testing.T) {
	d := newDesk(t, accesstest.SQLite(t)(t, "stale"), at(t, "2026-09-29 10:00"))
	o := d.issue(t, wang, sample())
	next, e, err := d.terms.step(o, li, Request{ID: o.ID, Action: ActSign}, d.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.st.update(t.Context(), o.Version, &next, &e); err != nil {
		t.Fatal(err)
	}
	if err := d.st.update(t.Context(), o.Version, &next, &e); !errors.Is(err, ErrConflict) {
		t.Fatalf("second update from version %d: %v", o.Version, err)
	}
	if h, _ := d.st.History(t.Context(), o.ID); len(h) != 2 {
		t.Fatalf("the refused update wrote history: %+v", h)
	}
}

func contractList(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-06-01 09:00"))
	type spec struct {
		when  string
		unit  Unit
		days  int
		title string
		by    *access.Principal
		steps []Action
	}
	specs := []spec{
		{"2026-06-01 09:00", Unit{Region: "620802"}, 5, "a 整改 overdue early", wang, nil},                            // deadline 06-09
		{"2026-06-02 09:00", Unit{Region: "620802", Dept: "区医保局"}, 2, "b overdue, signed", wang, []Action{ActSign}}, // 06-05
		{"2026-06-03 09:00", Unit{Region: "620803"}, 10, "c open", wang, nil},                                       // 06-18
		{"2026-06-03 10:00", Unit{Region: "620802001"}, 1, "d township replied", li, []Action{ActSign, ActReply}},
		{"2026-06-04 09:00", Unit{Region: "620802"}, 1, "e verified", wang, []Action{ActSign, ActReply, ActVerify}},
		{"2026-06-04 10:00", Unit{Region: "620100"}, 20, "f other city open 100%_x", sun, []Action{ActExtend}},
		{"2026-06-05 09:00", Unit{Region: "620802"}, 30, "g open long", zhao, nil},
	}
	ids := map[string]string{}
	for _, s := range specs {
		d.clock.Set(at(t, s.when))
		n := sample()
		n.Unit, n.Days, n.Title = s.unit, s.days, s.title
		o := d.issue(t, s.by, n)
		ids[s.title[:1]] = o.ID
		for _, a := range s.steps {
			var p *access.Principal
			switch {
			case a.side() == issuerSide:
				p = s.by
			case s.unit.Region == "620802":
				p = li
			case s.unit.Region == "620802001":
				p = zhou
			case s.unit.Region == "620100":
				p = wu
			}
			comment, days := "ok", 0
			if a == ActExtend {
				days = 3
			}
			o = d.do(t, p, o, a, comment, days)
		}
	}
	d.clock.Set(at(t, "2026-06-10 12:00"))
	names := func(pg Page) string {
		var s []string
		for _, o := range pg.Orders {
			s = append(s, o.Title[:1])
		}
		return strings.Join(s, "")
	}
	cases := []struct {
		name string
		p    *access.Principal
		f    Filter
		want string
	}{
		{"all, overdue first then by deadline", sun, Filter{}, "bacfgde"},
		{"a city", wang, Filter{}, "bacgde"},
		{"a county", wang, Filter{Region: "620802"}, "bagde"},
		{"a township", wang, Filter{Region: "620802001"}, "d"},
		{"overdue only", sun, Filter{Overdue: true}, "ba"},
		{"states", sun, Filter{States: []State{StateReplied, StateVerified}}, "de"},
		{"department", sun, Filter{Dept: "区医保局"}, "b"},
		{"issuer", sun, Filter{Issuer: "zhao"}, "g"},
		{"extension pending", sun, Filter{Extension: true}, "f"},
		{"text", sun, Filter{Text: "整改"}, "bacfgde"}, // every reason says 整改
		{"text in title, ASCII case", sun, Filter{Text: "OVERDUE"}, "ba"},
		{"text with LIKE characters", sun, Filter{Text: "100%_"}, "f"},
		{"text is an id", sun, Filter{Text: ids["c"]}, "c"},
		{"issued range", sun, Filter{Since: at(t, "2026-06-03 09:00"), Until: at(t, "2026-06-04 09:00")}, "cd"},
	}
	for _, c := range cases {
		pg, err := d.List(ctx, c.p, c.f)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := names(pg); got != c.want || pg.Total != len(c.want) || pg.Next != "" {
			t.Errorf("%s: %s (total %d, next %q), want %s", c.name, got, pg.Total, pg.Next, c.want)
		}
	}
	// Keyset pages of 2 give the same order, each with the total.
	var got string
	f := Filter{Limit: 2}
	for pages := 0; ; pages++ {
		pg, err := d.List(ctx, sun, f)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Total != 7 || len(pg.Orders) > 2 {
			t.Fatalf("page %d: %d orders, total %d", pages, len(pg.Orders), pg.Total)
		}
		got += names(pg)
		if pg.Next == "" {
			break
		}
		f.After = pg.Next
	}
	if got != "bacfgde" {
		t.Fatalf("paged %s", got)
	}
	for _, bad := range []string{"x", "3.abc.DB1", "0.zz.", "0.1.a b", "00.1.DB1"} {
		if _, err := d.List(ctx, sun, Filter{After: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("After %q: %v", bad, err)
		}
	}
	if _, err := d.List(ctx, sun, Filter{States: []State{"open"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown state: %v", err)
	}
}

// notifier records notices; fail refuses those of an order.
type notifier struct {
	mu   sync.Mutex
	got  []string
	fail string
}

func (n *notifier) Notify(_ context.Context, x Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if x.Order.ID == n.fail {
		return errors.New("webhook down")
	}
	n.got = append(n.got, x.Kind+" "+x.Order.Title)
	return nil
}

func (n *notifier) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.got
	n.got = nil
	return g
}

// contractScan moves a fake clock through two orders' terms.
func contractScan(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	a := sample()
	a.Title = "A"
	oa := d.issue(t, wang, a) // deadline 10-10 00:00, reminder 10-09 09:00
	b := sample()
	b.Title, b.Days = "B", 1
	ob := d.issue(t, wang, b) // deadline 10-01 00:00, reminder 09-30 09:00
	n := &notifier{}
	scan := func(when string, want ...string) {
		t.Helper()
		d.clock.Set(at(t, when))
		if _, err := d.Scan(ctx, n); err != nil {
			t.Fatalf("scan at %s: %v", when, err)
		}
		if got := n.take(); !slices.Equal(got, want) {
			t.Fatalf("scan at %s: %q, want %q", when, got, want)
		}
	}
	scan("2026-09-30 08:59")
	scan("2026-09-30 09:00", "remind B")
	scan("2026-09-30 12:00")
	scan("2026-10-01 00:00", "overdue B")
	scan("2026-10-03 00:00")
	// A failing notifier leaves the notice due.
	n.fail = oa.ID
	d.clock.Set(at(t, "2026-10-09 09:30"))
	if sent, err := d.Scan(ctx, n); sent != 0 || err == nil || !strings.Contains(err.Error(), "webhook down") {
		t.Fatalf("failing notify: %d, %v", sent, err)
	}
	n.fail = ""
	scan("2026-10-09 09:31", "remind A")
	// B gets 2 more days: a new term, with its own notices. Extended from
	// 10-01 by 2 working days: 10-08, 10-09 → 10-10 00:00; the reminder
	// (10-09 09:00) is already past when approved on 10-09 10:00.
	ob = d.do(t, li, ob, ActExtend, "延期", 2)
	d.clock.Set(at(t, "2026-10-09 10:00"))
	ob = d.do(t, wang, ob, ActApprove, "", 0)
	if !ob.Deadline.Equal(at(t, "2026-10-10 00:00")) || !ob.RemindAt.IsZero() || ob.OverdueNoted || ob.Reminded {
		t.Fatalf("after approval %+v", ob)
	}
	scan("2026-10-09 12:00")
	// Both run out at midnight; A is answered just before.
	d.clock.Set(at(t, "2026-10-09 23:00"))
	oa = d.do(t, li, oa, ActSign, "", 0)
	oa = d.do(t, li, oa, ActReply, "done", 0)
	scan("2026-10-10 00:00", "overdue B")
	scan("2026-10-11 00:00")
	// Returned, A has a new term and new notices.
	d.clock.Set(at(t, "2026-10-12 10:00"))
	oa = d.do(t, wang, oa, ActReturn, "不合格", 1) // deadline 10-14 00:00, reminder 10-13 09:00
	scan("2026-10-13 09:00", "remind A")
	scan("2026-10-14 00:00", "overdue A")
	// Marking is once: a second scanner marking the same notice finds it done.
	ns, err := d.Due(ctx)
	if err != nil || len(ns) != 0 {
		t.Fatalf("due after all %+v %v", ns, err)
	}
	if ok, err := d.MarkSent(ctx, Notice{Kind: EventOverdue, Order: oa, At: d.Now()}); ok || err != nil {
		t.Fatalf("marked twice: %v %v", ok, err)
	}
	h, err := d.History(ctx, wang, ob.ID)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range h {
		acts = append(acts, e.Actor+":"+e.Action)
	}
	want := []string{"wang:issue", "system:remind", "system:overdue", "li:extend", "wang:approve", "system:overdue"}
	if !slices.Equal(acts, want) {
		t.Fatalf("history of B %v, want %v", acts, want)
	}
}

func contractAppendOnly(t *testing.T, acc *access.SQLStore) {
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	d.issue(t, wang, sample())
	for _, q := range []string{`UPDATE dispatch_history SET actor = 'x'`, `DELETE FROM dispatch_history`} {
		if _, err := acc.DB().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
	// Migrating again (the next start) changes nothing.
	if _, err := NewStore(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
}

func contractExport(t *testing.T, acc *access.SQLStore) {
	ctx := t.Context()
	d := newDesk(t, acc, at(t, "2026-09-29 10:00"))
	n := sample()
	n.Title = "=HYPERLINK(\"http://evil\",\"点我\")"
	n.Reason = "+1 整改"
	o := d.issue(t, wang, n)
	o = d.do(t, li, o, ActSign, "", 0)
	d.do(t, li, o, ActReply, "-完成 @all", 0)
	m := sample()
	m.Unit = Unit{Region: "620803"}
	d.issue(t, wang, m)
	var b strings.Builder
	cnt, err := d.Export(ctx, li, Filter{}, &b)
	if err != nil || cnt != 1 {
		t.Fatalf("export %d, %v", cnt, err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeff编号,状态,") || !strings.Contains(out, "\r\n") {
		t.Fatalf("export head %q", out[:min(len(out), 60)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 || len(rows[1]) != len(exportHeader) {
		t.Fatalf("rows %v, %v", rows, err)
	}
	row := map[string]string{}
	for i, h := range exportHeader {
		row[h] = rows[1][i]
	}
	for h, want := range map[string]string{
		"编号": o.ID, "状态": "已反馈", "时限": "待核验", "责任单位代码": "620802", "责任单位": "崆峒区",
		"标题": "'" + n.Title, "督办事由": "'+1 整改", "反馈内容": "'-完成 @all", "指标值": "0.82", "目标值": "1",
		"分子": "41", "分母": "50", "截止时间": "2026-10-10 00:00", "下发时间": "2026-09-29 10:00", "逾期反馈": "否",
	} {
		if row[h] != want {
			t.Errorf("%s = %q, want %q", h, row[h], want)
		}
	}
	if _, err := d.Export(ctx, li, Filter{Region: "620000"}, &b); !errors.Is(err, ErrForbidden) {
		t.Errorf("export outside the scope: %v", err)
	}
	b.Reset()
	if cnt, err := d.Export(ctx, sun, Filter{}, &b); err != nil || cnt != 2 {
		t.Errorf("province export %d %v", cnt, err)
	}
}

// contractShared: two processes on one database; an order one issues,
// the other's desk acts on, and a stale copy is refused.
func contractShared(t *testing.T, a, b *access.SQLStore) {
	ctx := t.Context()
	d1 := newDesk(t, a, at(t, "2026-09-29 10:00"))
	d2 := newDesk(t, b, at(t, "2026-09-29 11:00"))
	o := d1.issue(t, wang, sample())
	signed := d2.do(t, li, o, ActSign, "", 0)
	if _, err := d1.Apply(ctx, wang, Request{ID: o.ID, Action: ActWithdraw, Version: o.Version, Comment: "误发"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale withdraw: %v", err)
	}
	w := d1.do(t, wang, signed, ActWithdraw, "误发", 0)
	if got, err := d2.Get(ctx, sun, o.ID); err != nil || got.State != StateWithdrawn || got.Version != w.Version {
		t.Fatalf("seen by the other: %+v %v", got, err)
	}
}
