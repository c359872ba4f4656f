package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// TestCreateWorkspaceInOrganization: POST /v1/workspaces places a
// workspace in an organization and a project (decision 2), with each bad
// input a 400 naming its field and each missing right a 403 or 404, none
// of which writes anything.
func TestCreateWorkspaceInOrganization(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "wendy": {"wsadmin"}, "mia": {"member"}, "pat": {"member"}})
	other := h.newOrg("other", "", map[string][]string{"oscar": {"owner"}})
	h.known("stranger")
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "pat", "admin")
	otherProject := h.newProject("oscar", other, "Elsewhere")
	create := func(who string, body map[string]any) *resp {
		t.Helper()
		if body["name"] == nil {
			body["name"] = "Some place"
		}
		return h.do("POST", "/v1/workspaces", h.token(who), body)
	}

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"organization": "acme", "scope": "local"}, "scope"},
		{map[string]any{"scope": "local"}, "scope"},
		{map[string]any{"organization": "acme", "scope": "public"}, "scope"},
		{map[string]any{"project": "web"}, "project"},
		{map[string]any{"organization": "acme", "scope": "project"}, "scope"},
		{map[string]any{"organization": 7}, "organization"},
	} {
		create("olive", c.body).invalid(c.field)
	}
	create("stranger", map[string]any{"organization": "acme"}).problem(http.StatusNotFound, "organization_not_found")
	create("olive", map[string]any{"organization": "nosuch"}).problem(http.StatusNotFound, "organization_not_found")
	create("olive", map[string]any{"organization": "acme", "project": otherProject.ID}).problem(http.StatusNotFound, "project_not_found")
	create("mia", map[string]any{"organization": "acme"}).forbidden("organization.workspaces")
	// A project admin creates PROJECT workspaces of their project only.
	create("pat", map[string]any{"organization": "acme", "project": "web"}).forbidden("organization.workspaces")
	audit := h.orgAudit(org.ID)
	if len(audit) != 2 { // the project and pat
		t.Fatalf("refused creations wrote to the organization's audit: %q", audit)
	}

	var ws orgWSView
	create("pat", map[string]any{"organization": "acme", "project": "web", "scope": "project", "name": "Web prod"}).
		want(http.StatusCreated).decode(&ws)
	if ws.OrganizationID != org.ID || ws.ProjectID != web.ID || ws.Scope != "project" || ws.Plan != "pro" ||
		ws.PlanFeatures == nil || len(*ws.PlanFeatures) != 4 || !slices.Equal(ws.Roles, []string{"owner"}) {
		t.Fatalf("created: %+v", ws)
	}
	if m, ok := h.member(ws.ID, "pat"); !ok || !slices.Equal(m.Roles, []string{"owner"}) {
		t.Fatalf("the creator is no explicit owner: %+v", m)
	}
	var back orgWSView // a fresh value: decoding leaves absent members as they were
	create("wendy", map[string]any{"organization": org.ID, "name": "Back office"}).want(http.StatusCreated).decode(&back)
	if back.Scope != "private" || back.ProjectID != "" || back.OrganizationID != org.ID {
		t.Fatalf("created: %+v", back)
	}
	// Outside any organization: the plan in force is default_plan.
	var solo orgWSView
	create("mia", map[string]any{"name": "Solo"}).want(http.StatusCreated).decode(&solo)
	if solo.OrganizationID != "" || solo.Scope != "" || solo.Plan != "free" || solo.PlanFeatures == nil || len(*solo.PlanFeatures) != 0 {
		t.Fatalf("solo: %s", h.do("GET", "/v1/workspaces/"+solo.Slug, h.token("mia"), nil).raw)
	}
	// The other organization's plan shows on its workspaces (default: free).
	var ows orgWSView
	create("oscar", map[string]any{"organization": "other", "project": otherProject.Slug}).want(http.StatusCreated).decode(&ows)
	if ows.Plan != "free" || ows.Scope != "private" || ows.ProjectID != otherProject.ID {
		t.Fatalf("other's: %+v", ows)
	}
}

// TestProjectDeveloperStanding: a project developer has, at the API, the
// standing their project role maps to in every PROJECT workspace of the
// project, and none in a PRIVATE workspace of the same project.
func TestProjectDeveloperStanding(t *testing.T) {
	t.Parallel()
	projectStandingFlow(t, newHarnessModel(t, orgConfig()))
}

