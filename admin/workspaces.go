package admin

import (
	"errors"
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// workspaceView is a workspace in responses; Roles is the caller's. The
// store's organization_id, project_id and scope show when set; Plan is
// the slug of the plan in force (the organization's for an
// organization's workspace) and PlanFeatures its features, both only when
// config declares plans.
type workspaceView struct {
	store.Workspace
	// Plan shadows store.Workspace.Plan (the stored slug of a workspace
	// outside any organization) with the plan in force.
	Plan         string    `json:"plan,omitempty"`
	PlanFeatures *[]string `json:"plan_features,omitempty"`
	Roles        []string  `json:"roles,omitempty"`
}

// workspaceView returns ws's view with the caller's roles; plans caches
// the plans of organizations already read (nil: no cache).
func (a *API) workspaceView(tx store.Tx, ws store.Workspace, roles []string, plans map[string]*model.Plan) (workspaceView, error) {
	v := workspaceView{Workspace: ws, Roles: roles}
	plan, cached := plans[ws.OrganizationID]
	if !cached || ws.OrganizationID == "" {
		var err error
		if plan, err = a.model.WorkspacePlan(tx, ws); err != nil {
			return v, err
		}
		if plans != nil && ws.OrganizationID != "" {
			plans[ws.OrganizationID] = plan
		}
	}
	if plan != nil {
		features := nonNil(plan.Features())
		v.Plan, v.PlanFeatures = plan.Slug, &features
	}
	return v, nil
}

type createWorkspaceRequest struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
	// Organization (id or slug) owns the workspace; Project (id or slug,
	// of that organization) groups it; Scope is private (the default) or
	// project. A local workspace is made only by the gateway.
	Organization string `json:"organization"`
	Project      string `json:"project"`
	Scope        string `json:"scope"`
}

func (r *createWorkspaceRequest) validate() error {
	if err := checkText("name", r.Name, model.MaxNameLen, true); err != nil {
		return err
	}
	if r.Slug != "" {
		if err := ident.ValidateSlug(r.Slug); err != nil {
			return invalid("slug", err.Error())
		}
	}
	if err := checkText("description", r.Description, model.MaxDescriptionLen, false); err != nil {
		return err
	}
	return r.validatePlace()
}

// validatePlace checks organization, project and scope together.
func (r *createWorkspaceRequest) validatePlace() error {
	switch store.Scope(r.Scope) {
	case "", store.ScopePrivate, store.ScopeProject:
	case store.ScopeLocal:
		return invalid("scope", "scope local cannot be created through the API: the gateway makes each user's local workspace")
	default:
		return invalid("scope", "scope must be private or project")
	}
	switch {
	case r.Project != "" && r.Organization == "":
		return invalid("project", "a project belongs to an organization: send organization too")
	case store.Scope(r.Scope) == store.ScopeProject && r.Project == "":
		return invalid("scope", "scope project needs a project: send project (and its organization)")
	}
	return nil
}

// POST /v1/workspaces: workspace_creation decides for a workspace outside
// any organization; in an organization, organization.workspaces, or for a
// PROJECT workspace of a project, project-admin standing in it
// (placeWorkspace).
func (a *API) createWorkspace(c *call) error {
	var req createWorkspaceRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Organization == "" && a.creation == CreationGlobalAdmins && !c.isGlobalAdmin() {
		return forbidden(problem.CodeForbidden, "workspace creation is reserved to global admins")
	}
	if err := req.validate(); err != nil {
		return err
	}
	var view workspaceView
	err := c.update(func(tx store.Tx) error {
		nw := model.NewWorkspace{
			Name: req.Name, Slug: req.Slug, Description: req.Description,
			Owner: c.user(), OwnerEmail: c.principal.Email, OwnerRoles: []string{a.creator}, Actor: c.user(),
		}
		org, err := c.placeWorkspace(tx, &req, &nw)
		if err != nil {
			return err
		}
		// Checked before the write: a refused PutWorkspace dooms the
		// transaction, and the 409 would be lost.
		if req.Slug != "" {
			if taken, err := model.SlugTaken(tx, req.Slug, ""); err != nil || taken {
				if err == nil {
					err = conflict(codeSlugTaken, "slug "+quote(req.Slug)+" is taken: choose another")
				}
				return err
			}
		}
		ws, err := model.CreateWorkspace(tx, nw, a.now().UTC())
		if err != nil {
			return err
		}
		if org != nil {
			if err := c.audit(tx, org.org.ID, "workspace.create", "workspace:"+ws.ID, map[string]any{"after": map[string]any{
				"name": ws.Name, "slug": ws.Slug, "project_id": ws.ProjectID, "scope": ws.EffectiveScope()}}); err != nil {
				return err
			}
		}
		view, err = a.workspaceView(tx, ws, []string{a.creator}, nil)
		return err
	})
	if errors.Is(err, store.ErrSlugTaken) {
		return conflict(codeSlugTaken, "slug "+quote(req.Slug)+" is taken: choose another")
	}
	if err != nil {
		return err
	}
	return c.created("/v1/workspaces/"+view.ID, view)
}

