package access

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// TestStoreContract is the one suite both stores pass.
func TestStoreContract(t *testing.T) {
	engines(t, func(t *testing.T, open opener) {
		t.Run("users", func(t *testing.T) { contractUsers(t, open(t, "users")) })
		t.Run("sessions", func(t *testing.T) { contractSessions(t, open(t, "sessions")) })
		t.Run("tokens", func(t *testing.T) { contractTokens(t, open(t, "tokens")) })
		t.Run("batch", func(t *testing.T) { contractBatch(t, open(t, "batch")) })
		t.Run("audit", func(t *testing.T) { contractAudit(t, open(t, "audit")) })
		t.Run("append-only", func(t *testing.T) { contractAppendOnly(t, open(t, "appendonly")) })
		t.Run("migrate", func(t *testing.T) { contractMigrate(t, open, "migrate") })
		t.Run("two processes", func(t *testing.T) { contractShared(t, open(t, "shared"), open(t, "shared")) })
	})
}

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 123456000, time.UTC)

func contractUsers(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	u := User{Name: "li", Role: RoleAnalyst, Region: "620802", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(ctx, u, "hash1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, u, "hash2"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate user: %v, want ErrExists", err)
	}
	if err := s.CreateUser(ctx, User{Name: "an", Role: RoleAdmin, Region: "620000", CreatedAt: t0, UpdatedAt: t0}, "h"); err != nil {
		t.Fatal(err)
	}
	got, hash, err := s.User(ctx, "li")
	if err != nil || hash != "hash1" || !sameUser(got, u) {
		t.Fatalf("User = %+v %q %v, want %+v hash1", got, hash, err, u)
	}
	if _, _, err := s.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	us, err := s.Users(ctx)
	if err != nil || len(us) != 2 || us[0].Name != "an" || us[1].Name != "li" {
		t.Fatalf("Users = %+v, %v", us, err)
	}
	if n, err := s.CountUsers(ctx); n != 2 || err != nil {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
	t1 := t0.Add(time.Hour)
	if err := s.SetDisabled(ctx, "li", true, t1); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.User(ctx, "li")
	if !got.Disabled || !got.UpdatedAt.Equal(t1) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after disable: %+v", got)
	}
	if err := s.SetDisabled(ctx, "li", false, t1); err != nil {
		t.Fatal(err)
	}
	if got, _, _ = s.User(ctx, "li"); got.Disabled {
		t.Fatal("enable did not")
	}
	if err := s.SetPasswordHash(ctx, "li", "hash3", t1, false); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ = s.User(ctx, "li"); hash != "hash3" {
		t.Fatalf("hash = %q", hash)
	}
	for name, err := range map[string]error{
		"disable":  s.SetDisabled(ctx, "nobody", true, t1),
		"password": s.SetPasswordHash(ctx, "nobody", "x", t1, true),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing user: %v", name, err)
		}
	}
}

