package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The endpoints a front-end calls to decide what to show: each answers in
// one round trip with the effective permissions, so buttons can be shown
// or hidden without asking again.

// myWorkspace is one of the caller's workspaces with their standing there.
type myWorkspace struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
}

type meResponse struct {
	ID          string        `json:"id"`
	Email       string        `json:"email,omitempty"`
	GlobalAdmin bool          `json:"global_admin"`
	FirstSeen   *time.Time    `json:"first_seen,omitempty"`
	LastSeen    *time.Time    `json:"last_seen,omitempty"`
	Workspaces  []myWorkspace `json:"workspaces"`
	// Organizations and Projects: README "Organizations API".
	Organizations []myOrganization `json:"organizations"`
	Projects      []myProject      `json:"projects"`
}

// GET /v1/me
func (a *API) getMe(c *call) error {
	resp := meResponse{ID: c.user(), Email: c.principal.Email, GlobalAdmin: c.isGlobalAdmin(), Workspaces: []myWorkspace{}}
	err := c.view(func(tx store.Tx) error {
		resp.Workspaces = resp.Workspaces[:0] // a backend may run fn again: only the last run counts
		if u, err := tx.User(c.user()); err == nil {
			resp.FirstSeen, resp.LastSeen = &u.FirstSeen, &u.LastSeen
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var err error
		if resp.Organizations, err = a.myOrganizations(tx, c.user()); err != nil {
			return err
		}
		if resp.Projects, err = a.myProjects(tx, c.user()); err != nil {
			return err
		}
		return forEachMembership(tx, c.user(), func(ws store.Workspace, m store.Membership) error {
			access, err := a.model.MemberAccess(tx, ws, m)
			if err != nil {
				return err
			}
			resp.Workspaces = append(resp.Workspaces, myWorkspace{ID: ws.ID, Slug: ws.Slug, Name: ws.Name,
				Roles: m.Roles, Permissions: a.permissionNames(access.Permissions)})
			return nil
		})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, resp)
}

// forEachMembership calls fn for each of the user's live workspaces. The
// workspaces of a page of memberships are read with one set-based read.
func forEachMembership(tx store.Tx, user string, fn func(store.Workspace, store.Membership) error) error {
	return eachMembershipPage(tx, user, func(ms []store.Membership) error {
		wss, err := membershipWorkspaces(tx, ms)
		if err != nil {
			return err
		}
		for _, m := range ms {
			ws := wss[m.WorkspaceID]
			if ws.Deleted() {
				continue
			}
			if err := fn(ws, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// membershipWorkspaces reads the workspaces of ms with one set-based read.
// A membership whose workspace is missing is a broken store (PutMember
// requires the workspace, PurgeWorkspace removes its memberships): an
// error, as a failed Workspace read was before.
func membershipWorkspaces(tx store.Tx, ms []store.Membership) (map[string]store.Workspace, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.WorkspaceID
	}
	wss, err := tx.WorkspacesByID(ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := wss[id]; !ok {
			return nil, fmt.Errorf("membership in workspace %s, which does not exist: %w", id, store.ErrNotFound)
		}
	}
	return wss, nil
}

type permissionView struct {
	Name    string   `json:"name"`
	Implies []string `json:"implies"`
	// Grants is the transitive closure of Implies over the catalog.
	Grants []string `json:"grants"`
}

type roleView struct {
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Permissions []string   `json:"permissions"`
	System      bool       `json:"system"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

// GET /v1/permissions: the catalog with implications, and the system roles.
func (a *API) getPermissions(c *call) error {
	perms := []permissionView{}
	for _, d := range a.catalog.Declarations() {
		perms = append(perms, permissionView{Name: d.Name, Implies: nonNil(d.Implies), Grants: nonNil(a.catalog.Implied(d.Name))})
	}
	out := map[string]any{"permissions": perms, "roles": a.systemRoleViews()}
	a.orgCatalog(out)
	return c.respond(http.StatusOK, out)
}

func (a *API) systemRoleViews() []roleView {
	roles := []roleView{}
	for _, r := range a.model.SystemRoles() {
		roles = append(roles, roleView{Slug: r.Slug, Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), System: true})
	}
	return roles
}

type workspaceMeResponse struct {
	Workspace    workspaceView       `json:"workspace"`
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
	Permissions  []string            `json:"permissions"`
}

// GET /v1/workspaces/{ws}/me
func (a *API) getWorkspaceMe(c *call) error {
	var resp workspaceMeResponse
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		wsView, err := a.workspaceView(tx, st.ws, nil, nil)
		if err != nil {
			return err
		}
		resp = workspaceMeResponse{Workspace: wsView, Roles: nonNil(st.access.Roles), Grants: nonNil(st.member.Grants),
			Denies: nonNil(st.member.Denies), Restrictions: nonNilMap(st.member.Restrictions),
			Permissions: a.permissionNames(st.access.Permissions)}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, resp)
}

type checkRequest struct {
	Permission string    `json:"permission"`
	Resource   *resource `json:"resource"`
}

type resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Reasons of a check answer.
const (
	reasonGranted           = "granted"
	reasonMissingPermission = "missing_permission"
	reasonRestricted        = "restricted"
)

// POST /v1/workspaces/{ws}/check: may the caller do this? The same answer
// the gateway would give, for a front-end deciding what to show.
func (a *API) check(c *call) error {
	var req checkRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	id, ok := a.catalog.ID(req.Permission)
	if !ok {
		return invalid("permission", "unknown permission "+quote(req.Permission)+": see GET /v1/permissions")
	}
	if req.Resource != nil && (req.Resource.Type == "" || req.Resource.ID == "") {
		return invalid("resource", "resource needs a type and an id")
	}
	var resp struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
	}
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		switch {
		case !st.access.Permissions.Has(id):
			resp.Reason = reasonMissingPermission
		case req.Resource != nil && !st.access.Allows(req.Resource.Type, req.Resource.ID):
			resp.Reason = reasonRestricted
		default:
			resp.Allowed, resp.Reason = true, reasonGranted
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, resp)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}
