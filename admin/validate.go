package admin

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Limits on request fields.
const (
	maxEmailLen        = 254
	maxPatterns        = 200
	maxRoles           = 50
	maxRestrictTypes   = 20
	maxRestrictIDs     = 1000
	maxRestrictTypeLen = 63
	maxRestrictIDLen   = 255
)

// checkText validates a display string (model.CheckText) as a 400
// naming field.
func checkText(field, s string, max int, required bool) error {
	var fe *model.FieldError
	if err := model.CheckText(field, s, max, required); errors.As(err, &fe) {
		return invalid(fe.Field, fe.Detail)
	} else if err != nil {
		return err
	}
	return nil
}

// lifetime validates a duration given in seconds, from min to max
// (maxName says max in words, for the message).
func lifetime(field string, secs int64, min, max time.Duration, maxName string) (time.Duration, error) {
	// Compare seconds before converting: a huge value would wrap the
	// nanoseconds of a Duration into the allowed range.
	if secs < int64(min/time.Second) || secs > int64(max/time.Second) {
		return 0, invalid(field, fmt.Sprintf("%s is a number of seconds from %d to %d (%s)",
			field, int64(min/time.Second), int64(max/time.Second), maxName))
	}
	return time.Duration(secs) * time.Second, nil
}

// checkPatterns validates permission patterns against the catalog.
func (a *API) checkPatterns(field string, patterns []string) error {
	if len(patterns) > maxPatterns {
		return invalid(field, fmt.Sprintf("%s may hold at most %d entries", field, maxPatterns))
	}
	for i, p := range patterns {
		if err := a.checkPattern(p); err != nil {
			return invalid(fmt.Sprintf("%s[%d]", field, i), err.Error())
		}
	}
	return nil
}

// checkPattern checks one pattern. The catalog's own error for a name it
// lacks tells an operator to declare it in the Caddyfile; an API caller
// cannot, and is sent to the catalog instead.
func (a *API) checkPattern(p string) error {
	if err := authz.ValidatePattern(p); err != nil {
		return err
	}
	if a.catalog.CheckPattern(p) == nil {
		return nil
	}
	if strings.Contains(p, "*") {
		return fmt.Errorf("pattern %s matches no permission this gateway declares: see GET /v1/permissions for the catalog", quote(p))
	}
	return fmt.Errorf("unknown permission %s: see GET /v1/permissions for the permissions this gateway declares", quote(p))
}

// checkRoles validates a role list: required non-empty when required, each
// a role of the workspace (system or custom), no duplicates.
func (a *API) checkRoles(tx store.Tx, workspaceID, field string, roles []string, required bool) error {
	if required && len(roles) == 0 {
		return invalid(field, field+" must name at least one role")
	}
	if len(roles) > maxRoles {
		return invalid(field, fmt.Sprintf("%s may hold at most %d roles", field, maxRoles))
	}
	seen := make(map[string]bool, len(roles))
	for i, slug := range roles {
		f := fmt.Sprintf("%s[%d]", field, i)
		if seen[slug] {
			return invalid(f, "role "+quote(slug)+" is listed twice")
		}
		seen[slug] = true
		_, found, err := a.model.RolePatterns(tx, workspaceID, slug)
		if err != nil {
			return err
		}
		if !found {
			return invalid(f, "unknown role "+quote(slug)+": use a system role or a custom role of this workspace")
		}
	}
	return nil
}

// checkRestrictions validates restrictions: type names that are safe in a
// header name, ids that are safe in a comma-separated header value.
func checkRestrictions(field string, r map[string][]string) error {
	if len(r) > maxRestrictTypes {
		return invalid(field, fmt.Sprintf("%s may hold at most %d types", field, maxRestrictTypes))
	}
	for typ, ids := range r {
		f := field + "." + typ
		if !validRestrictType(typ) {
			return invalid(f, "restriction types are 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter")
		}
		if len(ids) == 0 {
			// An empty list would restrict to nothing, and reaches the
			// upstream as an empty header that reads like no restriction.
			return invalid(f, "a restriction must list at least one id; to lift it, leave the type out")
		}
		if len(ids) > maxRestrictIDs {
			return invalid(f, fmt.Sprintf("a restriction may list at most %d ids", maxRestrictIDs))
		}
		for i, id := range ids {
			if id == "" || len(id) > maxRestrictIDLen || strings.ContainsAny(id, ", ") || hasControl(id) {
				return invalid(fmt.Sprintf("%s[%d]", f, i), "restriction ids are 1-255 bytes without commas, spaces or control characters")
			}
		}
	}
	return nil
}

func validRestrictType(s string) bool {
	if s == "" || len(s) > maxRestrictTypeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// normalizeEmail validates an email address and returns it lower-case.
func normalizeEmail(field, s string) (string, error) {
	if len(s) > maxEmailLen {
		return "", invalid(field, fmt.Sprintf("%s must be at most %d characters", field, maxEmailLen))
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", invalid(field, field+" must be a plain email address such as ada@example.com")
	}
	// ASCII lower-casing only (see ident.LowerASCII): invites match
	// emails byte for byte after it.
	return ident.LowerASCII(s), nil
}

// quote quotes a client-supplied value for a message, shortened.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// permissionNames lists a set's permissions for a response.
func (a *API) permissionNames(s authz.Set) []string { return s.Names(a.catalog) }
