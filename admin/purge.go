package admin

import (
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Hard delete. A soft-deleted workspace can be purged: its memberships,
// custom roles, invites, API keys and audit trail are removed in one
// transaction, its slug is free again, and one tombstone event
// (workspace.purge) stays in the audit log under the workspace's id. Users
// and their memberships elsewhere are untouched. Only a global admin, or a
// member holding workspace.admin who types the slug to confirm, may do it.

type purgeRequest struct {
	// Confirm is the workspace's slug, typed by the caller. Required of
	// workspace admins; a global admin may omit it, but a wrong one is
	// refused all the same.
	Confirm string `json:"confirm"`
}

// POST /v1/workspaces/{ws}/purge
func (a *API) purgeWorkspace(c *call) error {
	var req purgeRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	ref := c.param("ws")
	err := c.update(func(tx store.Tx) error {
		ws, err := lookupWorkspace(tx, ref)
		if err != nil {
			return err
		}
		if !c.isGlobalAdmin() {
			if err := c.requireAdminOf(tx, ws, ref); err != nil {
				return err
			}
			if req.Confirm == "" {
				return invalid("confirm", "type the workspace's slug in confirm to purge it: this cannot be undone")
			}
		}
		if req.Confirm != "" && req.Confirm != ws.Slug {
			return invalid("confirm", "confirm does not match the workspace's slug: nothing was purged")
		}
		if !ws.Deleted() {
			return conflict(codeNotDeleted, "workspace "+ws.Slug+" is not deleted: delete it first (DELETE /v1/workspaces/"+ws.Slug+"), then purge it")
		}
		purged, err := tx.PurgeWorkspace(ws.ID)
		if err != nil {
			return err
		}
		// The tombstone: what was purged, never the purged data itself.
		return c.audit(tx, ws.ID, "workspace.purge", "workspace:"+ws.ID, map[string]any{
			"slug": ws.Slug, "name": ws.Name, "deleted_at": ws.DeletedAt, "removed": purged})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// requireAdminOf lets through a member of ws holding workspace.admin,
// whether ws is deleted or not (standing refuses deleted workspaces). A
// non-member gets the 404 a missing workspace gets.
func (c *call) requireAdminOf(tx store.Tx, ws store.Workspace, ref string) error {
	m, err := tx.Member(ws.ID, c.user())
	if errors.Is(err, store.ErrNotFound) {
		return workspaceNotFound(ref)
	}
	if err != nil {
		return err
	}
	access, err := c.api.model.MemberAccess(tx, ws, m)
	if err != nil {
		return err
	}
	if !c.api.holdsAdmin(access.Permissions) {
		return missingPermission(authz.PermAdmin, ws.Slug)
	}
	return nil
}
