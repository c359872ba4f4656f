package admin

import (
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// inheritedCursor starts the cursor of GET /v1/workspaces once its pages
// have passed the explicit memberships and list the workspaces reached
// through projects; the rest is the last workspace id listed. A store
// cursor never starts with a NUL byte.
const inheritedCursor = "\x00project:"

// inheritedWorkspaces returns the live PROJECT workspaces user reaches
// only through a project membership (no explicit membership in them),
// ordered by id: a project member is a member of them (spec §11), so
// GET /v1/workspaces and GET /v1/me list them. Workspaces of a deleted
// organization, and project roles that map to no workspace role, give
// nothing, as at the gateway.
func (a *API) inheritedWorkspaces(tx store.Tx, user string) ([]store.Workspace, error) {
	var out []store.Workspace
	orgLive := map[string]bool{}
	cursor := ""
	for {
		pms, next, err := tx.UserProjectMemberships(user, cursor, maxLimit)
		if err != nil {
			return nil, err
		}
		for _, pm := range pms {
			if len(a.model.ProjectWorkspaceRoles(pm.Roles)) == 0 {
				continue
			}
			live, err := liveOrganization(tx, pm.OrganizationID, orgLive)
			if err != nil {
				return nil, err
			}
			if !live {
				continue
			}
			wss, err := projectOnlyWorkspaces(tx, pm, user)
			if err != nil {
				return nil, err
			}
			out = append(out, wss...)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	slices.SortFunc(out, func(x, y store.Workspace) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// liveOrganization reports whether organization id exists and is not
// deleted, remembering the answer in seen.
func liveOrganization(tx store.Tx, id string, seen map[string]bool) (bool, error) {
	if live, ok := seen[id]; ok {
		return live, nil
	}
	org, err := tx.Organization(id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	seen[id] = err == nil && !org.Deleted()
	return seen[id], nil
}

// projectOnlyWorkspaces lists the live PROJECT workspaces of pm's project
// in which user has no explicit membership.
func projectOnlyWorkspaces(tx store.Tx, pm store.ProjectMember, user string) ([]store.Workspace, error) {
	var out []store.Workspace
	cursor := ""
	for {
		wss, next, err := tx.OrgWorkspaces(pm.OrganizationID, pm.ProjectID, cursor, maxLimit)
		if err != nil {
			return nil, err
		}
		for _, ws := range wss {
			if ws.Deleted() || ws.EffectiveScope() != store.ScopeProject || ws.ProjectID != pm.ProjectID {
				continue
			}
			_, err := tx.Member(ws.ID, user)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out = append(out, ws)
			case err != nil:
				return nil, err
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// inheritedPage appends to items the project-only workspaces after the
// id after, up to limit items in all, and returns the next cursor ("" at
// the end).
func (a *API) inheritedPage(tx store.Tx, user, after string, items []workspaceView, limit int, view func(store.Workspace) (workspaceView, bool, error)) ([]workspaceView, string, error) {
	wss, err := a.inheritedWorkspaces(tx, user)
	if err != nil {
		return nil, "", err
	}
	last := after
	for _, ws := range wss {
		if ws.ID <= after {
			continue
		}
		if len(items) >= limit {
			return items, inheritedCursor + last, nil
		}
		v, ok, err := view(ws)
		if err != nil {
			return nil, "", err
		}
		if ok {
			items = append(items, v)
		}
		last = ws.ID
	}
	return items, "", nil
}
