package access

import (
	"context"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// Store keeps users, sessions, screen tokens and the audit log. SQLStore
// implements it on SQLite and on PostgreSQL; both pass one contract suite
// (contract_test.go). Every method is safe for concurrent use, also by
// other processes on the same database (the server and the CLI).
//
// Errors: ErrNotFound when the named row does not exist, ErrExists when a
// key is taken; anything else is the database's own, wrapped.
type Store interface {
	// CreateUser inserts u with its password hash (a PHC string).
	CreateUser(ctx context.Context, u User, passwordHash string) error
	// User returns the user and its password hash.
	User(ctx context.Context, name string) (User, string, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]User, error)
	// CountUsers counts the users, disabled ones included.
	CountUsers(ctx context.Context) (int, error)
	// SetDisabled disables or enables a user; disabling deletes all of the
	// user's sessions in the same transaction.
	SetDisabled(ctx context.Context, name string, disabled bool, at time.Time) error
	// SetPasswordHash replaces a user's hash; with endSessions it also
	// deletes all of the user's sessions in the same transaction.
	SetPasswordHash(ctx context.Context, name, hash string, at time.Time, endSessions bool) error

	// CreateSession inserts a session; its user must exist.
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session and its user.
	Session(ctx context.Context, id string) (Session, User, error)
	// SessionsByID returns the sessions of ids that exist, with their
	// users, by id (the batch validity check; ids may be many and repeat).
	SessionsByID(ctx context.Context, ids []string) (map[string]SessionUser, error)
	// TouchSession sets a session's LastSeen.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession deletes one session (ErrNotFound when it is gone).
	DeleteSession(ctx context.Context, id string) error
	// DeleteStaleSessions deletes the sessions last seen before idleBefore
	// or created before createdBefore, and says how many.
	DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error)

	// CreateToken inserts a screen token with the hash of its secret.
	CreateToken(ctx context.Context, t Token, secretHash string) error
	// TokenBySecret finds a token (revoked ones too) by its secret's hash.
	TokenBySecret(ctx context.Context, secretHash string) (Token, error)
	// Token returns a token by id.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens lists every token, newest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken sets RevokedAt; revoking a revoked token keeps the first
	// time.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// TokenStates returns the region and revocation of the tokens of ids
	// that exist, by id (the batch validity check; ids may be many and
	// repeat).
	TokenStates(ctx context.Context, ids []string) (map[string]TokenState, error)
	// TouchToken sets LastUsedAt.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// Touch moves the LastSeen of sessions and the LastUsedAt of tokens
	// forward to the times given, in one transaction: a time earlier than
	// the stored one changes nothing, and ids that no longer exist are
	// skipped.
	Touch(ctx context.Context, sessions, tokens map[string]time.Time) error

	// AppendAudit appends an entry; the log cannot be changed otherwise.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns the entries matching f, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// Close releases the database.
	Close() error
}

// Session is a logged-in browser. The token itself is never stored: ID is
// its SHA-256.
type Session struct {
	ID        string    // hex SHA-256 of the session token
	User      string    // the user's name
	CSRF      string    // the synchronizer token
	CreatedAt time.Time // for the absolute timeout
	LastSeen  time.Time // for the idle timeout (updated at most every Config.TouchEvery)
	Addr      string    // where the login came from
}

// SessionUser is a session and its user, as SessionsByID returns them.
type SessionUser struct {
	Session Session
	User    User
}

// TokenState is what the batch validity check reads of a screen token
// (TokenStates): of a Token, only what can make it invalid.
type TokenState struct {
	Region    region.Code
	RevokedAt time.Time // zero while valid
}

// Token is a screen token: a revocable credential for a kiosk browser,
// bound to one screen or one playlist and one region. The secret is shown
// once, when it is made, and only its hash is stored.
type Token struct {
	ID         string      `json:"id"`
	Screen     string      `json:"screen,omitempty"`
	Playlist   string      `json:"playlist,omitempty"`
	Region     region.Code `json:"region"`
	Note       string      `json:"note,omitempty"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	RevokedAt  time.Time   `json:"revoked_at,omitzero"`   // zero while valid
	LastUsedAt time.Time   `json:"last_used_at,omitzero"` // zero when never used
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Target names what the token opens: "screen:<id>" or "playlist:<id>".
func (t Token) Target() string {
	if t.Screen != "" {
		return "screen:" + t.Screen
	}
	return "playlist:" + t.Playlist
}

// Audit actions. The set is open: later features (dispatch) add their own
// strings; these are the ones this package and the console write.
const (
	ActionLogin        = "login"
	ActionLoginFailed  = "login_failed"
	ActionLoginLocked  = "login_locked" // an account reached the failure limit
	ActionLogout       = "logout"
	ActionUserAdd      = "user_add"
	ActionUserDisable  = "user_disable"
	ActionUserEnable   = "user_enable"
	ActionPasswordSet  = "password_set"
	ActionTokenAdd     = "token_add"
	ActionTokenRevoke  = "token_revoke"
	ActionExport       = "export"
	ActionFirstStart   = "first_start"
	ActionAccessDenied = "access_denied" // for the HTTP layer: a 403 worth keeping
)

// AuditEntry is one line of the audit log: who did what to what, when and
// from where.
type AuditEntry struct {
	ID     int64     `json:"id"`     // assigned by the store, increasing
	At     time.Time `json:"at"`     // set by Service.Audit when zero
	Actor  string    `json:"actor"`  // user name, "token:<id>", "cli:<OS user>", "system"
	Action string    `json:"action"` // one of the Action constants, or a later feature's
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Addr   string    `json:"addr,omitempty"` // client address; empty for the CLI
}

// Field limits of an audit entry: longer values are cut (an entry is never
// refused for its length, since losing it would be worse).
const (
	maxAuditActor  = 128
	maxAuditAction = 64
	maxAuditTarget = 256
	maxAuditDetail = 2000
	maxAuditAddr   = 64
)

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Since, Until time.Time // At >= Since, At < Until
	Actor        string    // exact
	Action       string    // exact
	Target       string    // exact
	// BeforeID pages: the next page of a listing is the same filter with
	// BeforeID set to the last entry's ID.
	BeforeID int64
	// Limit caps the entries returned: 100 when zero, at most 1000.
	Limit int
}

// Audit paging bounds.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)
