package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Projects of an organization (README "Projects"): any organization member
// lists and reads them; organization.projects creates and deletes them;
// organization.projects or a project admin edits one.

// projectView is a project in responses; Roles are the caller's.
type projectView struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Slug           string    `json:"slug"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Roles          []string  `json:"roles"`
}

func newProjectView(p store.Project, roles []string) projectView {
	return projectView{ID: p.ID, OrganizationID: p.OrganizationID, Slug: p.Slug, Name: p.Name,
		Description: p.Description, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Roles: nonNil(roles)}
}

// projectAudit appends a project event to the organization's audit log
// (decision 8: organization events are stored under the organization's
// id; a project's have the target project:<id>).
func (c *call) projectAudit(tx store.Tx, p store.Project, action string, summary any) error {
	return c.audit(tx, p.OrganizationID, action, "project:"+p.ID, summary)
}

// GET /v1/orgs/{org}/projects
func (a *API) listProjects(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []projectView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		org, err := c.orgStanding(tx)
		if err != nil {
			return err
		}
		ps, n, err := tx.Projects(org.org.ID, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		mine, err := a.myOrgRoles(tx, c.user())
		if err != nil {
			return err
		}
		for _, p := range ps {
			items = append(items, newProjectView(p, mine.project[p.ID]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// projectRolesOf is user's project roles in projectID (none when not a
// member).
func projectRolesOf(tx store.Tx, projectID, user string) ([]string, error) {
	m, err := tx.ProjectMember(projectID, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return m.Roles, err
}

type createProjectRequest struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
}

func (r *createProjectRequest) validate() error {
	if err := checkText("name", r.Name, model.MaxNameLen, true); err != nil {
		return err
	}
	if r.Slug != "" {
		if err := ident.ValidateSlug(r.Slug); err != nil {
			return invalid("slug", err.Error())
		}
	}
	return checkText("description", r.Description, model.MaxDescriptionLen, false)
}

// POST /v1/orgs/{org}/projects: organization.projects. The creator, when
// an organization member, becomes a project member with the project admin
// role (projectAdminRole; none configured: no project role).
func (a *API) createProject(c *call) error {
	var req createProjectRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	var view projectView
	err := c.update(func(tx store.Tx) error {
		org, err := c.orgStandingWith(tx, model.PermOrgProjects)
		if err != nil {
			return err
		}
		now := a.now().UTC()
		p := store.Project{ID: ident.NewProjectID(), OrganizationID: org.org.ID, Name: req.Name,
			Description: req.Description, CreatedAt: now, UpdatedAt: now}
		if p.Slug, err = freeProjectSlug(tx, org.org.ID, p.ID, req.Slug, req.Name); err != nil {
			return err
		}
		if err := tx.PutProject(p); err != nil {
			return err
		}
		var roles []string
		if role := a.projectAdminRole(); role != "" && org.isMember {
			roles = []string{role}
			if err := tx.PutProjectMember(store.ProjectMember{ProjectID: p.ID, OrganizationID: org.org.ID,
				UserID: c.user(), Roles: roles, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		view = newProjectView(p, roles)
		return c.projectAudit(tx, p, "project.create", map[string]any{"after": map[string]any{
			"name": p.Name, "slug": p.Slug, "description": p.Description, "creator_roles": nonNil(roles)}})
	})
	if err != nil {
		return err
	}
	return c.created("/v1/orgs/"+view.OrganizationID+"/projects/"+view.ID, view)
}

// freeProjectSlug returns the explicit slug when it is free in the
// organization (409 slug_taken otherwise), or one derived from name. It
// looks before writing: a refused PutProject would doom the transaction.
func freeProjectSlug(tx store.Tx, orgID, id, explicit, name string) (string, error) {
	if explicit != "" {
		taken, err := projectSlugTaken(tx, orgID, explicit, id)
		if err != nil {
			return "", err
		}
		if taken {
			return "", conflict(codeSlugTaken, "slug "+quote(explicit)+" is taken by another project of this organization: choose another")
		}
		return explicit, nil
	}
	base := ident.Slugify(name)
	for attempt := 0; attempt < 8; attempt++ {
		slug := base
		if attempt > 0 || base == "" {
			suffix := ident.New("")[:6]
			slug = "project-" + suffix
			if base != "" {
				slug = base + "-" + suffix
			}
		}
		if ident.ValidateSlug(slug) != nil {
			continue
		}
		taken, err := projectSlugTaken(tx, orgID, slug, id)
		if err != nil || !taken {
			return slug, err
		}
	}
	return "", invalid("slug", "no free slug derived from the name: choose a slug explicitly")
}

// projectSlugTaken reports whether a project of orgID other than id holds
// slug.
func projectSlugTaken(tx store.Tx, orgID, slug, id string) (bool, error) {
	p, err := tx.ProjectBySlug(orgID, slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return p.ID != id, nil
}

// GET /v1/orgs/{org}/projects/{project}
func (a *API) getProject(c *call) error {
	var view projectView
	err := c.view(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		view = newProjectView(st.project, st.roles())
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

type updateProjectRequest struct {
	Name        *string `json:"name"`
	Slug        *string `json:"slug"`
	Description *string `json:"description"`
}

func (r *updateProjectRequest) validate() error {
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

// PATCH /v1/orgs/{org}/projects/{project}: organization.projects or a
// project admin.
func (a *API) updateProject(c *call) error {
	var req updateProjectRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	var view projectView
	err := c.update(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		if err := c.requireManageProject(st); err != nil {
			return err
		}
		before, p := st.project, st.project
		if req.Name != nil {
			p.Name = *req.Name
		}
		if req.Description != nil {
			p.Description = *req.Description
		}
		if req.Slug != nil && *req.Slug != p.Slug {
			if p.Slug, err = freeProjectSlug(tx, p.OrganizationID, p.ID, *req.Slug, ""); err != nil {
				return err
			}
		}
		p.UpdatedAt = a.now().UTC()
		if err := tx.PutProject(p); err != nil {
			return err
		}
		view = newProjectView(p, st.roles())
		return c.projectAudit(tx, p, "project.update", map[string]any{
			"before": map[string]string{"name": before.Name, "slug": before.Slug, "description": before.Description},
			"after":  map[string]string{"name": p.Name, "slug": p.Slug, "description": p.Description},
		})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// DELETE /v1/orgs/{org}/projects/{project}: organization.projects. 409
// project_not_empty while any workspace belongs to the project (a deleted
// one too: it could be restored into a missing project); the project's
// members go with it.
func (a *API) deleteProject(c *call) error {
	err := c.update(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		if err := c.requireOrgPermission(st.org, model.PermOrgProjects); err != nil {
			return err
		}
		if err := projectEmpty(tx, st.project); err != nil {
			return err
		}
		if err := tx.DeleteProject(st.project.ID); err != nil {
			return err
		}
		return c.projectAudit(tx, st.project, "project.delete", map[string]any{
			"before": map[string]string{"name": st.project.Name, "slug": st.project.Slug}})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// projectEmpty is 409 project_not_empty unless no workspace belongs to p.
func projectEmpty(tx store.Tx, p store.Project) error {
	wss, _, err := tx.OrgWorkspaces(p.OrganizationID, p.ID, "", 0)
	if err != nil || len(wss) == 0 {
		return err
	}
	live := 0
	for _, ws := range wss {
		if !ws.Deleted() {
			live++
		}
	}
	detail := "project " + p.Slug + " still has workspaces: delete them first"
	if live == 0 {
		detail = "project " + p.Slug + " still has deleted workspaces: purge them first (a global admin could restore them)"
	}
	return conflict(codeProjectNotEmpty, detail)
}
