package console

import (
	"net/http"
	"net/url"
	"strconv"
)

type meView struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	GlobalAdmin bool   `json:"global_admin"`
	Workspaces  []struct {
		ID    string   `json:"id"`
		Slug  string   `json:"slug"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	} `json:"workspaces"`
	Organizations []orgView `json:"organizations"`
	Projects      []struct {
		ID             string   `json:"id"`
		OrganizationID string   `json:"organization_id"`
		Slug           string   `json:"slug"`
		Name           string   `json:"name"`
		Roles          []string `json:"roles"`
		WorkspaceRoles []string `json:"workspace_roles"`
	} `json:"projects"`
}

type workspaceView struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
	// Organization, project and scope, when the workspace has them.
	OrganizationID string `json:"organization_id"`
	ProjectID      string `json:"project_id"`
	Scope          string `json:"scope"`
	// Plan is the slug of the plan in force and PlanFeatures its
	// features; "" when no plans are configured.
	Plan         string   `json:"plan"`
	PlanFeatures []string `json:"plan_features"`
}

type settingsData struct {
	// Current is the workspace as the API has it (links, heading);
	// Workspace is what the form shows (what was typed, after a refusal).
	Current    workspaceView
	Workspace  workspaceView
	FieldError map[string]string // the API's detail by the field it names
	Saved      bool
}

func wsPath(ref string) string { return "/v1/workspaces/" + url.PathEscape(ref) }

func (c *Console) settings(w http.ResponseWriter, r *http.Request, s *session) {
	var ws workspaceView
	if err := c.call(r, s, "GET", wsPath(r.PathValue("ws")), nil, &ws); err != nil {
		c.render(w, r, "settings", statusOf(err), page{Title: "Settings", Session: s, Error: err.Error()})
		return
	}
	c.render(w, r, "settings", http.StatusOK, page{Title: "Settings", Session: s,
		Data: settingsData{Current: ws, Workspace: ws, Saved: r.URL.Query().Get("saved") == "1"}})
}

// saveSettings PATCHes name, slug and description. A refusal re-renders the
// form with what was typed and the API's detail by the field it names.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, s *session) {
	typed := workspaceView{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), Description: r.PostFormValue("description")}
	var ws workspaceView
	err := c.call(r, s, "PATCH", wsPath(r.PathValue("ws")), map[string]string{
		"name": typed.Name, "slug": typed.Slug, "description": typed.Description}, &ws)
	if err != nil {
		var cur workspaceView
		if gerr := c.call(r, s, "GET", wsPath(r.PathValue("ws")), nil, &cur); gerr != nil {
			c.render(w, r, "settings", statusOf(gerr), page{Title: "Settings", Session: s, Error: gerr.Error()})
			return
		}
		d := settingsData{Current: cur, Workspace: typed, FieldError: map[string]string{}}
		p := page{Title: "Settings", Session: s, Data: d}
		if f := fieldOf(err); f != "" {
			d.FieldError[f] = err.Error()
		} else {
			p.Error = err.Error()
		}
		c.render(w, r, "settings", statusOf(err), p)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ws.Slug)+"/settings?saved=1")
}

// deleteWorkspace is the danger zone: a soft delete (DELETE /v1/workspaces/{ws}).
func (c *Console) deleteWorkspace(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	if r.PostFormValue("confirm") != ref {
		c.settingsError(w, r, s, ref, "Type the workspace's slug to confirm.")
		return
	}
	if err := c.call(r, s, "DELETE", wsPath(ref), nil, nil); err != nil {
		c.settingsError(w, r, s, ref, err.Error())
		return
	}
	c.redirect(w, r, "/")
}

func (c *Console) settingsError(w http.ResponseWriter, r *http.Request, s *session, ref, msg string) {
	var ws workspaceView
	if err := c.call(r, s, "GET", wsPath(ref), nil, &ws); err != nil {
		msg = err.Error()
	}
	c.render(w, r, "settings", http.StatusConflict, page{Title: "Settings", Session: s, Error: msg, Data: settingsData{Current: ws, Workspace: ws}})
}

func statusOf(err error) int {
	if p, ok := err.(*apiProblem); ok && p.Status >= 400 && p.Status < 600 {
		return p.Status
	}
	return http.StatusBadGateway
}

func fieldOf(err error) string {
	if p, ok := err.(*apiProblem); ok {
		switch p.Field {
		case "name", "slug", "description":
			return p.Field
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func (c *Console) routeWorkspaces(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", c.signedIn(c.workspaces))
	m.HandleFunc("GET /w/{ws}/settings", c.signedIn(c.settings))
	m.HandleFunc("POST /w/{ws}/settings", c.signedIn(c.saveSettings))
	m.HandleFunc("POST /w/{ws}/delete", c.signedIn(c.deleteWorkspace))
}
