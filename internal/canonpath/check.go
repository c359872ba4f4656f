package canonpath

import (
	"fmt"
	"net/url"
)

// Check reports whether the escaped request path (as from
// url.URL.EscapedPath) is canonical. It returns a *Error saying what is
// wrong, or nil; it does not allocate when the path is canonical.
//
// A canonical path starts with "/" and has:
//
//   - no "." or ".." segment, which a backend or proxy may resolve to
//     another resource than the one the rule table matched;
//   - no empty segment ("//"), except that one trailing "/" is allowed;
//   - no backslash, raw or encoded (%5C): some servers read it as "/";
//   - no ";", raw or encoded (%3B): servlet containers and some
//     frameworks treat what follows as path parameters and drop it, so
//     "/admin;x=y" or "/public;/../admin" would reach a different route
//     than the one authorized; frameworks that decode before stripping
//     (Spring's UrlPathHelper) do the same with "%3B";
//   - no control byte (below 0x20, or 0x7f), raw or encoded, nor an
//     encoded NUL;
//   - no non-ASCII byte: it must be percent-encoded;
//   - only well-formed percent-escapes ("%" and two hex digits);
//   - no encoded "/" (%2F) or "." (%2E), which would change the
//     segments once decoded;
//   - no encoded unreserved character (letters, digits, "-", "_", "~"):
//     RFC 3986 §6.2.2.2 normalizes them away, so "/%61dmin" is another
//     spelling of "/admin" that a naive comparison would miss.
//
// Other escapes ("%20", "%C3%A9", "%3F", "%25", ...) are canonical: "%25"
// is a literal "%", so "%252F" decodes to the text "%2F", not to a slash.
func Check(escapedPath string) error {
	_, err := check(escapedPath, false)
	return err
}

// checkPlain is Check for url.URL.Path of a request whose RawPath is
// empty, in the common case where that path is its own escaped form: it
// holds only letters, digits, "-", ".", "_", "~" and "/". It returns plain
// false, and no verdict, at the first other byte (the caller then calls
// Check on url.URL.EscapedPath); else Check's verdict, in one pass.
func checkPlain(path string) (plain bool, err error) {
	declined, err := check(path, true)
	return !declined, err
}

// CheckURL checks a request's path as Check does, the escaped form of
// u.Path; a path that needed no escaping is checked in one pass without
// building the escaped form.
func CheckURL(u *url.URL) error {
	if u.RawPath == "" {
		if plain, err := checkPlain(u.Path); plain {
			return err
		}
	}
	return Check(u.EscapedPath())
}

// check walks p once. With plainOnly it declines, at the first byte that
// is neither plain nor "/", to judge the path.
func check(p string, plainOnly bool) (declined bool, err error) {
	if p == "" || p[0] != '/' {
		return false, newError(p, 0, `does not start with "/"`)
	}
	segStart := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && plain[p[i]] {
			continue // the common case: one table load per byte
		}
		if i == len(p) || p[i] == '/' {
			// Only "", "." and ".." are refused: longer segments pass.
			if i-segStart <= 2 {
				if err := checkSegment(p, segStart, i); err != nil {
					// A plain-only walk judges only plain paths: its error
					// would echo the decoded path, not the escaped one.
					if plainOnly && !allPlain(p[i:]) {
						return true, nil
					}
					return false, err
				}
			}
			segStart = i + 1
			continue
		}
		if plainOnly {
			return true, nil
		}
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f:
			return false, newError(p, i, fmt.Sprintf("contains a control character (byte 0x%02x)", c))
		case c >= 0x80:
			return false, newError(p, i, fmt.Sprintf("contains a non-ASCII byte (0x%02x): percent-encode it", c))
		case c == '\\':
			return false, newError(p, i, "contains a backslash")
		case c == ';':
			return false, newError(p, i, `contains ";": path parameters are not allowed`)
		case c == '%':
			if err := checkEscape(p, i); err != nil {
				return false, err
			}
			i += 2
		}
	}
	return false, nil
}

// allPlain reports whether s holds only plain bytes and "/".
func allPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] && s[i] != '/' {
			return false
		}
	}
	return true
}

// plain marks the bytes that need no checking inside a segment and that
// url.URL.EscapedPath never escapes: letters, digits, "-", ".", "_", "~".
var plain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isUnreserved(byte(c)) || c == '.'
	}
	return t
}()

// checkSegment checks the segment p[start:end].
func checkSegment(p string, start, end int) error {
	switch p[start:end] {
	case "":
		if end == len(p) {
			return nil // the root, or one trailing "/"
		}
		return newError(p, start, `has an empty segment ("//")`)
	case ".":
		return newError(p, start, `has a "." segment`)
	case "..":
		return newError(p, start, `has a ".." segment`)
	}
	return nil
}

// checkEscape checks the percent-escape at p[i].
func checkEscape(p string, i int) error {
	if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
		return newError(p, i, fmt.Sprintf("has an invalid percent-escape %q: use %% and two hex digits", p[i:min(i+3, len(p))]))
	}
	escape := p[i : i+3]
	switch b := unhex(p[i+1])<<4 | unhex(p[i+2]); {
	case b == '/':
		return newError(p, i, `has an encoded "/" (`+escape+`)`)
	case b == '\\':
		return newError(p, i, "has an encoded backslash ("+escape+")")
	case b == ';':
		return newError(p, i, `has an encoded ";" (`+escape+`): path parameters are not allowed`)
	case b == '.':
		return newError(p, i, `has an encoded "." (`+escape+`)`)
	case b == 0:
		return newError(p, i, "has an encoded NUL ("+escape+")")
	case b < 0x20 || b == 0x7f:
		return newError(p, i, "has an encoded control character ("+escape+")")
	case isUnreserved(b):
		return newError(p, i, fmt.Sprintf("spells %q as %s: write it unescaped", b, escape))
	}
	return nil
}

// isUnreserved reports whether c is an RFC 3986 unreserved character
// other than ".", which is rejected for its own reason.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '~'
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
