package access

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sqliteService(t *testing.T, mod ...func(*Config)) (*Service, *SQLStore, *clock) {
	t.Helper()
	st := sqliteOpener(t)(t, "db")
	c := newClock()
	return newService(t, st, c, mod...), st, c
}

func auditActions(t *testing.T, st Store, f AuditFilter) []string {
	t.Helper()
	es, err := st.Audit(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- { // oldest first reads better
		out = append(out, es[i].Action+":"+es[i].Detail)
	}
	return out
}

func TestLoginAndAuthenticate(t *testing.T) {
	s, st, _ := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "Li.Ming", RoleAnalyst, "620802")

	res, err := s.Login(ctx, " LI.MING ", goodPassword, "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if !validSecret(res.Token) || !validSecret(res.CSRF) || res.Token == res.CSRF {
		t.Fatalf("token %q csrf %q: want two distinct 128-bit base64url secrets", res.Token, res.CSRF)
	}
	if res.User.Name != "li.ming" || res.User.Role != RoleAnalyst {
		t.Fatalf("user = %+v", res.User)
	}
	// Only the hash of the token is stored.
	if _, _, err := st.Session(ctx, res.Token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session stored under the token itself: %v", err)
	}
	p, err := s.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Kind: KindUser, Name: "li.ming", Role: RoleAnalyst, Region: "620802", SessionID: secretHash(res.Token), CSRF: res.CSRF}
	if *p != want {
		t.Fatalf("principal = %+v, want %+v", *p, want)
	}
	if !p.CheckCSRF(res.CSRF) || p.CheckCSRF("") || p.CheckCSRF(res.Token) {
		t.Fatal("CheckCSRF")
	}
	if !s.Valid(ctx, p) {
		t.Fatal("fresh session not valid")
	}

	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "li.ming", "wrong password!!"},
		{"unknown user", "nobody", goodPassword},
		{"invalid name", "no body/", goodPassword},
		{"huge password", "li.ming", strings.Repeat("x", 5000)},
	} {
		if _, err := s.Login(ctx, tc.user, tc.password, "10.1.2.4"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", tc.name, err)
		}
	}
	for _, tok := range []string{"", "x", res.CSRF, res.Token + "A", strings.Repeat("A", 22)} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%q): %v, want ErrBadCredentials", tok, err)
		}
	}
	got := auditActions(t, st, AuditFilter{})
	wantAudit := []string{"user_add:role=analyst region=620802", "login:", "login_failed:bad password",
		"login_failed:unknown user", "login_failed:invalid user name", "login_failed:password too long"}
	if strings.Join(got, "|") != strings.Join(wantAudit, "|") {
		t.Fatalf("audit:\n%v\nwant\n%v", got, wantAudit)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionLogin}); len(es) != 1 || es[0].Addr != "10.1.2.3" || es[0].Actor != "li.ming" {
		t.Fatalf("login audit entry: %+v", es)
	}
}

func TestSessionTimeouts(t *testing.T) {
	type step struct {
		advance time.Duration
		want    error // nil: authenticates (and so counts as activity)
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"idle just under", []step{{29 * time.Minute, nil}, {29 * time.Minute, nil}, {29 * time.Minute, nil}}},
		{"idle over", []step{{10 * time.Minute, nil}, {30 * time.Minute, ErrExpired}, {0, ErrBadCredentials}}},
		{"absolute", func() []step {
			var ss []step
			for range 71 { // 71 × 10 min = 11 h 50 min
				ss = append(ss, step{10 * time.Minute, nil})
			}
			return append(ss, step{10 * time.Minute, ErrExpired})
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, st, c := sqliteService(t)
			mustAddUser(t, s, "li", RoleLeader, "620000")
			res, err := s.Login(t.Context(), "li", goodPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, sp := range tc.steps {
				c.Advance(sp.advance)
				_, err := s.Authenticate(t.Context(), res.Token)
				if !errors.Is(err, sp.want) && !(sp.want == nil && err == nil) {
					t.Fatalf("step %d (+%s): %v, want %v", i, sp.advance, err, sp.want)
				}
			}
			if errors.Is(tc.steps[len(tc.steps)-1].want, ErrExpired) {
				if _, _, err := st.Session(t.Context(), secretHash(res.Token)); !errors.Is(err, ErrNotFound) {
					t.Fatalf("expired session still stored: %v", err)
				}
			}
		})
	}
}

