package console

import (
	"net/http"
	"net/url"
)

// Deleted organizations, for global admins: gathered from GET
// /v1/admin/orgs (live and deleted alike) the way deleted workspaces are
// (restore.go), each with a Restore button (POST /v1/orgs/{id}/restore,
// by id: the slug may have been taken since).

type deletedOrgsData struct {
	Orgs       []orgView
	NextCursor string
	Paged      bool
	Restored   string
}

func (c *Console) deletedOrgs(w http.ResponseWriter, r *http.Request, s *session) {
	c.deletedOrgsPage(w, r, s, nil)
}

func (c *Console) deletedOrgsPage(w http.ResponseWriter, r *http.Request, s *session, refusal error) {
	const title = "Deleted organizations"
	d := deletedOrgsData{}
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
			Items      []orgView `json:"items"`
			NextCursor string    `json:"next_cursor"`
		}
		if err := c.call(r, s, "GET", "/v1/admin/orgs?"+q.Encode(), nil, &list); err != nil {
			c.render(w, r, "deletedorgs", statusOf(err), page{Title: title, Session: s, Error: err.Error()})
			return
		}
		for _, o := range list.Items {
			if o.DeletedAt != nil {
				d.Orgs = append(d.Orgs, o)
			}
		}
		cursor = list.NextCursor
		if cursor == "" || len(d.Orgs) >= deletedPageSize {
			break
		}
	}
	d.NextCursor = cursor
	p := page{Title: title, Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		p.Error, status = refusal.Error(), statusOf(refusal)
	}
	c.render(w, r, "deletedorgs", status, p)
}

// restoreOrg is POST /v1/orgs/{id}/restore (global admins).
func (c *Console) restoreOrg(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PostFormValue("id")
	var o orgView
	if err := c.call(r, s, "POST", orgPath(id)+"/restore", nil, &o); err != nil {
		c.deletedOrgsPage(w, r, s, err)
		return
	}
	c.redirect(w, r, "/admin/orgs?restored="+url.QueryEscape(o.Slug))
}

func (c *Console) routeOrgRestore(m *http.ServeMux) {
	m.HandleFunc("GET /admin/orgs", c.signedIn(c.deletedOrgs))
	m.HandleFunc("POST /admin/orgs/restore", c.signedIn(c.restoreOrg))
}
