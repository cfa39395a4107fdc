package dispatch

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

var testTerms = terms{cal: testCal, remindDays: 1, remindClock: 9 * time.Hour}

// issued makes the order wang issues at when, as Service.Issue would.
func issued(t *testing.T, n NewOrder, by *access.Principal, when time.Time) Order {
	t.Helper()
	n, err := n.Validate()
	if err != nil {
		t.Fatal(err)
	}
	o := Order{ID: "DB20260929-TEST01", Version: 1, Unit: n.Unit, Title: n.Title, Reason: n.Reason, Evidence: n.Evidence,
		Source: n.Source, Issuer: by.Name, IssuerRegion: by.Region, IssuedAt: when, State: StateIssued, UpdatedAt: when}
	testTerms.newTerm(&o, when, n.Days, testTerms.deadline(when, n.Days), when)
	return o
}

// inState returns o as if it had come to st, with an extension pending or
// not.
func inState(o Order, st State, ext bool) Order {
	o.State = st
	o.Extension = nil
	if ext {
		o.Extension = &Extension{Days: 2, Reason: "材料待补", By: "li", At: o.IssuedAt}
	}
	return o
}

// request is a well-formed request for a.
func request(o Order, a Action) Request {
	r := Request{ID: o.ID, Action: a, Version: o.Version, Comment: "意见", Addr: "10.0.0.9"}
	switch a {
	case ActReturn, ActExtend:
		r.Days = 2
	}
	return r
}

type stateKey struct {
	st  State
	ext bool
	a   Action
}

// transitions is every allowed step: (state, extension pending, action) →
// the state after. Everything else is ErrState.
var transitions = map[stateKey]State{
	{StateIssued, false, ActSign}:       StateSigned,
	{StateIssued, true, ActSign}:        StateSigned,
	{StateReturned, false, ActSign}:     StateSigned,
	{StateReturned, true, ActSign}:      StateSigned,
	{StateSigned, false, ActReply}:      StateReplied,
	{StateSigned, true, ActReply}:       StateReplied,
	{StateIssued, false, ActExtend}:     StateIssued,
	{StateSigned, false, ActExtend}:     StateSigned,
	{StateReturned, false, ActExtend}:   StateReturned,
	{StateIssued, true, ActApprove}:     StateIssued,
	{StateSigned, true, ActApprove}:     StateSigned,
	{StateReturned, true, ActApprove}:   StateReturned,
	{StateIssued, true, ActRefuse}:      StateIssued,
	{StateSigned, true, ActRefuse}:      StateSigned,
	{StateReturned, true, ActRefuse}:    StateReturned,
	{StateReplied, false, ActVerify}:    StateVerified,
	{StateReplied, false, ActReturn}:    StateReturned,
	{StateIssued, false, ActWithdraw}:   StateWithdrawn,
	{StateIssued, true, ActWithdraw}:    StateWithdrawn,
	{StateSigned, false, ActWithdraw}:   StateWithdrawn,
	{StateSigned, true, ActWithdraw}:    StateWithdrawn,
	{StateReturned, false, ActWithdraw}: StateWithdrawn,
	{StateReturned, true, ActWithdraw}:  StateWithdrawn,
	{StateReplied, false, ActWithdraw}:  StateWithdrawn,
}

