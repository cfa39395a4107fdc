package access

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// batchStore counts the batch reads and can fail them.
type batchStore struct {
	Store
	sessionReads, tokenReads, touches atomic.Int64
	fail                              atomic.Bool
}

func (b *batchStore) SessionsByID(ctx context.Context, ids []string) (map[string]SessionUser, error) {
	b.sessionReads.Add(1)
	if b.fail.Load() {
		return nil, errors.New("database gone")
	}
	return b.Store.SessionsByID(ctx, ids)
}

func (b *batchStore) TokenStates(ctx context.Context, ids []string) (map[string]TokenState, error) {
	b.tokenReads.Add(1)
	if b.fail.Load() {
		return nil, errors.New("database gone")
	}
	return b.Store.TokenStates(ctx, ids)
}

func (b *batchStore) Touch(ctx context.Context, sessions, tokens map[string]time.Time) error {
	b.touches.Add(1)
	return b.Store.Touch(ctx, sessions, tokens)
}

// names lists principals' names and sessions for messages.
func names(ps []*Principal) []string {
	var out []string
	for _, p := range ps {
		if p == nil {
			out = append(out, "<nil>")
			continue
		}
		out = append(out, p.Name+"/"+p.SessionID[:min(6, len(p.SessionID))])
	}
	slices.Sort(out)
	return out
}

