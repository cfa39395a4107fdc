package access

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinel errors, for errors.Is. The HTTP layer maps them to statuses:
// ErrBadCredentials, ErrExpired, ErrRevoked and ErrDisabled to 401,
// ErrForbidden to 403, ErrRateLimited to 429 with Retry-After, ErrNotFound
// to 404, ErrExists to 409 and ErrInvalid to 400.
var (
	// ErrBadCredentials: an unknown user, a wrong password, or a session or
	// screen token that is malformed or unknown. Deliberately one error, so
	// that an answer never tells which part was wrong.
	ErrBadCredentials = errors.New("access: bad credentials")
	// ErrRateLimited: too many login attempts; see RateLimitError.
	ErrRateLimited = errors.New("access: too many attempts")
	// ErrDisabled: the user is disabled.
	ErrDisabled = errors.New("access: user disabled")
	// ErrExpired: the session passed its idle or absolute timeout.
	ErrExpired = errors.New("access: session expired")
	// ErrRevoked: the screen token was revoked.
	ErrRevoked = errors.New("access: token revoked")
	// ErrForbidden: the actor may not make this change (not an admin, or
	// the target lies outside its region scope).
	ErrForbidden = errors.New("access: forbidden")
	// ErrNotFound: no such user, session or token.
	ErrNotFound = errors.New("access: not found")
	// ErrExists: a user (or token id) of that name already exists.
	ErrExists = errors.New("access: already exists")
	// ErrInvalid: an input broke a rule; see ValidationError.
	ErrInvalid = errors.New("access: invalid input")
)

// ValidationError is an input that broke a rule, naming the field so a
// form or the CLI can point at it. It matches ErrInvalid.
type ValidationError struct {
	Field   string // "name", "role", "region", "password", "screen", "playlist", "note"
	Problem string // what is wrong, e.g. "must be at least 12 characters"
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// RateLimitError is a refused login attempt. It matches ErrRateLimited.
type RateLimitError struct {
	// RetryAfter is how long to wait before the next attempt can succeed
	// (at least one second).
	RetryAfter time.Duration
	// Reason is "account" (too many failures for the user name) or
	// "address" (too many attempts from the client address).
	Reason string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("access: too many login attempts (%s); try again in %s", e.Reason, e.RetryAfter)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfterSeconds is the value of an HTTP Retry-After header: whole
// seconds, rounded up.
func (e *RateLimitError) RetryAfterSeconds() string {
	s := int64((e.RetryAfter + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
