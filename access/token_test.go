package access

import (
	"crypto/rand"
	"strings"
	"testing"
)

func TestSecretsAndIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := newSecret(rand.Reader)
		if err != nil || !validSecret(s) || seen[s] {
			t.Fatalf("secret %q %v", s, err)
		}
		seen[s] = true
		id, err := newTokenID(rand.Reader)
		if err != nil || !validTokenID(id) || len(id) != tokenIDLen {
			t.Fatalf("id %q %v", id, err)
		}
	}
	for _, s := range []string{"", "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAA+A", strings.Repeat("A", 23)} {
		if validSecret(s) {
			t.Errorf("validSecret(%q)", s)
		}
	}
	for _, s := range []string{"", "AAAAAAAA", "aaaaaaa1", "aaaaaaaaa"} {
		if validTokenID(s) {
			t.Errorf("validTokenID(%q)", s)
		}
	}
}

// FuzzParseTokens: the parsers take any cookie or header value without
// panicking, and accept only the one spelling of each secret.
func FuzzParseTokens(f *testing.F) {
	for _, s := range []string{"", "ypt_", "ypt_AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA", "ypt_AAAAAAAAAAAAAAAAAAAAAB", "\xff\x00", strings.Repeat("A", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sec, ok := parseSessionToken(s); ok {
			b, err := b64url.DecodeString(sec)
			if err != nil || len(b) != secretBytes || b64url.EncodeToString(b) != s {
				t.Fatalf("session token %q accepted but does not round-trip", s)
			}
		}
		if sec, ok := parseScreenToken(s); ok {
			b, err := b64url.DecodeString(sec)
			if err != nil || ScreenTokenPrefix+b64url.EncodeToString(b) != s {
				t.Fatalf("screen token %q accepted but does not round-trip", s)
			}
		}
		if validTokenID(s) {
			b, err := b32lower.DecodeString(s)
			if err != nil || b32lower.EncodeToString(b) != s {
				t.Fatalf("token id %q accepted but does not round-trip", s)
			}
		}
		_, _ = NormalizeName(s)
		_ = CheckPassword(s)
	})
}
