package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func customRoleView(r store.Role) roleView {
	return roleView{Slug: r.Slug, Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions),
		CreatedAt: &r.CreatedAt, UpdatedAt: &r.UpdatedAt}
}

// GET /v1/workspaces/{ws}/roles: system roles (config order), then custom
// roles (slug order), paginated like every list. A system role shadowed by
// a custom role of the same slug (see RolePatterns) is not listed: in this
// workspace the slug names the custom role.
func (a *API) listRoles(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []roleView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		custom, err := tx.Roles(st.ws.ID)
		if err != nil {
			return err
		}
		items, next, err = a.rolePage(custom, pg)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// Role list cursors: "s\x00<slug>" after a system role, "c\x00<slug>"
// after a custom one.
const (
	roleCursorSystem = "s\x00"
	roleCursorCustom = "c\x00"
)

// rolePage cuts one page out of the system roles followed by custom.
func (a *API) rolePage(custom []store.Role, pg page) ([]roleView, string, error) {
	shadowed := make(map[string]bool, len(custom))
	for _, r := range custom {
		shadowed[r.Slug] = true
	}
	var all []roleView
	var cursors []string
	for _, r := range a.systemRoleViews() {
		if !shadowed[r.Slug] {
			all = append(all, r)
			cursors = append(cursors, roleCursorSystem+r.Slug)
		}
	}
	systemCount := len(all)
	for _, r := range custom {
		all = append(all, customRoleView(r))
		cursors = append(cursors, roleCursorCustom+r.Slug)
	}
	start := 0
	switch {
	case pg.cursor == "":
	case strings.HasPrefix(pg.cursor, roleCursorSystem):
		i := slices.Index(cursors[:systemCount], pg.cursor)
		if i < 0 {
			return nil, "", invalid("cursor", "cursor is not one this API returned (or the configuration changed): list again from the start")
		}
		start = i + 1
	case strings.HasPrefix(pg.cursor, roleCursorCustom):
		// Custom roles are in slug order: resume after the slug, even if
		// that role was deleted since.
		after := strings.TrimPrefix(pg.cursor, roleCursorCustom)
		start = len(all)
		for i := systemCount; i < len(all); i++ {
			if all[i].Slug > after {
				start = i
				break
			}
		}
	default:
		return nil, "", invalid("cursor", "cursor is not one this API returned")
	}
	end := min(start+pg.limit, len(all))
	next := ""
	if end < len(all) {
		next = cursors[end-1]
	}
	return all[start:end], next, nil
}

// GET /v1/workspaces/{ws}/roles/{role}
func (a *API) getRole(c *call) error {
	var view roleView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		view, err = a.roleView(tx, st.ws.ID, c.param("role"))
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// roleView finds a system or custom role, or answers 404 role_not_found.
// A custom role of the workspace comes first: it shadows a system role of
// the same slug (see model.Model.RolePatterns).
func (a *API) roleView(tx store.Tx, workspaceID, slug string) (roleView, error) {
	r, err := a.customRole(tx, workspaceID, slug)
	var p *problem.Problem
	if errors.As(err, &p) && p.Code == codeSystemRoleImmutable {
		i := slices.IndexFunc(a.systemRoleViews(), func(r roleView) bool { return r.Slug == slug })
		return a.systemRoleViews()[i], nil
	}
	return customRoleView(r), err
}

// customRole returns a custom role: 403 for a system role, 404 when absent.
func (a *API) customRole(tx store.Tx, workspaceID, slug string) (store.Role, error) {
	r, err := tx.Role(workspaceID, slug)
	if !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	if _, system := a.model.SystemRole(slug); system {
		return store.Role{}, forbidden(codeSystemRoleImmutable, "role "+slug+" is a system role: it comes from the configuration and cannot be changed through the API")
	}
	return r, notFound(codeRoleNotFound, "no role "+quote(slug)+" in this workspace")
}

type createRoleRequest struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

func (a *API) validateCreateRole(r *createRoleRequest) error {
	if err := ident.ValidateRoleSlug(r.Slug); err != nil {
		return invalid("slug", err.Error())
	}
	if err := checkText("name", r.Name, model.MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("description", r.Description, model.MaxDescriptionLen, false); err != nil {
		return err
	}
	if r.Permissions == nil {
		return invalid("permissions", "permissions is required (it may be an empty list)")
	}
	return a.checkPatterns("permissions", r.Permissions)
}

// POST /v1/workspaces/{ws}/roles
func (a *API) createRole(c *call) error {
	var req createRoleRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := a.validateCreateRole(&req); err != nil {
		return err
	}
	var role store.Role
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.roles)
		if err != nil {
			return err
		}
		if err := a.requireFeature(st, model.FeatureCustomRoles); err != nil {
			return err
		}
		if _, found, err := a.model.RolePatterns(tx, st.ws.ID, req.Slug); err != nil || found {
			if err == nil {
				err = conflict(codeRoleExists, "role "+req.Slug+" already exists in this workspace")
			}
			return err
		}
		if err := a.noEscalation(st, a.catalog.Expand(req.Permissions), "create this role"); err != nil {
			return err
		}
		// A slug keeps meaning what it meant when it was granted: members
		// and pending invites still holding it from a role that no longer
		// exists (a system role removed from the configuration, say) must
		// not receive a new role by that name.
		if holder, err := roleHolder(tx, st.ws.ID, req.Slug, a.now()); err != nil || holder != "" {
			if err == nil {
				err = conflict(codeRoleSlugInUse, "the slug "+req.Slug+" is still held by "+holder+
					" from a role that no longer exists: remove it from them first, or choose another slug")
			}
			return err
		}
		now := a.now().UTC()
		role = store.Role{WorkspaceID: st.ws.ID, Slug: req.Slug, Name: req.Name, Description: req.Description,
			Permissions: req.Permissions, CreatedAt: now, UpdatedAt: now}
		if err := tx.PutRole(role); err != nil {
			return err
		}
		return c.audit(tx, st.ws.ID, "role.create", "role:"+role.Slug, map[string]any{"after": customRoleView(role)})
	})
	if err != nil {
		return err
	}
	return c.created("/v1/workspaces/"+role.WorkspaceID+"/roles/"+role.Slug, customRoleView(role))
}

