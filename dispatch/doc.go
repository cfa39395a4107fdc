// Package dispatch keeps supervision orders (督办单, SPEC.md §9): from a
// red indicator, a ranking row, a surge or a special report, an operator
// issues an order to the responsible unit (a region and, optionally, one
// of its departments) with a reason, the evidence as it stood (indicator,
// value, target, period, as of) and a deadline in working days; the unit
// signs and replies; the issuer verifies or returns it.
//
// # Lifecycle
//
//	         issue (N working days)
//	(none) ─────────────────────▶ issued ──sign──▶ signed ──reply──▶ replied ──verify──▶ verified
//	                                                 ▲                  │
//	                                                 │ sign             │ return (M working days from now)
//	                                              returned ◀────────────┘
//
//	while issued, signed or returned (the unit owes the next step):
//	  extend   (the unit asks for K more working days)  → extension pending
//	  approve  (the issuer's side grants K, or another number) → the deadline moves by that many
//	  refuse   → the request is dropped; the deadline stands
//	  reply    (while one is pending) → the request is moot and dropped
//	from any state but verified and withdrawn: withdraw (the issuer's side) → withdrawn
//
// The deadline is calendar.Deadline of the term: the start of the day
// after the N-th working day strictly after the day of issue (or of the
// return), in the business time zone, so a term spanning National Day
// skips the holiday and counts the make-up Saturday. It runs from issue,
// not from signing: an order nobody signs runs out of time all the same.
// A unit is on time when it replies before the deadline (Order.Late says
// otherwise). A reply stops the clock; a return starts a new term.
//
// Against its deadline an order is on track, due soon (its reminder time,
// 09:00 on the last working day of the term by default, has passed),
// overdue, waiting (replied: the issuer owes the next step) or closed:
// Order.TimingAt(now), a pure function of the order and the instant.
// Each term owes at most one reminder and one overdue notice; Service.Due
// lists those owed now, MarkSent records one sent, and Service.Scan does
// both through a Notifier the app backs (it raises the special report and
// notifies the unit). The package starts no goroutine: the app calls Scan
// on its own tick.
//
// # Who may do what
//
// Leaders, analysts and screens read the orders of units in their scope.
// Operators and administrators act (Permitted):
//
//   - issue: to any unit in their scope; an order to their own region
//     must name a department;
//   - verify, return, approve, refuse, withdraw — the issuer's side: an
//     operator whose scope covers the issuer's region at issue time (the
//     issuer's level or above), unless they belong to the unit itself
//     (the issuer excepted);
//   - sign, reply, extend — the unit's side: the unit's own users, whose
//     scope is exactly the unit's region (a township's users do not sign
//     for their county, a province's not for a city), the issuer never.
//
// Each action is checked for role and scope (ErrForbidden), then state
// (ErrState, a StateError naming the current state), and is recorded with
// who, when, from which address and the comment, in the order's
// append-only history (a trigger refuses updates and deletes) in the same
// transaction as the change, and then in the access audit log (action
// "dispatch_<action>", target "order:<id>").
//
// # Storage
//
// Orders live in the access database (SQLite by default, PostgreSQL in
// production), component "dispatch" of access.SQLStore.Migrate. Every
// change names the version it was decided on: of two operators verifying
// at once, the second gets ErrConflict. Lists are scoped to the caller's
// region, filtered (state, region subtree, department, overdue, pending
// extension, issuer, text, issue time) and sorted overdue first, then by
// deadline: orders awaiting the unit by deadline (the overdue ones have
// the earliest), then replied ones, then closed ones, which an index
// serves without looking at the clock. Pages are keyset (Page.Next) with
// a total. Export writes CSV with formula-safe cells (Defuse).
//
// Package dispatchapi serves all of this over HTTP (list, order with
// history, issue, each action, export), for the app's route table.
package dispatch
