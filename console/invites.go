package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// inviteView is an invite as the API shows it; Token is set only in the
// answer to its creation.
type inviteView struct {
	ID            string     `json:"id"`
	WorkspaceID   string     `json:"workspace_id"`
	WorkspaceSlug string     `json:"workspace_slug"`
	WorkspaceName string     `json:"workspace_name"`
	Email         string     `json:"email"`
	Roles         []string   `json:"roles"`
	Status        string     `json:"status"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	AcceptedBy    string     `json:"accepted_by"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	Token         string     `json:"token"`
}

// inviteList is one page of GET /v1/workspaces/{ws}/invites.
func (c *Console) inviteList(r *http.Request, s *session, ref, cursor string) ([]inviteView, string, error) {
	q := url.Values{"limit": {itoa(membersPageSize)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var list struct {
		Items      []inviteView `json:"items"`
		NextCursor string       `json:"next_cursor"`
	}
	err := c.call(r, s, "GET", wsPath(ref)+"/invites?"+q.Encode(), nil, &list)
	return list.Items, list.NextCursor, err
}

type invitesData struct {
	Workspace  workspaceView
	Invites    []inviteView
	NextCursor string
	Revoked    bool
}

// invites is the workspace's invites (pending, expired, accepted, revoked).
func (c *Console) invites(w http.ResponseWriter, r *http.Request, s *session) {
	c.invitesPage(w, r, s, nil)
}

func (c *Console) invitesPage(w http.ResponseWriter, r *http.Request, s *session, refusal error) {
	ref := r.PathValue("ws")
	var d invitesData
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		c.render(w, r, "invites", statusOf(err), page{Title: "Invites", Session: s, Error: err.Error()})
		return
	}
	cursor := ""
	if r.Method == http.MethodGet {
		cursor = r.URL.Query().Get("cursor")
		d.Revoked = r.URL.Query().Get("revoked") == "1"
	}
	var err error
	d.Invites, d.NextCursor, err = c.inviteList(r, s, ref, cursor)
	if err != nil {
		c.render(w, r, "invites", statusOf(err), page{Title: "Invites", Session: s, Error: err.Error(), Data: d})
		return
	}
	p := page{Title: "Invites", Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		p.Error, status = refusal.Error(), statusOf(refusal)
	}
	c.render(w, r, "invites", status, p)
}

// revokeInvite is DELETE /v1/workspaces/{ws}/invites/{id}.
func (c *Console) revokeInvite(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	if err := c.call(r, s, "DELETE", wsPath(ref)+"/invites/"+url.PathEscape(r.PostFormValue("id")), nil, nil); err != nil {
		c.invitesPage(w, r, s, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/invites?revoked=1")
}

type myInvitesData struct {
	Invites    []inviteView
	FieldError map[string]string
	// Joined is the slug of the workspace just joined (after a redirect).
	Joined string
}

// myInvites is the signed-in user's pending invites (GET /v1/invites) and
// the form that accepts one with the token its email carried.
func (c *Console) myInvites(w http.ResponseWriter, r *http.Request, s *session) {
	c.myInvitesPage(w, r, s, nil)
}

func (c *Console) myInvitesPage(w http.ResponseWriter, r *http.Request, s *session, refusal error) {
	var d myInvitesData
	if r.Method == http.MethodGet {
		d.Joined = r.URL.Query().Get("joined")
	}
	var list struct {
		Items []inviteView `json:"items"`
	}
	if err := c.call(r, s, "GET", "/v1/invites", nil, &list); err != nil {
		c.render(w, r, "myinvites", statusOf(err), page{Title: "My invites", Session: s, Error: err.Error(), Data: d})
		return
	}
	d.Invites = list.Items
	p := page{Title: "My invites", Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "token")
		p.Data = d
	}
	c.render(w, r, "myinvites", status, p)
}

// acceptInvite is POST /v1/invites/accept {token}: the token is pasted
// from the invitation email (the API stores only its hash, so nothing else
// can accept it). The typed token is never put back into the page.
func (c *Console) acceptInvite(w http.ResponseWriter, r *http.Request, s *session) {
	var out struct {
		Workspace struct {
			Slug string `json:"slug"`
		} `json:"workspace"`
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if err := c.call(r, s, "POST", "/v1/invites/accept", map[string]string{"token": tok}, &out); err != nil {
		c.myInvitesPage(w, r, s, err)
		return
	}
	c.redirect(w, r, "/invites?joined="+url.QueryEscape(out.Workspace.Slug))
}

func (c *Console) routeInvites(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/invites", c.signedIn(c.invites))
	m.HandleFunc("POST /w/{ws}/invites/revoke", c.signedIn(c.revokeInvite))
	m.HandleFunc("GET /invites", c.signedIn(c.myInvites))
	m.HandleFunc("POST /invites/accept", c.signedIn(c.acceptInvite))
}
