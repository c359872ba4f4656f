package model

import (
	"errors"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// OrganizationDeleted reports whether ws belongs to a soft-deleted
// organization. Such a workspace is answered for exactly as a deleted
// workspace is (spec §11: deleting an organization hides its
// workspaces). A workspace naming an organization the store does not have
// is treated as deleted too: it cannot arise through the API (PutWorkspace
// checks the organization), and failing closed beats serving a workspace
// whose owner is gone.
func (m *Model) OrganizationDeleted(tx store.Tx, ws store.Workspace) (bool, error) {
	place, err := m.PlaceOf(tx, ws)
	return place.OrgDeleted, err
}

// WorkspaceAccess compiles what userID may do in the live workspace ws
// from every source of membership: the explicit workspace membership and,
// in a PROJECT workspace (EffectiveScope ScopeProject), the user's project
// membership, whose project roles map to system workspace roles (config
// project_role ... workspace_roles). The roles are the union of both; the
// grants, denies and restrictions are the explicit membership's. A project
// role config does not know maps to nothing. In a PRIVATE or LOCAL
// workspace project membership gives nothing, even when the workspace
// belongs to the project.
//
// found is false when the user is a member by neither source. The caller
// checks that ws (and its organization: OrganizationDeleted) is not
// deleted.
func (m *Model) WorkspaceAccess(tx store.Tx, ws store.Workspace, userID string) (access *Access, found bool, err error) {
	mem, explicit, err := readMember(tx, ws.ID, userID)
	if err != nil {
		return nil, false, err
	}
	return m.workspaceAccessOf(tx, ws, userID, mem, explicit)
}

// workspaceAccessOf is WorkspaceAccess with the explicit membership
// already read (explicit false: there is none).
func (m *Model) workspaceAccessOf(tx store.Tx, ws store.Workspace, userID string, mem store.Membership, explicit bool) (access *Access, found bool, err error) {
	projectRoles, err := m.userProjectRoles(tx, ws, userID)
	if err != nil {
		return nil, false, err
	}
	inherited := m.ProjectWorkspaceRoles(projectRoles)
	if !explicit && len(inherited) == 0 {
		// Not a member, or only by project roles that map to nothing:
		// a project role config does not know grants nothing, not
		// even membership.
		return nil, false, nil
	}
	if len(inherited) == 0 {
		access, err = m.MemberAccess(tx, ws, mem)
		return access, err == nil, err
	}
	// The explicit roles resolve as MemberAccess resolves them (a custom
	// role shadows a system one); the inherited ones are system roles,
	// as config declared them.
	resolved, err := m.resolveRoles(tx, ws.ID, mem.Roles)
	if err != nil {
		return nil, false, err
	}
	roles := slices.Clone(mem.Roles)
	for _, slug := range inherited {
		if !slices.Contains(roles, slug) {
			roles = append(roles, slug)
			resolved[slug] = resolvedRole{patterns: m.roles[slug].Permissions}
		}
	}
	mem.WorkspaceID, mem.UserID, mem.Roles = ws.ID, userID, roles
	return m.compile(ws, mem, resolved.source), true, nil
}

// userProjectRoles returns the project roles userID holds in ws's project
// when ws is a PROJECT workspace; none otherwise (a PRIVATE or LOCAL
// workspace gives project members nothing).
func (m *Model) userProjectRoles(tx store.Tx, ws store.Workspace, userID string) ([]string, error) {
	if ws.EffectiveScope() != store.ScopeProject || ws.ProjectID == "" {
		return nil, nil
	}
	pm, err := tx.ProjectMember(ws.ProjectID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return pm.Roles, nil
}

// readMember reads the explicit membership of userID in workspaceID;
// found is false when there is none.
func readMember(tx store.Tx, workspaceID, userID string) (store.Membership, bool, error) {
	mem, err := tx.Member(workspaceID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Membership{}, false, nil
	}
	if err != nil {
		return store.Membership{}, false, err
	}
	return mem, true, nil
}

// Standing is what userID may do in the live workspace ws under
// everything that governs it: WorkspaceAccess (explicit membership and
// project inheritance) with the workspace's plan applied (Ceiling). The
// gateway caches it, and the management API, explain and the CLI judge
// by it, so they can never disagree. found is false when the user is a
// member by no source. StandingDetail is the same with its parts.
func (m *Model) Standing(tx store.Tx, ws store.Workspace, userID string) (access *Access, found bool, err error) {
	d, found, err := m.standingDetail(tx, ws, userID)
	if err != nil || !found {
		return nil, found, err
	}
	return d.Access, true, nil
}
