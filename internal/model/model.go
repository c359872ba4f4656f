package model

import (
	"github.com/gatehouse-authz/gatehouse/internal/authz"
)

// Model is one configuration's authorization model. It is immutable and
// safe for concurrent use.
type Model struct {
	catalog      *authz.Catalog
	roles        map[string]SystemRole
	roleList     []SystemRole
	creatorRole  string
	globalAdmins map[string]struct{}
	// adminID is workspace.admin's id in catalog.
	adminID authz.PermID

	orgCatalog      *authz.Catalog
	orgRoles        map[string]OrgRole
	orgRoleList     []OrgRole
	projectRoles    map[string]ProjectRole
	projectRoleList []ProjectRole
	plans           map[string]*Plan
	planList        []*Plan
	defaultPlan     *Plan
	// neverGated is every workspace.* permission of catalog: in every
	// plan's ceiling, whatever the plan says.
	neverGated authz.Set
	// customRolesGated is true when some plan lacks custom_roles: only
	// then is a member's access also compiled without their custom roles.
	customRolesGated bool
	localWorkspaces  bool
}

// New validates cfg and builds its model. An error names what to change
// and, when known, where it is declared (a *ConfigError).
func New(cfg Config) (*Model, error) {
	wsPerms, orgPerms, err := splitPermissions(cfg.Permissions)
	if err != nil {
		return nil, err
	}
	catalog, err := newCatalog(authz.Builtins(), wsPerms)
	if err != nil {
		return nil, err
	}
	orgCatalog, err := newCatalog(OrgBuiltins(), orgPerms)
	if err != nil {
		return nil, err
	}
	declared := cfg.Roles
	if len(declared) == 0 {
		declared = DefaultRoles()
	}
	roles, err := checkRoles(catalog, declared)
	if err != nil {
		return nil, err
	}
	m := &Model{
		catalog:      catalog,
		roles:        make(map[string]SystemRole, len(roles)),
		roleList:     roles,
		creatorRole:  cfg.CreatorRole,
		globalAdmins: make(map[string]struct{}, len(cfg.GlobalAdmins)),
	}
	m.adminID, _ = catalog.ID(authz.PermAdmin)
	for _, r := range roles {
		m.roles[r.Slug] = r
	}
	for _, a := range cfg.GlobalAdmins {
		m.globalAdmins[a] = struct{}{}
	}
	if m.creatorRole == "" {
		m.creatorRole = DefaultCreatorRole
	}
	if err := m.checkCreatorRole(); err != nil {
		return nil, err
	}
	if err := m.organizations(cfg, orgCatalog); err != nil {
		return nil, err
	}
	return m, nil
}

// organizations validates and compiles what §11 adds: organization and
// project roles, plans, local workspaces. With none of it configured the
// model behaves as without organizations.
func (m *Model) organizations(cfg Config, orgCatalog *authz.Catalog) error {
	m.orgCatalog = orgCatalog
	declared := cfg.OrgRoles
	if len(declared) == 0 {
		declared = DefaultOrgRoles()
	}
	orgRoles, err := checkOrgRoles(orgCatalog, declared)
	if err != nil {
		return err
	}
	m.orgRoleList, m.orgRoles = orgRoles, make(map[string]OrgRole, len(orgRoles))
	for _, r := range orgRoles {
		m.orgRoles[r.Slug] = r
	}
	projectRoles, err := checkProjectRoles(cfg.ProjectRoles, m.roles, m.roleList)
	if err != nil {
		return err
	}
	m.projectRoleList, m.projectRoles = projectRoles, make(map[string]ProjectRole, len(projectRoles))
	for _, r := range projectRoles {
		m.projectRoles[r.Slug] = r
	}
	m.neverGated = m.catalog.Matching([]string{"workspace.*"})
	m.localWorkspaces = cfg.LocalWorkspaces
	return m.compilePlans(cfg.Plans, cfg.DefaultPlan, cfg.DefaultPlanSource)
}

func (m *Model) checkCreatorRole() error {
	r, ok := m.roles[m.creatorRole]
	if !ok {
		return configError("", "creator_role %q is not a declared role: declare it with \"role %s ...\"", m.creatorRole, m.creatorRole)
	}
	if !m.HoldsAdmin(m.catalog.Expand(r.Permissions)) {
		return configError("", "creator_role %q must grant %s: a workspace always keeps one admin", m.creatorRole, authz.PermAdmin)
	}
	return nil
}

// Catalog returns the permission catalog.
func (m *Model) Catalog() *authz.Catalog { return m.catalog }

// SystemRole returns a system role by slug.
func (m *Model) SystemRole(slug string) (SystemRole, bool) {
	r, ok := m.roles[slug]
	return r, ok
}

// SystemRoles returns the system roles in config order.
func (m *Model) SystemRoles() []SystemRole { return m.roleList }

// CreatorRole returns the system role a workspace's creator gets.
func (m *Model) CreatorRole() string { return m.creatorRole }

// IsGlobalAdmin reports whether subject is listed in global_admins. It is
// a lookup in the list only: an API key's subject is never listed (the
// configuration refuses subjects with the API key prefix, and the gateway
// refuses API keys before it asks).
func (m *Model) IsGlobalAdmin(subject string) bool {
	_, ok := m.globalAdmins[subject]
	return ok
}

// HoldsAdmin reports whether s includes workspace.admin.
func (m *Model) HoldsAdmin(s authz.Set) bool { return s.Has(m.adminID) }

// RoleGrantsAdmin reports whether system role slug grants workspace.admin
// (false for a slug that is not a system role).
func (m *Model) RoleGrantsAdmin(slug string) bool {
	r, ok := m.roles[slug]
	return ok && m.HoldsAdmin(m.catalog.Expand(r.Permissions))
}
