package admin

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// Restrictions and no escalation (README "Management API").
//
// A restriction narrows access: a member restricted on type T to the list
// L reaches only the resources of L, and a member without a restriction on
// T reaches every T. So access restricted by r is within access restricted
// by limit when, for every type limit restricts, r restricts it too, to a
// subset of limit's list. Types that only r restricts make r narrower, never
// wider.

// restrictionsWithin reports whether r is within limit, and otherwise
// names the first type (in sorted order) where r is wider.
func restrictionsWithin(r, limit map[string][]string) (wider string, ok bool) {
	for _, typ := range slices.Sorted(maps.Keys(limit)) {
		ids, restricted := r[typ]
		if !restricted {
			return typ, false
		}
		for _, id := range ids {
			if !slices.Contains(limit[typ], id) {
				return typ, false
			}
		}
	}
	return "", true
}

// restrictionEscalation is the 403 escalation for a change that would give
// (or touch) access wider than the caller's own on type typ; what words
// the change ("assign these restrictions").
func (a *API) restrictionEscalation(st *standing, typ, what string) *problem.Problem {
	p := problem.New(http.StatusForbidden, codeEscalation, "you cannot "+what+": you are restricted to "+
		typ+" "+strings.Join(st.restrictions()[typ], ",")+
		", and it reaches "+typ+" resources outside that restriction")
	p.Workspace = st.ws.Slug
	return p
}

// restrictions are the caller's stored restrictions, whether or not the
// plan lets them take effect: what they may hand on and the bound of what
// they may change. A plan without resource_restrictions lifts them at the
// gateway (Ceiling), but judging by that would let a restricted member
// hand out, on a small plan, access that outgrows theirs on an upgrade.
func (st *standing) restrictions() map[string][]string { return st.raw.Restrictions }

// noWiderRestrictions refuses (403 escalation) unless access restricted by
// r is within the caller's own restrictions.
func (a *API) noWiderRestrictions(st *standing, r map[string][]string, what string) error {
	if typ, ok := restrictionsWithin(r, st.restrictions()); !ok {
		return a.restrictionEscalation(st, typ, what)
	}
	return nil
}

// cloneRestrictions deep-copies restrictions (nil stays nil), so a record
// never shares lists with the caller's cached access.
func cloneRestrictions(r map[string][]string) map[string][]string {
	if len(r) == 0 {
		return nil
	}
	out := make(map[string][]string, len(r))
	for typ, ids := range r {
		out[typ] = slices.Clone(ids)
	}
	return out
}
