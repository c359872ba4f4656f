package model

import (
	"errors"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Access is what one member (or API key) may do in one workspace, compiled
// from the stored records. It is immutable once built: the gateway caches
// it and shares it between concurrent requests.
type Access struct {
	// Member is false when the workspace is unknown, deleted, or the user
	// is not a member; everything else is then empty.
	Member      bool
	WorkspaceID string
	Slug        string
	Roles       []string
	// Permissions are the effective permissions: the closure of the
	// roles' patterns and the grants, minus the denies.
	Permissions authz.Set
	// Granted is Permissions before the member's denies: a permission in
	// Granted but not in Permissions was removed by a deny.
	Granted authz.Set
	// Defaults is what the member's roles alone grant (closed under
	// implications): what a plan without member_overrides leaves them
	// (Ceiling). An API key's are its own permissions.
	Defaults authz.Set
	// Restrictions as stored: resource type → allowed ids.
	Restrictions map[string][]string
	// RestrictedToNothing is the first restriction type (in name order)
	// whose list is empty, "" when there is none. An empty list
	// restricts the member to no resource of the type; the gateway denies
	// such a member everything (fail closed) rather than forward an
	// empty header an upstream would read as no restriction.
	RestrictedToNothing string
	// Plan is the plan the access was computed under (Ceiling), nil when
	// config declares no plan. A denial reads it to tell a permission the
	// plan excludes (plan_required) from one the member lacks.
	Plan *Plan
	// withoutCustom is this access compiled without the member's custom
	// roles, nil when the member holds none: what a plan without
	// custom_roles leaves them (Ceiling). Compiled with the access, so
	// applying a plan never re-reads roles.
	withoutCustom *Access
}

// roleSource resolves a role slug to its patterns and whether they are a
// workspace custom role's (gated by the custom_roles feature) rather
// than a system role's.
type roleSource func(slug string) (patterns []string, custom bool)

// Allows reports whether the member may touch resource id of type typ: an
// unrestricted type allows everything.
func (a *Access) Allows(typ, id string) bool {
	ids, restricted := a.Restrictions[typ]
	return !restricted || slices.Contains(ids, id)
}

// compile turns the stored records into an Access. rolePatterns maps a
// role slug to its patterns; roles it does not know grant nothing (a
// custom role deleted under a stale membership, or a system role removed
// from config) — failing towards less access. When some role resolves to
// a custom role and some plan lacks custom_roles, the access without the
// custom roles is compiled too (withoutCustom), for such plans.
func (m *Model) compile(ws store.Workspace, mem store.Membership, rolePatterns roleSource) *Access {
	var grants, systemRoles []string
	hasCustom := false
	for _, role := range mem.Roles {
		if rolePatterns == nil {
			continue
		}
		patterns, custom := rolePatterns(role)
		grants = append(grants, patterns...)
		if custom {
			hasCustom = true
		} else {
			systemRoles = append(systemRoles, role)
		}
	}
	grants = append(grants, mem.Grants...)
	a := &Access{
		Member:       true,
		WorkspaceID:  ws.ID,
		Slug:         ws.Slug,
		Roles:        slices.Clone(mem.Roles),
		Permissions:  m.catalog.Effective(grants, mem.Denies),
		Restrictions: mem.Restrictions,
	}
	a.Granted = a.Permissions
	if len(mem.Denies) > 0 {
		a.Granted = m.catalog.Expand(grants)
	}
	a.Defaults = a.Granted
	if len(mem.Grants) > 0 {
		a.Defaults = m.catalog.Expand(grants[:len(grants)-len(mem.Grants)])
	}
	for _, typ := range SortedKeys(mem.Restrictions) {
		if len(mem.Restrictions[typ]) == 0 {
			a.RestrictedToNothing = typ
			break
		}
	}
	if hasCustom && m.customRolesGated {
		// The slugs left resolve to system roles, so this recursion
		// finds no custom role and stops.
		system := mem
		system.Roles = systemRoles
		a.withoutCustom = m.compile(ws, system, rolePatterns)
	}
	return a
}

// MemberAccess compiles what membership mem grants in workspace ws,
// reading its custom roles from tx. The management API uses it inside its
// write transactions, so invariant checks see exactly the data they
// change; the gateway on a cache miss.
func (m *Model) MemberAccess(tx store.Tx, ws store.Workspace, mem store.Membership) (*Access, error) {
	resolved, err := m.resolveRoles(tx, ws.ID, mem.Roles)
	if err != nil {
		return nil, err
	}
	return m.compile(ws, mem, resolved.source), nil
}

// resolvedRole is a role slug resolved in one workspace (RolePatterns).
type resolvedRole struct {
	patterns []string
	custom   bool
}

// resolvedRoles maps role slugs to what they resolved to; a slug it lacks
// grants nothing.
type resolvedRoles map[string]resolvedRole

func (r resolvedRoles) source(slug string) ([]string, bool) {
	rr := r[slug]
	return rr.patterns, rr.custom
}

// resolveRoles resolves role slugs in workspace workspaceID as
// RolePatterns does, custom roles read from tx.
func (m *Model) resolveRoles(tx store.Tx, workspaceID string, slugs []string) (resolvedRoles, error) {
	out := make(resolvedRoles, len(slugs))
	for _, slug := range slugs {
		role, err := tx.Role(workspaceID, slug)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		isCustom := err == nil
		if patterns, found := m.resolveRole(slug, role.Permissions, isCustom); found {
			out[slug] = resolvedRole{patterns: patterns, custom: isCustom}
		}
	}
	return out, nil
}

// KeyAccess compiles what API key key may do in its workspace ws: its own
// patterns and restrictions, no roles. The caller checks that the key
// belongs to ws and is not revoked.
func (m *Model) KeyAccess(ws store.Workspace, key store.APIKey) *Access {
	a := m.compile(ws, store.Membership{Grants: key.Permissions, Restrictions: key.Restrictions}, nil)
	a.Defaults = a.Permissions // a key's permissions are not member overrides
	return a
}

// KeyStanding is KeyAccess under the plan of the key's workspace
// (Ceiling): what the gateway caches for an API key. Whether the plan
// allows API keys at all is KeyPlanRefusal's question, asked when the key
// authenticates.
func (m *Model) KeyStanding(tx store.Tx, ws store.Workspace, key store.APIKey) (*Access, error) {
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return nil, err
	}
	return m.Ceiling(m.KeyAccess(ws, key), plan), nil
}

