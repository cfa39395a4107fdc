package collectors

import (
	"regexp"
	"strings"
)

// Redacted replaces a secret wherever a URL, DSN or message is shown.
const Redacted = "<redacted>"

// RedactURL returns a URL fit to show in a message, a log or the health
// API: the password of its userinfo (or the whole userinfo when it has no
// password: a token used as a user name), every query value and the
// fragment are replaced by <redacted>. The scheme, user name, host, path
// and parameter names stay, so the message still says where:
//
//	https://u:pw@h/api?appkey=K&page=2 → https://u:<redacted>@h/api?appkey=<redacted>&page=<redacted>
//
// Every query value goes, not only the ones named like keys: whether a
// parameter is secret cannot be told from its name (appkey, sign, ak, t).
// It works on the text, so that a URL that does not parse is redacted too.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	} else {
		scheme += "://"
	}
	rest, frag, hasFrag := strings.Cut(rest, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if ok {
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			user, _, hasPassword := strings.Cut(authority[:i], ":")
			if hasPassword {
				authority = user + ":" + Redacted + authority[i:]
			} else {
				authority = Redacted + authority[i:]
			}
		}
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(authority)
	b.WriteString(path)
	if hasQuery {
		b.WriteByte('?')
		for i, param := range strings.Split(query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			if name, value, ok := strings.Cut(param, "="); ok {
				b.WriteString(name + "=")
				if value != "" { // an empty value hides nothing
					b.WriteString(Redacted)
				}
			} else if param != "" {
				b.WriteString(Redacted)
			}
		}
	}
	if hasFrag && frag != "" {
		b.WriteString("#" + Redacted)
	}
	return b.String()
}

var (
	// urlInText finds URLs in free text: a scheme, "://", and everything
	// up to white space or a quote (Go's url.Error quotes its URL).
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>` + "`" + `]+`)
	// secretInText finds key=value settings whose key says secret, as in
	// a PostgreSQL keyword DSN (password=...) outside any URL.
	secretInText = regexp.MustCompile(`(?i)\b(password|passwd|pwd|token|secret|api_?key|app_?key|access_token|sign)=[^\s&"',;)]+`)
)

// RedactText redacts every URL in a message as RedactURL does, and the
// values of key=value settings named like secrets (password=, token=, ...).
// The runner passes every error it shows or logs through it, whatever the
// connector: a connector's own redaction is a first line, this the last.
func RedactText(s string) string {
	if strings.Contains(s, "://") {
		s = urlInText.ReplaceAllStringFunc(s, func(m string) string {
			// "GET https://h/p?k=v: refused": the punctuation after a
			// URL belongs to the sentence.
			u := strings.TrimRight(m, ".,:;)!?")
			return RedactURL(u) + m[len(u):]
		})
	}
	if strings.IndexByte(s, '=') >= 0 {
		s = secretInText.ReplaceAllStringFunc(s, func(m string) string {
			k, v, _ := strings.Cut(m, "=")
			if strings.HasPrefix(v, Redacted) {
				return m // redacted already, by RedactURL above
			}
			return k + "=" + Redacted
		})
	}
	return s
}

// redactedError shows an error's message redacted by RedactText, and
// unwraps to it, so errors.Is and errors.As still see what it wraps.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// RedactError returns err with its message redacted by RedactText (nil for
// nil). Errors.Is and errors.As see through it; only a caller that unwraps
// it by hand and prints the inner error could see the secrets.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	if _, done := err.(*redactedError); done {
		return err
	}
	msg := err.Error()
	if red := RedactText(msg); red != msg {
		return &redactedError{err: err, msg: red}
	}
	return err
}
