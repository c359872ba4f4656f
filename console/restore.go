package console

import (
	"net/http"
	"net/url"
	"time"
)

// Deleted workspaces are gathered from the API's all-workspaces listing
// (GET /v1/admin/workspaces, global admins only), which lists live and
// deleted ones alike: the screen reads API pages of deletedScanLimit until
// it has deletedPageSize deleted ones or has read deletedScanPages pages,
// then offers the API's cursor as the next page.
const (
	deletedPageSize  = 25
	deletedScanLimit = 100
	deletedScanPages = 10
)

type deletedWorkspace struct {
	ID        string     `json:"id"`
	Slug      string     `json:"slug"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	DeletedAt *time.Time `json:"deleted_at"`
}

type deletedData struct {
	Workspaces []deletedWorkspace
	NextCursor string
	Paged      bool
	Restored   string // the slug just restored
}

// deletedWorkspaces lists soft-deleted workspaces with a Restore button:
// for global admins (the API refuses anyone else, and the screen shows its
// refusal).
func (c *Console) deletedWorkspaces(w http.ResponseWriter, r *http.Request, s *session) {
	c.deletedPage(w, r, s, nil)
}

func (c *Console) deletedPage(w http.ResponseWriter, r *http.Request, s *session, refusal error) {
	const title = "Deleted workspaces"
	d := deletedData{}
	if r.Method == http.MethodGet {
		d.Restored = r.URL.Query().Get("restored")
	}
	cursor := r.URL.Query().Get("cursor")
	d.Paged = cursor != ""
	for range deletedScanPages {
		q := url.Values{"limit": {itoa(deletedScanLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list struct {
			Items      []deletedWorkspace `json:"items"`
			NextCursor string             `json:"next_cursor"`
		}
		if err := c.call(r, s, "GET", "/v1/admin/workspaces?"+q.Encode(), nil, &list); err != nil {
			c.render(w, r, "deleted", statusOf(err), page{Title: title, Session: s, Error: err.Error()})
			return
		}
		for _, ws := range list.Items {
			if ws.DeletedAt != nil {
				d.Workspaces = append(d.Workspaces, ws)
			}
		}
		cursor = list.NextCursor
		if cursor == "" || len(d.Workspaces) >= deletedPageSize {
			break
		}
	}
	d.NextCursor = cursor
	p := page{Title: title, Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		p.Error, status = refusal.Error(), statusOf(refusal)
	}
	c.render(w, r, "deleted", status, p)
}

// restoreWorkspace is POST /v1/workspaces/{id}/restore, by id: a slug may
// have been taken by another workspace since the deletion.
func (c *Console) restoreWorkspace(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PostFormValue("id")
	var ws deletedWorkspace
	if err := c.call(r, s, "POST", wsPath(id)+"/restore", nil, &ws); err != nil {
		c.deletedPage(w, r, s, err)
		return
	}
	c.redirect(w, r, "/admin/workspaces?restored="+url.QueryEscape(ws.Slug))
}

func (c *Console) routeRestore(m *http.ServeMux) {
	m.HandleFunc("GET /admin/workspaces", c.signedIn(c.deletedWorkspaces))
	m.HandleFunc("POST /admin/workspaces/restore", c.signedIn(c.restoreWorkspace))
}
