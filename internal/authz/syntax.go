package authz

import "fmt"

// MaxNameLen is the longest permission name or pattern, in bytes.
const MaxNameLen = 255

// wildcard is the segment that matches other segments in a pattern.
const wildcard = "*"

// ValidateName reports whether name is a valid permission name. The error
// says what is wrong and where, e.g. `permission "a..b": empty segment`.
func ValidateName(name string) error {
	if reason, at := checkSyntax(name, false); reason != syntaxOK {
		return syntaxError("permission", name, reason, at)
	}
	return nil
}

// ValidatePattern reports whether pattern is a valid permission pattern.
func ValidatePattern(pattern string) error {
	if reason, at := checkSyntax(pattern, true); reason != syntaxOK {
		return syntaxError("pattern", pattern, reason, at)
	}
	return nil
}

// syntaxReason names the first problem checkSyntax finds. Reasons are
// constants so that validating (which Match does on every call) never
// allocates; the error text is built only when an error is returned.
type syntaxReason uint8

const (
	syntaxOK syntaxReason = iota
	syntaxEmpty
	syntaxTooLong
	syntaxEmptySegment
	syntaxBadChar
	syntaxStarInName
	syntaxPartialStar
)

// checkSyntax validates s as a name, or as a pattern when allowWildcard.
// at is the byte offset of a bad character.
func checkSyntax(s string, allowWildcard bool) (reason syntaxReason, at int) {
	if s == "" {
		return syntaxEmpty, 0
	}
	if len(s) > MaxNameLen {
		return syntaxTooLong, 0
	}
	segStart := 0
	for i := 0; i <= len(s); i++ {
		class := uint8(classSeparator) // the end of s ends the last segment
		if i < len(s) {
			class = byteClass[s[i]]
		}
		switch class {
		case classSegment:
			continue
		case classStar:
			if !allowWildcard {
				return syntaxStarInName, i
			}
			continue
		case classInvalid:
			return syntaxBadChar, i
		}
		seg := s[segStart:i]
		if seg == "" {
			return syntaxEmptySegment, segStart
		}
		if len(seg) > 1 && containsStar(seg) {
			return syntaxPartialStar, segStart
		}
		segStart = i + 1
	}
	return syntaxOK, 0
}

func syntaxError(kind, s string, reason syntaxReason, at int) error {
	var what string
	switch reason {
	case syntaxEmpty:
		what = "empty " + kind
	case syntaxTooLong:
		what = fmt.Sprintf("longer than %d bytes", MaxNameLen)
	case syntaxEmptySegment:
		what = `empty segment (segments are separated by a single "." or ":")`
	case syntaxBadChar:
		what = fmt.Sprintf(`invalid character %s at byte %d: segments hold ASCII letters, digits, "_" and "-", separated by "." or ":"`, describeByte(s[at]), at)
	case syntaxStarInName:
		what = `"*" is only allowed in patterns, not in a permission name`
	case syntaxPartialStar:
		what = `"*" must be a whole segment, as in "message.*"`
	}
	return fmt.Errorf("%s %s: %s", kind, quote(s), what)
}

// quote quotes s for an error message, cut to 64 bytes so that a huge
// input cannot blow up a log line or a problem detail.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// describeByte shows a byte for an error message; a non-ASCII byte is
// shown in hex since it is only part of a character.
func describeByte(c byte) string {
	if c >= 0x80 {
		return fmt.Sprintf("0x%02x", c)
	}
	return fmt.Sprintf("%q", rune(c))
}

// Byte classes of the syntax. A table keeps the validation that Match runs
// on every call to one load per byte.
const (
	classInvalid = iota
	classSegment
	classSeparator
	classStar
)

var byteClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = classSegment, classSegment
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classSegment
	}
	t['_'], t['-'] = classSegment, classSegment
	t['.'], t[':'] = classSeparator, classSeparator
	t['*'] = classStar
	return t
}()

func isSeparator(c byte) bool { return byteClass[c] == classSeparator }

func containsStar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

// cutSegment returns the segment of s starting at byte start, the
// separator that ends it (0 at the end of s) and where the next segment
// starts.
func cutSegment(s string, start int) (seg string, sep byte, next int) {
	for i := start; i < len(s); i++ {
		if isSeparator(s[i]) {
			return s[start:i], s[i], i + 1
		}
	}
	return s[start:], 0, len(s)
}
