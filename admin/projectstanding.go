package admin

import (
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Project standing (README "Projects"): who may do what to a project and
// its members. A project role grants nothing by itself; it maps to system
// workspace roles in the project's PROJECT workspaces. A member is a
// "project admin" when one of their project roles maps to a workspace
// role holding workspace.admin.

// projectStanding is the caller's standing in the request's project.
type projectStanding struct {
	org     *orgStanding
	project store.Project
	// member is the caller's project membership (zero when isMember is
	// false).
	member   store.ProjectMember
	isMember bool
}

// projectNotFound is the one 404 for an unknown project of the
// organization: the caller is an organization member (or would have got
// organization_not_found), so it tells nothing they may not know.
func projectNotFound() *problem.Problem {
	return notFound(codeProjectNotFound, "no such project in this organization")
}

// lookupProject finds a project of org by id or slug (404
// project_not_found, also for a project of another organization).
func lookupProject(tx store.Tx, orgID, ref string) (store.Project, error) {
	var (
		p   store.Project
		err error
	)
	if ident.IsProjectID(ref) {
		p, err = tx.Project(ref)
		if err == nil && p.OrganizationID != orgID {
			err = store.ErrNotFound
		}
	} else {
		p, err = tx.ProjectBySlug(orgID, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Project{}, projectNotFound()
	}
	return p, err
}

// projectStanding returns the caller's standing in the project named by
// {project} of the organization named by {org}: 404 unless the
// organization is live and the caller a member of it (or a global admin),
// and the project is the organization's.
func (c *call) projectStanding(tx store.Tx) (*projectStanding, error) {
	org, err := c.orgStanding(tx)
	if err != nil {
		return nil, err
	}
	p, err := lookupProject(tx, org.org.ID, c.param("project"))
	if err != nil {
		return nil, err
	}
	st := &projectStanding{org: org, project: p}
	m, err := tx.ProjectMember(p.ID, c.user())
	switch {
	case err == nil:
		st.member, st.isMember = m, true
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return st, nil
}

// roles is the caller's project roles.
func (st *projectStanding) roles() []string {
	if !st.isMember {
		return []string{}
	}
	return nonNil(st.member.Roles)
}

// isProjectAdmin reports whether project roles make their holder a
// project admin: one maps to a workspace role holding workspace.admin.
func (a *API) isProjectAdmin(roles []string) bool {
	return slices.ContainsFunc(a.model.ProjectWorkspaceRoles(roles), a.model.RoleGrantsAdmin)
}

// projectAdminRole is the project admin role: the first configured
// project role whose workspace roles hold workspace.admin, "" when none
// is configured (a project's creator then gets no project role).
func (a *API) projectAdminRole() string {
	for _, r := range a.model.ProjectRoles() {
		if a.isProjectAdmin([]string{r.Slug}) {
			return r.Slug
		}
	}
	return ""
}

// canManageProject reports whether the caller may edit the project and
// manage its members: organization.projects, or project-admin standing.
func (a *API) canManageProject(st *projectStanding) bool {
	return st.org.holds(a, model.PermOrgProjects) || a.isProjectAdmin(st.roles())
}

// requireManageProject is canManageProject as a 403.
func (c *call) requireManageProject(st *projectStanding) error {
	if c.api.canManageProject(st) {
		return nil
	}
	return missingOrgPermission(model.PermOrgProjects, st.org.org.Slug)
}

// projectGrants is what project roles hand out: the closure of the
// patterns of the workspace roles they map to, in the workspace catalog.
func (a *API) projectGrants(roles []string) authz.Set {
	var patterns []string
	for _, slug := range a.model.ProjectWorkspaceRoles(roles) {
		r, _ := a.model.SystemRole(slug)
		patterns = append(patterns, r.Permissions...)
	}
	return a.model.Catalog().Expand(patterns)
}

// assignsAny reports whether the caller may assign any project role and
// change any project member without the comparison below: a global admin,
// or a holder of organization.admin, who could make themselves project
// admin anyway (decision 3).
func (a *API) assignsAny(st *projectStanding) bool {
	return st.org.holds(a, model.PermOrgAdmin)
}

// noProjectEscalation refuses (403 escalation) unless the caller holds,
// through their own project roles in this project, every workspace
// permission that roles map to; what words the change.
func (a *API) noProjectEscalation(st *projectStanding, roles []string, what string) error {
	if a.assignsAny(st) {
		return nil
	}
	var esc *model.EscalationError
	if err := a.model.NoEscalation(a.projectGrants(st.roles()), a.projectGrants(roles)); !errors.As(err, &esc) {
		return err
	}
	p := forbidden(codeEscalation, "you cannot "+what+": it grants "+strings.Join(esc.Missing, ", ")+
		" in the project's workspaces, which your project roles do not")
	p.RequiredPermission = esc.Missing[0]
	return p
}

// projectAdminRemains is nil when some member of project p, as tx now
// stands, is a project admin; else 409 last_admin.
func (a *API) projectAdminRemains(tx store.Tx, p store.Project) error {
	cursor := ""
	for {
		ms, next, err := tx.ProjectMembers(p.ID, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if a.isProjectAdmin(m.Roles) {
				return nil
			}
		}
		if next == "" {
			return conflict(codeLastAdmin, "project "+p.Slug+" must keep at least one member with a project admin role")
		}
		cursor = next
	}
}
