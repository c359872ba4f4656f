package admin

import (
	"errors"
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// codeOrganizationNotFound: an unknown or deleted organization, or one the
// caller is not a member of (they cannot tell them apart).
const codeOrganizationNotFound = "organization_not_found"

// orgStanding is the caller's standing in the request's organization,
// read in the handler's own transaction so that checks and changes agree.
type orgStanding struct {
	org store.Organization
	// member is the caller's organization membership; isMember is false
	// for a global admin who is not a member.
	member   store.OrgMember
	isMember bool
	// perms are the caller's organization permissions (organization
	// catalog): their roles' closure, or every organization permission
	// for a global admin (README "Organizations API").
	perms authz.Set
}

// roles is the caller's organization roles (none for a global admin who
// is not a member).
func (st *orgStanding) roles() []string {
	if !st.isMember {
		return []string{}
	}
	return nonNil(st.member.Roles)
}

// organizationNotFound is the one 404 for an unknown organization, a
// deleted one, and one the caller is not a member of: byte for byte the
// same, so a non-member learns nothing of what exists.
func organizationNotFound() *problem.Problem {
	return notFound(codeOrganizationNotFound, "no such organization, or you are not a member of it")
}

// lookupOrganization finds an organization, deleted or not, by id or slug
// (404 organization_not_found).
func lookupOrganization(tx store.Tx, ref string) (store.Organization, error) {
	var (
		org store.Organization
		err error
	)
	if ident.IsOrganizationID(ref) {
		org, err = tx.Organization(ref)
	} else {
		org, err = tx.OrganizationBySlug(ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return org, organizationNotFound()
	}
	return org, err
}

// orgStanding returns the caller's standing in the organization named by
// the {org} parameter: 404 unless it is live and the caller is a member
// or a global admin.
func (c *call) orgStanding(tx store.Tx) (*orgStanding, error) {
	org, err := lookupOrganization(tx, c.param("org"))
	if err != nil {
		return nil, err
	}
	if org.Deleted() {
		return nil, organizationNotFound()
	}
	return c.api.orgStandingIn(tx, org, c.user(), c.isGlobalAdmin())
}

// orgStandingIn is user's standing in the live organization org; a
// non-member who is not a global admin gets 404 organization_not_found.
func (a *API) orgStandingIn(tx store.Tx, org store.Organization, user string, globalAdmin bool) (*orgStanding, error) {
	st := &orgStanding{org: org}
	m, err := tx.OrgMember(org.ID, user)
	switch {
	case err == nil:
		st.member, st.isMember = m, true
		st.perms = a.model.OrgPermissions(m.Roles)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	case !globalAdmin:
		return nil, organizationNotFound()
	}
	if globalAdmin {
		// A global admin manages every organization (not its workspaces'
		// data: organization permissions grant nothing there).
		st.perms = a.model.OrgCatalog().Expand([]string{"*"})
	}
	return st, nil
}

// orgStandingWith is orgStanding plus a required organization permission
// (403 forbidden with required_permission).
func (c *call) orgStandingWith(tx store.Tx, perm string) (*orgStanding, error) {
	st, err := c.orgStanding(tx)
	if err != nil {
		return nil, err
	}
	if !st.holds(c.api, perm) {
		return nil, missingOrgPermission(perm, st.org.Slug)
	}
	return st, nil
}

// holds reports whether the standing includes organization permission
// perm.
func (st *orgStanding) holds(a *API, perm string) bool {
	return a.model.OrgCatalog().HasName(st.perms, perm)
}

// missingOrgPermission is the 403 for a caller without a required
// organization permission.
func missingOrgPermission(permission, orgSlug string) *problem.Problem {
	p := forbidden(problem.CodeForbidden, "you need the "+permission+" permission in organization "+orgSlug)
	p.RequiredPermission = permission
	return p
}

// orgPermissionNames lists organization permissions for a response.
func (a *API) orgPermissionNames(s authz.Set) []string {
	return nonNil(s.Names(a.model.OrgCatalog()))
}

// requireOrgPermission answers 403 unless st holds perm; a convenience for
// handlers that first read the standing for other reasons.
func (c *call) requireOrgPermission(st *orgStanding, perm string) error {
	if st.holds(c.api, perm) {
		return nil
	}
	return missingOrgPermission(perm, st.org.Slug)
}

// orgAdminRole is the first configured organization role that holds
// organization.admin: what the creator of an organization gets
// (decision 2). "" when config declares none.
func (a *API) orgAdminRole() string {
	for _, r := range a.model.OrgRoles() {
		if a.model.OrgCatalog().HasName(a.model.OrgPermissions([]string{r.Slug}), "organization.admin") {
			return r.Slug
		}
	}
	return ""
}

// errNoOrgAdminRole answers POST /v1/orgs when no organization role holds
// organization.admin: an organization made then could never keep an admin.
var errNoOrgAdminRole = problem.New(http.StatusNotImplemented, problem.CodeNotImplemented,
	"no org_role holds organization.admin: the operator must declare one before organizations can be created")
