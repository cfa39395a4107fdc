// Package jsonw holds the pieces of hand-written JSON encoders shared by
// the packages whose answers are too many for encoding/json's reflection
// (compute's millions of results, the feed's cycles).
package jsonw

import (
	"encoding/json"
	"unicode/utf8"
)

// AppendString appends s quoted for JSON exactly as encoding/json quotes
// it (HTML-safe, invalid UTF-8 replaced). Ids, codes and texts are mostly
// plain ASCII and take the fast path; anything else goes through
// encoding/json, so the two can never disagree.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
