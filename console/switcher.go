package console

import (
	"net/http"
	"net/url"
	"sort"
)

// The workspace switcher (the console's home): the caller's workspaces
// grouped by organization, the personal (local) workspace first, and the
// caller's organizations. Workspaces come from GET /v1/workspaces: the
// explicit memberships and the PROJECT workspaces the caller reaches
// through a project, with organization and scope.

// switcherGroup is one heading of the switcher.
type switcherGroup struct {
	Name       string
	OrgSlug    string // "" for the personal group and workspaces outside any organization
	Personal   bool
	Workspaces []workspaceView
}

type switcherData struct {
	Me     meView
	Groups []switcherGroup
}

// Count is how many workspaces the switcher lists.
func (d switcherData) Count() int {
	n := 0
	for _, g := range d.Groups {
		n += len(g.Workspaces)
	}
	return n
}

// switcherPages bounds how many API pages the switcher reads per list.
const switcherPages = 20

func (c *Console) workspaces(w http.ResponseWriter, r *http.Request, s *session) {
	var d switcherData
	fail := func(err error) {
		c.render(w, r, "workspaces", statusOf(err), page{Title: "Workspaces", Session: s, Error: err.Error()})
	}
	if err := c.call(r, s, "GET", "/v1/me", nil, &d.Me); err != nil {
		fail(err)
		return
	}
	seen := map[string]bool{}
	var all []workspaceView
	add := func(items []workspaceView) {
		for _, ws := range items {
			if !seen[ws.ID] {
				seen[ws.ID] = true
				all = append(all, ws)
			}
		}
	}
	if err := c.eachPage(r, s, "/v1/workspaces", url.Values{}, add); err != nil {
		fail(err)
		return
	}
	d.Groups = groupWorkspaces(all, d.Me)
	c.render(w, r, "workspaces", http.StatusOK, page{Title: "Workspaces", Session: s, Data: d})
}

// eachPage reads a workspace list page after page (up to switcherPages).
func (c *Console) eachPage(r *http.Request, s *session, path string, q url.Values, fn func([]workspaceView)) error {
	q.Set("limit", "100")
	for range switcherPages {
		var list struct {
			Items      []workspaceView `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := c.call(r, s, "GET", path+"?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		fn(list.Items)
		if list.NextCursor == "" {
			return nil
		}
		q.Set("cursor", list.NextCursor)
	}
	return nil
}

// groupWorkspaces puts the personal workspace first, then one group per
// organization (by name), then the workspaces outside any organization.
func groupWorkspaces(all []workspaceView, me meView) []switcherGroup {
	orgs := map[string]orgView{}
	for _, o := range me.Organizations {
		orgs[o.ID] = o
	}
	personal := switcherGroup{Name: "Personal", Personal: true}
	none := switcherGroup{Name: "Without an organization"}
	byOrg := map[string]*switcherGroup{}
	for _, ws := range all {
		switch {
		case ws.Scope == "local":
			personal.Workspaces = append(personal.Workspaces, ws)
		case ws.OrganizationID == "":
			none.Workspaces = append(none.Workspaces, ws)
		default:
			g := byOrg[ws.OrganizationID]
			if g == nil {
				g = &switcherGroup{Name: ws.OrganizationID}
				if o, ok := orgs[ws.OrganizationID]; ok {
					g.Name, g.OrgSlug = o.Name, o.Slug
				}
				byOrg[ws.OrganizationID] = g
			}
			g.Workspaces = append(g.Workspaces, ws)
		}
	}
	var out []switcherGroup
	if len(personal.Workspaces) > 0 {
		out = append(out, personal)
	}
	var orgGroups []switcherGroup
	for _, g := range byOrg {
		orgGroups = append(orgGroups, *g)
	}
	sort.Slice(orgGroups, func(i, j int) bool { return orgGroups[i].Name < orgGroups[j].Name })
	out = append(out, orgGroups...)
	if len(none.Workspaces) > 0 {
		out = append(out, none)
	}
	return out
}
