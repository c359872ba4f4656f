package admin

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func customRoleView(r store.Role) roleView {
	return roleView{Slug: r.Slug, Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions),
		CreatedAt: &r.CreatedAt, UpdatedAt: &r.UpdatedAt}
}

// GET /v1/workspaces/{ws}/roles: system roles, then custom roles.
func (a *API) listRoles(c *call) error {
	var roles []roleView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		custom, err := tx.Roles(st.ws.ID)
		roles = a.systemRoleViews()
		for _, r := range custom {
			roles = append(roles, customRoleView(r))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, map[string]any{"items": roles})
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
func (a *API) roleView(tx store.Tx, workspaceID, slug string) (roleView, error) {
	if i := slices.IndexFunc(a.systemRoleViews(), func(r roleView) bool { return r.Slug == slug }); i >= 0 {
		return a.systemRoleViews()[i], nil
	}
	r, err := a.customRole(tx, workspaceID, slug)
	return customRoleView(r), err
}

// customRole returns a custom role: 403 for a system role, 404 when absent.
func (a *API) customRole(tx store.Tx, workspaceID, slug string) (store.Role, error) {
	if _, system := a.engine.SystemRole(slug); system {
		return store.Role{}, forbidden(codeSystemRoleImmutable, "role "+slug+" is a system role: it comes from the configuration and cannot be changed through the API")
	}
	r, err := tx.Role(workspaceID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return r, notFound(codeRoleNotFound, "no role "+quote(slug)+" in this workspace")
	}
	return r, err
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
	if err := checkText("name", r.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := checkText("description", r.Description, maxDescriptionLen, false); err != nil {
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
		if _, found, err := a.engine.RolePatterns(tx, st.ws.ID, req.Slug); err != nil || found {
			if err == nil {
				err = conflict(codeRoleExists, "role "+req.Slug+" already exists in this workspace")
			}
			return err
		}
		if err := a.noEscalation(st, a.catalog.Expand(req.Permissions), "create this role"); err != nil {
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
		if err := checkText("name", *r.Name, maxNameLen, true); err != nil {
			return err
		}
	}
	if r.Description != nil {
		if err := checkText("description", *r.Description, maxDescriptionLen, false); err != nil {
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
