package access

import (
	"context"
	"crypto/subtle"

	"github.com/yiping-ioc/yiping/region"
)

// Kind tells how a principal authenticated.
type Kind string

// The kinds of principal.
const (
	KindUser   Kind = "user"   // a user through a session cookie
	KindScreen Kind = "screen" // a kiosk browser through a screen token
)

// Principal is an authenticated caller. The HTTP layer gets one from
// Service.Authenticate or Service.AuthenticateScreenToken and keeps it in
// the request's context. It is a value: changing it changes nothing in the
// store.
type Principal struct {
	Kind Kind `json:"kind"`
	// Name is the user's name, or "token:<id>" for a screen token; it is
	// the actor the audit log records.
	Name string `json:"name"`
	// Role is the user's role, or RoleScreen.
	Role Role `json:"role"`
	// Region is the scope: this division and everything below it.
	Region region.Code `json:"region"`
	// Screen or Playlist is what a screen token is bound to (one of them
	// is set for KindScreen, neither for KindUser).
	Screen   string `json:"screen,omitempty"`
	Playlist string `json:"playlist,omitempty"`
	// SessionID (KindUser: the hex SHA-256 of the session token) or
	// TokenID (KindScreen: the token's public id) is what Service.Valid
	// checks.
	SessionID string `json:"-"`
	TokenID   string `json:"token_id,omitempty"`
	// CSRF is the session's synchronizer token: the page embeds it and
	// every state-changing request sends it back in the CSRFHeader header
	// (or CSRFField form field); see CheckCSRF. Empty for screen tokens,
	// which change nothing.
	CSRF string `json:"-"`
}

// Covers reports whether code is the principal's region or lies below it,
// by code ancestry (SPEC.md §3): a 620000 scope covers city 620800, county
// 620802 and township 620802001; a 620802 scope covers neither 620800 nor
// 620803. A malformed code is covered by nobody.
func (p *Principal) Covers(code string) bool {
	if p == nil || p.Region == "" {
		return false
	}
	c, err := region.ParseCode(code)
	if err != nil {
		return false
	}
	for ; ; c = parentOf(c) {
		if c == p.Region {
			return true
		}
		if c == "" {
			return false
		}
	}
}

func parentOf(c region.Code) region.Code {
	p, ok := c.Parent()
	if !ok {
		return ""
	}
	return p
}

// HasRole reports whether the principal has one of roles.
func (p *Principal) HasRole(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// CheckCSRF compares token with the session's CSRF token in constant time.
// It is false for screen tokens and for an empty token.
func (p *Principal) CheckCSRF(token string) bool {
	if p == nil || p.CSRF == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(p.CSRF), []byte(token)) == 1
}

// Actor is the principal as the author of a change made from addr.
func (p *Principal) Actor(addr string) Actor {
	return Actor{Name: p.Name, Addr: addr, Principal: p}
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal WithPrincipal stored, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// Actor is who makes an administrative change: what the audit log records,
// and, for a request, whose scope bounds the change.
type Actor struct {
	// Name is the audit actor: a user name, "token:<id>", "cli:<OS user>"
	// or "system".
	Name string
	// Addr is the client address; empty for the CLI.
	Addr string
	// Principal, when set (a change requested over HTTP), must be an admin
	// whose scope covers the user or token changed. Nil for the CLI and
	// the server itself, whose authority is the operating-system account.
	Principal *Principal
}
