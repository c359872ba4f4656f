package gateway

import (
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// WorkspaceRoles is one workspace's custom roles, read with a single Roles
// call, for compiling the access of many of its members in memory: the
// last-admin check walks every member, and a Role read per member (what
// MemberAccess does) would make it one store round trip per member on a
// networked backend.
type WorkspaceRoles struct {
	e      *Engine
	ws     store.Workspace
	custom map[string][]string
}

// WorkspaceRoles reads the custom roles of ws from tx.
func (e *Engine) WorkspaceRoles(tx store.Tx, ws store.Workspace) (*WorkspaceRoles, error) {
	roles, err := tx.Roles(ws.ID)
	if err != nil {
		return nil, err
	}
	custom := make(map[string][]string, len(roles))
	for _, r := range roles {
		custom[r.Slug] = r.Permissions
	}
	return &WorkspaceRoles{e: e, ws: ws, custom: custom}, nil
}

// Access compiles what membership m grants in the workspace: what
// MemberAccess gives, without reading the store.
func (r *WorkspaceRoles) Access(m store.Membership) *Access {
	return compileAccess(r.e.catalog, r.ws, m, r.patterns)
}

// patterns resolves a role slug as RolePatterns does (resolveRole), from
// the roles read once.
func (r *WorkspaceRoles) patterns(slug string) []string {
	custom, isCustom := r.custom[slug]
	patterns, _ := r.e.resolveRole(slug, custom, isCustom)
	return patterns
}
