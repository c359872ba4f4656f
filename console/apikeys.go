package console

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

type apiKeyView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Status      string     `json:"status"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Key         string     `json:"key"`
}

// permissionGroup is the catalog's permissions of one resource (the part
// before the first dot), for checkboxes grouped by resource.
type permissionGroup struct {
	Resource    string
	Permissions []string
}

type apiKeysData struct {
	Workspace  workspaceView
	Keys       []apiKeyView
	NextCursor string
	Groups     []permissionGroup
	Created    *apiKeyView       // the key just created: its secret is shown this once
	FieldError map[string]string // the API's detail by the field it names
	Name       string            // what was typed, after a refusal
	Checked    map[string]bool
	Revoked    bool  // a key was just revoked
	Gates      gates // the create form is disabled when the plan lacks api_keys
}

// permissionGroups reads the catalog (GET /v1/permissions) and groups it.
func (c *Console) permissionGroups(r *http.Request, s *session) ([]permissionGroup, error) {
	var cat struct {
		Permissions []struct {
			Name string `json:"name"`
		} `json:"permissions"`
	}
	if err := c.call(r, s, "GET", "/v1/permissions", nil, &cat); err != nil {
		return nil, err
	}
	by := map[string][]string{}
	for _, p := range cat.Permissions {
		res, _, _ := strings.Cut(p.Name, ".")
		by[res] = append(by[res], p.Name)
	}
	groups := make([]permissionGroup, 0, len(by))
	for res, ps := range by {
		sort.Strings(ps)
		groups = append(groups, permissionGroup{Resource: res, Permissions: ps})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Resource < groups[j].Resource })
	return groups, nil
}

func (c *Console) apiKeys(w http.ResponseWriter, r *http.Request, s *session) {
	c.apiKeysPage(w, r, s, apiKeysData{}, nil)
}

// apiKeysPage renders the API keys screen over d (a created key, or what
// was typed); refusal is the API's problem from the action just tried.
func (c *Console) apiKeysPage(w http.ResponseWriter, r *http.Request, s *session, d apiKeysData, refusal error) {
	ref := r.PathValue("ws")
	fail := func(err error) {
		c.render(w, r, "apikeys", statusOf(err), page{Title: "API keys", Session: s, Error: err.Error()})
	}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		fail(err)
		return
	}
	groups, err := c.permissionGroups(r, s)
	if err != nil {
		fail(err)
		return
	}
	d.Groups = groups
	if d.Gates, err = c.workspaceGates(r, s, d.Workspace); err != nil {
		fail(err)
		return
	}
	q := url.Values{}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []apiKeyView `json:"items"`
		NextCursor string       `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/api-keys?"+q.Encode(), nil, &list); err != nil {
		fail(err)
		return
	}
	d.Keys, d.NextCursor = list.Items, list.NextCursor
	d.Revoked = r.Method == http.MethodGet && r.URL.Query().Get("revoked") == "1"
	p := page{Title: "API keys", Session: s, Data: d}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		if _, detail, ok := planRefusal(refusal); ok {
			d.FieldError = map[string]string{"plan": detail}
			p.Data = d
		} else if pr, ok := refusal.(*apiProblem); ok && (pr.Field == "name" || pr.Field == "permissions") {
			d.FieldError = map[string]string{pr.Field: pr.Error()}
			p.Data = d
		} else {
			p.Error = refusal.Error()
		}
	}
	c.render(w, r, "apikeys", status, p)
}

// createAPIKey answers with the page itself, not a redirect, so the secret
// is in this one response (Cache-Control: no-store) and never in a URL.
func (c *Console) createAPIKey(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostFormValue("name")
	perms := r.PostForm["permission"]
	if perms == nil {
		perms = []string{}
	}
	var created apiKeyView
	err := c.call(r, s, "POST", wsPath(r.PathValue("ws"))+"/api-keys", map[string]any{"name": name, "permissions": perms}, &created)
	if err != nil {
		checked := map[string]bool{}
		for _, p := range perms {
			checked[p] = true
		}
		c.apiKeysPage(w, r, s, apiKeysData{Name: name, Checked: checked}, err)
		return
	}
	c.apiKeysPage(w, r, s, apiKeysData{Created: &created}, nil)
}

func (c *Console) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	if err := c.call(r, s, "DELETE", wsPath(ref)+"/api-keys/"+url.PathEscape(r.PostFormValue("id")), nil, nil); err != nil {
		c.apiKeysPage(w, r, s, apiKeysData{}, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/api-keys?revoked=1")
}

func (c *Console) routeAPIKeys(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/api-keys", c.signedIn(c.apiKeys))
	m.HandleFunc("POST /w/{ws}/api-keys", c.signedIn(c.createAPIKey))
	m.HandleFunc("POST /w/{ws}/api-keys/revoke", c.signedIn(c.revokeAPIKey))
}
