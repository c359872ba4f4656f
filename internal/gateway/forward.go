package gateway

import (
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
)

// Identity headers set on allowed requests (README "Identity headers and placeholders").
const (
	HeaderUser          = "X-Gatehouse-User"
	HeaderEmail         = "X-Gatehouse-Email"
	HeaderWorkspace     = "X-Gatehouse-Workspace"
	HeaderWorkspaceSlug = "X-Gatehouse-Workspace-Slug"
	HeaderRoles         = "X-Gatehouse-Roles"
	HeaderPermission    = "X-Gatehouse-Permission"
	HeaderAssertion     = "X-Gatehouse-Assertion"
	// HeaderOrganization carries the organization id: on organization
	// rules, and on workspace rules when the workspace belongs to one.
	HeaderOrganization = "X-Gatehouse-Organization"
	// HeaderOrganizationSlug carries the organization slug on
	// organization rules.
	HeaderOrganizationSlug = "X-Gatehouse-Organization-Slug"
)

// identityPrefix is compared case-insensitively, with '_' read as '-'.
const identityPrefix = "x-gatehouse-"

// isIdentityHeader reports whether an upstream could read header name as
// X-Gatehouse-*: any case, and '_' for '-' (frameworks such as CGI-style
// servers fold X_Gatehouse_User into the same variable). Policy.Scrub
// deletes every such header on every request, before anything else.
func isIdentityHeader(name string) bool {
	if len(name) < len(identityPrefix) {
		return false
	}
	for i := 0; i < len(identityPrefix); i++ {
		c := name[i]
		if c == '_' {
			c = '-'
		} else if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != identityPrefix[i] {
			return false
		}
	}
	return true
}

// SetIdentityHeaders writes the trusted identity of an allowed request onto
// the upstream request's headers.
//
// X-Gatehouse-Revision goes with every allow, public ones included
// (README "Consistency tokens"): it names the data, not the caller. The
// Gatehouse-Consistency header, consumed here, is not forwarded.
func (d *Decision) SetIdentityHeaders(h http.Header) {
	if !d.Allowed {
		return
	}
	if d.Revision != "" {
		h.Set(HeaderRevision, d.Revision)
	}
	if d.ID != 0 {
		h.Set(HeaderUpstreamDecisionID, d.ID.String())
	}
	h.Del(HeaderConsistency)
	if !d.Authenticated {
		return
	}
	h.Set(HeaderUser, d.Principal.Subject)
	if d.Principal.Email != "" {
		h.Set(HeaderEmail, d.Principal.Email)
	}
	if o := d.Org; o != nil {
		d.setOrgHeaders(h, o)
		return
	}
	a := d.Access
	if a == nil {
		return
	}
	h.Set(HeaderWorkspace, a.WorkspaceID)
	h.Set(HeaderWorkspaceSlug, a.Slug)
	if a.organizationID != "" {
		h.Set(HeaderOrganization, a.organizationID)
	}
	h.Set(HeaderRoles, a.rolesHeader)
	if d.Rule != nil && d.Rule.Permission != "" {
		h.Set(HeaderPermission, d.Rule.Permission)
	}
	for _, rh := range a.restrictHeaders {
		h.Set(rh.name, rh.value)
	}
}

// setOrgHeaders forwards the organization of an allowed organization
// rule; X-Gatehouse-Roles holds the organization roles there.
func (d *Decision) setOrgHeaders(h http.Header, o *OrgAccess) {
	h.Set(HeaderOrganization, o.OrganizationID)
	h.Set(HeaderOrganizationSlug, o.Slug)
	h.Set(HeaderRoles, o.rolesHeader)
	if d.Rule != nil && d.Rule.Permission != "" {
		h.Set(HeaderPermission, d.Rule.Permission)
	}
}

// Facts returns what an assertion states about an allowed, authenticated
// request: the identity and what was allowed, not the request itself.
func (d *Decision) Facts() assertion.Facts {
	f := assertion.Facts{Subject: d.Principal.Subject, Email: d.Principal.Email}
	if a := d.Access; a != nil {
		f.WorkspaceID, f.WorkspaceSlug, f.Roles, f.Restrictions = a.WorkspaceID, a.Slug, a.Roles, a.Restrictions
	}
	if d.Rule != nil {
		f.Permission = d.Rule.Permission
	}
	return f
}

// RestrictHeaderName returns the header that forwards restriction type typ.
func RestrictHeaderName(typ string) string {
	return http.CanonicalHeaderKey(restrictHeaderPrefix + strings.ToLower(typ))
}
