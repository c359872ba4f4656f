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
	d := deletedOrgsData{}
	var err error
	d.Orgs, d.NextCursor, d.Paged, d.Restored, err = scanDeleted(c, r, s, "/v1/admin/orgs",
		func(o orgView) bool { return o.DeletedAt != nil })
	c.renderDeleted(w, r, s, "deletedorgs", "Deleted organizations", d, err, refusal)
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
