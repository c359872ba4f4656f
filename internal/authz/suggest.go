package authz

import (
	"slices"
	"strings"
)

// Suggest returns the candidates a misspelt word was probably meant to be,
// best first: those equal to it but for case, then those within a small
// edit distance (case-insensitive), then those it is the last dot- or
// underscore-separated part of ("admin" for "workspace.admin" and
// "global_admin"). It returns nil when nothing is close, so that a message
// never suggests something unrelated.
func Suggest(word string, candidates []string) []string {
	w := strings.ToLower(word)
	budget := max(1, min(2, len(w)/4))
	type scored struct {
		name  string
		score int
	}
	var found []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		switch {
		case c == word:
			continue
		case lc == w:
			found = append(found, scored{c, 0})
		case distance(w, lc) <= budget:
			found = append(found, scored{c, 1 + distance(w, lc)})
		case len(w) >= 3 && (strings.HasSuffix(lc, "."+w) || strings.HasSuffix(lc, "_"+w)):
			found = append(found, scored{c, 10})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return a.score - b.score })
	out := make([]string, 0, len(found))
	for _, f := range found {
		if !slices.Contains(out, f.name) {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// DidYouMean formats Suggest's answer: "did you mean authenticated?" or
// "did you mean global_admin or workspace.admin?"; "" when there is none.
func DidYouMean(word string, candidates []string) string {
	s := Suggest(word, candidates)
	switch len(s) {
	case 0:
		return ""
	case 1:
		return "did you mean " + s[0] + "?"
	}
	if len(s) > 3 {
		s = s[:3]
	}
	return "did you mean " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1] + "?"
}

// distance is the Levenshtein distance of a and b (bytes; names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
