package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The organization members screen: a paged table of members with their
// organization roles as checkboxes (saved per row), remove, and an add
// form by user id. PUT /v1/orgs/{org}/members/{user} replaces the roles;
// the API refuses escalation (the caller must hold every permission the
// roles give), unknown users and the last admin's removal.

// orgMembersPageSize is how many members one page shows.
const orgMembersPageSize = 25

type orgMemberView struct {
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Roles       []string  `json:"roles"`
	Permissions []string  `json:"permissions"`
	JoinedAt    time.Time `json:"joined_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// levelRole is an organization or project role as GET /v1/permissions
// declares it.
type levelRole struct {
	Slug           string   `json:"slug"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Permissions    []string `json:"permissions"`     // organization roles
	WorkspaceRoles []string `json:"workspace_roles"` // project roles
}

// levelRoles reads the configured organization and project roles.
func (c *Console) levelRoles(r *http.Request, s *session) (org, project []levelRole, err error) {
	var cat struct {
		OrgRoles     []levelRole `json:"org_roles"`
		ProjectRoles []levelRole `json:"project_roles"`
	}
	err = c.call(r, s, "GET", "/v1/permissions", nil, &cat)
	return cat.OrgRoles, cat.ProjectRoles, err
}

type orgMembersData struct {
	Org        orgView
	Members    []orgMemberView
	NextCursor string
	Roles      []levelRole
	// The add form: what was typed after a refusal.
	AddUser  string
	AddRoles []string
	// RowError is the API's refusal of a row's save or removal, by user.
	RowError   map[string]string
	FieldError map[string]string
	Notice     string
}

func (c *Console) orgMembers(w http.ResponseWriter, r *http.Request, s *session) {
	d := orgMembersData{}
	switch {
	case r.URL.Query().Get("saved") != "":
		d.Notice = "Saved the roles of " + r.URL.Query().Get("saved") + "."
	case r.URL.Query().Get("removed") != "":
		d.Notice = "Removed " + r.URL.Query().Get("removed") + "."
	}
	c.orgMembersPage(w, r, s, d, nil)
}

// orgMembersPage renders the members screen over d; refusal is the API's
// problem from the action just tried, shown by the row (row user), the
// add form's field, or on top.
func (c *Console) orgMembersPage(w http.ResponseWriter, r *http.Request, s *session, d orgMembersData, refusal error) {
	ref := r.PathValue("org")
	p := page{Title: "Organization members", Session: s}
	fail := func(err error) {
		p.Error = err.Error()
		c.render(w, r, "orgmembers", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", orgPath(ref), nil, &d.Org); err != nil {
		fail(err)
		return
	}
	roles, _, err := c.levelRoles(r, s)
	if err != nil {
		fail(err)
		return
	}
	d.Roles = roles
	q := url.Values{"limit": {itoa(orgMembersPageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" && r.Method == http.MethodGet {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []orgMemberView `json:"items"`
		NextCursor string          `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", orgPath(ref)+"/members?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Members, d.NextCursor = list.Items, list.NextCursor
	p.Title = d.Org.Name + " · members"
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		if len(d.RowError) == 0 && len(d.FieldError) == 0 {
			p.Error = refusal.Error()
		}
	}
	p.Data = d
	c.render(w, r, "orgmembers", status, p)
}

// putOrgMember is PUT /v1/orgs/{org}/members/{user} {roles}: a row's save,
// or the add form (mode "add").
func (c *Console) putOrgMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	user := strings.TrimSpace(r.PostFormValue("user"))
	roles := r.PostForm["role"]
	if roles == nil {
		roles = []string{}
	}
	adding := r.PostFormValue("mode") == "add"
	if user == "" {
		c.orgMembersPage(w, r, s, orgMembersData{AddRoles: roles, FieldError: map[string]string{"user": "Enter the user id."}},
			&apiProblem{Status: http.StatusBadRequest, Detail: "Enter the user id."})
		return
	}
	if err := c.call(r, s, "PUT", orgPath(ref)+"/members/"+url.PathEscape(user), map[string]any{"roles": roles}, nil); err != nil {
		d := orgMembersData{RowError: map[string]string{}, FieldError: map[string]string{}}
		if adding {
			d.AddUser, d.AddRoles = user, roles
			d.FieldError["add"] = err.Error()
		} else {
			d.RowError[user] = err.Error()
		}
		c.orgMembersPage(w, r, s, d, err)
		return
	}
	c.redirect(w, r, orgURL(ref, "members")+"?saved="+url.QueryEscape(user))
}

// removeOrgMember is DELETE /v1/orgs/{org}/members/{user}.
func (c *Console) removeOrgMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, user := r.PathValue("org"), r.PostFormValue("user")
	if err := c.call(r, s, "DELETE", orgPath(ref)+"/members/"+url.PathEscape(user), nil, nil); err != nil {
		c.orgMembersPage(w, r, s, orgMembersData{RowError: map[string]string{user: err.Error()}}, err)
		return
	}
	c.redirect(w, r, orgURL(ref, "members")+"?removed="+url.QueryEscape(user))
}

func (c *Console) routeOrgMembers(m *http.ServeMux) {
	m.HandleFunc("GET /o/{org}/members", c.signedIn(c.orgMembers))
	m.HandleFunc("POST /o/{org}/members", c.signedIn(c.putOrgMember))
	m.HandleFunc("POST /o/{org}/members/remove", c.signedIn(c.removeOrgMember))
}
