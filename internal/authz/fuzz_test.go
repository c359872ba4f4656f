package authz

import (
	"strings"
	"testing"
)

// referenceSplit splits s into segments and the separators between them.
func referenceSplit(s string) (segs []string, seps []byte) {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == ':' {
			segs = append(segs, s[start:i])
			seps = append(seps, s[i])
			start = i + 1
		}
	}
	return append(segs, s[start:]), seps
}

// referenceValid is the syntax rule of the package doc, written plainly.
func referenceValid(s string, pattern bool) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	segs, _ := referenceSplit(s)
	for _, seg := range segs {
		if pattern && seg == "*" {
			continue
		}
		if seg == "" {
			return false
		}
		for _, c := range []byte(seg) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// referenceMatch is the matching rule of the package doc, written plainly:
// compare segment by segment and separator by separator, except that a
// trailing "*" takes one or more remaining segments whatever their
// separators.
func referenceMatch(pattern, name string) bool {
	if !referenceValid(pattern, true) || !referenceValid(name, false) {
		return false
	}
	psegs, pseps := referenceSplit(pattern)
	nsegs, nseps := referenceSplit(name)
	fixed := len(psegs) // pattern segments matched one to one
	if psegs[len(psegs)-1] == "*" {
		fixed--
		if len(nsegs) <= fixed {
			return false // the trailing "*" needs at least one segment
		}
	} else if len(nsegs) != len(psegs) {
		return false
	}
	for i := range fixed {
		if psegs[i] != "*" && psegs[i] != nsegs[i] {
			return false
		}
	}
	// Every pattern separator is either between two fixed segments or
	// the one just before the trailing "*": all must match.
	for i, sep := range pseps {
		if nseps[i] != sep {
			return false
		}
	}
	return true
}

func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"*", "a"}, {"message.*", "message.send"}, {"message.*", "message:send"},
		{"read:*", "read:users:email"}, {"a.*.c", "a.b.c"}, {"a.*.c", "a.b:c"},
		{"*.*", "a.b.c"}, {"mess*", "message"}, {"a..b", "a..b"}, {"", ""},
		{"message.send", "message.send"}, {"*.read", "a.b.read"}, {"a.*:c", "a.b:c"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := Match(pattern, name)
		if want := referenceMatch(pattern, name); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, name, got, want)
		}
		nameValid := ValidateName(name) == nil
		if nameValid != referenceValid(name, false) {
			t.Fatalf("ValidateName(%q) valid=%v, reference disagrees", name, nameValid)
		}
		if patternValid := ValidatePattern(pattern) == nil; patternValid != referenceValid(pattern, true) {
			t.Fatalf("ValidatePattern(%q) valid=%v, reference disagrees", pattern, patternValid)
		}
		if got && (!nameValid || ValidatePattern(pattern) != nil) {
			t.Fatalf("Match(%q, %q) = true on invalid input", pattern, name)
		}
		if nameValid {
			if !Match(name, name) {
				t.Fatalf("a valid name does not match itself: %q", name)
			}
			if !Match("*", name) {
				t.Fatalf(`"*" does not match %q`, name)
			}
		}
		if ValidatePattern(pattern) == nil && !strings.Contains(pattern, "*") {
			// A pattern without "*" is a name, and matches exactly itself.
			if got != (pattern == name) {
				t.Fatalf("literal pattern %q vs %q: Match = %v", pattern, name, got)
			}
		}
	})
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"message.send", "read:users:email", "a..b", "", "a b", "*", "message.*", ".a", "a.", strings.Repeat("a", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if valid := err == nil; valid != referenceValid(name, false) {
			t.Fatalf("ValidateName(%q) = %v, reference says valid=%v", name, err, !valid)
		}
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "permission ") {
				t.Fatalf("error %q does not say it is about a permission", msg)
			}
			// The message quotes at most 64 bytes of the input.
			if len(msg) > 64*4+300 {
				t.Fatalf("error message too long (%d bytes): %q", len(msg), msg)
			}
			return
		}
		if ValidatePattern(name) != nil {
			t.Fatalf("valid name %q is not a valid pattern", name)
		}
	})
}