func TestTimeoutsConfigurable(t *testing.T) {
	s, _, c := sqliteService(t, func(cfg *Config) { cfg.IdleTimeout, cfg.AbsoluteTimeout = time.Minute, 3*time.Minute })
	if idle, abs := s.Timeouts(); idle != time.Minute || abs != 3*time.Minute {
		t.Fatalf("Timeouts = %v %v", idle, abs)
	}
	mustAddUser(t, s, "li", RoleLeader, "620000")
	res, _ := s.Login(t.Context(), "li", goodPassword, "")
	if res.ExpiresAt != c.Now().Add(3*time.Minute) {
		t.Fatalf("ExpiresAt = %v", res.ExpiresAt)
	}
	p, _ := s.Authenticate(t.Context(), res.Token)
	c.Advance(61 * time.Second)
	if s.Valid(t.Context(), p) {
		t.Fatal("valid after the idle timeout")
	}
}

func TestTouchIsThrottled(t *testing.T) {
	s, st, c := sqliteService(t)
	mustAddUser(t, s, "li", RoleLeader, "620000")
	login := c.Now()
	res, _ := s.Login(t.Context(), "li", goodPassword, "")
	id := secretHash(res.Token)
	seen := func() time.Time {
		se, _, err := st.Session(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return se.LastSeen
	}
	c.Advance(30 * time.Second)
	s.Authenticate(t.Context(), res.Token)
	if !seen().Equal(login) {
		t.Fatalf("written after 30 s: %v", seen())
	}
	c.Advance(31 * time.Second)
	s.Authenticate(t.Context(), res.Token)
	// Recorded, and written by the next flush, not by the request.
	if !seen().Equal(login) {
		t.Fatalf("written by the request: %v", seen())
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !seen().Equal(c.Now()) {
		t.Fatalf("LastSeen %v after a minute, want %v", seen(), c.Now())
	}
	// Valid is not activity.
	p, _ := s.Authenticate(t.Context(), res.Token)
	c.Advance(5 * time.Minute)
	s.Valid(t.Context(), p)
	if !seen().Equal(c.Now().Add(-5 * time.Minute)) {
		t.Fatalf("Valid touched the session")
	}
}

func TestLogout(t *testing.T) {
	s, st, _ := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	res, _ := s.Login(ctx, "li", goodPassword, "")
	p, _ := s.Authenticate(ctx, res.Token)
	if err := s.Logout(ctx, p, "10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, res.Token); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after logout: %v", err)
	}
	if s.Valid(ctx, p) {
		t.Fatal("valid after logout")
	}
	if err := s.Logout(ctx, p, ""); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionLogout}); len(es) != 2 || es[0].Actor != "li" {
		t.Fatalf("logout audit: %+v", es)
	}
}

func TestDisableEndsAllSessions(t *testing.T) {
	s, st, _ := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleOperator, "620800")
	mustAddUser(t, s, "wang", RoleOperator, "620800")
	var ps []*Principal
	for range 3 {
		res, err := s.Login(ctx, "li", goodPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := s.Authenticate(ctx, res.Token)
		ps = append(ps, p)
	}
	other, _ := s.Login(ctx, "wang", goodPassword, "")
	op, _ := s.Authenticate(ctx, other.Token)

	if err := s.DisableUser(ctx, Actor{Name: "cli:root"}, "LI"); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if s.Valid(ctx, p) {
			t.Errorf("session %d still valid after disable", i)
		}
	}
	if !s.Valid(ctx, op) {
		t.Fatal("another user's session ended")
	}
	if _, err := s.Login(ctx, "li", goodPassword, ""); !errors.Is(err, ErrDisabled) {
		t.Fatalf("login of a disabled user: %v", err)
	}
	if _, err := s.Login(ctx, "li", "not the password", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password of a disabled user: %v, want ErrBadCredentials (not telling it is disabled)", err)
	}
	if err := s.EnableUser(ctx, Actor{Name: "cli:root"}, "li"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "li", goodPassword, ""); err != nil {
		t.Fatalf("after enable: %v", err)
	}
	if err := s.DisableUser(ctx, Actor{Name: "cli:root"}, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable missing: %v", err)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionUserDisable}); len(es) != 1 || es[0].Actor != "cli:root" || es[0].Target != "li" {
		t.Fatalf("disable audit: %+v", es)
	}
}