// TestStateMachine tries every action in every state, with and without a
// pending extension, by someone the action is permitted to.
func TestStateMachine(t *testing.T) {
	base := issued(t, sample(), wang, at(t, "2026-09-29 10:00"))
	now := at(t, "2026-09-30 11:00")
	n := 0
	for _, st := range States() {
		for _, ext := range []bool{false, true} {
			if ext && !st.AwaitsUnit() {
				continue // only a unit that owes the next step asks for time
			}
			for _, a := range Actions() {
				name := fmt.Sprintf("%s/ext=%v/%s", st, ext, a)
				o := inState(base, st, ext)
				who := wang
				if a.side() == unitSide {
					who = li
				}
				next, e, err := testTerms.step(o, who, request(o, a), now)
				want, ok := transitions[stateKey{st, ext, a}]
				if !ok {
					var se *StateError
					if !errors.Is(err, ErrState) || !errors.As(err, &se) || se.State != st || !strings.Contains(err.Error(), string(st)) {
						t.Errorf("%s: err %v, want a StateError naming %s", name, err, st)
					}
					if next.Version != o.Version || next.State != o.State {
						t.Errorf("%s: refused step changed the order: %+v", name, next)
					}
					continue
				}
				n++
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if next.State != want || next.Version != o.Version+1 || !next.UpdatedAt.Equal(now) {
					t.Errorf("%s: state %s version %d updated %s, want %s %d %s", name, next.State, next.Version, next.UpdatedAt, want, o.Version+1, now)
				}
				if e.Action != string(a) || e.From != st || e.To != want || e.Actor != who.Name || e.Addr != "10.0.0.9" ||
					e.Comment != "意见" || !e.At.Equal(now) || e.Order != o.ID {
					t.Errorf("%s: entry %+v", name, e)
				}
				// What each action leaves behind.
				switch a {
				case ActExtend:
					if next.Extension == nil || next.Extension.Days != 2 || next.Extension.By != "li" || next.Deadline != o.Deadline {
						t.Errorf("%s: extension %+v deadline %s", name, next.Extension, next.Deadline)
					}
				case ActApprove:
					if next.Extension != nil || next.Extensions != 1 || !next.Deadline.After(o.Deadline) || next.Days != o.Days+2 {
						t.Errorf("%s: after approval %+v", name, next)
					}
				case ActRefuse, ActReply, ActWithdraw:
					if next.Extension != nil || !next.Deadline.Equal(o.Deadline) {
						t.Errorf("%s: extension %+v deadline %s", name, next.Extension, next.Deadline)
					}
				case ActReturn:
					if next.Returns != 1 || !next.TermStart.Equal(now) || next.Days != 2 || !next.SignedAt.IsZero() {
						t.Errorf("%s: after return %+v", name, next)
					}
				case ActSign:
					if next.SignedBy != "li" || !next.SignedAt.Equal(now) {
						t.Errorf("%s: signature %q %s", name, next.SignedBy, next.SignedAt)
					}
				case ActVerify:
					if next.ClosedBy != "wang" || !next.ClosedAt.Equal(now) {
						t.Errorf("%s: closed %q %s", name, next.ClosedBy, next.ClosedAt)
					}
				}
				if ext && a != ActExtend && a != ActSign && next.Extension != nil {
					t.Errorf("%s: extension still pending", name)
				}
			}
		}
	}
	if n != len(transitions) {
		t.Errorf("took %d allowed steps, the table has %d", n, len(transitions))
	}
}

// TestPermitted tries every action by every member of the cast.
func TestPermitted(t *testing.T) {
	issuerOK := map[string]bool{"wang": true, "zhao": true, "sun": true, "padmin": true}
	unitOK := map[string]bool{"li": true, "liadmin": true}
	base := issued(t, sample(), wang, at(t, "2026-09-29 10:00"))
	now := at(t, "2026-09-30 11:00")
	// A state each action is allowed in.
	stateFor := map[Action]stateKey{
		ActSign: {StateIssued, false, ""}, ActReply: {StateSigned, false, ""}, ActExtend: {StateSigned, false, ""},
		ActApprove: {StateSigned, true, ""}, ActRefuse: {StateSigned, true, ""}, ActVerify: {StateReplied, false, ""},
		ActReturn: {StateReplied, false, ""}, ActWithdraw: {StateIssued, false, ""},
	}
	cast := []*access.Principal{wang, zhao, sun, padmin, li, liadmin, chen, zhou, qian, wu, he, screen, nil}
	for _, p := range cast {
		for _, a := range Actions() {
			k := stateFor[a]
			o := inState(base, k.st, k.ext)
			name := "nil"
			if p != nil {
				name = p.Name
			}
			_, _, err := testTerms.step(o, p, request(o, a), now)
			want := a.side() == issuerSide && issuerOK[name] || a.side() == unitSide && unitOK[name]
			switch {
			case want && err != nil:
				t.Errorf("%s by %s: %v, want allowed", a, name, err)
			case !want && !errors.Is(err, ErrForbidden):
				t.Errorf("%s by %s: %v, want ErrForbidden", a, name, err)
			}
		}
	}
	// Reading: whoever's scope covers the unit, screens too.
	for _, p := range cast {
		want := p != nil && p != qian && p != wu && p != zhou
		if got := CanRead(p, &base); got != want {
			t.Errorf("CanRead(%v) = %v, want %v", p, got, want)
		}
	}
}

