package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// membersPageSize is how many members one page of the members screen shows.
const membersPageSize = 25

type memberView struct {
	UserID       string              `json:"user_id"`
	Email        string              `json:"email"`
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
	// Permissions are the member's effective permissions (GET of one member).
	Permissions []string  `json:"permissions"`
	JoinedAt    time.Time `json:"joined_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Path is the user id as one path segment, for links: ids are opaque
// (an IdP subject may hold "/" or "?").
func (m memberView) Path() string { return url.PathEscape(m.UserID) }

type membersData struct {
	Workspace  workspaceView
	Members    []memberView
	NextCursor string
	Removed    string
	// Invited are the workspace's pending invites, listed on the first
	// page with the status "invited".
	Invited []inviteView
	// The invite form: the workspace's roles as checkboxes, what was
	// typed after a refusal, the API's detail by its field, and the invite
	// just created (its token is shown this once).
	Roles       []roleChoice
	InviteEmail string
	FieldError  map[string]string
	Created     *inviteView
}

// members lists a workspace's members, one API page at a time (?cursor=).
func (c *Console) members(w http.ResponseWriter, r *http.Request, s *session) {
	c.membersPage(w, r, s, membersData{}, nil)
}

// membersPage renders the members screen over d (the invite form's state);
// refusal, when set, is an API problem from the action just tried, shown
// by the invite form's field it names or on top of the current list.
func (c *Console) membersPage(w http.ResponseWriter, r *http.Request, s *session, d membersData, refusal error) {
	ref := r.PathValue("ws")
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		c.render(w, r, "members", statusOf(err), page{Title: "Members", Session: s, Error: err.Error()})
		return
	}
	if r.Method == http.MethodGet {
		d.Removed = r.URL.Query().Get("removed")
	}
	q := url.Values{"limit": {itoa(membersPageSize)}}
	cur := ""
	if r.Method == http.MethodGet {
		cur = r.URL.Query().Get("cursor")
	}
	if cur != "" {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []memberView `json:"items"`
		NextCursor string       `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/members?"+q.Encode(), nil, &list); err != nil {
		c.render(w, r, "members", statusOf(err), page{Title: "Members", Session: s, Error: err.Error(), Data: d})
		return
	}
	d.Members, d.NextCursor = list.Items, list.NextCursor
	if cur == "" {
		invites, _, err := c.inviteList(r, s, ref, "")
		if err != nil {
			c.render(w, r, "members", statusOf(err), page{Title: "Members", Session: s, Error: err.Error(), Data: d})
			return
		}
		for _, inv := range invites {
			if inv.Status == "pending" {
				d.Invited = append(d.Invited, inv)
			}
		}
	}
	roles, err := c.allRoles(r, s, ref)
	if err != nil {
		c.render(w, r, "members", statusOf(err), page{Title: "Members", Session: s, Error: err.Error(), Data: d})
		return
	}
	var checked []string
	for _, rc := range d.Roles {
		if rc.Checked {
			checked = append(checked, rc.Slug)
		}
	}
	d.Roles = roleChoices(roles, checked)
	p := page{Title: "Members", Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "email", "roles", "expires_in")
		p.Data = d
	}
	c.render(w, r, "members", status, p)
}

// removeMember is DELETE /v1/workspaces/{ws}/members/{user}; a refusal
// (last admin, no escalation) shows the API's detail on the members page.
func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, user := r.PathValue("ws"), r.PostFormValue("user")
	if err := c.call(r, s, "DELETE", wsPath(ref)+"/members/"+url.PathEscape(user), nil, nil); err != nil {
		c.membersPage(w, r, s, membersData{}, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/members?removed="+url.QueryEscape(user))
}

// inviteMember is POST /v1/workspaces/{ws}/invites {email, roles}. It
// answers with the members page itself, not a redirect, so the invite's
// token is in this one response (Cache-Control: no-store), never in a URL.
func (c *Console) inviteMember(w http.ResponseWriter, r *http.Request, s *session) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	roles := r.PostForm["role"]
	if roles == nil {
		roles = []string{}
	}
	var created inviteView
	err := c.call(r, s, "POST", wsPath(r.PathValue("ws"))+"/invites", map[string]any{"email": email, "roles": roles}, &created)
	if err != nil {
		d := membersData{InviteEmail: email}
		for _, slug := range roles {
			d.Roles = append(d.Roles, roleChoice{roleView: roleView{Slug: slug}, Checked: true})
		}
		c.membersPage(w, r, s, d, err)
		return
	}
	c.membersPage(w, r, s, membersData{Created: &created}, nil)
}

func (c *Console) routeMembers(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/members", c.signedIn(c.members))
	m.HandleFunc("POST /w/{ws}/members/remove", c.signedIn(c.removeMember))
	m.HandleFunc("POST /w/{ws}/members/invite", c.signedIn(c.inviteMember))
}
