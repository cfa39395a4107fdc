package dispatch

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. The HTTP layer maps them to statuses:
// ErrNotFound to 404, ErrForbidden to 403, ErrState and ErrConflict to 409,
// ErrInvalid to 400.
var (
	// ErrNotFound: no such order, or none the caller may see (an order
	// outside the caller's scope is not found, so ids reveal nothing).
	ErrNotFound = errors.New("dispatch: no such order")
	// ErrForbidden: the caller's role or scope does not allow the action
	// on this order (see Permitted).
	ErrForbidden = errors.New("dispatch: forbidden")
	// ErrState: the order's state does not allow the action; see
	// StateError, which names the state.
	ErrState = errors.New("dispatch: not allowed in this state")
	// ErrConflict: the order changed since the caller read it (another
	// operator verified it first): read it again.
	ErrConflict = errors.New("dispatch: the order changed meanwhile")
	// ErrInvalid: an input broke a rule; see ValidationError.
	ErrInvalid = errors.New("dispatch: invalid input")
)

// StateError is an action the order's current state does not allow. It
// matches ErrState.
type StateError struct {
	Order  string
	Action Action
	State  State
	// Extension is whether an extension request was pending, which
	// decides approve and refuse.
	Extension bool
}

func (e *StateError) Error() string {
	ext := ""
	if e.Extension {
		ext = ", extension requested"
	}
	switch e.Action {
	case ActApprove, ActRefuse:
		if !e.Extension {
			return fmt.Sprintf("dispatch: cannot %s on order %s: it is %s and no extension is requested", e.Action, e.Order, e.State)
		}
	case ActExtend:
		if e.Extension {
			return fmt.Sprintf("dispatch: cannot %s on order %s: it is %s and an extension is already requested", e.Action, e.Order, e.State)
		}
	}
	return fmt.Sprintf("dispatch: cannot %s on order %s: it is %s%s", e.Action, e.Order, e.State, ext)
}

// Is makes errors.Is(err, ErrState) true.
func (e *StateError) Is(target error) bool { return target == ErrState }

// ValidationError is an input that broke a rule, naming the field so a
// form can point at it. It matches ErrInvalid.
type ValidationError struct {
	Field   string // "unit.region", "title", "days", "comment", …
	Problem string
}

func (e *ValidationError) Error() string { return "dispatch: " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// forbidden says why an action is not the caller's; it matches
// ErrForbidden.
func forbidden(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrForbidden, fmt.Sprintf(format, args...))
}
