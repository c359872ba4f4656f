package console

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// effectivePageSize is how many permissions one page of the effective
// permissions screen shows (the catalog is rarely larger).
const effectivePageSize = 200

// provenanceView is one permission with where it comes from, as the API's
// explain and effective endpoints give it.
type provenanceView struct {
	Permission string       `json:"permission"`
	Effective  bool         `json:"effective"`
	From       []sourceView `json:"from"`
	RemovedBy  []sourceView `json:"removed_by"`
}

// sourceView is one origin (role, grant, key) or remover (deny, plan).
type sourceView struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Pattern string `json:"pattern"`
	Via     string `json:"via"`
}

// restrictionView is one restriction type of the member, sorted for the screen.
type restrictionView struct {
	Type   string
	Values []string
}

type effectiveData struct {
	Workspace    workspaceView
	Member       memberView // GET /v1/workspaces/{ws}/members/{user}
	Permissions  []provenanceView
	Restrictions []restrictionView
	NextCursor   string
	Paged        bool
	Loaded       bool // the member and their permissions were read
}

// effective shows a member's effective permissions with their provenance
// (GET .../members/{user}/effective) next to the member's denies and
// restrictions (GET .../members/{user}), which take permissions away or
// narrow them. The API decides who may see it: workspace.members, or the
// member themself.
func (c *Console) effective(w http.ResponseWriter, r *http.Request, s *session) {
	ref, user := r.PathValue("ws"), r.PathValue("user")
	var d effectiveData
	fail := func(err error) {
		p := page{Title: "Effective permissions", Session: s, Error: err.Error()}
		if d.Workspace.Slug != "" {
			p.Data = d // keep the navigation
		}
		c.render(w, r, "effective", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		fail(err)
		return
	}
	d.Member.UserID = user
	memberPath := wsPath(ref) + "/members/" + url.PathEscape(user)
	if err := c.call(r, s, "GET", memberPath, nil, &d.Member); err != nil {
		fail(err)
		return
	}
	q := url.Values{"limit": {itoa(effectivePageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
		d.Paged = true
	}
	var list struct {
		Items      []provenanceView `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", memberPath+"/effective?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Permissions, d.NextCursor, d.Loaded = list.Items, list.NextCursor, true
	for typ, vals := range d.Member.Restrictions {
		d.Restrictions = append(d.Restrictions, restrictionView{Type: typ, Values: vals})
	}
	sort.Slice(d.Restrictions, func(i, j int) bool { return d.Restrictions[i].Type < d.Restrictions[j].Type })
	c.render(w, r, "effective", http.StatusOK, page{Title: "Effective permissions of " + user, Session: s, Data: d})
}

// UserPath is the member's id as one path segment (a subject may hold
// "/" or "?").
func (d effectiveData) UserPath() string { return url.PathEscape(d.Member.UserID) }

// pickMember is the member picker's form target: ?user= names the member
// whose effective permissions to show (none: the caller).
func (c *Console) pickMember(w http.ResponseWriter, r *http.Request, s *session) {
	user := strings.TrimSpace(r.URL.Query().Get("user"))
	if user == "" {
		user = s.subject
	}
	if user == "." || user == ".." {
		// As a path segment it would be resolved away, not looked up.
		c.render(w, r, "effective", http.StatusBadRequest, page{Title: "Effective permissions", Session: s,
			Error: "There is no member " + user + "."})
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(r.PathValue("ws"))+"/members/"+url.PathEscape(user)+"/effective")
}

func (c *Console) routeEffective(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/members/{user}/effective", c.signedIn(c.effective))
	m.HandleFunc("GET /w/{ws}/effective", c.signedIn(c.pickMember))
}

// Text says in words where a permission comes from, or what removed it:
// "role operator: message.send", "grant campaign.*, implied by campaign.run",
// "deny message.*".
func (s sourceView) Text() string {
	var b strings.Builder
	switch s.Kind {
	case "role":
		b.WriteString("role " + s.Name)
	case "key":
		b.WriteString("API key " + s.Name)
	case "plan":
		b.WriteString("plan")
		if s.Name != "" {
			b.WriteString(" " + s.Name)
		}
	default: // grant, deny
		b.WriteString(s.Kind)
	}
	if s.Pattern != "" {
		if s.Kind == "role" || s.Kind == "key" {
			b.WriteString(":")
		}
		b.WriteString(" " + s.Pattern)
	}
	if s.Via != "" {
		b.WriteString(", implied by " + s.Via)
	}
	return b.String()
}
