package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The organization endpoints (README "Organizations API"). An organization
// event of the audit log is stored under the organization's id.

// orgView is an organization in responses; Roles and Permissions are the
// caller's. Plan is the plan in force (nil when config declares no plan).
type orgView struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Plan        *planView  `json:"plan,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	Roles       []string   `json:"roles"`
	Permissions []string   `json:"permissions"`
}

// newOrgView is org as seen by the holder of st (nil: no standing, e.g. a
// deleted organization in the admin list).
func (a *API) newOrgView(org store.Organization, st *orgStanding) orgView {
	v := orgView{ID: org.ID, Slug: org.Slug, Name: org.Name, Plan: newPlanView(a.model.PlanNamed(org.Plan)),
		CreatedAt: org.CreatedAt, UpdatedAt: org.UpdatedAt, DeletedAt: org.DeletedAt,
		Roles: []string{}, Permissions: []string{}}
	if st != nil {
		v.Roles, v.Permissions = st.roles(), a.orgPermissionNames(st.perms)
	}
	return v
}

type createOrgRequest struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

func (r *createOrgRequest) validate() error {
	if err := checkText("name", r.Name, model.MaxNameLen, true); err != nil {
		return err
	}
	if r.Slug != "" {
		if err := ident.ValidateSlug(r.Slug); err != nil {
			return invalid("slug", err.Error())
		}
	}
	return nil
}

// POST /v1/orgs: whoever may create workspaces (workspace_creation) may
// create an organization; the creator becomes its member with the first
// organization role holding organization.admin.
func (a *API) createOrg(c *call) error {
	if a.creation == CreationGlobalAdmins && !c.isGlobalAdmin() {
		return forbidden(problem.CodeForbidden, "organization creation is reserved to global admins")
	}
	var req createOrgRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	role := a.orgAdminRole()
	if role == "" {
		return errNoOrgAdminRole
	}
	var view orgView
	err := c.update(func(tx store.Tx) error {
		if req.Slug != "" {
			// Checked before the write: a refused write dooms the transaction.
			if taken, err := model.OrgSlugTaken(tx, req.Slug, ""); err != nil || taken {
				if err == nil {
					err = orgSlugTaken(req.Slug)
				}
				return err
			}
		}
		org, err := model.CreateOrganization(tx, model.NewOrganization{Name: req.Name, Slug: req.Slug,
			Owner: c.user(), OwnerEmail: c.principal.Email, OwnerRoles: []string{role}, Actor: c.user()}, a.now().UTC())
		if err != nil {
			return err
		}
		st, err := a.orgStandingIn(tx, org, c.user(), c.isGlobalAdmin())
		if err != nil {
			return err
		}
		view = a.newOrgView(org, st)
		return nil
	})
	if errors.Is(err, store.ErrSlugTaken) {
		return orgSlugTaken(req.Slug)
	}
	if err != nil {
		return err
	}
	return c.created("/v1/orgs/"+view.ID, view)
}

func orgSlugTaken(slug string) error {
	return conflict(codeSlugTaken, "organization slug "+quote(slug)+" is taken: choose another")
}

// GET /v1/orgs: the caller's live organizations; every live one for a
// global admin. A page may hold fewer than limit items (deleted ones are
// left out): follow next_cursor to the end.
func (a *API) listOrgs(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []orgView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		var (
			orgs []store.Organization
			err  error
		)
		if c.isGlobalAdmin() {
			orgs, next, err = tx.Organizations(pg.cursor, pg.limit)
		} else {
			orgs, next, err = userOrgs(tx, c.user(), pg)
		}
		if err != nil {
			return err
		}
		for _, org := range orgs {
			if org.Deleted() {
				continue
			}
			st, err := a.orgStandingIn(tx, org, c.user(), c.isGlobalAdmin())
			if err != nil {
				return err
			}
			items = append(items, a.newOrgView(org, st))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// userOrgs returns a page of the organizations user is a member of (deleted
// ones included), with one set-based read.
func userOrgs(tx store.Tx, user string, pg page) ([]store.Organization, string, error) {
	ms, next, err := tx.UserOrgMemberships(user, pg.cursor, pg.limit)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.OrganizationID
	}
	byID, err := tx.OrganizationsByID(ids)
	if err != nil {
		return nil, "", err
	}
	orgs := make([]store.Organization, 0, len(ids))
	for _, id := range ids {
		if org, ok := byID[id]; ok {
			orgs = append(orgs, org)
		}
	}
	return orgs, next, nil
}

// GET /v1/orgs/{org}: members and global admins.
func (a *API) getOrg(c *call) error {
	var view orgView
	err := c.view(func(tx store.Tx) error {
		st, err := c.orgStanding(tx)
		if err != nil {
			return err
		}
		view = a.newOrgView(st.org, st)
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

type updateOrgRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

func (r *updateOrgRequest) validate() error {
	if r.Name == nil && r.Slug == nil {
		return invalid("", "nothing to change: send name or slug")
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
	return nil
}

// PATCH /v1/orgs/{org}: organization.settings.
func (a *API) updateOrg(c *call) error {
	var req updateOrgRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	var view orgView
	err := c.update(func(tx store.Tx) error {
		st, err := c.orgStandingWith(tx, model.PermOrgSettings)
		if err != nil {
			return err
		}
		before, org := st.org, st.org
		if req.Name != nil {
			org.Name = *req.Name
		}
		if req.Slug != nil {
			org.Slug = *req.Slug
		}
		org.UpdatedAt = a.now().UTC()
		// Checked before the write: a refused write dooms the transaction.
		if taken, err := model.OrgSlugTaken(tx, org.Slug, org.ID); err != nil {
			return err
		} else if taken {
			return orgSlugTaken(org.Slug)
		}
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		view = a.newOrgView(org, st)
		return c.audit(tx, org.ID, "organization.update", "organization:"+org.ID, map[string]any{
			"before": map[string]string{"name": before.Name, "slug": before.Slug},
			"after":  map[string]string{"name": org.Name, "slug": org.Slug},
		})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// DELETE /v1/orgs/{org}: organization.admin. Soft delete: every workspace
// of the organization answers 404 at the gateway and the API from the
// next request on (model.OrganizationDeleted); a global admin restores it.
func (a *API) deleteOrg(c *call) error {
	err := c.update(func(tx store.Tx) error {
		st, err := c.orgStandingWith(tx, model.PermOrgAdmin)
		if err != nil {
			return err
		}
		now := a.now().UTC()
		org := st.org
		org.DeletedAt, org.UpdatedAt = &now, now
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		return c.audit(tx, org.ID, "organization.delete", "organization:"+org.ID, map[string]any{"slug": org.Slug})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// POST /v1/orgs/{org}/restore: a global admin undoes a soft delete.
func (a *API) restoreOrg(c *call) error {
	if err := c.requireGlobalAdmin(); err != nil {
		return err
	}
	var view orgView
	err := c.update(func(tx store.Tx) error {
		org, err := lookupOrganization(tx, c.param("org"))
		if err != nil {
			return err
		}
		if !org.Deleted() {
			return conflict(codeNotDeleted, "organization "+org.Slug+" is not deleted")
		}
		org.DeletedAt, org.UpdatedAt = nil, a.now().UTC()
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		st, err := a.orgStandingIn(tx, org, c.user(), true)
		if err != nil {
			return err
		}
		view = a.newOrgView(org, st)
		return c.audit(tx, org.ID, "organization.restore", "organization:"+org.ID, map[string]any{"slug": org.Slug})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// GET /v1/admin/orgs: every organization, deleted ones included (global
// admins).
func (a *API) listAllOrgs(c *call) error {
	if err := c.requireGlobalAdmin(); err != nil {
		return err
	}
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []orgView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		orgs, n, err := tx.Organizations(pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		for _, org := range orgs {
			st, err := a.orgStandingIn(tx, org, c.user(), true)
			if err != nil {
				return err
			}
			items = append(items, a.newOrgView(org, st))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/orgs/{org}/audit: organization.admin. The organization's own
// events (organization, member, plan and project changes), with the
// filters of the workspace audit.
func (a *API) listOrgAudit(c *call) error {
	return c.respondAudit(func(tx store.Tx) (string, error) {
		st, err := c.orgStandingWith(tx, model.PermOrgAdmin)
		if err != nil {
			return "", err
		}
		return st.org.ID, nil
	})
}