func sameUser(a, b User) bool {
	return a.Name == b.Name && a.Role == b.Role && a.Region == b.Region && a.Disabled == b.Disabled &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func contractSessions(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	for _, n := range []string{"li", "wang"} {
		if err := s.CreateUser(ctx, User{Name: n, Role: RoleLeader, Region: "620000", CreatedAt: t0, UpdatedAt: t0}, "h"); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(id, user string, created, seen time.Time) Session {
		se := Session{ID: id, User: user, CSRF: "csrf-" + id, CreatedAt: created, LastSeen: seen, Addr: "10.0.0.1"}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
		return se
	}
	a := mk("a", "li", t0, t0)
	mk("b", "li", t0, t0)
	mk("c", "wang", t0, t0)
	if err := s.CreateSession(ctx, Session{ID: "a", User: "li", CreatedAt: t0, LastSeen: t0}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate session: %v", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "x", User: "nobody", CreatedAt: t0, LastSeen: t0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of a missing user: %v, want ErrNotFound", err)
	}
	se, u, err := s.Session(ctx, "a")
	if err != nil || !(se.ID == a.ID && se.User == a.User && se.CSRF == a.CSRF && se.Addr == a.Addr &&
		se.CreatedAt.Equal(a.CreatedAt) && se.LastSeen.Equal(a.LastSeen)) || u.Name != "li" || u.Role != RoleLeader {
		t.Fatalf("Session = %+v %+v %v, want %+v", se, u, err, a)
	}
	t1 := t0.Add(5 * time.Minute)
	if err := s.TouchSession(ctx, "a", t1); err != nil {
		t.Fatal(err)
	}
	if se, _, _ = s.Session(ctx, "a"); !se.LastSeen.Equal(t1) {
		t.Fatalf("LastSeen = %v, want %v", se.LastSeen, t1)
	}
	if err := s.TouchSession(ctx, "zz", t1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("touch missing: %v", err)
	}
	if err := s.DeleteSession(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, _, err := s.Session(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	// Disabling ends every session of the user, and only of that user.
	mk("b2", "li", t0, t0)
	if err := s.SetDisabled(ctx, "li", true, t1); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]error{"a": ErrNotFound, "b2": ErrNotFound, "c": nil} {
		if _, _, err := s.Session(ctx, id); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("session %s after disabling li: %v, want %v", id, err, want)
		}
	}
	// A password change can end them too.
	mk("c2", "wang", t0, t0)
	if err := s.SetPasswordHash(ctx, "wang", "h2", t1, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, "c2"); err != nil {
		t.Fatalf("password change without ending sessions ended one: %v", err)
	}
	if err := s.SetPasswordHash(ctx, "wang", "h3", t1, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, "c2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("password change with endSessions kept a session: %v", err)
	}
	// Stale sessions: idle (last seen long ago) or old (created long ago).
	if err := s.SetDisabled(ctx, "li", false, t1); err != nil {
		t.Fatal(err)
	}
	mk("idle", "li", t0, t0)
	mk("old", "li", t0.Add(-13*time.Hour), t1)
	mk("fresh", "li", t0, t1)
	n, err := s.DeleteStaleSessions(ctx, t1.Add(-time.Minute), t0.Add(-12*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteStaleSessions = %d, %v; want 2", n, err)
	}
	if _, _, err := s.Session(ctx, "fresh"); err != nil {
		t.Fatalf("fresh session pruned: %v", err)
	}
}

func contractTokens(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	a := Token{ID: "aaaaaaaa", Playlist: "hall", Region: "620000", Note: "大厅 wall", CreatedBy: "cli:root", CreatedAt: t0}
	b := Token{ID: "bbbbbbbb", Screen: "overview", Region: "620802", CreatedBy: "admin", CreatedAt: t0.Add(time.Minute)}
	if err := s.CreateToken(ctx, a, "hash-a"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, b, "hash-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, Token{ID: "aaaaaaaa", Screen: "x", Region: "620000", CreatedAt: t0}, "hash-c"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := s.CreateToken(ctx, Token{ID: "cccccccc", Screen: "x", Region: "620000", CreatedAt: t0}, "hash-a"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate secret: %v", err)
	}
	got, err := s.TokenBySecret(ctx, "hash-a")
	if err != nil || !sameToken(got, a) {
		t.Fatalf("TokenBySecret = %+v, %v; want %+v", got, err, a)
	}
	if got, err = s.Token(ctx, "bbbbbbbb"); err != nil || !sameToken(got, b) {
		t.Fatalf("Token = %+v, %v; want %+v", got, err, b)
	}
	for _, err := range []error{
		func() error { _, err := s.TokenBySecret(ctx, "nope"); return err }(),
		func() error { _, err := s.Token(ctx, "nope"); return err }(),
		s.RevokeToken(ctx, "nope", t0),
		s.TouchToken(ctx, "nope", t0),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("missing token: %v, want ErrNotFound", err)
		}
	}
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].ID != "bbbbbbbb" || ts[1].ID != "aaaaaaaa" {
		t.Fatalf("Tokens = %+v, %v; want newest first", ts, err)
	}
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	if err := s.TouchToken(ctx, "aaaaaaaa", t1); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "aaaaaaaa", t1); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "aaaaaaaa", t2); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	got, _ = s.Token(ctx, "aaaaaaaa")
	if !got.Revoked() || !got.RevokedAt.Equal(t1) || !got.LastUsedAt.Equal(t1) {
		t.Fatalf("after revoke: %+v; want revoked and used at %v", got, t1)
	}
	if got, _ = s.Token(ctx, "bbbbbbbb"); got.Revoked() || !got.LastUsedAt.IsZero() {
		t.Fatalf("untouched token: %+v", got)
	}
}