// GET /v1/workspaces: the caller's live workspaces; with ?deleted=true
// the trash instead: the soft-deleted workspaces the caller holds
// workspace.admin in, which they may purge (a global admin restores them).
// A page may hold fewer than limit items: follow next_cursor to the end.
func (a *API) listWorkspaces(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var trash bool
	switch c.r.URL.Query().Get("deleted") {
	case "", "false":
	case "true":
		trash = true
	default:
		return invalid("deleted", "deleted must be true or false")
	}
	var (
		items []workspaceView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		plans := map[string]*model.Plan{}
		ms, n, err := tx.UserMemberships(c.user(), pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		wss, err := membershipWorkspaces(tx, ms)
		if err != nil {
			return err
		}
		for _, m := range ms {
			ws := wss[m.WorkspaceID]
			if ws.Deleted() != trash {
				continue
			}
			if !trash {
				// A deleted organization hides its workspaces (spec §11).
				if gone, err := a.model.OrganizationDeleted(tx, ws); err != nil || gone {
					if err != nil {
						return err
					}
					continue
				}
			}
			if trash {
				access, err := a.model.MemberAccess(tx, ws, m)
				if err != nil {
					return err
				}
				if !a.holdsAdmin(access.Permissions) {
					continue
				}
			}
			v, err := a.workspaceView(tx, ws, m.Roles, plans)
			if err != nil {
				return err
			}
			items = append(items, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/workspaces/{ws}
func (a *API) getWorkspace(c *call) error {
	var view workspaceView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		view, err = a.workspaceView(tx, st.ws, st.access.Roles, nil)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

type updateWorkspaceRequest struct {
	Name        *string `json:"name"`
	Slug        *string `json:"slug"`
	Description *string `json:"description"`
}

func (r *updateWorkspaceRequest) validate() error {
	if r.Name == nil && r.Slug == nil && r.Description == nil {
		return invalid("", "nothing to change: send name, slug or description")
	}
	if r.Name != nil {
		if err := checkText("name", *r.Name, model.MaxNameLen, true); err != nil {
			return err
		}
	}
	if r.Slug != nil {
		if err := ident.ValidateSlug(*r.Slug); err != nil {
			return invalid("slug", err.Error())
		}
	}
	if r.Description != nil {
		return checkText("description", *r.Description, model.MaxDescriptionLen, false)
	}
	return nil
}

// PATCH /v1/workspaces/{ws}
func (a *API) updateWorkspace(c *call) error {
	var req updateWorkspaceRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	var view workspaceView
	err := c.update(func(tx store.Tx) error {
		st, err := c.workspaceManager(tx, a.builtinIDs.settings)
		if err != nil {
			return err
		}
		before, ws := st.ws, st.ws
		if req.Name != nil {
			ws.Name = *req.Name
		}
		if req.Slug != nil {
			ws.Slug = *req.Slug
		}
		if req.Description != nil {
			ws.Description = *req.Description
		}
		ws.UpdatedAt = a.now().UTC()
		// Checked before the write: a refused write dooms the transaction.
		if taken, err := model.SlugTaken(tx, ws.Slug, ws.ID); err != nil {
			return err
		} else if taken {
			return conflict(codeSlugTaken, "slug "+quote(ws.Slug)+" is taken: choose another")
		}
		if err := tx.PutWorkspace(ws); err != nil {
			return err
		}
		if view, err = a.workspaceView(tx, ws, st.access.Roles, nil); err != nil {
			return err
		}
		return c.workspaceAudit(tx, st, "workspace.update", map[string]any{
			"before": map[string]string{"name": before.Name, "slug": before.Slug, "description": before.Description},
			"after":  map[string]string{"name": ws.Name, "slug": ws.Slug, "description": ws.Description},
		})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// DELETE /v1/workspaces/{ws}: soft delete. The gateway answers 404 for
// the workspace from the next request on; its data stays until a global
// admin restores it or it is purged (POST /v1/workspaces/{ws}/purge).
func (a *API) deleteWorkspace(c *call) error {
	err := c.update(func(tx store.Tx) error {
		st, err := c.workspaceManager(tx, a.builtinIDs.admin)
		if err != nil {
			return err
		}
		now := a.now().UTC()
		ws := st.ws
		ws.DeletedAt, ws.UpdatedAt = &now, now
		if err := tx.PutWorkspace(ws); err != nil {
			return err
		}
		return c.workspaceAudit(tx, st, "workspace.delete", map[string]any{"slug": ws.Slug})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// POST /v1/workspaces/{ws}/restore: a global admin undoes a soft delete.
func (a *API) restoreWorkspace(c *call) error {
	if err := c.requireGlobalAdmin(); err != nil {
		return err
	}
	var ws store.Workspace
	err := c.update(func(tx store.Tx) error {
		var err error
		if ws, err = lookupWorkspace(tx, c.param("ws")); err != nil {
			return err
		}
		if !ws.Deleted() {
			return conflict(codeNotDeleted, "workspace "+ws.Slug+" is not deleted")
		}
		ws.DeletedAt, ws.UpdatedAt = nil, a.now().UTC()
		if err := tx.PutWorkspace(ws); err != nil {
			return err
		}
		return c.audit(tx, ws.ID, "workspace.restore", "workspace:"+ws.ID, map[string]any{"slug": ws.Slug})
	})
	if err != nil {
		return err
	}
	var view workspaceView
	err = c.view(func(tx store.Tx) (err error) {
		view, err = a.workspaceView(tx, ws, nil, nil)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// GET /v1/admin/workspaces: every workspace, deleted ones included.
func (a *API) listAllWorkspaces(c *call) error {
	if err := c.requireGlobalAdmin(); err != nil {
		return err
	}
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []workspaceView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		wss, n, err := tx.Workspaces(pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		plans := map[string]*model.Plan{}
		for _, ws := range wss {
			v, err := a.workspaceView(tx, ws, nil, plans)
			if err != nil {
				return err
			}
			items = append(items, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}
