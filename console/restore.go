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
	d := deletedData{}
	var err error
	d.Workspaces, d.NextCursor, d.Paged, d.Restored, err = scanDeleted(c, r, s, "/v1/admin/workspaces",
		func(ws deletedWorkspace) bool { return ws.DeletedAt != nil })
	c.renderDeleted(w, r, s, "deleted", "Deleted workspaces", d, err, refusal)
}

// scanDeleted gathers a page of deleted records from an admin list that
// holds live and deleted ones alike (path, e.g. /v1/admin/workspaces),
// reading up to deletedScanPages API pages from the request's cursor
// until deletedPageSize are found. restored is the slug a restore just
// redirected with.
func scanDeleted[T any](c *Console, r *http.Request, s *session, path string, deleted func(T) bool) (items []T, next string, paged bool, restored string, err error) {
	if r.Method == http.MethodGet {
		restored = r.URL.Query().Get("restored")
	}
	cursor := r.URL.Query().Get("cursor")
	paged = cursor != ""
	for range deletedScanPages {
		q := url.Values{"limit": {itoa(deletedScanLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list struct {
			Items      []T    `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.call(r, s, "GET", path+"?"+q.Encode(), nil, &list); err != nil {
			return nil, "", paged, restored, err
		}
		for _, item := range list.Items {
			if deleted(item) {
				items = append(items, item)
			}
		}
		cursor = list.NextCursor
		if cursor == "" || len(items) >= deletedPageSize {
			break
		}
	}
	return items, cursor, paged, restored, nil
}

// renderDeleted renders a deleted-records screen: the API's refusal of
// the list (err) replaces it; a refused restore (refusal) shows above it.
func (c *Console) renderDeleted(w http.ResponseWriter, r *http.Request, s *session, name, title string, data any, err, refusal error) {
	if err != nil {
		c.render(w, r, name, statusOf(err), page{Title: title, Session: s, Error: err.Error()})
		return
	}
	p := page{Title: title, Session: s, Data: data}
	status := http.StatusOK
	if refusal != nil {
		p.Error, status = refusal.Error(), statusOf(refusal)
	}
	c.render(w, r, name, status, p)
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
