package dispatch

import "time"

// Timing is how an order stands against its deadline at an instant.
type Timing string

// The timings.
const (
	// TimingOnTrack: the unit owes the next step and has time.
	TimingOnTrack Timing = "on_track"
	// TimingDueSoon: the unit owes the next step and the reminder time
	// has passed.
	TimingDueSoon Timing = "due_soon"
	// TimingOverdue: the unit owes the next step and the deadline has
	// passed (signing is not replying: an order signed but not answered
	// runs out of time all the same).
	TimingOverdue Timing = "overdue"
	// TimingWaiting: the unit replied; the issuer's side owes the next
	// step, and the unit's clock is stopped.
	TimingWaiting Timing = "waiting"
	// TimingClosed: verified or withdrawn.
	TimingClosed Timing = "closed"
)

// TimingAt says how o stands at now. It is a pure function of the order
// and the instant: deadlines and reminder times are computed with the
// calendar when a term begins and stored in the order.
func (o *Order) TimingAt(now time.Time) Timing {
	switch {
	case o.State.Closed():
		return TimingClosed
	case !o.State.AwaitsUnit():
		return TimingWaiting
	case !now.Before(o.Deadline):
		return TimingOverdue
	case !o.RemindAt.IsZero() && !now.Before(o.RemindAt):
		return TimingDueSoon
	}
	return TimingOnTrack
}

// Overdue reports whether the unit owes o's next step and its deadline has
// passed at now.
func (o *Order) Overdue(now time.Time) bool { return o.TimingAt(now) == TimingOverdue }

// DueNotice returns the notice the scanner owes for o at now: EventOverdue
// when the deadline has passed and the overdue notice of this term is not
// yet sent, else EventRemind when the reminder time has passed and the
// reminder is not yet sent, else "". An order found overdue before its
// reminder was sent gets the overdue notice only.
func DueNotice(o *Order, now time.Time) string {
	switch o.TimingAt(now) {
	case TimingOverdue:
		if !o.OverdueNoted {
			return EventOverdue
		}
	case TimingDueSoon:
		if !o.Reminded {
			return EventRemind
		}
	}
	return ""
}

// Notice is a reminder or an overdue notice the app turns into a special
// report and notifications.
type Notice struct {
	Kind  string `json:"kind"` // EventRemind or EventOverdue
	Order Order  `json:"order"`
	// At is the instant the scan found it due.
	At time.Time `json:"at"`
}