// TestPermittedDept: a city center supervising a city department. The
// city's other operators answer for the department; the issuer does not,
// and they do not verify it.
func TestPermittedDept(t *testing.T) {
	n := sample()
	n.Unit = Unit{Region: "620800", Dept: "市市场监管局"}
	o := issued(t, n, wang, at(t, "2026-09-29 10:00"))
	cases := []struct {
		p    *access.Principal
		a    Action
		want bool
	}{
		{zhao, ActSign, true}, {wang, ActSign, false}, {sun, ActSign, false}, {li, ActSign, false},
		{wang, ActVerify, true}, {zhao, ActVerify, false}, {sun, ActVerify, true}, {li, ActVerify, false},
		{wang, ActWithdraw, true}, {zhao, ActWithdraw, false},
	}
	for _, c := range cases {
		err := Permitted(c.p, &o, c.a)
		if (err == nil) != c.want {
			t.Errorf("%s by %s: %v, want allowed=%v", c.a, c.p.Name, err, c.want)
		}
	}
}

func TestRequestCheck(t *testing.T) {
	base := issued(t, sample(), wang, at(t, "2026-09-29 10:00"))
	now := at(t, "2026-09-30 11:00")
	cases := []struct {
		name  string
		o     Order
		p     *access.Principal
		r     Request
		field string
	}{
		{"reply needs text", inState(base, StateSigned, false), li, Request{Action: ActReply}, "comment"},
		{"reply of spaces", inState(base, StateSigned, false), li, Request{Action: ActReply, Comment: "  \n "}, "comment"},
		{"return needs a reason", inState(base, StateReplied, false), wang, Request{Action: ActReturn, Days: 2}, "comment"},
		{"return needs days", inState(base, StateReplied, false), wang, Request{Action: ActReturn, Comment: "x"}, "days"},
		{"return of too many days", inState(base, StateReplied, false), wang, Request{Action: ActReturn, Comment: "x", Days: MaxDays + 1}, "days"},
		{"extend needs days", inState(base, StateSigned, false), li, Request{Action: ActExtend, Comment: "x"}, "days"},
		{"approve of negative days", inState(base, StateSigned, true), wang, Request{Action: ActApprove, Days: -1}, "days"},
		{"sign takes no days", base, li, Request{Action: ActSign, Days: 3}, "days"},
		{"refuse needs a reason", inState(base, StateSigned, true), wang, Request{Action: ActRefuse}, "comment"},
		{"withdraw needs a reason", base, wang, Request{Action: ActWithdraw}, "comment"},
		{"unknown action", base, wang, Request{Action: "close"}, "action"},
		{"issue is not applied", base, wang, Request{Action: ActIssue}, "action"},
		{"control character", inState(base, StateSigned, false), li, Request{Action: ActReply, Comment: "ok\x1b[31m"}, "comment"},
		{"invalid UTF-8", inState(base, StateSigned, false), li, Request{Action: ActReply, Comment: "ok\xff"}, "comment"},
		{"too long", inState(base, StateSigned, false), li, Request{Action: ActReply, Comment: strings.Repeat("长", 2000)}, "comment"},
	}
	for _, c := range cases {
		c.r.ID = c.o.ID
		_, _, err := testTerms.step(c.o, c.p, c.r, now)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want a ValidationError of %s", c.name, err, c.field)
		}
	}
	// Approve with 0 grants what was asked.
	o := inState(base, StateSigned, true)
	next, e, err := testTerms.step(o, wang, Request{ID: o.ID, Action: ActApprove}, now)
	if err != nil || next.Days != o.Days+2 || e.Days != 2 {
		t.Fatalf("approve as asked: %+v %+v %v", next, e, err)
	}
	// And a different number when given.
	next, _, err = testTerms.step(o, wang, Request{ID: o.ID, Action: ActApprove, Days: 1}, now)
	if err != nil || next.Days != o.Days+1 {
		t.Fatalf("approve 1 of 2: %+v %v", next, err)
	}
}

