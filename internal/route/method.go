package route

import (
	"errors"
	"fmt"
	"strings"
)

// AnyMethod in Rule.Methods makes a rule apply to every method.
const AnyMethod = "*"

// validateMethods checks a rule's method list: "*" alone, or distinct
// upper-case HTTP method tokens.
func validateMethods(methods []string) error {
	if len(methods) == 0 {
		return errors.New(`no method: name one (GET, POST, ...) or use "*" for any method`)
	}
	for i, m := range methods {
		if m == AnyMethod {
			if len(methods) > 1 {
				return errors.New(`"*" already means any method: do not list other methods with it`)
			}
			continue
		}
		if err := validateMethod(m); err != nil {
			return err
		}
		for _, earlier := range methods[:i] {
			if earlier == m {
				return fmt.Errorf("method %s is listed twice", m)
			}
		}
	}
	return nil
}

// validateMethod checks one method: an RFC 9110 token. Methods compare
// case-sensitively, so a lower-case "get" would silently never match a
// client's GET; it is rejected instead.
func validateMethod(m string) error {
	if m == "" {
		return errors.New("empty method")
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if 'a' <= c && c <= 'z' {
			return fmt.Errorf("method %q must be upper-case, as in %q: methods are case-sensitive", m, strings.ToUpper(m))
		}
		if !isTokenChar(c) {
			return fmt.Errorf("method %q has the invalid character %q", m, c)
		}
	}
	return nil
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidRequestMethod reports whether a request's method m is an upper-case
// token: RFC 9110 tchar without lower-case letters. Methods are
// case-sensitive, so "post" is not POST and would fall through to a "*"
// rule, yet frameworks that upper-case the method run their POST handler
// for it; the gateway refuses such a method instead (README "What a client cannot change").
func ValidRequestMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true // the common case, without the loop
	case "":
		return false
	}
	for i := 0; i < len(m); i++ {
		if !upperTokenByte[m[i]] {
			return false
		}
	}
	return true
}

// upperTokenByte marks the tchar bytes that are not lower-case letters.
var upperTokenByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isTokenChar(byte(c)) && !('a' <= c && c <= 'z')
	}
	return t
}()
