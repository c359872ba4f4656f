package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// Placeholders set on allowed requests (README "Identity headers and placeholders").
const (
	placeholderUserID        = "gatehouse.user.id"
	placeholderUserEmail     = "gatehouse.user.email"
	placeholderWorkspaceID   = "gatehouse.workspace.id"
	placeholderWorkspaceSlug = "gatehouse.workspace.slug"
	placeholderPermission    = "gatehouse.permission"
	// The organization of an allowed organization rule.
	placeholderOrgID   = "gatehouse.organization.id"
	placeholderOrgSlug = "gatehouse.organization.slug"
	// placeholderAuthUser is Caddy's own: the access log's user_id.
	placeholderAuthUser = "http.auth.user.id"
)

// setPlaceholders exposes the decision to the rest of the route and to
// the access log.
func setPlaceholders(repl *caddy.Replacer, d *gateway.Decision) {
	if !d.Authenticated {
		return
	}
	repl.Set(placeholderUserID, d.Principal.Subject)
	repl.Set(placeholderAuthUser, d.Principal.Subject)
	repl.Set(placeholderUserEmail, d.Principal.Email)
	if d.Access != nil {
		repl.Set(placeholderWorkspaceID, d.Access.WorkspaceID)
		repl.Set(placeholderWorkspaceSlug, d.Access.Slug)
	}
	if d.Org != nil {
		repl.Set(placeholderOrgID, d.Org.OrganizationID)
		repl.Set(placeholderOrgSlug, d.Org.Slug)
	}
	if d.Rule != nil && d.Rule.Permission != "" {
		repl.Set(placeholderPermission, d.Rule.Permission)
	}
}