// TestDeadlineAcrossNationalDay: an order issued on Tuesday 2026-09-29
// with 3 working days: 09-30 is day 1, the holiday 10-01..10-07 counts
// nothing, Thursday 10-08 is day 2, Friday 10-09 day 3; the deadline is
// the start of Saturday 10-10 (a make-up workday, but after the term).
func TestDeadlineAcrossNationalDay(t *testing.T) {
	start := at(t, "2026-09-29 10:00")
	cases := []struct {
		days       int
		remindDays int
		deadline   string
		remind     string // "" none
	}{
		{0, 1, "2026-09-30 00:00", ""},                 // 即办: the reminder would precede the issue
		{1, 1, "2026-10-01 00:00", "2026-09-30 09:00"}, // day 1 is 09-30
		{2, 1, "2026-10-09 00:00", "2026-10-08 09:00"}, // the holiday skipped
		{3, 1, "2026-10-10 00:00", "2026-10-09 09:00"}, // the example above
		{3, 2, "2026-10-10 00:00", "2026-10-08 09:00"}, // two working days before
		{3, 3, "2026-10-10 00:00", "2026-09-30 09:00"}, // back across the holiday
		{3, 4, "2026-10-10 00:00", ""},                 // before the issue: none
		{4, 1, "2026-10-11 00:00", "2026-10-10 09:00"}, // the make-up Saturday is a working day
		{5, 2, "2026-10-13 00:00", "2026-10-10 09:00"}, // Sunday 10-11 is not
		{3, 0, "2026-10-10 00:00", ""},                 // reminders off
	}
	for _, c := range cases {
		tm := terms{cal: testCal, remindDays: c.remindDays, remindClock: 9 * time.Hour}
		n := sample()
		n.Days = c.days
		var o Order
		tm.newTerm(&o, start, c.days, tm.deadline(start, c.days), start)
		if want := at(t, c.deadline); !o.Deadline.Equal(want) {
			t.Errorf("days %d: deadline %s, want %s", c.days, o.Deadline.In(cst), want)
		}
		want := time.Time{}
		if c.remind != "" {
			want = at(t, c.remind)
		}
		if !o.RemindAt.Equal(want) {
			t.Errorf("days %d, remind %d before: remind at %s, want %s", c.days, c.remindDays, o.RemindAt.In(cst), want.In(cst))
		}
	}
	// An extension counts from the last day of the term: 1 more working
	// day after a deadline of 10-01 00:00 (last day 09-30) is 10-08.
	if got, want := testTerms.extend(at(t, "2026-10-01 00:00"), 1), at(t, "2026-10-09 00:00"); !got.Equal(want) {
		t.Errorf("extend 10-01 by 1: %s, want %s", got.In(cst), want)
	}
}

