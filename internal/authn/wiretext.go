package authn

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
)

const (
	// maxSubjectLen bounds the subject: it becomes a store key and a header.
	maxSubjectLen = 255
	// maxEmailLen is generous for an address (RFC 5321 allows 254).
	maxEmailLen = 320
)

// CheckSubject returns why s cannot be a user id, or "" when it can. It is
// the one rule for every place a subject enters Gatehouse: a verified JWT
// (and so the verified-token cache, which only holds what passed), the
// management API (it authenticates through the same verifier), and the
// CLI's `token --sub` and `store bootstrap --owner`.
//
// A subject is forwarded as X-Gatehouse-User and compared byte for byte
// in the store, so it must reach the upstream as the gateway saw it: see
// wireProblem. It also must not look like an API key's "apikey:<id>"
// (checked on the validated subject, in any case, so " apikey:x" and
// "APIKEY:x" are refused too).
func CheckSubject(s string) string {
	if s == "" {
		return "must be a non-empty string"
	}
	if len(s) > maxSubjectLen {
		return "is too long"
	}
	if reason := wireProblem(s); reason != "" {
		return reason
	}
	if len(s) >= len(apikey.SubjectPrefix) && strings.EqualFold(s[:len(apikey.SubjectPrefix)], apikey.SubjectPrefix) {
		return "must not start with " + apikey.SubjectPrefix + " (reserved for API keys)"
	}
	return ""
}

// CheckEmail returns why s cannot be forwarded as a user's email, or ""
// when it can. The empty string is "no email".
func CheckEmail(s string) string {
	if len(s) > maxEmailLen {
		return "is too long"
	}
	return wireProblem(s)
}

// wireProblem returns why s would not survive an HTTP header round trip
// unchanged, or "". Header values are trimmed of surrounding whitespace by
// every parser (and of more by applications: JavaScript's trim() removes
// U+FEFF, Python's strip() U+00A0), and control characters are refused or
// altered on the way (a CR or LF would split the header). So s must be
// valid UTF-8, hold no control character (C0, DEL, C1; this is stricter
// than httpguts.ValidHeaderFieldValue, which lets a tab through), and
// neither start nor end with white space or an invisible format character.
// Inner spaces survive and are allowed ("user with spaces").
func wireProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "contains control characters"
		}
	}
	if s == "" {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if trimmable(first) || trimmable(last) {
		return "has surrounding white space"
	}
	return ""
}

// trimmable reports whether some trim function would remove r from the
// end of a string: Unicode White_Space, and format characters such as
// U+200B and U+FEFF.
func trimmable(r rune) bool {
	return unicode.In(r, unicode.White_Space, unicode.Cf)
}
