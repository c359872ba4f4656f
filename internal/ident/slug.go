package ident

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slug limits.
const (
	MinSlugLen = 2
	MaxSlugLen = 63
)

// reservedSlugs cannot name a workspace: they collide with paths a front-end
// or an API is likely to mount next to workspace routes (/w/new, /w/admin).
var reservedSlugs = map[string]bool{
	"admin": true, "api": true, "app": true, "auth": true, "billing": true,
	"create": true, "dashboard": true, "delete": true, "edit": true,
	"gatehouse": true, "help": true, "invite": true, "invites": true,
	"login": true, "logout": true, "me": true, "new": true, "null": true,
	"root": true, "settings": true, "signup": true, "static": true,
	"support": true, "system": true, "undefined": true, "v1": true,
	"workspace": true, "workspaces": true, "www": true,
}

// IsReservedSlug reports whether s is a reserved word.
func IsReservedSlug(s string) bool { return reservedSlugs[s] }

// ValidateSlug checks a slug: 2-63 characters of a-z, 0-9 and '-', starting
// with a letter or digit, not ending with '-', no "--", not reserved.
func ValidateSlug(s string) error {
	if len(s) < MinSlugLen || len(s) > MaxSlugLen {
		return fmt.Errorf("slug must be %d to %d characters", MinSlugLen, MaxSlugLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("slug may contain only a-z, 0-9 and '-'")
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("slug must not start or end with '-'")
	}
	if strings.Contains(s, "--") {
		return fmt.Errorf("slug must not contain \"--\"")
	}
	if IsReservedSlug(s) {
		return fmt.Errorf("slug %q is reserved", s)
	}
	return nil
}

// Slugify derives a slug from a display name: accents are folded to ASCII,
// everything else that is not a letter or digit becomes a single hyphen.
// The result may still be invalid (too short, reserved); callers then
// validate it and add a suffix.
func Slugify(name string) string {
	var b strings.Builder
	pendingHyphen := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining accent left over from NFKD: "é" → "e"
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		default:
			pendingHyphen = b.Len() > 0
			continue
		}
		if pendingHyphen {
			b.WriteByte('-')
			pendingHyphen = false
		}
		if b.Len() >= MaxSlugLen-7 { // leave room for a uniqueness suffix
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), "-")
}

// ValidateRoleSlug checks a role slug: 1-63 characters of a-z, 0-9, '-'
// and '_', starting with a letter.
func ValidateRoleSlug(s string) error {
	if s == "" || len(s) > MaxSlugLen {
		return fmt.Errorf("role slug must be 1 to %d characters", MaxSlugLen)
	}
	if !(s[0] >= 'a' && s[0] <= 'z') {
		return fmt.Errorf("role slug must start with a lower-case letter")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("role slug may contain only a-z, 0-9, '-' and '_'")
		}
	}
	return nil
}
