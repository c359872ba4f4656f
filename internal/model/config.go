package model

import (
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
)

// Config is the authorization part of a Gatehouse configuration.
type Config struct {
	// Permissions declares the catalog. The built-in administrative
	// permissions (authz.Builtins) are always part of it.
	Permissions []Permission
	// Roles declares the system roles, present in every workspace and
	// immutable through the API. None declared: DefaultRoles.
	Roles []SystemRole
	// CreatorRole is the system role given to a workspace's creator. It
	// must grant workspace.admin. "": DefaultCreatorRole.
	CreatorRole string
	// GlobalAdmins lists the user ids (subjects) who are global admins.
	// Being one grants no workspace permission.
	GlobalAdmins []string

	// OrgRoles declares the organization roles. None declared:
	// DefaultOrgRoles.
	OrgRoles []OrgRole
	// ProjectRoles declares the project roles; none by default.
	ProjectRoles []ProjectRole
	// Plans declares the plans, cheapest first. None declared: nothing
	// is gated (Ceiling changes nothing).
	Plans []PlanConfig
	// DefaultPlan names the plan of whoever has none set; "": the first
	// declared plan. DefaultPlanSource locates its line.
	DefaultPlan       string
	DefaultPlanSource string
	// LocalWorkspaces gives every user a LOCAL workspace on their first
	// authenticated request.
	LocalWorkspaces bool
}

// Permission declares one catalog permission. A name in the organization
// namespace (organization.x) goes to the organization catalog.
type Permission struct {
	// Name of the permission, e.g. "contact.manage".
	Name string
	// Implies lists permissions or patterns that holding Name also grants.
	Implies []string
	// Source locates the declaration ("Caddyfile:12") for error messages.
	Source string
}

// SystemRole is a role declared in config: it exists in every workspace and
// cannot be changed through the API.
type SystemRole struct {
	Slug        string
	Name        string
	Description string
	// Permissions are catalog permissions or patterns.
	Permissions []string
	// Source locates the declaration for error messages.
	Source string
}

// DefaultCreatorRole is the creator role when config names none.
const DefaultCreatorRole = "owner"

// DefaultRoles are the system roles when config declares none: "owner"
// (workspace.admin) and "member" (no permission).
func DefaultRoles() []SystemRole {
	return []SystemRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{authz.PermAdmin}},
		{Slug: "member", Name: "Member"},
	}
}

// ConfigError is a configuration mistake: Source names the declaration
// ("Caddyfile:12"), when known.
type ConfigError struct {
	Source string
	Msg    string
}

func (e *ConfigError) Error() string {
	if e.Source == "" {
		return e.Msg
	}
	return e.Source + ": " + e.Msg
}

func configError(source, format string, args ...any) error {
	return &ConfigError{Source: source, Msg: fmt.Sprintf(format, args...)}
}

func orUnknown(source string) string {
	if source == "" {
		return "an earlier declaration"
	}
	return source
}

// newCatalog builds a permission catalog from builtins and perms; an
// error names the declaration it comes from.
func newCatalog(builtins []authz.Declaration, perms []Permission) (*authz.Catalog, error) {
	decls := make([]authz.Declaration, len(perms))
	seen := make(map[string]string, len(perms))
	for i, p := range perms {
		if first, dup := seen[p.Name]; dup {
			return nil, configError(p.Source, "permission %s is declared twice (first at %s)", p.Name, orUnknown(first))
		}
		seen[p.Name] = p.Source
		if err := authz.ValidateName(p.Name); err != nil {
			return nil, configError(p.Source, "%v", err)
		}
		decls[i] = authz.Declaration{Name: p.Name, Implies: p.Implies}
	}
	catalog, err := authz.NewCatalogOf(builtins, decls)
	if err != nil {
		// NewCatalog checks implications across the whole catalog; find
		// the declaration to blame by checking each against it.
		return nil, blameDeclaration(builtins, perms, err)
	}
	return catalog, nil
}

// blameDeclaration attributes a catalog error to the first declaration
// whose implications do not resolve, so the message carries its line.
func blameDeclaration(builtins []authz.Declaration, perms []Permission, err error) error {
	names := make([]authz.Declaration, len(perms))
	for i, p := range perms {
		names[i] = authz.Declaration{Name: p.Name}
	}
	bare, bareErr := authz.NewCatalogOf(builtins, names)
	if bareErr != nil {
		return configError("", "%v", err)
	}
	for _, p := range perms {
		for _, implied := range p.Implies {
			if e := bare.CheckPattern(implied); e != nil {
				return configError(p.Source, "permission %s implies %s: %v", p.Name, implied, e)
			}
		}
	}
	return configError("", "%v", err)
}

// checkRoles validates system roles against the catalog.
func checkRoles(catalog *authz.Catalog, roles []SystemRole) ([]SystemRole, error) {
	out := make([]SystemRole, 0, len(roles))
	seen := make(map[string]bool, len(roles))
	for _, r := range roles {
		if err := ident.ValidateRoleSlug(r.Slug); err != nil {
			return nil, configError(r.Source, "role %q: %v", r.Slug, err)
		}
		if seen[r.Slug] {
			return nil, configError(r.Source, "role %s is declared twice", r.Slug)
		}
		seen[r.Slug] = true
		for _, p := range r.Permissions {
			if IsOrgPermission(p) {
				return nil, configError(r.Source, "role %s: %s is an organization permission: it grants nothing in a workspace; give it with an org_role", r.Slug, p)
			}
			if err := catalog.CheckPattern(p); err != nil {
				return nil, configError(r.Source, "role %s: %v", r.Slug, err)
			}
		}
		if r.Name == "" {
			r.Name = r.Slug
		}
		out = append(out, r)
	}
	return out, nil
}