func TestSetPassword(t *testing.T) {
	s, _, _ := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleOperator, "620800")
	res, _ := s.Login(ctx, "li", goodPassword, "")
	err := s.SetPassword(ctx, Actor{Name: "cli:root"}, "li", "short")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "password" || !strings.Contains(err.Error(), "at least 12 characters") || !errors.Is(err, ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	const next = "a new and long password"
	if err := s.SetPassword(ctx, Actor{Name: "cli:root"}, "li", next); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("session survived a password change")
	}
	if _, err := s.Login(ctx, "li", goodPassword, ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := s.Login(ctx, "li", next, ""); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestAddUserValidation(t *testing.T) {
	s, _, _ := sqliteService(t)
	ok := NewUser{Name: "li", Role: RoleAnalyst, Region: "620802", Password: goodPassword}
	cases := []struct {
		name  string
		edit  func(*NewUser)
		field string
	}{
		{"empty name", func(u *NewUser) { u.Name = " " }, "name"},
		{"bad name", func(u *NewUser) { u.Name = "li ming" }, "name"},
		{"long name", func(u *NewUser) { u.Name = strings.Repeat("a", 65) }, "name"},
		{"role", func(u *NewUser) { u.Role = "root" }, "role"},
		{"screen role", func(u *NewUser) { u.Role = RoleScreen }, "role"},
		{"region digits", func(u *NewUser) { u.Region = "62080" }, "region"},
		{"region unknown", func(u *NewUser) { u.Region = "629999" }, "region"},
		{"password short", func(u *NewUser) { u.Password = "elevenchars" }, "password"},
		{"password bad utf-8", func(u *NewUser) { u.Password = "abcdefghijkl\xff" }, "password"},
	}
	for _, tc := range cases {
		in := ok
		tc.edit(&in)
		_, err := s.AddUser(t.Context(), Actor{Name: "t"}, in)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: %v, want a ValidationError on %s", tc.name, err, tc.field)
		}
	}
	if _, err := s.AddUser(t.Context(), Actor{Name: "t"}, NewUser{Name: "li", Role: RoleAnalyst, Region: "620802001", Password: "twelve chars"}); err != nil {
		t.Fatalf("township scope, 12 characters: %v", err)
	}
	if _, err := s.AddUser(t.Context(), Actor{Name: "t"}, ok); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestAdminScope(t *testing.T) {
	s, _, _ := sqliteService(t)
	ctx := t.Context()
	countyAdmin := &Principal{Kind: KindUser, Name: "ad", Role: RoleAdmin, Region: "620802"}
	analyst := &Principal{Kind: KindUser, Name: "an", Role: RoleAnalyst, Region: "620000"}
	screen := &Principal{Kind: KindScreen, Name: "token:x", Role: RoleAdmin, Region: "620000"}
	nu := func(reg string) NewUser {
		return NewUser{Name: "u" + reg, Role: RoleLeader, Region: reg, Password: goodPassword}
	}
	cases := []struct {
		name string
		by   *Principal
		reg  string
		want error
	}{
		{"own county", countyAdmin, "620802", nil},
		{"own township", countyAdmin, "620802001", nil},
		{"the city above", countyAdmin, "620800", ErrForbidden},
		{"a sibling county", countyAdmin, "620821", ErrForbidden},
		{"not an admin", analyst, "620802", ErrForbidden},
		{"a screen token", screen, "620802", ErrForbidden},
		{"the CLI", nil, "620000", nil},
	}
	for _, tc := range cases {
		by := Actor{Name: "x", Principal: tc.by}
		_, err := s.AddUser(ctx, by, nu(tc.reg))
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: add user: %v, want %v", tc.name, err, tc.want)
		}
		_, _, err = s.AddToken(ctx, by, NewToken{Screen: "overview", Region: tc.reg})
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: add token: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The county admin cannot disable the province user either, and sees
	// only the users and tokens of its scope.
	if err := s.DisableUser(ctx, countyAdmin.Actor("10.0.0.1"), "u620000"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("disable outside scope: %v", err)
	}
	us, _ := s.ListUsers(ctx, countyAdmin)
	ts, _ := s.ListTokens(ctx, countyAdmin)
	if len(us) != 2 || len(ts) != 2 {
		t.Fatalf("county admin sees %d users and %d tokens, want 2 and 2", len(us), len(ts))
	}
	for _, tk := range ts {
		if err := s.RevokeToken(ctx, countyAdmin.Actor(""), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := s.ListTokens(ctx, nil)
	for _, tk := range all {
		if tk.Region == "620000" {
			if err := s.RevokeToken(ctx, countyAdmin.Actor(""), tk.ID); !errors.Is(err, ErrForbidden) {
				t.Fatalf("revoke outside scope: %v", err)
			}
		}
	}
}

func TestAccountLockout(t *testing.T) {
	s, st, c := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	for i := range 5 {
		if _, err := s.Login(ctx, "li", "wrong password "+string(rune('a'+i)), "10.0.0."+string(rune('1'+i))); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// Locked now, even with the right password and from another address.
	_, err := s.Login(ctx, "li", goodPassword, "10.9.9.9")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.Reason != "account" || rl.RetryAfter != 15*time.Minute {
		t.Fatalf("locked login: %v", err)
	}
	if rl.RetryAfterSeconds() != "900" || !strings.Contains(rl.Error(), "15m0s") {
		t.Fatalf("retry after %q, message %q", rl.RetryAfterSeconds(), rl.Error())
	}
	// Other accounts are not locked.
	mustAddUser(t, s, "wang", RoleLeader, "620000")
	if _, err := s.Login(ctx, "wang", goodPassword, "10.9.9.9"); err != nil {
		t.Fatal(err)
	}
	c.Advance(14 * time.Minute)
	if _, err := s.Login(ctx, "li", goodPassword, "10.9.9.9"); !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Fatalf("a minute before the end: %v", err)
	}
	c.Advance(time.Minute)
	if _, err := s.Login(ctx, "li", goodPassword, "10.9.9.9"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionLoginLocked}); len(es) != 1 || es[0].Target != "li" {
		t.Fatalf("lock audit: %+v", es)
	}
	// Failures spread beyond the window do not add up.
	for range 10 {
		s.Login(ctx, "li", "wrong password!!", "10.0.0.1")
		s.Login(ctx, "li", "wrong password!!", "10.0.0.1")
		s.Login(ctx, "li", "wrong password!!", "10.0.0.1")
		s.Login(ctx, "li", "wrong password!!", "10.0.0.1")
		c.Advance(16 * time.Minute)
	}
	if _, err := s.Login(ctx, "li", goodPassword, "10.9.9.9"); err != nil {
		t.Fatalf("4 failures per window locked the account: %v", err)
	}
}

func TestAddressLimit(t *testing.T) {
	s, _, c := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	cases := []struct {
		name, first, second string
		shared              bool
	}{
		{"ipv4", "192.0.2.1", "192.0.2.2", false},
		{"ipv6 same /64", "2001:db8::1", "2001:db8::ffff", true},
		{"ipv6 other /64", "2001:db8:0:1::1", "2001:db8:0:2::1", false},
		{"mapped ipv4", "::ffff:198.51.100.7", "198.51.100.7", true},
	}
	for _, tc := range cases {
		c.Advance(time.Hour)
		for i := range 30 {
			if _, err := s.Login(ctx, "spray"+string(rune('a'+i)), goodPassword, tc.first); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%s attempt %d: %v", tc.name, i, err)
			}
		}
		c.Advance(20 * time.Second)
		_, err := s.Login(ctx, "li", goodPassword, tc.second)
		var rl *RateLimitError
		if tc.shared {
			if !errors.As(err, &rl) || rl.Reason != "address" || rl.RetryAfter != 40*time.Second {
				t.Errorf("%s: %v, want an address refusal for 40 s", tc.name, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v, want a login", tc.name, err)
		}
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	c := Config{}
	c.defaults()
	c.LimiterEntries = 100
	l := newLimiter(c)
	now := time.Now()
	for i := range 10_000 {
		name := "user" + string(rune(i))
		addr := "10.0." + string(rune('0'+i%10)) + "." + string(rune(i))
		l.attempt(name, addr, now)
		l.fail(name, now)
	}
	if len(l.accounts) > 100 || len(l.addrs) > 100 {
		t.Fatalf("%d accounts, %d addresses kept; want at most 100 each", len(l.accounts), len(l.addrs))
	}
}

func TestScreenTokens(t *testing.T) {
	s, st, _ := sqliteService(t)
	ctx := t.Context()
	by := Actor{Name: "cli:root"}
	secret, tok, err := s.AddToken(ctx, by, NewToken{Playlist: "hall", Region: "620800", Note: "平凉 hall, left wall"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, ScreenTokenPrefix) || !validTokenID(tok.ID) || strings.Contains(secret, tok.ID) {
		t.Fatalf("secret %q id %q", secret, tok.ID)
	}
	p, err := s.AuthenticateScreenToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Kind: KindScreen, Name: "token:" + tok.ID, Role: RoleScreen, Region: "620800", Playlist: "hall", TokenID: tok.ID}
	if *p != want {
		t.Fatalf("principal %+v, want %+v", *p, want)
	}
	if !p.Covers("620802") || p.Covers("620000") || p.CheckCSRF("") {
		t.Fatal("screen principal scope")
	}
	for _, bad := range []string{"", secret[4:], "ypt_", "ypt_" + strings.Repeat("A", 22), secret + "x", "Bearer " + secret} {
		if _, err := s.AuthenticateScreenToken(ctx, bad); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("AuthenticateScreenToken(%q): %v", bad, err)
		}
	}
	s.Flush(ctx) // the first use is written by the next flush
	got, _ := st.Token(ctx, tok.ID)
	if got.LastUsedAt.IsZero() {
		t.Fatal("first use not recorded")
	}
	if err := s.RevokeToken(ctx, by, tok.ID); err != nil {
		t.Fatal(err)
	}
	if s.Valid(ctx, p) {
		t.Fatal("valid after revoke")
	}
	if _, err := s.AuthenticateScreenToken(ctx, secret); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	if err := s.RevokeToken(ctx, by, tok.ID); err != nil {
		t.Fatalf("revoke twice: %v", err)
	}
	if err := s.RevokeToken(ctx, by, "zzzzzzzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke missing: %v", err)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionTokenRevoke}); len(es) != 1 {
		t.Fatalf("%d revoke entries, want 1", len(es))
	}

	cases := []struct {
		name  string
		in    NewToken
		field string
	}{
		{"both", NewToken{Screen: "a", Playlist: "b", Region: "620000"}, "screen"},
		{"neither", NewToken{Region: "620000"}, "screen"},
		{"bad screen", NewToken{Screen: "Over View", Region: "620000"}, "screen"},
		{"bad playlist", NewToken{Playlist: "hall/../x", Region: "620000"}, "playlist"},
		{"region", NewToken{Screen: "a", Region: "999999"}, "region"},
		{"long note", NewToken{Screen: "a", Region: "620000", Note: strings.Repeat("字", 201)}, "note"},
		{"control note", NewToken{Screen: "a", Region: "620000", Note: "a\nb"}, "note"},
	}
	for _, tc := range cases {
		_, _, err := s.AddToken(ctx, by, tc.in)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: %v, want a ValidationError on %s", tc.name, err, tc.field)
		}
	}
	if err := s.RevokeToken(ctx, by, "x'; --"); !errors.Is(err, ErrInvalid) {
		t.Errorf("malformed id: %v", err)
	}
}