// TestTiming walks an order through its term with a fake clock.
func TestTiming(t *testing.T) {
	o := issued(t, sample(), wang, at(t, "2026-09-29 10:00")) // deadline 10-10 00:00, reminder 10-09 09:00
	cases := []struct {
		now    string
		st     State
		want   Timing
		notice string
	}{
		{"2026-09-29 10:00", StateIssued, TimingOnTrack, ""},
		{"2026-10-09 08:59", StateIssued, TimingOnTrack, ""},
		{"2026-10-09 09:00", StateIssued, TimingDueSoon, EventRemind},
		{"2026-10-09 23:59", StateSigned, TimingDueSoon, EventRemind},
		{"2026-10-10 00:00", StateIssued, TimingOverdue, EventOverdue}, // at the deadline: late (on time is before it)
		{"2026-10-10 00:00", StateSigned, TimingOverdue, EventOverdue}, // signing does not stop the clock
		{"2026-10-20 00:00", StateReturned, TimingOverdue, EventOverdue},
		{"2026-10-20 00:00", StateReplied, TimingWaiting, ""},
		{"2026-10-20 00:00", StateVerified, TimingClosed, ""},
		{"2026-10-20 00:00", StateWithdrawn, TimingClosed, ""},
	}
	for _, c := range cases {
		x := inState(o, c.st, false)
		now := at(t, c.now)
		if got := x.TimingAt(now); got != c.want {
			t.Errorf("%s at %s: %s, want %s", c.st, c.now, got, c.want)
		}
		if got := DueNotice(&x, now); got != c.notice {
			t.Errorf("%s at %s: notice %q, want %q", c.st, c.now, got, c.notice)
		}
		if x.Overdue(now) != (c.want == TimingOverdue) {
			t.Errorf("%s at %s: Overdue disagrees", c.st, c.now)
		}
	}
	// Each notice once per term.
	x := o
	x.Reminded = true
	if got := DueNotice(&x, at(t, "2026-10-09 10:00")); got != "" {
		t.Errorf("reminded: notice %q", got)
	}
	if got := DueNotice(&x, at(t, "2026-10-10 10:00")); got != EventOverdue {
		t.Errorf("reminded, then overdue: notice %q", got)
	}
	x.OverdueNoted = true
	if got := DueNotice(&x, at(t, "2026-10-10 10:00")); got != "" {
		t.Errorf("overdue noted: notice %q", got)
	}
	// A reply at the deadline is late, just before it is not.
	for _, c := range []struct {
		at   string
		late bool
	}{{"2026-10-09 23:59", false}, {"2026-10-10 00:00", true}} {
		s := inState(o, StateSigned, false)
		next, _, err := testTerms.step(s, li, Request{ID: s.ID, Action: ActReply, Comment: "已整改"}, at(t, c.at))
		if err != nil || next.Late != c.late {
			t.Errorf("reply at %s: late %v, %v; want %v", c.at, next.Late, err, c.late)
		}
	}
}

func TestValidate(t *testing.T) {
	good := sample()
	if _, err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field string
		mod   func(*NewOrder)
	}{
		{"unit.region", func(n *NewOrder) { n.Unit.Region = "62080" }},
		{"unit.region", func(n *NewOrder) { n.Unit.Region = "000000" }},
		{"unit.dept", func(n *NewOrder) { n.Unit.Dept = "a\nb" }},
		{"title", func(n *NewOrder) { n.Title = " " }},
		{"title", func(n *NewOrder) { n.Title = strings.Repeat("题", maxTitle+1) }},
		{"reason", func(n *NewOrder) { n.Reason = "" }},
		{"days", func(n *NewOrder) { n.Days = -1 }},
		{"days", func(n *NewOrder) { n.Days = MaxDays + 1 }},
		{"source.kind", func(n *NewOrder) { n.Source.Kind = "email" }},
		{"source.ref", func(n *NewOrder) { n.Source.Ref = "a b" }},
		{"source.ref", func(n *NewOrder) { n.Source = Source{Kind: SourceReport} }},
		{"evidence.indicator", func(n *NewOrder) { n.Evidence.Indicator = "=cmd|' /C calc'!A0" }},
		{"evidence.indicator", func(n *NewOrder) { n.Evidence.Indicator = "" }},
		{"evidence.period", func(n *NewOrder) { n.Evidence.Period = "fortnight" }},
		{"evidence.value", func(n *NewOrder) { v := 0.0; n.Evidence.Value = ptr(v / v) }},
		{"evidence", func(n *NewOrder) { n.Evidence.Denominator = ptr(int64(-1)) }},
	}
	for i, c := range cases {
		n := sample()
		c.mod(&n)
		_, err := n.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("case %d: %v, want a ValidationError of %s", i, err, c.field)
		}
	}
	n := sample()
	n.Title, n.Source = "  标题  ", Source{}
	v, err := n.Validate()
	if err != nil || v.Title != "标题" || v.Source.Kind != SourceManual {
		t.Fatalf("cleaned %+v %v", v, err)
	}
}

func TestParse(t *testing.T) {
	for _, s := range States() {
		if got, err := ParseState(string(s)); got != s || err != nil {
			t.Errorf("ParseState(%s) = %s, %v", s, got, err)
		}
	}
	for _, a := range Actions() {
		if got, err := ParseAction(string(a)); got != a || err != nil {
			t.Errorf("ParseAction(%s) = %s, %v", a, got, err)
		}
	}
	if _, err := ParseState("closed"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseState(closed): %v", err)
	}
	if _, err := ParseAction("issue"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseAction(issue): %v", err)
	}
}
