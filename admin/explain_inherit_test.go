package admin_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestExplainAndEffectiveSeeProjectRoles: explain and effective answer
// what the gateway answers for project members (a PROJECT workspace gives
// them the roles their project role maps to, with project_role
// provenance; a PRIVATE one nothing) and for the workspace of a
// soft-deleted organization.
func TestExplainAndEffectiveSeeProjectRoles(t *testing.T) {
	cfg := harnessConfig()
	cfg.ProjectRoles = []model.ProjectRole{{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"operator"}}}
	h := newHarnessModel(t, cfg, withRuleTable(t))
	h.knownTo("alice", "dev")
	web := h.newWorkspace("alice", "Web")
	priv := h.newWorkspace("alice", "Priv")
	now := time.Now().UTC()
	org := store.Organization{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now}
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		must(t, tx.PutOrganization(org))
		must(t, tx.PutProject(store.Project{ID: "prj_web", OrganizationID: org.ID, Slug: "web", Name: "Web", CreatedAt: now, UpdatedAt: now}))
		for id, scope := range map[string]store.Scope{web.ID: store.ScopeProject, priv.ID: store.ScopePrivate} {
			w, err := tx.Workspace(id)
			must(t, err)
			w.OrganizationID, w.ProjectID, w.Scope = org.ID, "prj_web", scope
			must(t, tx.PutWorkspace(w))
		}
		return tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: org.ID, UserID: "dev",
			Roles: []string{"developer"}, JoinedAt: now, UpdatedAt: now})
	}))
	explain := func(ws wsView, user string) (explanation, []byte) {
		t.Helper()
		var ex explanation
		r := h.do("POST", "/v1/workspaces/"+ws.Slug+"/explain", h.token("alice"),
			map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/messages", "user": user}).want(http.StatusOK)
		r.decode(&ex)
		return ex, r.raw
	}
	effective := func(ws wsView, user string) *resp {
		t.Helper()
		return h.do("GET", "/v1/workspaces/"+ws.Slug+"/members/"+user+"/effective", h.token("alice"), nil)
	}

	// PROJECT workspace: the project-only developer holds operator.
	ex, raw := explain(web, "dev")
	if !ex.Decision.Allowed || !slices.Equal(ex.Roles, []string{"operator"}) || len(ex.Permissions) != 1 ||
		len(ex.Permissions[0].From) == 0 || // message.send implies message.read: a second source
		ex.Permissions[0].From[0] != (gateway.Source{Kind: "role", Name: "operator", ProjectRole: "developer", Pattern: "message.read"}) {
		t.Errorf("explain for the project developer in a PROJECT workspace: %s", raw)
	}
	if !bytes.Contains(raw, []byte(`"project_role":"developer"`)) {
		t.Errorf("no project_role in %s", raw)
	}
	var pg page[gateway.Provenance]
	effective(web, "dev").want(http.StatusOK).decode(&pg)
	names := []string{}
	for _, p := range pg.Items {
		names = append(names, p.Permission)
		for _, s := range p.From {
			if s.Kind != "role" || s.Name != "operator" || s.ProjectRole != "developer" {
				t.Errorf("%s from %+v: want operator through developer", p.Permission, s)
			}
		}
		if len(p.From) == 0 || !p.Effective {
			t.Errorf("%+v", p)
		}
	}
	if !slices.Equal(names, operatorPermissions) {
		t.Errorf("effective %v, want %v", names, operatorPermissions)
	}

	// The project's PRIVATE workspace: not a member.
	if ex, raw := explain(priv, "dev"); ex.Decision.Allowed || ex.Decision.Reason != "not_member" {
		t.Errorf("explain for the project developer in a PRIVATE workspace: %s", raw)
	}
	effective(priv, "dev").problem(http.StatusNotFound, "member_not_found")

	// The organization soft-deleted: the API hides its workspace as it
	// hides a deleted one, from its explicit owner too (the gateway's
	// answer in such a workspace is checked by the gateway's explain
	// tests). Restored, it is back.
	deleted := org
	deleted.DeletedAt = &now
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutOrganization(deleted) }))
	h.do("POST", "/v1/workspaces/"+web.Slug+"/explain", h.token("alice"),
		map[string]any{"method": "GET", "path": "/w/" + web.Slug + "/messages", "user": "dev"}).problem(http.StatusNotFound, "workspace_not_found")
	effective(web, "alice").problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/"+web.Slug+"/members", h.token("alice"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("PATCH", "/v1/workspaces/"+web.Slug, h.token("alice"), map[string]any{"name": "Renamed"}).problem(http.StatusNotFound, "workspace_not_found")
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutOrganization(org) }))
	effective(web, "dev").want(http.StatusOK)
}