// TestRevocationSeenAcrossProcesses: the CLI (another Service on the same
// database) revokes and disables; the server's Valid sees it within
// ValidTTL.
func TestRevocationSeenAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		c := newClock()
		server := newService(t, open(t, "x"), c)
		cli := newService(t, open(t, "x"), c)
		mustAddUser(t, cli, "li", RoleLeader, "620000")
		secret, tok, err := cli.AddToken(ctx, Actor{Name: "cli:root"}, NewToken{Screen: "overview", Region: "620000"})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := server.AuthenticateScreenToken(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		res, err := server.Login(ctx, "li", goodPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		up, _ := server.Authenticate(ctx, res.Token)
		if !server.Valid(ctx, sp) || !server.Valid(ctx, up) {
			t.Fatal("not valid at first")
		}
		if err := cli.RevokeToken(ctx, Actor{Name: "cli:root"}, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := cli.DisableUser(ctx, Actor{Name: "cli:root"}, "li"); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Second) // the default ValidTTL
		if server.Valid(ctx, sp) {
			t.Error("revoked token still valid after the TTL")
		}
		if server.Valid(ctx, up) {
			t.Error("disabled user's session still valid after the TTL")
		}
		if _, err := server.AuthenticateScreenToken(ctx, secret); !errors.Is(err, ErrRevoked) {
			t.Errorf("authenticate revoked: %v", err)
		}
	})
}