// TestInvalidInOneBatch: 3,000 screens sharing 3 tokens and 4 sessions of
// 2 users are checked with one read per kind; changes made by another
// process (the CLI) are seen by the next call without waiting for any
// cache; only the principals concerned are returned.
func TestInvalidInOneBatch(t *testing.T) {
	engines(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		c := newClock()
		st := &batchStore{Store: open(t, "x")}
		server := newService(t, st, c)
		cli := newService(t, open(t, "x"), c)
		mustAddUser(t, cli, "li", RoleLeader, "620000")
		mustAddUser(t, cli, "wang", RoleOperator, "620800")
		var secrets, ids []string
		for _, screen := range []string{"overview", "service", "hotline"} {
			sec, tok, err := cli.AddToken(ctx, Actor{Name: "cli:root"}, NewToken{Screen: screen, Region: "620100"})
			if err != nil {
				t.Fatal(err)
			}
			secrets, ids = append(secrets, sec), append(ids, tok.ID)
		}
		var ps []*Principal
		for i := range 3000 {
			p, err := server.AuthenticateScreenToken(ctx, secrets[i%3])
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		users := map[string][]*Principal{}
		for _, name := range []string{"li", "li", "wang", "wang"} {
			res, err := server.Login(ctx, name, goodPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			p, err := server.Authenticate(ctx, res.Token)
			if err != nil {
				t.Fatal(err)
			}
			users[name] = append(users[name], p, p) // two websockets each
			ps = append(ps, p, p)
		}
		if bad := server.Invalid(ctx, ps); len(bad) != 0 {
			t.Fatalf("fresh principals invalid: %v", names(bad))
		}
		if s, k := st.sessionReads.Load(), st.tokenReads.Load(); s != 1 || k != 1 {
			t.Fatalf("%d session and %d token reads for one check, want 1 and 1", s, k)
		}

		// Another process revokes a token and disables a user: seen at once
		// (the server's cache still holds both as good).
		if err := cli.RevokeToken(ctx, Actor{Name: "cli:root"}, ids[1]); err != nil {
			t.Fatal(err)
		}
		if err := cli.DisableUser(ctx, Actor{Name: "cli:root"}, "wang"); err != nil {
			t.Fatal(err)
		}
		var want []*Principal
		for _, p := range ps {
			if p.TokenID == ids[1] || p.Name == "wang" {
				want = append(want, p)
			}
		}
		if got := server.Invalid(ctx, ps); !slices.Equal(got, want) {
			t.Fatalf("invalid after revoke and disable: %d principals %v…, want %d", len(got), names(got)[:min(3, len(got))], len(want))
		}
		// What the check saw holds for new requests at once, not after the
		// cache's TTL (the clock has not moved): the revoked token no
		// longer opens a screen, wang's sessions are over, the others are
		// untouched.
		if _, err := server.AuthenticateScreenToken(ctx, secrets[1]); !errors.Is(err, ErrRevoked) {
			t.Fatalf("revoked token after the check: %v, want ErrRevoked", err)
		}
		if _, err := server.AuthenticateScreenToken(ctx, secrets[0]); err != nil {
			t.Fatalf("a good token after the check: %v", err)
		}

		// A principal that does not match what the store says (another
		// region, role, name), an unknown token, a session logged out, a
		// nil: invalid.
		other := *ps[0]
		other.Region = "620000"
		role := *users["li"][0]
		role.Role = RoleAdmin
		unknown := &Principal{Kind: KindScreen, Name: "token:zzzzzzzz", Role: RoleScreen, Region: "620100", TokenID: "zzzzzzzz"}
		odd := &Principal{Kind: "robot", Name: "r"}
		if err := server.Logout(ctx, users["li"][2], ""); err != nil {
			t.Fatal(err)
		}
		check := []*Principal{ps[0], &other, &role, unknown, odd, nil, users["li"][0], users["li"][2]}
		if got, want := names(server.Invalid(ctx, check)), names([]*Principal{&other, &role, unknown, odd, nil, users["li"][2]}); !slices.Equal(got, want) {
			t.Fatalf("invalid = %v, want %v", got, want)
		}

		// A store failure makes what it concerns invalid; an ended context
		// says nothing.
		st.fail.Store(true)
		if got := server.Invalid(ctx, ps[:3]); len(got) != 3 {
			t.Fatalf("store failing: %d invalid, want 3", len(got))
		}
		st.fail.Store(false)
		done, cancel := context.WithCancel(ctx)
		cancel()
		if got := server.Invalid(done, ps); got != nil {
			t.Fatalf("ended context: %d invalid, want none reported", len(got))
		}
	})
}

// TestInvalidTimeouts: the batch check applies the idle and absolute
// timeouts, counting uses recorded but not written yet.
func TestInvalidTimeouts(t *testing.T) {
	s, st, c := sqliteService(t)
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	login := func() (string, *Principal) {
		res, err := s.Login(ctx, "li", goodPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Authenticate(ctx, res.Token)
		if err != nil {
			t.Fatal(err)
		}
		return res.Token, p
	}
	valid := func(p *Principal) bool { return len(s.Invalid(ctx, []*Principal{p})) == 0 }

	// Idle: checking is not activity.
	_, idle := login()
	c.Advance(29*time.Minute + 59*time.Second)
	if !valid(idle) {
		t.Fatal("invalid before the idle timeout")
	}
	c.Advance(time.Second)
	if valid(idle) {
		t.Fatal("valid at the idle timeout")
	}

	// Activity recorded in memory keeps a session alive although the
	// store's last-seen time is older than the idle timeout.
	tok, active := login()
	c.Advance(20 * time.Minute)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	c.Advance(20 * time.Minute)
	if se, _, _ := st.Session(ctx, active.SessionID); c.Now().Sub(se.LastSeen) < 30*time.Minute {
		t.Fatalf("the use was written already (last seen %v)", se.LastSeen)
	}
	if !valid(active) {
		t.Fatal("active session invalid: the recorded use was not counted")
	}
	if _, err := s.Authenticate(ctx, tok); err != nil { // reloads from the store, plus the recorded use
		t.Fatalf("active session ended: %v", err)
	}

	// Absolute: 12 h after the login whatever the activity.
	tok, abs := login()
	for range 35 { // 35 × 20 min = 11 h 40 min
		c.Advance(20 * time.Minute)
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(19*time.Minute + 59*time.Second)
	if !valid(abs) {
		t.Fatal("invalid before the absolute timeout")
	}
	c.Advance(time.Second)
	if valid(abs) {
		t.Fatal("valid at the absolute timeout")
	}
}

// TestUsesAreWrittenBehind: an authentication records its use in memory;
// the uses are written together by the timer (at most every TouchEvery),
// by Flush and by Close, never on the request path; after Close a use is
// written at once.
func TestUsesAreWrittenBehind(t *testing.T) {
	st := &batchStore{Store: sqliteOpener(t)(t, "db")}
	c := newClock()
	s := newService(t, st, c, func(cfg *Config) { cfg.TouchEvery = 500 * time.Millisecond })
	ctx := t.Context()
	mustAddUser(t, s, "li", RoleLeader, "620000")
	res, _ := s.Login(ctx, "li", goodPassword, "")
	var secrets []string
	for range 3 {
		sec, _, err := s.AddToken(ctx, Actor{Name: "t"}, NewToken{Screen: "overview", Region: "620000"})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, sec)
	}
	c.Advance(time.Second) // past TouchEvery: the session's use counts again
	start := time.Now()
	if _, err := s.Authenticate(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	var ps []*Principal
	for _, sec := range secrets {
		p, err := s.AuthenticateScreenToken(ctx, sec)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if n := st.touches.Load(); n != 0 {
		t.Fatalf("%d writes on the request path", n)
	}
	written := func() bool {
		se, _, _ := st.Session(ctx, secretHash(res.Token))
		for _, p := range ps {
			if tk, _ := st.Token(ctx, p.TokenID); !tk.LastUsedAt.Equal(c.Now()) {
				return false
			}
		}
		return se.LastSeen.Equal(c.Now())
	}
	for !written() {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the timer did not write the uses")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := st.touches.Load(); n != 1 {
		t.Fatalf("%d writes for 4 uses, want 1", n)
	}

	// Close writes what is pending, then uses are written as they come.
	c.Advance(time.Minute)
	s.AuthenticateScreenToken(ctx, secrets[0])
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if tk, _ := st.Token(ctx, ps[0].TokenID); !tk.LastUsedAt.Equal(c.Now()) {
		t.Fatalf("Close did not write the last use: %v", tk.LastUsedAt)
	}
	c.Advance(time.Minute)
	s.AuthenticateScreenToken(ctx, secrets[1])
	if tk, _ := st.Token(ctx, ps[1].TokenID); !tk.LastUsedAt.Equal(c.Now()) {
		t.Fatalf("a use after Close not written: %v", tk.LastUsedAt)
	}
}
