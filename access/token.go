package access

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Secrets are 128 random bits, written as unpadded base64url (22
// characters). Only their SHA-256 is stored: a 128-bit random secret needs
// no slow hash, and a stolen database then holds nothing that logs in.
const (
	secretBytes = 16
	secretLen   = 22 // base64.RawURLEncoding.EncodedLen(secretBytes)

	// ScreenTokenPrefix starts every screen token secret, so that one
	// pasted in the wrong place (a log, a ticket, a repository) is easy to
	// recognise and scan for.
	ScreenTokenPrefix = "ypt_"
	// tokenIDLen is the length of a screen token's public id: 40 random
	// bits in lower-case base32, enough for a deployment's few hundred
	// tokens (a collision is retried).
	tokenIDLen = 8
)

var (
	b64url   = base64.RawURLEncoding
	b32lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
)

// newSecret returns 128 random bits from rnd as base64url.
func newSecret(rnd io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return b64url.EncodeToString(b), nil
}

// newTokenID returns a short random public id for a screen token.
func newTokenID(rnd io.Reader) (string, error) {
	b := make([]byte, 5)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random token id: %w", err)
	}
	return b32lower.EncodeToString(b), nil
}

// validSecret reports whether s is exactly what newSecret makes: 22
// base64url characters decoding to 16 bytes (the last character carries 2
// padding bits that must be zero, so there is one spelling per secret).
func validSecret(s string) bool {
	if len(s) != secretLen {
		return false
	}
	b, err := b64url.Strict().DecodeString(s)
	return err == nil && len(b) == secretBytes
}

// parseSessionToken checks a session cookie's value before it costs a
// store look-up.
func parseSessionToken(s string) (string, bool) {
	if !validSecret(s) {
		return "", false
	}
	return s, true
}

// parseScreenToken checks a screen token secret ("ypt_" + secret) and
// returns the secret part.
func parseScreenToken(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, ScreenTokenPrefix)
	if !ok || !validSecret(rest) {
		return "", false
	}
	return rest, true
}

// validTokenID reports whether s could be a token id (for input checks).
func validTokenID(s string) bool {
	if len(s) != tokenIDLen {
		return false
	}
	_, err := b32lower.DecodeString(s)
	return err == nil
}

// secretHash is the stored form of a secret: hex SHA-256. For a session it
// is also the session's id.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