// countingStore counts the look-ups Valid and Authenticate cause.
type countingStore struct {
	Store
	reads atomic.Int64
}

func (c *countingStore) Session(ctx context.Context, id string) (Session, User, error) {
	c.reads.Add(1)
	return c.Store.Session(ctx, id)
}

func (c *countingStore) Token(ctx context.Context, id string) (Token, error) {
	c.reads.Add(1)
	return c.Store.Token(ctx, id)
}

func (c *countingStore) TokenBySecret(ctx context.Context, h string) (Token, error) {
	c.reads.Add(1)
	return c.Store.TokenBySecret(ctx, h)
}

// TestValidIsCheap: 2,000 screens sharing 3 tokens, each checking every
// "2 seconds" for a minute, cost a handful of store reads per TTL.
func TestValidIsCheap(t *testing.T) {
	st := &countingStore{Store: sqliteOpener(t)(t, "db")}
	c := newClock()
	s := newService(t, st, c)
	ctx := t.Context()
	var secrets []string
	for _, id := range []string{"overview", "service", "hotline"} {
		sec, _, err := s.AddToken(ctx, Actor{Name: "t"}, NewToken{Screen: id, Region: "620000"})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, sec)
	}
	screens := make([]*Principal, 2000)
	for i := range screens {
		p, err := s.AuthenticateScreenToken(ctx, secrets[i%3])
		if err != nil {
			t.Fatal(err)
		}
		screens[i] = p
	}
	connects := st.reads.Load()
	for range 30 {
		c.Advance(2 * time.Second)
		var wg sync.WaitGroup
		for _, p := range screens {
			wg.Go(func() {
				if !s.Valid(ctx, p) {
					t.Error("not valid")
				}
			})
		}
		wg.Wait()
	}
	// One read per token per TTL; a few more where a reload races a check.
	if n := st.reads.Load() - connects; n > 3*30*2 {
		t.Fatalf("%d store reads for 60,000 checks", n)
	}
	if connects > 3*2 {
		t.Fatalf("%d store reads for 2,000 connections with 3 tokens", connects)
	}
}

