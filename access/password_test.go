package access

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestHashDefaults(t *testing.T) {
	p := DefaultHashParams()
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 || p.SaltLen < 16 {
		t.Fatalf("default %+v is below OWASP's minimum for argon2id", p)
	}
	start := time.Now()
	h, err := hashPassword(rand.Reader, p, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one default hash: %v", time.Since(start))
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not the PHC string of the defaults", h)
	}
	got, salt, key, err := parseHash(h)
	if err != nil || got != p || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("parse: %+v %d %d %v", got, len(salt), len(key), err)
	}
	h2, _ := hashPassword(rand.Reader, p, goodPassword)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{{goodPassword, true}, {goodPassword + " ", false}, {"", false}} {
		ok, weaker, err := verifyPassword(h, tc.password, p)
		if ok != tc.want || weaker || err != nil {
			t.Errorf("verify %q = %v %v %v", tc.password, ok, weaker, err)
		}
	}
}

func TestHashParamsTravelWithTheHash(t *testing.T) {
	old := HashParams{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	h, err := hashPassword(rand.Reader, old, "pw")
	if err != nil {
		t.Fatal(err)
	}
	ok, weaker, err := verifyPassword(h, "pw", DefaultHashParams())
	if !ok || !weaker || err != nil {
		t.Fatalf("verify under raised params = %v %v %v; want ok and weaker", ok, weaker, err)
	}
	// A login rewrites a weaker hash with today's parameters.
	s, st, _ := sqliteService(t)
	mustAddUser(t, s, "li", RoleLeader, "620000")
	if err := st.SetPasswordHash(t.Context(), "li", mustHash(t, old, goodPassword), time.Now(), false); err != nil {
		t.Fatal(err)
	}
	s.cfg.Hash = HashParams{Memory: 128, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
	if _, err := s.Login(t.Context(), "li", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	_, h, _ = st.User(t.Context(), "li")
	if !strings.Contains(h, "$m=128,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %s", h)
	}
}

func mustHash(t *testing.T, p HashParams, pw string) string {
	h, err := hashPassword(rand.Reader, p, pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseHashRejects(t *testing.T) {
	good := mustHash(t, cheapHash, "pw")
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		q := append([]string(nil), parts...)
		q[i] = v
		return strings.Join(q, "$")
	}
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":        with(1, "argon2i"),
		"version":        with(2, "v=16"),
		"huge memory":    with(3, "m=4194304,t=1,p=1"),
		"huge time":      with(3, "m=64,t=1000,p=1"),
		"zero threads":   with(3, "m=64,t=1,p=0"),
		"garbage params": with(3, "m=x"),
		"bad salt":       with(4, "!!"),
		"short key":      with(5, "AAAA"),
		"extra part":     good + "$x",
	} {
		if _, _, _, err := parseHash(h); err == nil {
			t.Errorf("%s: %q parsed", name, h)
		}
		if ok, _, _ := verifyPassword(h, "pw", cheapHash); ok {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestHashNeedsRandomness(t *testing.T) {
	if _, err := hashPassword(bytes.NewReader(nil), cheapHash, "pw"); err == nil {
		t.Fatal("hash without randomness succeeded")
	}
	if _, err := newSecret(bytes.NewReader(make([]byte, 3))); err == nil {
		t.Fatal("secret from 3 bytes succeeded")
	}
}
