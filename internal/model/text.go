package model

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on display strings.
const (
	MaxNameLen        = 100
	MaxDescriptionLen = 1000
)

// FieldError is an invalid input: Field names it (as the API's `field`),
// Detail says what is wrong.
type FieldError struct {
	Field  string
	Detail string
}

func (e *FieldError) Error() string { return e.Detail }

// CheckText validates a display string: trimmed, 1..max characters (or
// 0..max when optional), no control characters, no invisible or
// bidirectional characters. An error is a *FieldError.
func CheckText(field, s string, max int, required bool) error {
	n := utf8.RuneCountInString(s)
	invalid := func(detail string) error { return &FieldError{Field: field, Detail: detail} }
	switch {
	case !utf8.ValidString(s):
		return invalid(field + " must be valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		return invalid(field + " is required")
	case n > max:
		return invalid(fmt.Sprintf("%s must be at most %d characters", field, max))
	case strings.TrimSpace(s) != s:
		return invalid(field + " must not start or end with white space")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field + " must not contain control characters")
		}
		if invisible(r) {
			return invalid(fmt.Sprintf("%s must not contain bidirectional controls or invisible characters (found U+%04X)", field, r))
		}
	}
	return nil
}

// invisible reports the characters a display string must not hold: they
// change how text around them is shown (bidi embeddings, overrides,
// isolates and marks) or are not shown at all (zero-width characters, line
// and paragraph separators), so a name could look like another one.
func invisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069,            // LRI, RLI, FSI, PDI
		r == 0x200E, r == 0x200F, r == 0x061C, // LRM, RLM, ALM
		r >= 0x200B && r <= 0x200D, // ZWSP, ZWNJ, ZWJ
		r == 0x2060, r == 0xFEFF,   // word joiner, BOM
		r == 0x2028, r == 0x2029: // line, paragraph separator
		return true
	}
	return false
}
