// Package access knows who a caller is and which region they may see
// (SPEC.md §10): users with a role and a region scope, their passwords
// (argon2id) and sessions, the revocable screen tokens of kiosk wall
// browsers, login rate limiting and the append-only audit log.
//
// A Service holds the rules; a Store (SQLStore: embedded SQLite by default,
// PostgreSQL for production) holds the state, so the server and the
// administrators' CLI can work on the same data at once. The HTTP layer
// authenticates a request with Service.Authenticate or
// Service.AuthenticateScreenToken, puts the Principal in the request's
// context (WithPrincipal) and asks it Covers(region) before answering;
// every few seconds the server asks Service.Invalid which of its open
// websockets' principals are no longer good (Service.Valid asks about one).
// The last uses of sessions and tokens are written behind, in batches
// (Service.Flush, Service.Close).
//
// The package has no routes or pages: only the cookie, CSRF and client
// address helpers in http.go.
package access
