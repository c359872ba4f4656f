package gateway

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parameter pollution: the gateway and the upstream must read the same
// workspace. A query key that some framework reads as the workspace
// parameter, but the gateway does not, would let a request be authorized
// for one tenant and served for another (`?ws=acme&WS=globex`). So the
// gateway compares every key with the source's name loosely, under a
// normalization that is a superset of what common frameworks do with
// parameter names, and refuses the request when the comparison is not
// clear-cut (see queryValue).
//
// What frameworks do, and what the normalization therefore covers:
//   - decoding: percent escapes and '+' as space (all); escapes that are
//     not valid are left as they are by lenient decoders (PHP), and some
//     stacks decode twice, so keys are decoded until they stop changing;
//   - case: ASP.NET model binding and Spring's relaxed binders compare
//     case-insensitively, .NET and Java with Unicode simple folding (ſ is
//     s, the Kelvin sign is k); names are folded to ASCII where a fold
//     orbit reaches it;
//   - spaces, dots, '[': PHP drops leading spaces and turns ' ', '.' and
//     '[' into '_'; '_' and '-' variants are read alike by relaxed
//     binders; whitespace, control and invisible format characters,
//     '+', '.', '_' and '-' are ignored anywhere in the name;
//   - nesting: PHP, Rails, qs (Express) and ASP.NET read `ws[]`, `ws[0]`,
//     `ws[x]` as ws, and qs with allowDots reads `ws.x` as ws; C-based
//     parsers stop at NUL. So the part of the name before the first '[',
//     '.' or NUL is compared as well.
//
// A false match only refuses an odd request (400); a missed one lets a
// request through with a second workspace in it.

// paramName is a normalized parameter name.
type paramName string

// normalizeParamName returns the normalized form of a configured name.
func normalizeParamName(name string) paramName {
	var b strings.Builder
	forEachNormalizedRune(decodeFully(name), func(r rune) bool {
		b.WriteRune(r)
		return true
	})
	return paramName(b.String())
}

// matches reports whether the raw (still escaped) query key could be read
// as the parameter n by some framework.
func (n paramName) matches(rawKey string) bool {
	if n == "" {
		return false
	}
	key := rawKey
	if strings.ContainsAny(key, "%+") {
		key = decodeFully(key)
	}
	if n.equalNormalized(key) {
		return true
	}
	if i := strings.IndexAny(key, "[.\x00"); i >= 0 {
		return n.equalNormalized(key[:i])
	}
	return false
}

// equalNormalized compares the normalized runes of s with n without
// building the normalized string.
func (n paramName) equalNormalized(s string) bool {
	rest := string(n)
	ok := forEachNormalizedRune(s, func(r rune) bool {
		if rest == "" {
			return false
		}
		want, size := utf8.DecodeRuneInString(rest)
		if want != r {
			return false
		}
		rest = rest[size:]
		return true
	})
	return ok && rest == ""
}

// forEachNormalizedRune calls yield with each rune of s that survives
// normalization, folded; it stops and returns false when yield does.
func forEachNormalizedRune(s string, yield func(rune) bool) bool {
	for _, r := range s {
		if ignorableInName(r) {
			continue
		}
		if !yield(foldToASCII(r)) {
			return false
		}
	}
	return true
}

// ignorableInName reports whether some framework drops or merges r in a
// parameter name.
func ignorableInName(r rune) bool {
	switch r {
	case '+', '.', '_', '-':
		return true
	}
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f
	}
	return unicode.In(r, unicode.White_Space, unicode.Cc, unicode.Cf)
}

// foldToASCII lower-cases r, mapping it to an ASCII letter when one is in
// its Unicode simple fold orbit (ſ → s, K (Kelvin) → k).
func foldToASCII(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return foldToASCII(f)
		}
	}
	return unicode.ToLower(r)
}

// maxDecodeRounds bounds decodeFully; three rounds cover every double
// decoding seen in practice, and further rounds cannot be told apart from
// a key that means "%41" literally.
const maxDecodeRounds = 3

// decodeFully decodes s leniently until it no longer changes.
func decodeFully(s string) string {
	for range maxDecodeRounds {
		d := decodeLenient(s)
		if d == s {
			break
		}
		s = d
	}
	return s
}

// decodeLenient decodes '+' as a space and valid %XX escapes, leaving
// invalid escapes as they are.
func decodeLenient(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
