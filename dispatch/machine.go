package dispatch

import (
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
)

// Action is a step of an order's lifecycle that a person takes.
type Action string

// The actions. Issue, verify, return, approve, refuse and withdraw are the
// issuer's side; sign, reply and extend the unit's (see Permitted).
const (
	ActIssue    Action = "issue"
	ActSign     Action = "sign"
	ActReply    Action = "reply"
	ActVerify   Action = "verify"
	ActReturn   Action = "return"
	ActExtend   Action = "extend"  // the unit asks for more time
	ActApprove  Action = "approve" // the issuer grants the extension
	ActRefuse   Action = "refuse"  // the issuer refuses it
	ActWithdraw Action = "withdraw"
)

// The history actions the scanner records (nobody takes them).
const (
	EventRemind  = "remind"
	EventOverdue = "overdue"
)

// Actions lists the actions Apply takes (all but issue), in lifecycle
// order.
func Actions() []Action {
	return []Action{ActSign, ActReply, ActVerify, ActReturn, ActExtend, ActApprove, ActRefuse, ActWithdraw}
}

// ParseAction checks that s names an action Apply takes.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions() {
		if string(a) == s {
			return a, nil
		}
	}
	return "", invalid("action", "%q: want sign, reply, verify, return, extend, approve, refuse or withdraw", s)
}

// Name is the action's Chinese name.
func (a Action) Name() string {
	switch a {
	case ActIssue:
		return "下发"
	case ActSign:
		return "签收"
	case ActReply:
		return "反馈"
	case ActVerify:
		return "核验办结"
	case ActReturn:
		return "退回"
	case ActExtend:
		return "申请延期"
	case ActApprove:
		return "同意延期"
	case ActRefuse:
		return "不同意延期"
	case ActWithdraw:
		return "撤销"
	}
	return string(a)
}

// side is who takes an action: the issuer's side or the unit's.
type side int

const (
	issuerSide side = iota
	unitSide
)

func (a Action) side() side {
	switch a {
	case ActSign, ActReply, ActExtend:
		return unitSide
	}
	return issuerSide
}

// actsOnOrders reports whether p's role may act on orders at all:
// operators and administrators, signed in as users. Leaders, analysts and
// screens read only.
func actsOnOrders(p *access.Principal) bool {
	return p != nil && p.Kind == access.KindUser && p.HasRole(access.RoleOperator, access.RoleAdmin)
}

// CanRead reports whether p may see o: its scope covers the unit's region.
// Every role reads, screens too.
func CanRead(p *access.Principal, o *Order) bool {
	return p != nil && p.Covers(string(o.Unit.Region))
}

// CanIssue reports whether p may issue orders to a unit of region code:
// an operator or administrator whose scope covers it.
func CanIssue(p *access.Principal, code string) bool {
	return actsOnOrders(p) && p.Covers(code)
}

// Permitted says whether p may take action a on o as far as role and
// scope go (the state is checked apart), and if not, why (an error
// matching ErrForbidden).
//
// The issuer's side (verify, return, approve, refuse, withdraw) is an
// operator or administrator whose scope covers the issuer's region at the
// time of issue, that is the issuer's own level or above, but not one of
// the unit's own users unless it is the issuer. The unit's side (sign,
// reply, extend) is an operator or administrator whose scope is exactly
// the unit's region (the unit's own users: a township's users do not
// sign for their county, nor a province's for a city), and not the
// issuer, who cannot answer their own order.
func Permitted(p *access.Principal, o *Order, a Action) error {
	if p == nil {
		return forbidden("not signed in")
	}
	if !actsOnOrders(p) {
		return forbidden("%s %s may only read orders", p.Role, p.Name)
	}
	unitsOwn := p.Region == o.Unit.Region
	switch a.side() {
	case unitSide:
		if !unitsOwn {
			return forbidden("only the users of unit %s may %s order %s; %s's scope is %s", o.Unit.Region, a, o.ID, p.Name, p.Region)
		}
		if p.Name == o.Issuer {
			return forbidden("%s issued order %s and cannot %s it for the unit", p.Name, o.ID, a)
		}
	default:
		if !p.Covers(string(o.IssuerRegion)) {
			return forbidden("only operators of %s or above may %s order %s; %s's scope is %s", o.IssuerRegion, a, o.ID, p.Name, p.Region)
		}
		if unitsOwn && p.Name != o.Issuer {
			return forbidden("%s belongs to unit %s and cannot %s its order %s", p.Name, o.Unit.Region, a, o.ID)
		}
	}
	return nil
}