// projectStandingFlow is TestProjectDeveloperStanding on h (the
// PostgreSQL run uses it too).
func projectStandingFlow(t *testing.T, h *harness) {
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "dev": {"member"}})
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "dev", "developer")
	prod := h.newOrgWorkspace("olive", org, &web, "project", "Prod")
	staging := h.newOrgWorkspace("olive", org, &web, "project", "Staging")
	private := h.newOrgWorkspace("olive", org, &web, "private", "Secrets")
	tok := h.token("dev")

	for _, ws := range []orgWSView{prod, staging} {
		var got orgWSView
		h.do("GET", "/v1/workspaces/"+ws.Slug, tok, nil).want(http.StatusOK).decode(&got)
		if !slices.Equal(got.Roles, []string{"operator"}) {
			t.Errorf("%s: roles %v, want [operator]", ws.Slug, got.Roles)
		}
		var me struct {
			Roles       []string `json:"roles"`
			Permissions []string `json:"permissions"`
		}
		h.do("GET", "/v1/workspaces/"+ws.Slug+"/me", tok, nil).want(http.StatusOK).decode(&me)
		wantStrings(t, ws.Slug+" permissions", me.Permissions, operatorPermissions)
		var check struct{ Allowed bool }
		h.do("POST", "/v1/workspaces/"+ws.Slug+"/check", tok, map[string]any{"permission": "message.send"}).want(http.StatusOK).decode(&check)
		if !check.Allowed {
			t.Errorf("%s: message.send not allowed", ws.Slug)
		}
		// Standing, not more: operator holds no workspace.members.
		h.do("GET", "/v1/workspaces/"+ws.Slug+"/members", tok, nil).forbidden("workspace.members")
		h.do("GET", "/v1/workspaces/"+ws.Slug+"/roles", tok, nil).want(http.StatusOK)
	}
	h.do("GET", "/v1/workspaces/"+private.Slug, tok, nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/"+private.Slug+"/me", tok, nil).problem(http.StatusNotFound, "workspace_not_found")

	// The project's admin role maps to owner: olive's stand-in, a project
	// admin who is no explicit member, manages the PROJECT workspace's
	// members within it.
	h.addOrgMember(org.ID, "pa", "member")
	h.putProjectMember("olive", org, web, "pa", "admin")
	h.knownTo("pa", "newbie")
	h.do("PUT", "/v1/workspaces/"+prod.Slug+"/members/newbie", h.token("pa"), map[string]any{"roles": []string{"member"}}).
		want(http.StatusCreated)
	// Project-inherited admins do not count for the last explicit admin:
	// olive, the only explicit owner, may not leave.
	h.do("DELETE", "/v1/workspaces/"+prod.Slug+"/members/olive", h.token("olive"), nil).problem(http.StatusConflict, "last_admin")
	// And a developer leaving the project loses the standing at once.
	h.do("DELETE", "/v1/orgs/acme/projects/web/members/dev", tok, nil).want(http.StatusNoContent)
	h.do("GET", "/v1/workspaces/"+prod.Slug, tok, nil).problem(http.StatusNotFound, "workspace_not_found")
}