// contractBatch: the reads and the write of the batch validity check and
// of the write-behind of last uses, across chunks (idChunk is lowered).
func contractBatch(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	defer func(n int) { idChunk = n }(idChunk)
	idChunk = 2
	li := User{Name: "li", Role: RoleLeader, Region: "620800", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(ctx, li, "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, User{Name: "wang", Role: RoleAdmin, Region: "620000", CreatedAt: t0, UpdatedAt: t0}, "h"); err != nil {
		t.Fatal(err)
	}
	var sids, tids []string
	for i := range 5 {
		se := Session{ID: fmt.Sprintf("s%d", i), User: "li", CSRF: "c", CreatedAt: t0, LastSeen: t0.Add(time.Duration(i) * time.Second), Addr: "a"}
		if i == 4 {
			se.User = "wang"
		}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
		sids = append(sids, se.ID)
	}
	toks := map[string]Token{}
	for i := range 5 {
		tk := Token{ID: fmt.Sprintf("tok%05d", i), Screen: "overview", Region: "620802", CreatedBy: "x", CreatedAt: t0}
		if err := s.CreateToken(ctx, tk, fmt.Sprintf("hash-%d", i)); err != nil {
			t.Fatal(err)
		}
		toks[tk.ID] = tk
		tids = append(tids, tk.ID)
	}
	if err := s.RevokeToken(ctx, "tok00003", t0); err != nil {
		t.Fatal(err)
	}
	tk3 := toks["tok00003"]
	tk3.RevokedAt = t0
	toks["tok00003"] = tk3

	got, err := s.SessionsByID(ctx, append([]string{"nope", "s1"}, sids...))
	if err != nil || len(got) != 5 {
		t.Fatalf("SessionsByID = %v, %v; want 5", got, err)
	}
	for i, id := range sids {
		su := got[id]
		want := "li"
		if i == 4 {
			want = "wang"
		}
		if su.Session.ID != id || su.Session.User != want || su.User.Name != want ||
			!su.Session.LastSeen.Equal(t0.Add(time.Duration(i)*time.Second)) || !su.Session.CreatedAt.Equal(t0) {
			t.Errorf("session %s: %+v", id, su)
		}
	}
	if !sameUser(got["s0"].User, li) {
		t.Errorf("session's user %+v, want %+v", got["s0"].User, li)
	}
	if got, err := s.SessionsByID(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("SessionsByID(nil) = %v, %v", got, err)
	}
	gotT, err := s.TokenStates(ctx, append([]string{"zzzzzzzz", "tok00003"}, tids...))
	if err != nil || len(gotT) != 5 {
		t.Fatalf("TokenStates = %v, %v; want 5", gotT, err)
	}
	for id, want := range toks {
		if got := gotT[id]; got.Region != want.Region || !got.RevokedAt.Equal(want.RevokedAt) {
			t.Errorf("token %s: %+v, want %+v", id, gotT[id], want)
		}
	}
	if gotT, err := s.TokenStates(ctx, nil); err != nil || len(gotT) != 0 {
		t.Fatalf("TokenStates(nil) = %v, %v", gotT, err)
	}

	// Touch: forward only, missing ids skipped, every chunk written.
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	ss := map[string]time.Time{"gone": t1}
	ts := map[string]time.Time{"zzzzzzzz": t1}
	for _, id := range sids {
		ss[id] = t1
	}
	for _, id := range tids {
		ts[id] = t1
	}
	if err := s.Touch(ctx, ss, ts); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, map[string]time.Time{"s0": t0, "s1": t2}, map[string]time.Time{"tok00000": t0, "tok00001": t2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = s.SessionsByID(ctx, sids)
	for _, id := range sids {
		if want := map[bool]time.Time{true: t2, false: t1}[id == "s1"]; !got[id].Session.LastSeen.Equal(want) {
			t.Errorf("session %s last seen %v, want %v", id, got[id].Session.LastSeen, want)
		}
	}
	for _, id := range tids {
		tk, _ := s.Token(ctx, id)
		if want := map[bool]time.Time{true: t2, false: t1}[id == "tok00001"]; !tk.LastUsedAt.Equal(want) {
			t.Errorf("token %s last used %v, want %v", id, tk.LastUsedAt, want)
		}
	}
}

func sameToken(a, b Token) bool {
	return a.ID == b.ID && a.Screen == b.Screen && a.Playlist == b.Playlist && a.Region == b.Region &&
		a.Note == b.Note && a.CreatedBy == b.CreatedBy && a.CreatedAt.Equal(b.CreatedAt) &&
		a.RevokedAt.Equal(b.RevokedAt) && a.LastUsedAt.Equal(b.LastUsedAt)
}

func contractAudit(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	actions := []string{ActionLogin, ActionLoginFailed, ActionTokenAdd, ActionLogin, ActionExport}
	for i, a := range actions {
		e := AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Actor: []string{"li", "wang"}[i%2], Action: a,
			Target: fmt.Sprint("t", i), Detail: "d", Addr: "10.0.0.9"}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Audit(ctx, AuditFilter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("all: %d entries, %v", len(all), err)
	}
	for i, e := range all {
		want := 4 - i // newest first
		if e.Action != actions[want] || !e.At.Equal(t0.Add(time.Duration(want)*time.Minute)) || e.Addr != "10.0.0.9" || e.Detail != "d" {
			t.Errorf("entry %d = %+v, want action %s", i, e, actions[want])
		}
		if i > 0 && e.ID >= all[i-1].ID {
			t.Errorf("ids not decreasing: %d after %d", e.ID, all[i-1].ID)
		}
	}
	cases := []struct {
		name string
		f    AuditFilter
		want []string // targets
	}{
		{"actor", AuditFilter{Actor: "li"}, []string{"t4", "t2", "t0"}},
		{"action", AuditFilter{Action: ActionLogin}, []string{"t3", "t0"}},
		{"target", AuditFilter{Target: "t2"}, []string{"t2"}},
		{"since", AuditFilter{Since: t0.Add(3 * time.Minute)}, []string{"t4", "t3"}},
		{"until", AuditFilter{Until: t0.Add(1 * time.Minute)}, []string{"t0"}},
		{"range and actor", AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(4 * time.Minute), Actor: "wang"}, []string{"t3", "t1"}},
		{"limit", AuditFilter{Limit: 2}, []string{"t4", "t3"}},
		{"page 2", AuditFilter{Limit: 2, BeforeID: all[1].ID}, []string{"t2", "t1"}},
		{"page 3", AuditFilter{Limit: 2, BeforeID: all[3].ID}, []string{"t0"}},
		{"none", AuditFilter{Actor: "nobody"}, nil},
	}
	for _, tc := range cases {
		es, err := s.Audit(ctx, tc.f)
		var got []string
		for _, e := range es {
			got = append(got, e.Target)
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// Whatever a caller puts in an entry is stored, cut to size.
	odd := AuditEntry{At: t0, Actor: "x\x00y", Action: "odd", Target: "bad \xff utf-8", Detail: strings.Repeat("详", 1000)}
	if err := s.AppendAudit(ctx, odd); err != nil {
		t.Fatalf("odd entry: %v", err)
	}
	es, err := s.Audit(ctx, AuditFilter{Action: "odd"})
	if err != nil || len(es) != 1 {
		t.Fatalf("odd entry: %v %v", es, err)
	}
	if e := es[0]; e.Actor != "x\uFFFDy" || e.Target != "bad \uFFFD utf-8" || len(e.Detail) > maxAuditDetail || !strings.HasSuffix(e.Detail, "详…") {
		t.Errorf("odd entry stored as %q %q %d bytes", e.Actor, e.Target, len(e.Detail))
	}
	if es, _ := s.Audit(ctx, AuditFilter{Limit: 5000}); len(es) != 6 {
		t.Errorf("limit above max: %d entries", len(es))
	}
}

func contractAppendOnly(t *testing.T, s *SQLStore) {
	ctx := t.Context()
	if err := s.AppendAudit(ctx, AuditEntry{At: t0, Actor: "li", Action: ActionLogin}); err != nil {
		t.Fatal(err)
	}
	stmts := []string{`UPDATE audit SET actor = 'mallory'`, `DELETE FROM audit`}
	if s.Dialect() == Postgres {
		stmts = append(stmts, `TRUNCATE audit`)
	}
	for _, q := range stmts {
		_, err := s.DB().ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	es, err := s.Audit(ctx, AuditFilter{})
	if err != nil || len(es) != 1 || es[0].Actor != "li" {
		t.Fatalf("after tampering: %+v, %v", es, err)
	}
}

func contractMigrate(t *testing.T, open opener, name string) {
	ctx := t.Context()
	s := open(t, name)
	if err := s.CreateUser(ctx, User{Name: "li", Role: RoleAdmin, Region: "620000", CreatedAt: t0, UpdatedAt: t0}, "h"); err != nil {
		t.Fatal(err)
	}
	// Opening again migrates nothing and keeps the data.
	again := open(t, name)
	if n, err := again.CountUsers(ctx); n != 1 || err != nil {
		t.Fatalf("reopened: %d users, %v", n, err)
	}
	// Another component adds its tables beside ours, in steps.
	steps := []Migration{
		{Version: 1, Both: []string{`CREATE TABLE orders (id TEXT PRIMARY KEY)`}},
		{Version: 2, Both: []string{`ALTER TABLE orders ADD COLUMN state TEXT NOT NULL DEFAULT 'issued'`}},
	}
	if err := s.Migrate(ctx, "dispatch", steps[:1]); err != nil {
		t.Fatal(err)
	}
	if err := again.Migrate(ctx, "dispatch", steps); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, "dispatch", steps); err != nil {
		t.Fatalf("migrating twice: %v", err)
	}
	if _, err := s.DB().ExecContext(ctx, s.Rebind(`INSERT INTO orders (id) VALUES (?)`), "o1"); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := s.DB().QueryRowContext(ctx, `SELECT state FROM orders`).Scan(&state); err != nil || state != "issued" {
		t.Fatalf("state = %q, %v", state, err)
	}
	// An older program refuses a newer database rather than misread it.
	if err := s.Migrate(ctx, "dispatch", steps[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older program: %v", err)
	}
	// A failed step leaves nothing behind.
	bad := append(steps, Migration{Version: 3, Both: []string{`CREATE TABLE extra (x INTEGER)`, `THIS IS NOT SQL`}})
	if err := s.Migrate(ctx, "dispatch", bad); err == nil {
		t.Fatal("a bad step succeeded")
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO extra (x) VALUES (1)`); err == nil {
		t.Fatal("the failed step's first statement stayed")
	}
	if err := s.Migrate(ctx, "dispatch", []Migration{{Version: 2}}); err == nil {
		t.Fatal("a list not starting at 1 was accepted")
	}
}

// contractShared: two stores on one database, as the server and the CLI.
func contractShared(t *testing.T, a, b *SQLStore) {
	ctx := t.Context()
	if err := a.CreateUser(ctx, User{Name: "li", Role: RoleLeader, Region: region.Code("620000"), CreatedAt: t0, UpdatedAt: t0}, "h"); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSession(ctx, Session{ID: "s", User: "li", CSRF: "c", CreatedAt: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetDisabled(ctx, "li", true, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, "s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after the other process disabled the user: %v", err)
	}
	// Concurrent writers wait for each other instead of failing.
	errs := make(chan error, 40)
	for i := range 40 {
		st := a
		if i%2 == 1 {
			st = b
		}
		go func() {
			errs <- st.AppendAudit(ctx, AuditEntry{At: t0, Actor: "w", Action: "x", Target: fmt.Sprint(i)})
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent append: %v", err)
		}
	}
	if es, _ := b.Audit(ctx, AuditFilter{Actor: "w"}); len(es) != 40 {
		t.Fatalf("%d entries, want 40", len(es))
	}
}
