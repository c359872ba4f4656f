package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
)

// The built-in organization permissions (README "Organizations, projects
// and plans"). They live in the organization catalog, apart from the
// workspace catalog: holding one grants nothing inside a workspace, and a
// workspace role's "*" never lists them.
const (
	// PermOrgAdmin implies every organization.* permission.
	PermOrgAdmin = "organization.admin"
	// PermOrgSettings allows changing the organization's name and slug.
	PermOrgSettings = "organization.settings"
	// PermOrgMembers allows managing the organization's members.
	PermOrgMembers = "organization.members"
	// PermOrgProjects allows managing projects and their members.
	PermOrgProjects = "organization.projects"
	// PermOrgWorkspaces allows managing the organization's workspaces
	// (not reading their data: that takes a workspace permission).
	PermOrgWorkspaces = "organization.workspaces"
	// PermOrgBilling allows changing the organization's plan.
	PermOrgBilling = "organization.billing"
)

// orgNamespace is the first segment of every organization permission.
const orgNamespace = "organization"

// OrgBuiltins returns the declarations every organization catalog starts
// from. The slice is new on each call.
func OrgBuiltins() []authz.Declaration {
	return []authz.Declaration{
		{Name: PermOrgAdmin, Implies: []string{orgNamespace + ".*"}},
		{Name: PermOrgSettings},
		{Name: PermOrgMembers},
		{Name: PermOrgProjects},
		{Name: PermOrgWorkspaces},
		{Name: PermOrgBilling},
	}
}

// IsOrgPermission reports whether a permission name or pattern is in the
// organization namespace (its first segment is "organization").
func IsOrgPermission(name string) bool {
	rest, ok := strings.CutPrefix(name, orgNamespace)
	return ok && rest != "" && (rest[0] == '.' || rest[0] == ':')
}

// OrgRole is an organization role declared in config
// (`org_role owner "Owner" organization.admin`).
type OrgRole struct {
	Slug        string
	Name        string
	Description string
	// Permissions are organization permissions or patterns.
	Permissions []string
	// Source locates the declaration for error messages.
	Source string
}

// ProjectRole is a project role declared in config: what a project member
// with it gets in every PROJECT workspace of the project
// (`project_role developer "Developer" workspace_roles member`).
type ProjectRole struct {
	Slug        string
	Name        string
	Description string
	// WorkspaceRoles are system workspace roles.
	WorkspaceRoles []string
	// Source locates the declaration for error messages.
	Source string
}

// DefaultOrgRoles are the organization roles when config declares none:
// "owner" (organization.admin) and "member" (no permission).
func DefaultOrgRoles() []OrgRole {
	return []OrgRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{PermOrgAdmin}},
		{Slug: "member", Name: "Member"},
	}
}

// splitPermissions separates organization declarations from workspace
// ones. A workspace permission may not imply an organization permission
// nor the reverse: the two catalogs are apart.
func splitPermissions(perms []Permission) (workspace, org []Permission, err error) {
	for _, p := range perms {
		if !IsOrgPermission(p.Name) {
			for _, imp := range p.Implies {
				if IsOrgPermission(imp) {
					return nil, nil, configError(p.Source, "permission %s implies %s: a workspace permission cannot imply an organization permission (organization permissions grant nothing in a workspace, and the reverse)", p.Name, imp)
				}
			}
			workspace = append(workspace, p)
			continue
		}
		for _, imp := range p.Implies {
			if !IsOrgPermission(imp) {
				return nil, nil, configError(p.Source, "permission %s implies %s: an organization permission can imply only organization permissions (organization.*)", p.Name, imp)
			}
		}
		org = append(org, p)
	}
	return workspace, org, nil
}