// Check says whether p may take action a on o now: Permitted, then the
// state (a StateError naming it). A page asks it of every action to show
// only the buttons that work.
func Check(p *access.Principal, o *Order, a Action) error {
	if err := Permitted(p, o, a); err != nil {
		return err
	}
	if !allowedIn(o, a) {
		return &StateError{Order: o.ID, Action: a, State: o.State, Extension: o.Extension != nil}
	}
	return nil
}

// Request is an action on an order.
type Request struct {
	ID     string
	Action Action
	// Version is the version the caller decided on; the action fails with
	// ErrConflict when the order has changed since. Zero skips this check
	// (the store still refuses a change that crosses another).
	Version int64
	// Comment is required for reply (the reply itself), return, extend,
	// refuse and withdraw; optional otherwise.
	Comment string
	// Days: for return, the new term (1..MaxDays working days from now);
	// for extend, the working days asked beyond the deadline
	// (1..MaxDays); for approve, the days granted (0: as asked). Zero for
	// the other actions.
	Days int
	// Addr is the client's address, for the history and the audit log.
	Addr string
}

// check validates the request's own fields and returns it cleaned.
func (r Request) check() (Request, error) {
	var err error
	need := false
	switch r.Action {
	case ActReply, ActReturn, ActExtend, ActRefuse, ActWithdraw:
		need = true
	case ActSign, ActVerify, ActApprove:
	default:
		return r, invalid("action", "%q: want sign, reply, verify, return, extend, approve, refuse or withdraw", r.Action)
	}
	if r.Comment, err = cleanText("comment", r.Comment, need, true, maxText); err != nil {
		return r, err
	}
	switch r.Action {
	case ActReturn, ActExtend:
		if r.Days < 1 || r.Days > MaxDays {
			return r, invalid("days", "%d: want 1 to %d working days", r.Days, MaxDays)
		}
	case ActApprove:
		if r.Days < 0 || r.Days > MaxDays {
			return r, invalid("days", "%d: want 0 (as asked) to %d working days", r.Days, MaxDays)
		}
	default:
		if r.Days != 0 {
			return r, invalid("days", "not taken by %s", r.Action)
		}
	}
	if len(r.Addr) > 64 {
		r.Addr = r.Addr[:64]
	}
	return r, nil
}

// allowedIn reports whether o's state allows a.
func allowedIn(o *Order, a Action) bool {
	pending := o.Extension != nil
	switch a {
	case ActSign:
		return o.State == StateIssued || o.State == StateReturned
	case ActReply:
		return o.State == StateSigned
	case ActExtend:
		return o.State.AwaitsUnit() && !pending
	case ActApprove, ActRefuse:
		return o.State.AwaitsUnit() && pending
	case ActVerify, ActReturn:
		return o.State == StateReplied
	case ActWithdraw:
		return !o.State.Closed()
	}
	return false
}

// Entry is one line of an order's history: who did what, when, from
// where, and what it changed. The history is append-only.
type Entry struct {
	Seq     int64     `json:"seq"` // assigned by the store, increasing
	Order   string    `json:"order"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"` // a user name, or "system" for reminders and overdue notices
	Addr    string    `json:"addr,omitempty"`
	Action  string    `json:"action"` // an Action, EventRemind or EventOverdue
	From    State     `json:"from,omitempty"`
	To      State     `json:"to"`
	Comment string    `json:"comment,omitempty"`
	// Days and Deadline are the term after the entry, when it set one
	// (issue, return, extend: the days asked, approve).
	Days     int       `json:"days,omitempty"`
	Deadline time.Time `json:"deadline,omitzero"`
}

// SystemActor is the actor of the entries the scanner writes.
const SystemActor = "system"