func TestFirstStart(t *testing.T) {
	s, st, _ := sqliteService(t)
	ctx := t.Context()
	fs, err := s.FirstStart(ctx)
	if err != nil || fs == nil {
		t.Fatalf("FirstStart = %+v, %v", fs, err)
	}
	if fs.AdminName != "admin" || len(fs.AdminPassword) < MinPasswordLen || fs.Playlist != "hall" {
		t.Fatalf("secrets %+v", fs)
	}
	res, err := s.Login(ctx, "admin", fs.AdminPassword, "")
	if err != nil || res.User.Role != RoleAdmin || res.User.Region != "620000" {
		t.Fatalf("admin login: %+v %v", res, err)
	}
	p, err := s.AuthenticateScreenToken(ctx, fs.Token)
	if err != nil || p.Playlist != "hall" || p.Region != "620000" || p.TokenID != fs.TokenID {
		t.Fatalf("demo token: %+v %v", p, err)
	}
	again, err := s.FirstStart(ctx)
	if again != nil || err != nil {
		t.Fatalf("second FirstStart = %+v, %v; want nothing", again, err)
	}
	if es, _ := st.Audit(ctx, AuditFilter{Action: ActionFirstStart}); len(es) != 1 || es[0].Actor != "system" {
		t.Fatalf("first start audit: %+v", es)
	}
}