// RolePatterns returns the patterns of role slug in a workspace: a custom
// role's from tx, else a system role's from config. found is false when the
// workspace has no such role.
//
// A custom role shadows a system role of the same slug. The API never
// creates such a pair (role_exists), so it only arises when a configuration
// reload adds a system role whose slug a workspace already uses: the
// members and invites holding the slug got it as the custom role, and a
// slug keeps meaning what it meant when it was granted.
func (m *Model) RolePatterns(tx store.Tx, workspaceID, slug string) (patterns []string, found bool, err error) {
	role, err := tx.Role(workspaceID, slug)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	patterns, found = m.resolveRole(slug, role.Permissions, err == nil)
	return patterns, found, nil
}

// resolveRole is the shadowing rule of RolePatterns for a role slug whose
// custom role (if isCustom) has the patterns custom: the custom role, else
// the system role of that slug, else nothing (found false).
func (m *Model) resolveRole(slug string, custom []string, isCustom bool) (patterns []string, found bool) {
	if isCustom {
		return custom, true
	}
	if r, ok := m.roles[slug]; ok {
		return r.Permissions, true
	}
	return nil, false
}

// WorkspaceRoles is one workspace's custom roles, read with a single Roles
// call, for compiling the access of many of its members in memory: the
// last-admin check walks every member, and a Role read per member (what
// MemberAccess does) would make it one store round trip per member on a
// networked backend.
type WorkspaceRoles struct {
	m      *Model
	ws     store.Workspace
	custom map[string][]string
}

// WorkspaceRoles reads the custom roles of ws from tx.
func (m *Model) WorkspaceRoles(tx store.Tx, ws store.Workspace) (*WorkspaceRoles, error) {
	roles, err := tx.Roles(ws.ID)
	if err != nil {
		return nil, err
	}
	custom := make(map[string][]string, len(roles))
	for _, r := range roles {
		custom[r.Slug] = r.Permissions
	}
	return &WorkspaceRoles{m: m, ws: ws, custom: custom}, nil
}

// Access compiles what membership mem grants in the workspace: what
// MemberAccess gives, without reading the store.
func (r *WorkspaceRoles) Access(mem store.Membership) *Access {
	return r.m.compile(r.ws, mem, r.patterns)
}

// patterns resolves a role slug as RolePatterns does (resolveRole), from
// the roles read once.
func (r *WorkspaceRoles) patterns(slug string) ([]string, bool) {
	custom, isCustom := r.custom[slug]
	patterns, _ := r.m.resolveRole(slug, custom, isCustom)
	return patterns, isCustom
}

// SortedKeys returns the keys of a restriction map in name order.
func SortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