// terms computes deadlines and reminders in the business calendar.
type terms struct {
	cal *calendar.Calendar
	// remindDays: the reminder comes at remindClock on the remindDays-th
	// working day counted back from the last day of the term (1: on the
	// last day); 0 means no reminders.
	remindDays  int
	remindClock time.Duration
}

// deadline is the end of a term of days working days from start.
func (t terms) deadline(start time.Time, days int) time.Time {
	return time.Unix(0, t.cal.Deadline(start.UnixNano(), days))
}

// extend moves a deadline by days working days: the term's last day
// (the day before the deadline) is the start, not counted.
func (t terms) extend(deadline time.Time, days int) time.Time {
	return time.Unix(0, t.cal.Deadline(deadline.UnixNano()-1, days))
}

// remindAt is when the unit is reminded of a term that began at start
// and ends at deadline: remindClock on the remindDays-th working day
// counted back from the term's last day. It is zero (no reminder) when
// reminders are off or that instant is not after the term's start: a
// unit given one day is not reminded the moment it is told.
func (t terms) remindAt(start, deadline time.Time) time.Time {
	if t.remindDays <= 0 {
		return time.Time{}
	}
	d := t.cal.DayOf(deadline.UnixNano() - 1)
	found := 0
	for range 400 {
		if t.cal.IsWorkday(d) {
			if found++; found == t.remindDays {
				break
			}
		}
		d--
	}
	at := time.Unix(0, t.cal.StartOfDay(d)).Add(t.remindClock)
	if !at.After(start) || !at.Before(deadline) {
		return time.Time{}
	}
	return at
}

// newTerm sets o's term: days from start, its deadline and its reminder
// (if one falls after now), and clears the notices of the term before.
func (t terms) newTerm(o *Order, start time.Time, days int, deadline, now time.Time) {
	o.Days, o.TermStart, o.Deadline = days, start, deadline
	o.RemindAt = t.remindAt(now, deadline)
	o.Reminded, o.OverdueNoted = false, false
}

// step applies r, taken by p at now, to o: it checks role, scope and
// state and returns the order as it is after, and the history entry. It
// is pure: the store makes it stick.
func (t terms) step(o Order, p *access.Principal, r Request, now time.Time) (Order, Entry, error) {
	r, err := r.check()
	if err != nil {
		return o, Entry{}, err
	}
	if err := Check(p, &o, r.Action); err != nil {
		return o, Entry{}, err
	}
	e := Entry{Order: o.ID, At: now, Actor: p.Name, Addr: r.Addr, Action: string(r.Action), From: o.State, Comment: r.Comment}
	next := o
	next.Version++
	next.UpdatedAt = now
	switch r.Action {
	case ActSign:
		next.State, next.SignedAt, next.SignedBy = StateSigned, now, p.Name
	case ActReply:
		next.State, next.RepliedAt, next.RepliedBy, next.Reply = StateReplied, now, p.Name, r.Comment
		next.Late = !now.Before(o.Deadline)
		// A reply makes a pending extension moot.
		next.Extension = nil
	case ActVerify:
		next.State, next.ClosedAt, next.ClosedBy = StateVerified, now, p.Name
	case ActReturn:
		next.State = StateReturned
		next.Returns++
		next.SignedAt, next.SignedBy = time.Time{}, ""
		t.newTerm(&next, now, r.Days, t.deadline(now, r.Days), now)
		e.Days, e.Deadline = r.Days, next.Deadline
	case ActExtend:
		next.Extension = &Extension{Days: r.Days, Reason: r.Comment, By: p.Name, At: now}
		e.Days = r.Days
	case ActApprove:
		days := r.Days
		if days == 0 {
			days = o.Extension.Days
		}
		next.Extension = nil
		next.Extensions++
		// The term keeps its start; its days grow and its deadline moves
		// by the days granted, counted from the old deadline.
		t.newTerm(&next, o.TermStart, o.Days+days, t.extend(o.Deadline, days), now)
		e.Days, e.Deadline = days, next.Deadline
	case ActRefuse:
		next.Extension = nil
	case ActWithdraw:
		next.State, next.ClosedAt, next.ClosedBy = StateWithdrawn, now, p.Name
		next.Extension = nil
	}
	e.To = next.State
	return next, e, nil
}
