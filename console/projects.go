package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The project screens: an organization's projects (list, create) and one
// project (settings, delete, members with project roles). The API decides
// every write: organization.projects or project-admin standing, no
// escalation through project roles, last project admin, and
// project_not_empty while the project has live workspaces.

// projectsPageSize and projectMembersPageSize are how many rows one page shows.
const (
	projectsPageSize       = 50
	projectMembersPageSize = 25
)

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

type projectMemberView struct {
	UserID         string    `json:"user_id"`
	Email          string    `json:"email"`
	Roles          []string  `json:"roles"`
	WorkspaceRoles []string  `json:"workspace_roles"`
	JoinedAt       time.Time `json:"joined_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func projectPath(org, project string) string {
	return orgPath(org) + "/projects/" + url.PathEscape(project)
}

// projectURL is the console's address of a project.
func projectURL(org, project string) string {
	return orgURL(org, "p/"+url.PathEscape(project))
}

type projectsData struct {
	Org        orgView
	Projects   []projectView
	NextCursor string
	Form       projectView // the create form, as typed after a refusal
	FieldError map[string]string
	Notice     string
}

func (c *Console) projects(w http.ResponseWriter, r *http.Request, s *session) {
	d := projectsData{}
	if del := r.URL.Query().Get("deleted"); del != "" {
		d.Notice = "Project " + del + " deleted."
	}
	c.projectsPage(w, r, s, d, nil)
}

func (c *Console) projectsPage(w http.ResponseWriter, r *http.Request, s *session, d projectsData, refusal error) {
	ref := r.PathValue("org")
	p := page{Title: "Projects", Session: s}
	fail := func(err error) {
		p.Error = err.Error()
		c.render(w, r, "projects", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", orgPath(ref), nil, &d.Org); err != nil {
		fail(err)
		return
	}
	q := url.Values{"limit": {itoa(projectsPageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" && r.Method == http.MethodGet {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []projectView `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", orgPath(ref)+"/projects?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Projects, d.NextCursor = list.Items, list.NextCursor
	p.Title = d.Org.Name + " · projects"
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "name", "slug", "description")
	}
	p.Data = d
	c.render(w, r, "projects", status, p)
}

// createProject is POST /v1/orgs/{org}/projects {name, slug, description}.
func (c *Console) createProject(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	typed := projectView{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), Description: r.PostFormValue("description")}
	body := map[string]string{"name": typed.Name, "description": typed.Description}
	if typed.Slug != "" {
		body["slug"] = typed.Slug
	}
	var created projectView
	if err := c.call(r, s, "POST", orgPath(ref)+"/projects", body, &created); err != nil {
		c.projectsPage(w, r, s, projectsData{Form: typed}, err)
		return
	}
	c.redirect(w, r, projectURL(ref, created.Slug)+"?created=1")
}

type projectData struct {
	Org        orgView
	Project    projectView
	Form       projectView // the settings form
	Members    []projectMemberView
	NextCursor string
	Roles      []levelRole
	AddUser    string
	AddRoles   []string
	RowError   map[string]string
	FieldError map[string]string
	Notice     string
}

func (c *Console) project(w http.ResponseWriter, r *http.Request, s *session) {
	d := projectData{}
	q := r.URL.Query()
	switch {
	case q.Get("created") == "1":
		d.Notice = "Project created."
	case q.Get("saved") == "1":
		d.Notice = "Saved."
	case q.Get("member") != "":
		d.Notice = "Saved the project roles of " + q.Get("member") + "."
	case q.Get("removed") != "":
		d.Notice = "Removed " + q.Get("removed") + " from the project."
	}
	c.projectPage(w, r, s, d, nil)
}

