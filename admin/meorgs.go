package admin

import (
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// What GET /v1/me and GET /v1/permissions say about organizations,
// projects and plans (README "Organizations API").

// myOrganization is one of the caller's organizations with their standing
// there.
type myOrganization struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Roles       []string  `json:"roles"`
	Permissions []string  `json:"permissions"`
	Plan        *planView `json:"plan,omitempty"`
}

// myProject is one of the caller's projects: their project roles and the
// workspace roles those map to in the project's PROJECT workspaces.
type myProject struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organization_id"`
	Slug           string   `json:"slug"`
	Name           string   `json:"name"`
	Roles          []string `json:"roles"`
	WorkspaceRoles []string `json:"workspace_roles"`
}

// myOrganizations lists the live organizations user is a member of.
func (a *API) myOrganizations(tx store.Tx, user string) ([]myOrganization, error) {
	out := []myOrganization{}
	cursor := ""
	for {
		ms, next, err := tx.UserOrgMemberships(user, cursor, maxLimit)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.OrganizationID
		}
		orgs, err := tx.OrganizationsByID(ids)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			org, ok := orgs[m.OrganizationID]
			if !ok || org.Deleted() {
				continue
			}
			out = append(out, myOrganization{ID: org.ID, Slug: org.Slug, Name: org.Name, Roles: nonNil(m.Roles),
				Permissions: a.orgPermissionNames(a.model.OrgPermissions(m.Roles)), Plan: newPlanView(a.model.PlanNamed(org.Plan))})
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// myProjects lists user's projects in live organizations.
func (a *API) myProjects(tx store.Tx, user string) ([]myProject, error) {
	out := []myProject{}
	live := map[string]bool{} // organization id → not deleted
	cursor := ""
	for {
		ms, next, err := tx.UserProjectMemberships(user, cursor, maxLimit)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			p, err := tx.Project(m.ProjectID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			ok, err := liveOrganization(tx, p.OrganizationID, live)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			out = append(out, myProject{ID: p.ID, OrganizationID: p.OrganizationID, Slug: p.Slug, Name: p.Name,
				Roles: nonNil(m.Roles), WorkspaceRoles: nonNil(a.model.ProjectWorkspaceRoles(m.Roles))})
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

type orgRoleView struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

type projectRoleView struct {
	Slug           string   `json:"slug"`
	Name           string   `json:"name"`
	Description    string   `json:"description,omitempty"`
	WorkspaceRoles []string `json:"workspace_roles"`
}

// orgCatalog is what GET /v1/permissions adds for organizations: the
// organization catalog, organization and project roles, the plans and
// default_plan.
func (a *API) orgCatalog(out map[string]any) {
	cat := a.model.OrgCatalog()
	perms := []permissionView{}
	for _, d := range cat.Declarations() {
		perms = append(perms, permissionView{Name: d.Name, Implies: nonNil(d.Implies), Grants: nonNil(cat.Implied(d.Name))})
	}
	orgRoles := []orgRoleView{}
	for _, r := range a.model.OrgRoles() {
		orgRoles = append(orgRoles, orgRoleView{Slug: r.Slug, Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions)})
	}
	projectRoles := []projectRoleView{}
	for _, r := range a.model.ProjectRoles() {
		projectRoles = append(projectRoles, projectRoleView{Slug: r.Slug, Name: r.Name, Description: r.Description, WorkspaceRoles: nonNil(r.WorkspaceRoles)})
	}
	out["organization_permissions"] = perms
	out["org_roles"] = orgRoles
	out["project_roles"] = projectRoles
	out["plans"] = a.catalogPlans()
	out["default_plan"] = a.defaultPlanSlug()
}
