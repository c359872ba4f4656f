package console

import (
	"net/http"
	"net/url"
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
	JoinedAt     time.Time           `json:"joined_at"`
}

type membersData struct {
	Workspace  workspaceView
	Members    []memberView
	NextCursor string
	Removed    string
}

// members lists a workspace's members, one API page at a time (?cursor=).
func (c *Console) members(w http.ResponseWriter, r *http.Request, s *session) {
	c.membersPage(w, r, s, nil)
}

// membersPage renders the members screen; refusal, when set, is an API
// problem from the action just tried, shown on top of the current list.
func (c *Console) membersPage(w http.ResponseWriter, r *http.Request, s *session, refusal error) {
	ref := r.PathValue("ws")
	var ws workspaceView
	if err := c.call(r, s, "GET", wsPath(ref), nil, &ws); err != nil {
		c.render(w, r, "members", statusOf(err), page{Title: "Members", Session: s, Error: err.Error()})
		return
	}
	d := membersData{Workspace: ws, Removed: r.URL.Query().Get("removed")}
	q := url.Values{"limit": {itoa(membersPageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
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
	p := page{Title: "Members", Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		p.Error, status = refusal.Error(), statusOf(refusal)
	}
	c.render(w, r, "members", status, p)
}

// removeMember is DELETE /v1/workspaces/{ws}/members/{user}; a refusal
// (last admin, no escalation) shows the API's detail on the members page.
func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, user := r.PathValue("ws"), r.PostFormValue("user")
	if err := c.call(r, s, "DELETE", wsPath(ref)+"/members/"+url.PathEscape(user), nil, nil); err != nil {
		c.membersPage(w, r, s, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/members?removed="+url.QueryEscape(user))
}

func (c *Console) routeMembers(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/members", c.signedIn(c.members))
	m.HandleFunc("POST /w/{ws}/members/remove", c.signedIn(c.removeMember))
}