type updateRoleRequest struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Permissions *[]string `json:"permissions"`
}

func (a *API) validateUpdateRole(r *updateRoleRequest) error {
	if r.Name == nil && r.Description == nil && r.Permissions == nil {
		return invalid("", "nothing to change: send name, description or permissions")
	}
	if r.Name != nil {
		if err := checkText("name", *r.Name, model.MaxNameLen, true); err != nil {
			return err
		}
	}
	if r.Description != nil {
		if err := checkText("description", *r.Description, model.MaxDescriptionLen, false); err != nil {
			return err
		}
	}
	if r.Permissions != nil {
		if *r.Permissions == nil {
			return invalid("permissions", "permissions must be a list (it may be empty)")
		}
		return a.checkPatterns("permissions", *r.Permissions)
	}
	return nil
}

// PATCH /v1/workspaces/{ws}/roles/{role}
//
// Editing a role changes every member holding it, so the caller must hold
// everything the role grants both before and after the edit.
func (a *API) updateRole(c *call) error {
	var req updateRoleRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := a.validateUpdateRole(&req); err != nil {
		return err
	}
	var role store.Role
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.roles)
		if err != nil {
			return err
		}
		before, err := a.customRole(tx, st.ws.ID, c.param("role"))
		if err != nil {
			return err
		}
		if err := a.requireFeature(st, model.FeatureCustomRoles); err != nil {
			return err
		}
		oldGrants := a.catalog.Expand(before.Permissions)
		if err := a.noEscalation(st, oldGrants, "edit this role"); err != nil {
			return err
		}
		role = before
		if req.Name != nil {
			role.Name = *req.Name
		}
		if req.Description != nil {
			role.Description = *req.Description
		}
		if req.Permissions != nil {
			role.Permissions = *req.Permissions
		}
		role.UpdatedAt = a.now().UTC()
		if err := a.noEscalation(st, a.catalog.Expand(role.Permissions), "edit this role"); err != nil {
			return err
		}
		if !oldGrants.Contains(a.catalog.Expand(role.Permissions)) {
			if err := a.holdersWithin(tx, st, role.Slug); err != nil {
				return err
			}
		}
		if err := tx.PutRole(role); err != nil {
			return err
		}
		if a.holdsAdmin(oldGrants) {
			if err := a.adminRemains(tx, st.ws); err != nil {
				return err
			}
		}
		return c.audit(tx, st.ws.ID, "role.update", "role:"+role.Slug,
			map[string]any{"before": customRoleView(before), "after": customRoleView(role)})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, customRoleView(role))
}

// DELETE /v1/workspaces/{ws}/roles/{role}: refused (409 role_in_use) while
// a member or a pending invite holds the role.
func (a *API) deleteRole(c *call) error {
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.roles)
		if err != nil {
			return err
		}
		role, err := a.customRole(tx, st.ws.ID, c.param("role"))
		if err != nil {
			return err
		}
		if err := a.noEscalation(st, a.catalog.Expand(role.Permissions), "delete this role"); err != nil {
			return err
		}
		if holder, err := roleHolder(tx, st.ws.ID, role.Slug, a.now()); err != nil || holder != "" {
			if err == nil {
				err = conflict(codeRoleInUse, "role "+role.Slug+" is still held by "+holder+": reassign it first")
			}
			return err
		}
		if err := tx.DeleteRole(st.ws.ID, role.Slug); err != nil {
			return err
		}
		return c.audit(tx, st.ws.ID, "role.delete", "role:"+role.Slug, map[string]any{"before": customRoleView(role)})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// holdersWithin refuses (403 escalation) to widen a role while a member or
// a pending invite holds it with restrictions wider than the caller's:
// the edit would hand them, on resources the caller cannot reach,
// permissions the caller holds only on their own.
func (a *API) holdersWithin(tx store.Tx, st *standing, slug string) error {
	if len(st.restrictions()) == 0 {
		return nil
	}
	what := "widen role " + slug
	cursor := ""
	for {
		ms, next, err := tx.Members(st.ws.ID, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if slices.Contains(m.Roles, slug) {
				if err := a.noWiderRestrictions(st, m.Restrictions, what+" (member "+m.UserID+" holds it)"); err != nil {
					return err
				}
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	now := a.now()
	cursor = ""
	for {
		invs, next, err := tx.Invites(st.ws.ID, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inviteStatus(inv, now) == store.InvitePending && slices.Contains(inv.Roles, slug) {
				if err := a.noWiderRestrictions(st, inv.Restrictions, what+" (a pending invite holds it)"); err != nil {
					return err
				}
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
