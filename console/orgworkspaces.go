package console

import (
	"net/http"
	"net/url"
	"strings"
)

// The organization's workspaces: the list (with scope and project,
// filtered by project), and the form that creates a workspace in the
// organization, optionally in a project with scope private or project.
// GET /v1/orgs/{org}/workspaces lists every workspace for a holder of
// organization.workspaces and, for anyone else, those they are a member
// of; POST /v1/workspaces checks who may create what.

// orgWorkspacesPageSize is how many workspaces one page shows.
const orgWorkspacesPageSize = 50

type orgWorkspacesData struct {
	Org        orgView
	Workspaces []workspaceView
	NextCursor string
	Projects   []projectView
	// Project is the filter (a project slug or id; "" = all).
	Project string
	// ProjectName is each listed workspace's project, by project id.
	ProjectName map[string]string
	Form        workspaceView // the create form, as typed after a refusal
	FieldError  map[string]string
}

func (c *Console) orgWorkspaces(w http.ResponseWriter, r *http.Request, s *session) {
	c.orgWorkspacesPage(w, r, s, orgWorkspacesData{Form: workspaceView{Scope: "private"}}, nil)
}

func (c *Console) orgWorkspacesPage(w http.ResponseWriter, r *http.Request, s *session, d orgWorkspacesData, refusal error) {
	ref := r.PathValue("org")
	p := page{Title: "Organization workspaces", Session: s}
	fail := func(err error) {
		p.Error = err.Error()
		c.render(w, r, "orgworkspaces", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", orgPath(ref), nil, &d.Org); err != nil {
		fail(err)
		return
	}
	var projects struct {
		Items []projectView `json:"items"`
	}
	if err := c.call(r, s, "GET", orgPath(ref)+"/projects?limit=500", nil, &projects); err != nil {
		fail(err)
		return
	}
	d.Projects = projects.Items
	d.ProjectName = map[string]string{}
	for _, pr := range d.Projects {
		d.ProjectName[pr.ID] = pr.Name
	}
	q := url.Values{"limit": {itoa(orgWorkspacesPageSize)}}
	if r.Method == http.MethodGet {
		d.Project = r.URL.Query().Get("project")
		if cur := r.URL.Query().Get("cursor"); cur != "" {
			q.Set("cursor", cur)
		}
	}
	if d.Project != "" {
		q.Set("project", d.Project)
	}
	var list struct {
		Items      []workspaceView `json:"items"`
		NextCursor string          `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", orgPath(ref)+"/workspaces?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Workspaces, d.NextCursor = list.Items, list.NextCursor
	p.Title = d.Org.Name + " · workspaces"
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "name", "slug", "description", "project", "scope", "organization")
	}
	p.Data = d
	c.render(w, r, "orgworkspaces", status, p)
}

// createOrgWorkspace is POST /v1/workspaces with the organization and,
// when chosen, the project and scope.
func (c *Console) createOrgWorkspace(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	typed := workspaceView{Name: r.PostFormValue("name"), Slug: strings.TrimSpace(r.PostFormValue("slug")),
		Description: r.PostFormValue("description"), ProjectID: r.PostFormValue("project"), Scope: r.PostFormValue("scope")}
	body := map[string]string{"name": typed.Name, "organization": ref, "scope": typed.Scope}
	if typed.Slug != "" {
		body["slug"] = typed.Slug
	}
	if typed.Description != "" {
		body["description"] = typed.Description
	}
	if typed.ProjectID != "" {
		body["project"] = typed.ProjectID
	}
	var created workspaceView
	if err := c.call(r, s, "POST", "/v1/workspaces", body, &created); err != nil {
		c.orgWorkspacesPage(w, r, s, orgWorkspacesData{Form: typed}, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(created.Slug)+"/settings")
}

func (c *Console) routeOrgWorkspaces(m *http.ServeMux) {
	m.HandleFunc("GET /o/{org}/workspaces", c.signedIn(c.orgWorkspaces))
	m.HandleFunc("POST /o/{org}/workspaces", c.signedIn(c.createOrgWorkspace))
}