// checkOrgRoles validates organization roles against the organization
// catalog.
func checkOrgRoles(catalog *authz.Catalog, roles []OrgRole) ([]OrgRole, error) {
	out := make([]OrgRole, 0, len(roles))
	seen := make(map[string]string, len(roles))
	for _, r := range roles {
		if err := ident.ValidateRoleSlug(r.Slug); err != nil {
			return nil, configError(r.Source, "org_role %q: %v", r.Slug, err)
		}
		if first, dup := seen[r.Slug]; dup {
			return nil, configError(r.Source, "org_role %s is declared twice (first at %s)", r.Slug, orUnknown(first))
		}
		seen[r.Slug] = r.Source
		for _, p := range r.Permissions {
			if !IsOrgPermission(p) {
				return nil, configError(r.Source, "org_role %s: %s is not an organization permission: an organization role may name only organization.* permissions (workspace permissions come from workspace roles)", r.Slug, p)
			}
			if err := catalog.CheckPattern(p); err != nil {
				return nil, configError(r.Source, "org_role %s: %v", r.Slug, err)
			}
		}
		if r.Name == "" {
			r.Name = r.Slug
		}
		out = append(out, r)
	}
	return out, nil
}

// checkProjectRoles validates project roles: each maps to system
// workspace roles that exist.
func checkProjectRoles(roles []ProjectRole, system map[string]SystemRole, systemList []SystemRole) ([]ProjectRole, error) {
	out := make([]ProjectRole, 0, len(roles))
	seen := make(map[string]string, len(roles))
	for _, r := range roles {
		if err := ident.ValidateRoleSlug(r.Slug); err != nil {
			return nil, configError(r.Source, "project_role %q: %v", r.Slug, err)
		}
		if first, dup := seen[r.Slug]; dup {
			return nil, configError(r.Source, "project_role %s is declared twice (first at %s)", r.Slug, orUnknown(first))
		}
		seen[r.Slug] = r.Source
		mapped := make(map[string]bool, len(r.WorkspaceRoles))
		for _, wr := range r.WorkspaceRoles {
			if _, ok := system[wr]; !ok {
				slugs := make([]string, len(systemList))
				for i, s := range systemList {
					slugs[i] = s.Slug
				}
				msg := fmt.Sprintf("project_role %s: workspace_roles %s: no such system role (declared: %s)", r.Slug, wr, strings.Join(slugs, ", "))
				if hint := authz.DidYouMean(wr, slugs); hint != "" {
					msg += "; " + hint
				}
				return nil, configError(r.Source, "%s", msg)
			}
			if mapped[wr] {
				return nil, configError(r.Source, "project_role %s: workspace role %s is listed twice", r.Slug, wr)
			}
			mapped[wr] = true
		}
		if r.Name == "" {
			r.Name = r.Slug
		}
		out = append(out, r)
	}
	return out, nil
}

// OrgCatalog returns the organization permission catalog.
func (m *Model) OrgCatalog() *authz.Catalog { return m.orgCatalog }

// OrgRoles returns the organization roles in config order.
func (m *Model) OrgRoles() []OrgRole { return m.orgRoleList }

// OrgRole returns an organization role by slug.
func (m *Model) OrgRole(slug string) (OrgRole, bool) {
	r, ok := m.orgRoles[slug]
	return r, ok
}

// OrgPermissions returns what organization roles grant, closed under
// implications in the organization catalog. Unknown roles grant nothing.
func (m *Model) OrgPermissions(roles []string) authz.Set {
	var patterns []string
	for _, slug := range roles {
		patterns = append(patterns, m.orgRoles[slug].Permissions...)
	}
	return m.orgCatalog.Expand(patterns)
}

// ProjectRoles returns the project roles in config order.
func (m *Model) ProjectRoles() []ProjectRole { return m.projectRoleList }

// ProjectRole returns a project role by slug.
func (m *Model) ProjectRole(slug string) (ProjectRole, bool) {
	r, ok := m.projectRoles[slug]
	return r, ok
}

// ProjectWorkspaceRoles returns the workspace roles project roles map to,
// each once, in the order they first appear. Unknown project roles map
// to nothing.
func (m *Model) ProjectWorkspaceRoles(projectRoles []string) []string {
	var out []string
	for _, slug := range projectRoles {
		for _, wr := range m.projectRoles[slug].WorkspaceRoles {
			if !slices.Contains(out, wr) {
				out = append(out, wr)
			}
		}
	}
	return out
}

// LocalWorkspaces reports whether every user gets a LOCAL workspace on
// their first authenticated request (`local_workspaces on`).
func (m *Model) LocalWorkspaces() bool { return m.localWorkspaces }