// TestOrgWorkspaceManagers: organization.workspaces lists, renames and
// deletes the organization's workspaces, and reads nothing inside them
// (decision 1); others list the ones they belong to.
func TestOrgWorkspaceManagers(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "wendy": {"wsadmin"}, "dev": {"member"}, "mia": {"member"}})
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "dev", "developer")
	prod := h.newOrgWorkspace("olive", org, &web, "project", "Prod")
	private := h.newOrgWorkspace("olive", org, &web, "private", "Secrets")
	back := h.newOrgWorkspace("olive", org, nil, "", "Back office")
	gone := h.newOrgWorkspace("olive", org, nil, "", "Old")
	h.do("DELETE", "/v1/workspaces/"+gone.Slug, h.token("olive"), nil).want(http.StatusNoContent)
	h.newWorkspace("wendy", "Not in acme")

	slugs := func(who, query string) []string {
		t.Helper()
		var p page[orgWSView]
		h.do("GET", "/v1/orgs/acme/workspaces"+query, h.token(who), nil).want(http.StatusOK).decode(&p)
		var out []string
		for _, ws := range p.Items {
			if ws.OrganizationID != org.ID || ws.Plan != "pro" {
				t.Errorf("listed %+v", ws)
			}
			out = append(out, ws.Slug)
		}
		slices.Sort(out)
		return out
	}
	all := sorted([]string{prod.Slug, private.Slug, back.Slug})
	wantStrings(t, "wendy's list", slugs("wendy", ""), all)
	wantStrings(t, "olive's list", slugs("olive", ""), all)
	wantStrings(t, "wendy's list of web", slugs("wendy", "?project=web"), sorted([]string{prod.Slug, private.Slug}))
	wantStrings(t, "wendy's list of web by id", slugs("wendy", "?project="+web.ID), sorted([]string{prod.Slug, private.Slug}))
	wantStrings(t, "dev's list", slugs("dev", ""), []string{prod.Slug})
	if got := slugs("mia", ""); len(got) != 0 {
		t.Errorf("mia, a member of none, lists %v", got)
	}
	h.do("GET", "/v1/orgs/acme/workspaces?project=nope", h.token("wendy"), nil).problem(http.StatusNotFound, "project_not_found")
	h.do("GET", "/v1/orgs/acme/workspaces?projects=web", h.token("wendy"), nil).invalid("projects")
	h.do("GET", "/v1/orgs/acme/workspaces", h.token("stranger"), nil).problem(http.StatusNotFound, "organization_not_found")

	// wendy renames and deletes; she reads nothing inside.
	var got orgWSView
	h.do("PATCH", "/v1/workspaces/"+back.Slug, h.token("wendy"), map[string]any{"name": "Front office"}).want(http.StatusOK).decode(&got)
	if got.Name != "Front office" || len(got.Roles) != 0 {
		t.Fatalf("renamed: %+v", got)
	}
	for _, path := range []string{"", "/me", "/members", "/roles", "/api-keys", "/audit", "/invites"} {
		h.do("GET", "/v1/workspaces/"+back.Slug+path, h.token("wendy"), nil).problem(http.StatusNotFound, "workspace_not_found")
	}
	h.do("PUT", "/v1/workspaces/"+back.Slug+"/members/wendy", h.token("wendy"), map[string]any{"roles": []string{"owner"}}).
		problem(http.StatusNotFound, "workspace_not_found")
	h.do("DELETE", "/v1/workspaces/"+back.Slug, h.token("wendy"), nil).want(http.StatusNoContent)
	h.do("GET", "/v1/workspaces/"+back.Slug, h.token("olive"), nil).problem(http.StatusNotFound, "workspace_not_found")
	// Not a workspace of her organization: the usual answer.
	h.do("PATCH", "/v1/workspaces/not-in-acme", h.token("mia"), map[string]any{"name": "X"}).problem(http.StatusNotFound, "workspace_not_found")
	// Without organization.workspaces a member of the organization gets
	// what a non-member of the workspace gets.
	h.do("PATCH", "/v1/workspaces/"+private.Slug, h.token("mia"), map[string]any{"name": "X"}).problem(http.StatusNotFound, "workspace_not_found")
	h.do("DELETE", "/v1/workspaces/"+prod.Slug, h.token("dev"), nil).forbidden("workspace.admin")
	if slices.Contains(h.orgAudit(org.ID), "workspace.delete workspace:"+back.ID) == false {
		t.Errorf("organization audit lacks wendy's delete: %q", h.orgAudit(org.ID))
	}
	if acts := h.auditActions(back.ID); acts[0] != "workspace.delete" || acts[1] != "workspace.update" {
		t.Errorf("workspace audit: %q", acts)
	}
}