// projectPage renders one project over d; refusal is the API's problem
// from the action just tried, shown by its row, form field or on top.
func (c *Console) projectPage(w http.ResponseWriter, r *http.Request, s *session, d projectData, refusal error) {
	ref, pref := r.PathValue("org"), r.PathValue("project")
	p := page{Title: "Project", Session: s}
	fail := func(err error) {
		p.Error = err.Error()
		c.render(w, r, "project", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", orgPath(ref), nil, &d.Org); err != nil {
		fail(err)
		return
	}
	if err := c.call(r, s, "GET", projectPath(ref, pref), nil, &d.Project); err != nil {
		fail(err)
		return
	}
	_, roles, err := c.levelRoles(r, s)
	if err != nil {
		fail(err)
		return
	}
	d.Roles = roles
	q := url.Values{"limit": {itoa(projectMembersPageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" && r.Method == http.MethodGet {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []projectMemberView `json:"items"`
		NextCursor string              `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", projectPath(ref, pref)+"/members?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Members, d.NextCursor = list.Items, list.NextCursor
	if d.Form.Name == "" && d.Form.Slug == "" {
		d.Form = d.Project
	}
	p.Title = "Project " + d.Project.Name
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		if len(d.RowError) == 0 && len(d.FieldError) == 0 {
			d.FieldError, p.Error = fieldErrors(refusal, "name", "slug", "description")
		}
	}
	p.Data = d
	c.render(w, r, "project", status, p)
}

// saveProject is PATCH /v1/orgs/{org}/projects/{project}.
func (c *Console) saveProject(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	typed := projectView{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), Description: r.PostFormValue("description")}
	var saved projectView
	err := c.call(r, s, "PATCH", projectPath(ref, r.PathValue("project")),
		map[string]string{"name": typed.Name, "slug": typed.Slug, "description": typed.Description}, &saved)
	if err != nil {
		c.projectPage(w, r, s, projectData{Form: typed}, err)
		return
	}
	c.redirect(w, r, projectURL(ref, saved.Slug)+"?saved=1")
}

// deleteProject is DELETE /v1/orgs/{org}/projects/{project}; a project
// with live workspaces is refused (409 project_not_empty), shown by the
// delete button.
func (c *Console) deleteProject(w http.ResponseWriter, r *http.Request, s *session) {
	ref, pref := r.PathValue("org"), r.PathValue("project")
	if err := c.call(r, s, "DELETE", projectPath(ref, pref), nil, nil); err != nil {
		c.projectPage(w, r, s, projectData{FieldError: map[string]string{"delete": err.Error()}}, err)
		return
	}
	c.redirect(w, r, orgURL(ref, "projects")+"?deleted="+url.QueryEscape(pref))
}

// putProjectMember is PUT /v1/orgs/{org}/projects/{project}/members/{user}
// {roles}: a row's save or the add form (mode "add").
func (c *Console) putProjectMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, pref := r.PathValue("org"), r.PathValue("project")
	user := strings.TrimSpace(r.PostFormValue("user"))
	roles := r.PostForm["role"]
	if roles == nil {
		roles = []string{}
	}
	d := projectData{RowError: map[string]string{}, FieldError: map[string]string{}}
	if r.PostFormValue("mode") == "add" {
		d.AddUser, d.AddRoles = user, roles
	}
	if user == "" {
		d.FieldError["add"] = "Enter the user id."
		c.projectPage(w, r, s, d, &apiProblem{Status: http.StatusBadRequest, Detail: "Enter the user id."})
		return
	}
	if err := c.call(r, s, "PUT", projectPath(ref, pref)+"/members/"+url.PathEscape(user), map[string]any{"roles": roles}, nil); err != nil {
		if r.PostFormValue("mode") == "add" {
			d.FieldError["add"] = err.Error()
		} else {
			d.RowError[user] = err.Error()
		}
		c.projectPage(w, r, s, d, err)
		return
	}
	c.redirect(w, r, projectURL(ref, pref)+"?member="+url.QueryEscape(user))
}

// removeProjectMember is DELETE /v1/orgs/{org}/projects/{project}/members/{user}.
func (c *Console) removeProjectMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, pref, user := r.PathValue("org"), r.PathValue("project"), r.PostFormValue("user")
	if err := c.call(r, s, "DELETE", projectPath(ref, pref)+"/members/"+url.PathEscape(user), nil, nil); err != nil {
		c.projectPage(w, r, s, projectData{RowError: map[string]string{user: err.Error()}}, err)
		return
	}
	c.redirect(w, r, projectURL(ref, pref)+"?removed="+url.QueryEscape(user))
}

func (c *Console) routeProjects(m *http.ServeMux) {
	m.HandleFunc("GET /o/{org}/projects", c.signedIn(c.projects))
	m.HandleFunc("POST /o/{org}/projects", c.signedIn(c.createProject))
	m.HandleFunc("GET /o/{org}/p/{project}", c.signedIn(c.project))
	m.HandleFunc("POST /o/{org}/p/{project}", c.signedIn(c.saveProject))
	m.HandleFunc("POST /o/{org}/p/{project}/delete", c.signedIn(c.deleteProject))
	m.HandleFunc("POST /o/{org}/p/{project}/members", c.signedIn(c.putProjectMember))
	m.HandleFunc("POST /o/{org}/p/{project}/members/remove", c.signedIn(c.removeProjectMember))
}
