package yamlconf

// Closest returns the candidate nearest to s by edit distance (Levenshtein,
// on runes), or "" when none is near enough to be a likely typo: at most 1
// edit for names under 4 runes, 2 under 12, 3 beyond. An exact match is
// not a suggestion. Ties go to the alphabetically first candidate, so the
// answer does not depend on the candidates' order.
func Closest(s string, candidates []string) string {
	rs := []rune(s)
	if len(rs) == 0 || len(rs) > 64 { // long input: a paste, not a typo
		return ""
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := distance(rs, []rune(c)); d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := 1
	switch {
	case len(rs) >= 12:
		limit = 3
	case len(rs) >= 4:
		limit = 2
	}
	if best == "" || bestD == 0 || bestD > limit {
		return ""
	}
	return best
}

// distance is the Levenshtein edit distance.
func distance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