// TestProjectAdminInvites: a project admin who is no explicit member of a
// PROJECT workspace invites to it by their project standing, and the
// invite is checked at acceptance against that standing as it is then:
// once they left the project it can no longer be accepted.
func TestProjectAdminInvites(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "pa": {"member"}})
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "pa", "admin")
	prod := h.newOrgWorkspace("olive", org, &web, "project", "Prod")
	invite := func(email string) string {
		t.Helper()
		var inv inviteView
		h.do("POST", "/v1/workspaces/"+prod.Slug+"/invites", h.token("pa"), map[string]any{"email": email, "roles": []string{"operator"}}).
			want(http.StatusCreated).decode(&inv)
		return inv.Token
	}
	first, second := invite("carol@example.com"), invite("dave@example.com")
	h.do("POST", "/v1/invites/accept", h.token("carol"), map[string]any{"token": first}).want(http.StatusOK)
	if m, ok := h.member(prod.ID, "carol"); !ok || !slices.Equal(m.Roles, []string{"operator"}) {
		t.Fatalf("carol: %+v", m)
	}
	h.do("DELETE", "/v1/orgs/acme/projects/web/members/pa", h.token("pa"), nil).want(http.StatusNoContent)
	h.do("POST", "/v1/invites/accept", h.token("dave"), map[string]any{"token": second}).
		problem(http.StatusForbidden, "invite_creator_lacks_authority")
	if _, ok := h.member(prod.ID, "dave"); ok {
		t.Fatal("dave became a member")
	}
}

// TestAddFellowOrgMembers: in an organization's workspace a member may add
// a fellow organization member directly (no shared workspace needed);
// outside it, or for a user of another organization, the answer stays the
// 404 of an unknown id.
func TestAddFellowOrgMembers(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "mia": {"member"}})
	h.newOrg("other", "pro", map[string][]string{"oscar": {"owner"}})
	ws := h.newOrgWorkspace("olive", org, nil, "", "Ops")
	solo := h.newWorkspace("olive", "Solo")
	h.do("PUT", "/v1/workspaces/"+ws.Slug+"/members/mia", h.token("olive"), map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)
	outsider := h.do("PUT", "/v1/workspaces/"+ws.Slug+"/members/oscar", h.token("olive"), map[string]any{"roles": []string{"member"}}).
		problem(http.StatusNotFound, "user_not_found")
	unknown := h.do("PUT", "/v1/workspaces/"+ws.Slug+"/members/nobody", h.token("olive"), map[string]any{"roles": []string{"member"}}).
		problem(http.StatusNotFound, "user_not_found")
	if string(outsider.raw) != string(unknown.raw) {
		t.Errorf("another organization's member and an unknown id answer differently:\n%s\n%s", outsider.raw, unknown.raw)
	}
	// Outside the organization, fellowship gives nothing: olive and mia
	// now share ws, so use a third member of acme who shares nothing.
	h.addOrgMember(org.ID, "zed", "member")
	h.do("PUT", "/v1/workspaces/"+solo.Slug+"/members/zed", h.token("olive"), map[string]any{"roles": []string{"member"}}).
		problem(http.StatusNotFound, "user_not_found")
}

// TestSetReadsOrgWorkspaces: listing 50 workspaces of an organization
// reads the caller's memberships in sets, not a membership per workspace
// (setreads_test.go).
func TestSetReadsOrgWorkspaces(t *testing.T) {
	t.Parallel()
	var calls *storetest.Calls
	h := newHarnessModel(t, orgConfig(), func(o *admin.Options) { o.Store, calls = storetest.Counting(o.Store) })
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "dev": {"member"}})
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "dev", "developer")
	now := time.Now().UTC()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		for i := range setSize {
			scope := store.ScopeProject
			if i%2 == 1 {
				scope = store.ScopePrivate
			}
			if _, err := model.CreateWorkspace(tx, model.NewWorkspace{Name: fmt.Sprintf("Place %02d", i), Owner: "olive",
				OwnerRoles: []string{"owner"}, Actor: model.ActorCLI, OrganizationID: org.ID, ProjectID: web.ID, Scope: scope}, now); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, c := range []struct {
		who  string
		want int
	}{{"olive", setSize}, {"dev", setSize / 2}} {
		h.do("GET", "/v1/me", h.token(c.who), nil).want(http.StatusOK)
		calls.Reset()
		var p page[orgWSView]
		h.do("GET", "/v1/orgs/acme/workspaces?limit=100", h.token(c.who), nil).want(http.StatusOK).decode(&p)
		if len(p.Items) != c.want {
			t.Fatalf("%s lists %d workspaces, want %d", c.who, len(p.Items), c.want)
		}
		for _, ws := range p.Items {
			if c.who == "dev" && (ws.Scope != "project" || !slices.Equal(ws.Roles, []string{"operator"})) {
				t.Errorf("dev's %+v", ws)
			}
		}
		wantFew(t, calls, "GET org workspaces as "+c.who, "Member", "ProjectMember", "Role", "Organization", "Workspace")
	}
}
