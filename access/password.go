package access

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are the argon2id cost parameters. A stored hash carries its
// own, so raising them later only changes new hashes (and a user's hash is
// rewritten with the new ones at their next login).
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32 // bytes of output
	SaltLen uint32 // bytes of random salt
}

// DefaultHashParams returns OWASP's minimum for argon2id: 19 MiB, 2
// passes, 1 lane; a 16-byte salt and a 32-byte key.
func DefaultHashParams() HashParams {
	return HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// Bounds on the parameters read from a stored hash, so a tampered row
// cannot make one login allocate gigabytes or spin for minutes.
const (
	maxHashMemory  = 1 << 20 // KiB: 1 GiB
	maxHashTime    = 64
	maxHashThreads = 64
	maxHashKeyLen  = 128
)

var b64 = base64.RawStdEncoding // PHC strings use unpadded standard base64

// hashPassword returns the PHC string of password under p with a fresh
// salt from rnd:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
func hashPassword(rnd io.Reader, p HashParams, password string) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// parseHash reads a PHC argon2id string.
func parseHash(encoded string) (p HashParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: parameters %q: %w", parts[3], err)
	}
	if p.Memory < 8 || p.Memory > maxHashMemory || p.Time < 1 || p.Time > maxHashTime || threads < 1 || threads > maxHashThreads {
		return p, nil, nil, fmt.Errorf("password hash: parameters %q out of range", parts[3])
	}
	p.Threads = uint8(threads)
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("password hash: bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > maxHashKeyLen {
		return p, nil, nil, fmt.Errorf("password hash: bad key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string, in time
// that does not depend on where the two keys differ, and whether the hash
// was made with weaker parameters than want (so it should be rewritten).
func verifyPassword(encoded, password string, want HashParams) (ok, weaker bool, err error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	weaker = p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads ||
		p.KeyLen < want.KeyLen || p.SaltLen < want.SaltLen
	return ok, weaker, nil
}