func TestServiceAudit(t *testing.T) {
	s, _, c := sqliteService(t)
	ctx := t.Context()
	if err := s.Audit(ctx, AuditEntry{Actor: "li"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no action: %v", err)
	}
	if err := s.Audit(ctx, AuditEntry{Action: ActionExport}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no actor: %v", err)
	}
	if err := s.Audit(ctx, AuditEntry{Actor: "li", Action: ActionExport, Target: "/api/export?region=620802", Addr: "10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	es, err := s.ListAudit(ctx, AuditFilter{Action: ActionExport})
	if err != nil || len(es) != 1 || !es[0].At.Equal(c.Now()) {
		t.Fatalf("ListAudit = %+v, %v", es, err)
	}
}

func TestPrune(t *testing.T) {
	s, st, c := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	old, _ := s.Login(ctx, "li", goodPassword, "")
	c.Advance(2 * time.Hour)
	// This login prunes: the first session is idle past 30 minutes.
	fresh, _ := s.Login(ctx, "li", goodPassword, "")
	if _, _, err := st.Session(ctx, secretHash(old.Token)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale session kept: %v", err)
	}
	if _, _, err := st.Session(ctx, secretHash(fresh.Token)); err != nil {
		t.Fatalf("fresh session pruned: %v", err)
	}
	if n, err := s.Prune(ctx); n != 0 || err != nil {
		t.Fatalf("Prune = %d, %v", n, err)
	}
}

func TestNewNeedsStore(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

// TestUnknownUserCostsTheSame: an unknown user's login hashes too, so its
// time does not tell that the user does not exist.
func TestUnknownUserCostsTheSame(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	s, _, _ := sqliteService(t, func(c *Config) { c.Hash = DefaultHashParams(); c.AccountFailures, c.AddrAttempts = -1, -1 })
	mustAddUser(t, s, "li", RoleLeader, "620000")
	measure := func(name string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			s.Login(t.Context(), name, "wrong password!!", "")
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := measure("li"), measure("nobody")
	if unknown < known/2 {
		t.Fatalf("unknown user %v, known user %v: the unknown one skips the hash", unknown, known)
	}
}

// TestSharedSessionNotEndedByStaleCache: two servers on one database; the
// user's requests go to one of them for a while. The other, whose cached
// copy of the session is old, must not end the session as idle.
func TestSharedSessionNotEndedByStaleCache(t *testing.T) {
	open := sqliteOpener(t)
	c := newClock()
	a := newService(t, open(t, "x"), c)
	b := newService(t, open(t, "x"), c, func(cfg *Config) { cfg.ValidTTL = time.Hour })
	mustAddUser(t, a, "li", RoleLeader, "620000")
	res, err := a.Login(t.Context(), "li", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(t.Context(), res.Token); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		c.Advance(10 * time.Minute)
		if _, err := a.Authenticate(t.Context(), res.Token); err != nil {
			t.Fatal(err)
		}
		a.Flush(t.Context()) // a writes its uses within a minute
	}
	if _, err := b.Authenticate(t.Context(), res.Token); err != nil {
		t.Fatalf("server b ended a session active on server a: %v", err)
	}
	if _, err := a.Authenticate(t.Context(), res.Token); err != nil {
		t.Fatalf("session gone: %v", err)
	}
}
