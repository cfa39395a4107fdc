package access

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/region"
)

// Role is what a user may do (SPEC.md §1). The HTTP layer decides which
// routes each role reaches; this package only names them.
type Role string

// The user roles, and RoleScreen, the role of a screen-token principal
// (never a user's).
const (
	RoleLeader   Role = "leader"   // wall screens and phone, read-only
	RoleAnalyst  Role = "analyst"  // rankings, drill-down, trends, exports
	RoleOperator Role = "operator" // acknowledges reports, issues supervision orders
	RoleAdmin    Role = "admin"    // users, tokens, the audit log
	RoleScreen   Role = "screen"   // a kiosk wall browser with a screen token
)

// UserRoles lists the roles a user can have, in the order SPEC.md names them.
func UserRoles() []Role { return []Role{RoleLeader, RoleAnalyst, RoleOperator, RoleAdmin} }

// ParseRole checks that s is a user role.
func ParseRole(s string) (Role, error) {
	for _, r := range UserRoles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", invalid("role", "%q: want leader, analyst, operator or admin", s)
}

// User is an account. Its password hash never leaves the store layer.
type User struct {
	Name      string      `json:"name"`
	Role      Role        `json:"role"`
	Region    region.Code `json:"region"`
	Disabled  bool        `json:"disabled"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Input limits.
const (
	// MinPasswordLen is the shortest password accepted, in characters
	// (NIST SP 800-63B asks for at least 8; a command center asks for more).
	MinPasswordLen = 12
	// MaxPasswordLen bounds the work a login can ask of the hash, in bytes.
	MaxPasswordLen = 1024
	maxNameLen     = 64
	maxNoteLen     = 200
	maxIDLen       = 64 // a dashboards screen or playlist id
)

// NormalizeName returns the canonical form of a user name (lower case, no
// surrounding space), or a ValidationError. Names are 1–64 of a-z, 0-9 and
// . _ - @ so that they read the same in logs, the audit and every font;
// "Admin" and "admin" are the same user.
func NormalizeName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if n == "" {
		return "", invalid("name", "missing")
	}
	if len(n) > maxNameLen {
		return "", invalid("name", "longer than %d characters", maxNameLen)
	}
	if strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789._-@") != "" {
		return "", invalid("name", "%q: want a-z, 0-9 and . _ - @", s)
	}
	return n, nil
}

// CheckPassword applies the password rules: at least MinPasswordLen
// characters, at most MaxPasswordLen bytes, valid UTF-8.
func CheckPassword(p string) error {
	if !utf8.ValidString(p) {
		return invalid("password", "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(p); n < MinPasswordLen {
		return invalid("password", "must be at least %d characters (got %d)", MinPasswordLen, n)
	}
	if len(p) > MaxPasswordLen {
		return invalid("password", "must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// checkRegion parses code and requires it to name a division of the table
// (unlike records, a scope must be a division someone can look at).
func checkRegion(t *region.Table, code string) (region.Code, error) {
	c, err := region.ParseCode(code)
	if err != nil {
		return "", invalid("region", "%v", err)
	}
	if _, ok := t.Name(c); !ok {
		return "", invalid("region", "%s is not a division in the GB/T 2260 table", c)
	}
	return c, nil
}

// checkDashboardID applies the dashboards package's id rule (1–64 of a-z,
// 0-9 and -), so a token can only name something a URL can.
func checkDashboardID(field, id string) error {
	if id == "" || len(id) > maxIDLen || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return invalid(field, "%q: want 1 to %d of a-z, 0-9 and -", id, maxIDLen)
	}
	return nil
}
