package caddymodule

import (
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
)

// newCatalog builds the permission catalog; an error names the declaration
// it comes from.
func newCatalog(perms []PermissionConfig) (*authz.Catalog, error) {
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
	catalog, err := authz.NewCatalog(decls)
	if err != nil {
		// NewCatalog checks implications across the whole catalog; find
		// the declaration to blame by checking each against it.
		return nil, blameDeclaration(perms, err)
	}
	return catalog, nil
}

// blameDeclaration attributes a catalog error to the first declaration
// whose implications do not resolve, so the message carries its line.
func blameDeclaration(perms []PermissionConfig, err error) error {
	names := make([]authz.Declaration, len(perms))
	for i, p := range perms {
		names[i] = authz.Declaration{Name: p.Name}
	}
	bare, bareErr := authz.NewCatalog(names)
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

// defaultRoles are the system roles when config declares none.
func defaultRoles() []RoleConfig {
	return []RoleConfig{
		{Slug: "owner", Name: "Owner", Permissions: []string{authz.PermAdmin}},
		{Slug: "member", Name: "Member"},
	}
}

// compileRoles validates system roles against the catalog.
func compileRoles(catalog *authz.Catalog, roles []RoleConfig) ([]gateway.SystemRole, error) {
	out := make([]gateway.SystemRole, 0, len(roles))
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
			if err := catalog.CheckPattern(p); err != nil {
				return nil, configError(r.Source, "role %s: %v", r.Slug, err)
			}
		}
		name := r.Name
		if name == "" {
			name = r.Slug
		}
		out = append(out, gateway.SystemRole{Slug: r.Slug, Name: name, Description: r.Description, Permissions: r.Permissions})
	}
	return out, nil
}

// configError prefixes a message with its source ("Caddyfile:12: ").
func configError(source, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if source != "" {
		return fmt.Errorf("gatehouse: %s: %s", source, msg)
	}
	return fmt.Errorf("gatehouse: %s", msg)
}

func orUnknown(source string) string {
	if source == "" {
		return "an earlier declaration"
	}
	return source
}
