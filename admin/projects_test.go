package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestProjectsCRUD: organization members list and read projects;
// organization.projects creates them (the creator becomes project admin)
// and deletes them; slugs are unique in the organization; a non-member of
// the organization learns nothing.
func TestProjectsCRUD(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "paul": {"pm"}, "mia": {"member"}})
	h.newOrg("other", "pro", map[string][]string{"oscar": {"owner"}})
	h.known("stranger")

	// Creating: organization.projects (paul through pm, olive through
	// organization.admin); the creator gets the project admin role.
	var web projView
	h.do("POST", "/v1/orgs/acme/projects", h.token("paul"), map[string]any{"name": "Web Site", "description": "the site"}).
		want(http.StatusCreated).decode(&web)
	if web.Slug != "web-site" || web.OrganizationID != org.ID || !strings.HasPrefix(web.ID, "prj_") ||
		!slices.Equal(web.Roles, []string{"admin"}) || web.Description != "the site" {
		t.Fatalf("created project: %+v", web)
	}
	if m, err := h.projectMember(web.ID, "paul"); err != nil || !slices.Equal(m.Roles, []string{"admin"}) {
		t.Fatalf("creator's project membership: %+v, %v", m, err)
	}
	h.do("POST", "/v1/orgs/acme/projects", h.token("mia"), map[string]any{"name": "Nope"}).forbidden("organization.projects")
	h.do("POST", "/v1/orgs/acme/projects", h.token("stranger"), map[string]any{"name": "Nope"}).
		problem(http.StatusNotFound, "organization_not_found")
	h.do("POST", "/v1/orgs/acme/projects", h.token("olive"), map[string]any{"name": "Web", "slug": "web-site"}).
		problem(http.StatusConflict, "slug_taken")
	h.do("POST", "/v1/orgs/acme/projects", h.token("olive"), map[string]any{"name": ""}).invalid("name")
	h.do("POST", "/v1/orgs/acme/projects", h.token("olive"), map[string]any{"name": "X", "slug": "Bad Slug"}).invalid("slug")
	h.do("POST", "/v1/orgs/acme/projects", h.token("olive"), map[string]any{"name": "X", "owner": "me"}).invalid("owner")
	api := h.newProject("olive", org, "API")
	// Slugs are per organization: the other one may reuse it.
	h.do("POST", "/v1/orgs/other/projects", h.token("oscar"), map[string]any{"name": "Web", "slug": "web-site"}).want(http.StatusCreated)

	// Reading: any organization member, by slug or id; the list pages.
	var got projView
	h.do("GET", "/v1/orgs/acme/projects/web-site", h.token("mia"), nil).want(http.StatusOK).decode(&got)
	if got.ID != web.ID || len(got.Roles) != 0 {
		t.Fatalf("GET project as mia: %+v", got)
	}
	h.do("GET", "/v1/orgs/"+org.ID+"/projects/"+web.ID, h.token("paul"), nil).want(http.StatusOK).decode(&got)
	if !slices.Equal(got.Roles, []string{"admin"}) {
		t.Fatalf("GET project as paul: %+v", got)
	}
	h.do("GET", "/v1/orgs/acme/projects/nope", h.token("mia"), nil).problem(http.StatusNotFound, "project_not_found")
	// Another organization's project by id is not this one's.
	var otherProjects page[projView]
	h.do("GET", "/v1/orgs/other/projects", h.token("oscar"), nil).want(http.StatusOK).decode(&otherProjects)
	h.do("GET", "/v1/orgs/acme/projects/"+otherProjects.Items[0].ID, h.token("olive"), nil).
		problem(http.StatusNotFound, "project_not_found")
	stranger := h.do("GET", "/v1/orgs/acme/projects/web-site", h.token("stranger"), nil).problem(http.StatusNotFound, "organization_not_found")
	unknown := h.do("GET", "/v1/orgs/nosuch/projects/web-site", h.token("stranger"), nil).problem(http.StatusNotFound, "organization_not_found")
	if string(stranger.raw) != string(unknown.raw) {
		t.Errorf("a non-member tells an organization from none:\n%s\n%s", stranger.raw, unknown.raw)
	}
	var list page[projView]
	h.do("GET", "/v1/orgs/acme/projects?limit=1", h.token("mia"), nil).want(http.StatusOK).decode(&list)
	if len(list.Items) != 1 || list.NextCursor == nil {
		t.Fatalf("first page: %+v", list)
	}
	var rest page[projView]
	h.do("GET", "/v1/orgs/acme/projects?limit=1&cursor="+*list.NextCursor, h.token("mia"), nil).want(http.StatusOK).decode(&rest)
	if len(rest.Items) != 1 || rest.NextCursor != nil || rest.Items[0].ID == list.Items[0].ID {
		t.Fatalf("second page: %+v", rest)
	}
	h.do("GET", "/v1/orgs/acme/projects?limt=1", h.token("mia"), nil).invalid("limt")

	// Editing: organization.projects or a project admin; slugs stay unique.
	h.do("PATCH", "/v1/orgs/acme/projects/web-site", h.token("mia"), map[string]any{"name": "X"}).forbidden("organization.projects")
	h.do("PATCH", "/v1/orgs/acme/projects/web-site", h.token("paul"), map[string]any{"slug": api.Slug}).
		problem(http.StatusConflict, "slug_taken")
	h.do("PATCH", "/v1/orgs/acme/projects/web-site", h.token("paul"), map[string]any{}).invalid("")
	h.do("PATCH", "/v1/orgs/acme/projects/web-site", h.token("paul"), map[string]any{"slug": "www-site", "description": "new"}).
		want(http.StatusOK).decode(&got)
	if got.Slug != "www-site" || got.Name != "Web Site" || got.Description != "new" {
		t.Fatalf("patched: %+v", got)
	}

	// Deleting: organization.projects only (a project admin without it
	// may not), and never while a workspace belongs to the project.
	h.putProjectMember("olive", org, api, "mia", "admin")
	h.do("DELETE", "/v1/orgs/acme/projects/"+api.Slug, h.token("mia"), nil).forbidden("organization.projects")
	ws := h.newOrgWorkspace("olive", org, &api, "project", "API prod")
	h.do("DELETE", "/v1/orgs/acme/projects/"+api.Slug, h.token("olive"), nil).problem(http.StatusConflict, "project_not_empty")
	h.do("DELETE", "/v1/workspaces/"+ws.Slug, h.token("olive"), nil).want(http.StatusNoContent)
	// A deleted workspace still belongs to it (it could be restored).
	h.do("DELETE", "/v1/orgs/acme/projects/"+api.Slug, h.token("olive"), nil).problem(http.StatusConflict, "project_not_empty")
	h.do("DELETE", "/v1/orgs/acme/projects/www-site", h.token("paul"), nil).want(http.StatusNoContent)
	h.do("GET", "/v1/orgs/acme/projects/www-site", h.token("paul"), nil).problem(http.StatusNotFound, "project_not_found")
	if _, err := h.projectMember(web.ID, "paul"); err == nil {
		t.Error("the deleted project's members are still stored")
	}

	// Everything is in the organization's audit log, with project targets.
	events := h.orgAudit(org.ID)
	for _, want := range []string{"project.create project:" + web.ID, "project.update project:" + web.ID,
		"project.delete project:" + web.ID, "project_member.put project:" + api.ID, "workspace.create workspace:" + ws.ID} {
		if !slices.Contains(events, want) {
			t.Errorf("organization audit %q lacks %q", events, want)
		}
	}
}

// projectMember reads a project membership from the store.
func (h *harness) projectMember(projectID, user string) (store.ProjectMember, error) {
	h.t.Helper()
	var m store.ProjectMember
	err := h.store.View(context.Background(), func(tx store.Tx) (err error) {
		m, err = tx.ProjectMember(projectID, user)
		return err
	})
	return m, err
}

// TestProjectCreatorWithoutAdminRole: with no project role mapping to a
// workspace.admin role, a project's creator gets no project role.
func TestProjectCreatorWithoutAdminRole(t *testing.T) {
	t.Parallel()
	cfg := orgConfig()
	cfg.ProjectRoles = cfg.ProjectRoles[:1] // developer only
	h := newHarnessModel(t, cfg)
	org := h.newOrg("acme", "", map[string][]string{"olive": {"owner"}})
	p := h.newProject("olive", org, "Web")
	if len(p.Roles) != 0 {
		t.Fatalf("creator's roles %v, want none", p.Roles)
	}
	if _, err := h.projectMember(p.ID, "olive"); err == nil {
		t.Fatal("the creator became a project member")
	}
}
