package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// rolesPageSize is how many roles one page of the roles screen lists.
const rolesPageSize = 50

// roleForm is what a role editor shows: the role as stored, or what was
// typed after a refusal.
type roleForm struct {
	Slug, Name, Description string
	Checked                 map[string]bool
	// Other holds the role's patterns that are not one catalog name
	// ("message.*"), one a line, so saving the form keeps them.
	Other string
}

// rolesScreen is what templates/roles.html shows: the list or one role.
type rolesScreen struct {
	List *rolesData
	One  *roleData
}

type rolesData struct {
	Workspace  workspaceView
	Roles      []roleView
	NextCursor string
	Groups     []permissionGroup
	Form       roleForm // the "new custom role" form
	FieldError map[string]string
	Deleted    string
	Gates      gates // the custom role form is disabled when the plan lacks custom_roles
}

// roles lists system and custom roles, with the form that creates a
// custom role.
func (c *Console) roles(w http.ResponseWriter, r *http.Request, s *session) {
	c.rolesPage(w, r, s, roleForm{}, nil)
}

func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, s *session, form roleForm, refusal error) {
	ref := r.PathValue("ws")
	d := rolesData{Form: form}
	fail := func(err error) {
		c.render(w, r, "roles", statusOf(err), page{Title: "Roles", Session: s, Error: err.Error(), Data: rolesScreen{}})
	}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		fail(err)
		return
	}
	cat, err := c.catalogInfo(r, s)
	if err != nil {
		fail(err)
		return
	}
	d.Groups = cat.Groups
	if d.Gates, err = c.workspaceGates(r, s, d.Workspace); err != nil {
		fail(err)
		return
	}
	q := url.Values{"limit": {itoa(rolesPageSize)}}
	if r.Method == http.MethodGet {
		if cur := r.URL.Query().Get("cursor"); cur != "" {
			q.Set("cursor", cur)
		}
		d.Deleted = r.URL.Query().Get("deleted")
	}
	var list struct {
		Items      []roleView `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/roles?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Roles, d.NextCursor = list.Items, list.NextCursor
	p := page{Title: "Roles", Session: s}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = roleFieldErrors(refusal, "slug", "name", "description", "permissions")
	}
	p.Data = rolesScreen{List: &d}
	c.render(w, r, "roles", status, p)
}

// typedRole reads a role form.
func typedRole(r *http.Request) (roleForm, []string) {
	perms := r.PostForm["permission"]
	if perms == nil {
		perms = []string{}
	}
	f := roleForm{Slug: r.PostFormValue("slug"), Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Checked: map[string]bool{}, Other: r.PostFormValue("other")}
	for _, p := range perms {
		f.Checked[p] = true
	}
	return f, append(perms, splitIDs(f.Other)...)
}

// createRole is POST /v1/workspaces/{ws}/roles; the API refuses a bad
// slug, an unknown permission and escalation, shown by the field.
func (c *Console) createRole(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	f, perms := typedRole(r)
	var created roleView
	err := c.call(r, s, "POST", wsPath(ref)+"/roles", map[string]any{
		"slug": f.Slug, "name": f.Name, "description": f.Description, "permissions": perms}, &created)
	if err != nil {
		c.rolesPage(w, r, s, f, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/roles/"+url.PathEscape(created.Slug)+"?created=1")
}

type roleData struct {
	Workspace  workspaceView
	Role       roleView
	Groups     []permissionGroup
	Form       roleForm
	FieldError map[string]string
	Saved      bool
	Created    bool
	Gates      gates
}

// role shows one role: a system role read-only, a custom role in the
// editor.
func (c *Console) role(w http.ResponseWriter, r *http.Request, s *session) {
	c.rolePage(w, r, s, nil, nil)
}

// rolePage renders a role over typed (what was typed, after a refusal).
func (c *Console) rolePage(w http.ResponseWriter, r *http.Request, s *session, typed *roleForm, refusal error) {
	ref, slug := r.PathValue("ws"), r.PathValue("role")
	var d roleData
	fail := func(err error) {
		c.render(w, r, "roles", statusOf(err), page{Title: "Role " + slug, Session: s, Error: err.Error(), Data: rolesScreen{}})
	}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		fail(err)
		return
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/roles/"+url.PathEscape(slug), nil, &d.Role); err != nil {
		fail(err)
		return
	}
	cat, err := c.catalogInfo(r, s)
	if err != nil {
		fail(err)
		return
	}
	d.Groups = cat.Groups
	if d.Gates, err = c.workspaceGates(r, s, d.Workspace); err != nil {
		fail(err)
		return
	}
	d.Form = roleForm{Slug: d.Role.Slug, Name: d.Role.Name, Description: d.Role.Description, Checked: map[string]bool{}}
	var other []string
	for _, p := range d.Role.Permissions {
		if slices.Contains(cat.Names, p) {
			d.Form.Checked[p] = true
		} else {
			other = append(other, p)
		}
	}
	d.Form.Other = strings.Join(other, "\n")
	// A system role's patterns may be wider than a name ("workspace.admin"
	// implies everything, "message.*"): the read-only view ticks what each
	// pattern grants, closed under implications.
	if d.Role.System {
		d.Form.Checked = cat.given(d.Role.Permissions)
	}
	if typed != nil && !d.Role.System {
		typed.Slug = d.Role.Slug
		d.Form = *typed
	}
	if r.Method == http.MethodGet {
		d.Saved, d.Created = r.URL.Query().Get("saved") == "1", r.URL.Query().Get("created") == "1"
	}
	title := "Role " + d.Role.Name
	p := page{Title: title, Session: s}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		if d.Role.System {
			p.Error = refusal.Error()
		} else {
			d.FieldError, p.Error = roleFieldErrors(refusal, "name", "description", "permissions")
		}
	}
	p.Data = rolesScreen{One: &d}
	c.render(w, r, "roles", status, p)
}

// updateRole is PATCH /v1/workspaces/{ws}/roles/{role} {name, description,
// permissions}. The console offers no form for a system role; a POST for
// one anyway is sent on, and the API's refusal (system_role_immutable) is
// shown.
func (c *Console) updateRole(w http.ResponseWriter, r *http.Request, s *session) {
	ref, slug := r.PathValue("ws"), r.PathValue("role")
	f, perms := typedRole(r)
	err := c.call(r, s, "PATCH", wsPath(ref)+"/roles/"+url.PathEscape(slug), map[string]any{
		"name": f.Name, "description": f.Description, "permissions": perms}, nil)
	if err != nil {
		c.rolePage(w, r, s, &f, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/roles/"+url.PathEscape(slug)+"?saved=1")
}

// deleteRole is DELETE /v1/workspaces/{ws}/roles/{role}; a role still
// held is refused (409 role_in_use) with the API's detail.
func (c *Console) deleteRole(w http.ResponseWriter, r *http.Request, s *session) {
	ref, slug := r.PathValue("ws"), r.PathValue("role")
	if err := c.call(r, s, "DELETE", wsPath(ref)+"/roles/"+url.PathEscape(slug), nil, nil); err != nil {
		c.rolePage(w, r, s, nil, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/roles?deleted="+url.QueryEscape(slug))
}

func (c *Console) routeRoles(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/roles", c.signedIn(c.roles))
	m.HandleFunc("POST /w/{ws}/roles", c.signedIn(c.createRole))
	m.HandleFunc("GET /w/{ws}/roles/{role}", c.signedIn(c.role))
	m.HandleFunc("POST /w/{ws}/roles/{role}", c.signedIn(c.updateRole))
	m.HandleFunc("POST /w/{ws}/roles/{role}/delete", c.signedIn(c.deleteRole))
}

// roleFieldErrors is fieldErrors, with a plan_required refusal (custom
// roles outside the plan) shown by the role form as field "plan".
func roleFieldErrors(err error, fields ...string) (map[string]string, string) {
	if _, detail, ok := planRefusal(err); ok {
		return map[string]string{"plan": detail}, ""
	}
	return fieldErrors(err, fields...)
}
