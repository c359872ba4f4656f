package caddymodule

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Browser tests of the console's organization, project and plan screens,
// and of the plan-disabled controls on the workspace screens. Each asserts
// what the page shows and what the API then answers.

// orgConfig declares organization roles, project roles and two plans
// (acme and globex, outside any organization, are on the default Free).
const orgConfig = `		creator_role owner
		org_role owner   "Owner"   organization.admin
		org_role billing "Billing" organization.billing
		org_role member  "Member"
		project_role admin     "Project admin" workspace_roles owner
		project_role developer "Developer"     workspace_roles operator
		plan free "Free" {
			permissions message.* contact.*
		}
		plan pro "Pro" {
			permissions *
			features member_overrides resource_restrictions custom_roles api_keys
		}
		default_plan free
`

// startOrgConsole is startConsoleWith on a configuration with
// organizations and plans; carol and dave are operators of globex (bob
// owns it),
// so alice shares a workspace with them (the API adds to an organization
// only a user the caller shares a workspace with).
func startOrgConsole(t *testing.T) *server {
	t.Helper()
	s := newServer(t)
	seedWorkspaces(t, s)
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		for _, id := range []string{"alice", "bob", "carol", "dave"} {
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
			if _, err := tx.Member(globexID, id); err == nil {
				continue // bob owns globex
			}
			if err := tx.PutMember(store.Membership{WorkspaceID: globexID, UserID: id, Roles: []string{"operator"}, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	cf := strings.Replace(consoleCaddyfile(), "\t\tcreator_role owner\n", orgConfig, 1)
	if cf == consoleCaddyfile() {
		t.Fatal("the test Caddyfile has no creator_role line to extend")
	}
	s.load(cf)
	return s
}

// disabled reports whether the first control sel matches is disabled
// (by its own attribute or a disabled fieldset around it).
func disabled(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return eval[bool](t, ctx, "document.querySelector("+strconv.Quote(sel)+").matches(':disabled')")
}

type apiOrg struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	Plan struct {
		Slug     string   `json:"slug"`
		Features []string `json:"features"`
	} `json:"plan"`
}

// TestConsoleBrowserOrganizationAndPlan: alice creates an organization and
// renames it; she creates a workspace in it, whose member dialog shows the
// per-member overrides and resource access disabled with "Requires the Pro
// plan" (custom roles and API keys likewise), and a forged override is
// refused with the API's plan_required detail by the field; root (a
// global admin) moves the organization to Pro; the controls are enabled.
func TestConsoleBrowserOrganizationAndPlan(t *testing.T) {
	s := startOrgConsole(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")

	consoleLogin(t, ctx, base, "alice", "alice@example.com")
	step(t, ctx, "organizations", chromedp.Click(chromedp.CSS("#to-orgs")), chromedp.WaitVisible(chromedp.CSS("#new-org")))
	if got := text(t, ctx, "#no-orgs"); !strings.Contains(got, "not a member") {
		t.Fatalf("organizations list before any: %q", got)
	}
	// A bad slug is refused by the API, shown by the field.
	step(t, ctx, "create with a bad slug",
		chromedp.SendKeys(chromedp.CSS("#org-name"), "Initech"), chromedp.SendKeys(chromedp.CSS("#org-slug"), "Not A Slug"),
		chromedp.Click(chromedp.CSS("#create-org")), chromedp.WaitVisible(chromedp.CSS("#org-slug-error")))
	want := s.apiDetail(t, "alice", "POST", "/v1/orgs", map[string]any{"name": "Initech", "slug": "Not A Slug"}, 400)
	if got := text(t, ctx, "#org-slug-error"); got != want {
		t.Fatalf("slug error %q, the API's detail %q", got, want)
	}
	step(t, ctx, "create organization",
		chromedp.SetValue(chromedp.CSS("#org-slug"), "initech"), chromedp.Click(chromedp.CSS("#create-org")),
		chromedp.WaitVisible(chromedp.CSS("#org-form")))
	if got := text(t, ctx, "#notice"); !strings.Contains(got, "created") {
		t.Fatalf("after create: %q", got)
	}
	if got := text(t, ctx, "#plan-name"); got != "Free" {
		t.Fatalf("a new organization's plan shows %q, want Free", got)
	}
	var org apiOrg
	s.apiGet(t, "alice", "/v1/orgs/initech", &org)
	if org.Name != "Initech" || org.Plan.Slug != "free" {
		t.Fatalf("API: organization %+v", org)
	}
	shoot(t, ctx, dir, "20-organization")

	// The notice of the create is dropped first, so the wait is for the
	// page the save answers with.
	step(t, ctx, "rename", chromedp.Evaluate[chromedp.Void](`document.querySelector('#notice').remove()`),
		chromedp.SetValue(chromedp.CSS("#name"), "Initech Corp"), chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text(t, ctx, "#notice"); got != "Saved." {
		t.Fatalf("after rename: %q", got)
	}
	if got := text(t, ctx, "#org-name-crumb"); got != "Initech Corp" {
		t.Fatalf("after rename the page shows %q", got)
	}
	s.apiGet(t, "alice", "/v1/orgs/initech", &org)
	if org.Name != "Initech Corp" {
		t.Fatalf("API: renamed to %q", org.Name)
	}
	step(t, ctx, "organization list", chromedp.Navigate(base+"/orgs"), chromedp.WaitVisible(chromedp.CSS(`#org-list li[data-org="initech"]`)))
	shoot(t, ctx, dir, "21-organizations")

	// A workspace in the organization, created on its workspaces screen.
	step(t, ctx, "org workspaces", chromedp.Navigate(base+"/o/initech/workspaces"), chromedp.WaitVisible(chromedp.CSS("#new-workspace")),
		chromedp.SendKeys(chromedp.CSS("#ws-name"), "Initech Ops"), chromedp.SendKeys(chromedp.CSS("#ws-slug"), "initech-ops"),
		chromedp.Click(chromedp.CSS("#create-workspace")), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
	ws := s.apiWorkspace(t, "initech-ops")
	if ws["organization_id"] != org.ID || ws["plan"] != "free" {
		t.Fatalf("API: workspace %v, want organization %s on free", ws, org.ID)
	}

	// Free: the member dialog's overrides and resource access are disabled.
	step(t, ctx, "member dialog on Free", chromedp.Navigate(base+"/w/initech-ops/members/alice"), chromedp.WaitVisible(chromedp.CSS("#member-form")))
	for _, id := range []string{"#overrides-plan", "#access-plan"} {
		if got := text(t, ctx, id); !strings.HasPrefix(got, "Requires the Pro plan") {
			t.Fatalf("%s says %q", id, got)
		}
	}
	if !disabled(t, ctx, `input[name="o.message.read"][value="allow"]`) {
		t.Fatal("an override radio is enabled on Free")
	}
	if !disabled(t, ctx, "#new-type") {
		t.Fatal("the resource access input is enabled on Free")
	}
	if disabled(t, ctx, `#member-roles input[value="owner"]`) {
		t.Fatal("the roles are disabled too: only the plan's features are")
	}
	shoot(t, ctx, dir, "22-member-plan-disabled")
	// A forged form (the control enabled by hand) is refused by the API.
	step(t, ctx, "forge an override",
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#overrides input').forEach(e => e.disabled = false)`),
		chromedp.Click(chromedp.CSS(`input[name="o.message.read"][value="allow"]`)), chromedp.Click(chromedp.CSS("#save-member")),
		chromedp.WaitVisible(chromedp.CSS("#overrides-error")))
	want = s.apiDetail(t, "alice", "PUT", "/v1/workspaces/initech-ops/members/alice",
		map[string]any{"roles": []string{"owner"}, "grants": []string{"message.read"}}, 403)
	if got := text(t, ctx, "#overrides-error"); got != want || !strings.Contains(want, "member_overrides") {
		t.Fatalf("forged override: page %q, the API's detail %q", got, want)
	}
	var m apiMember
	s.apiGet(t, "alice", "/v1/workspaces/initech-ops/members/alice", &m)
	if len(m.Grants) != 0 {
		t.Fatalf("the refused override was written: %v", m.Grants)
	}
	step(t, ctx, "roles on Free", chromedp.Navigate(base+"/w/initech-ops/roles"), chromedp.WaitVisible(chromedp.CSS("#roles-plan")))
	if !disabled(t, ctx, "#create-role") || !disabled(t, ctx, "#role-name") {
		t.Fatal("the custom role form is enabled on Free")
	}
	shoot(t, ctx, dir, "23-roles-plan-disabled")
	step(t, ctx, "keys on Free", chromedp.Navigate(base+"/w/initech-ops/api-keys"), chromedp.WaitVisible(chromedp.CSS("#keys-plan")))
	if got := text(t, ctx, "#keys-plan"); !strings.HasPrefix(got, "Requires the Pro plan") {
		t.Fatalf("keys note %q", got)
	}
	if !disabled(t, ctx, "#create-key") {
		t.Fatal("the create key button is enabled on Free")
	}
	shoot(t, ctx, dir, "24-keys-plan-disabled")
	consoleLogout(t, ctx)

	// root, a global admin, changes the plan.
	consoleLogin(t, ctx, base, "root", "")
	step(t, ctx, "org as root", chromedp.Navigate(base+"/o/initech"), chromedp.WaitVisible(chromedp.CSS("#plan-form")),
		chromedp.Click(chromedp.CSS(`#plan-form input[value="pro"]`)), chromedp.Click(chromedp.CSS("#change-plan")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text(t, ctx, "#plan-name"); got != "Pro" {
		t.Fatalf("after the upgrade the page shows %q", got)
	}
	s.apiGet(t, "alice", "/v1/orgs/initech", &org)
	if org.Plan.Slug != "pro" || !slices.Contains(org.Plan.Features, "member_overrides") {
		t.Fatalf("API: plan %+v", org.Plan)
	}
	shoot(t, ctx, dir, "25-organization-pro")
	step(t, ctx, "deleted organizations", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#to-deleted-orgs")),
		chromedp.Click(chromedp.CSS("#to-deleted-orgs")), chromedp.WaitVisible(chromedp.CSS("#no-deleted")))
	shoot(t, ctx, dir, "31-deleted-organizations")
	consoleLogout(t, ctx)

	// Pro: the same controls are enabled, and an override saves.
	consoleLogin(t, ctx, base, "alice", "alice@example.com")
	step(t, ctx, "member dialog on Pro", chromedp.Navigate(base+"/w/initech-ops/members/alice"), chromedp.WaitVisible(chromedp.CSS("#member-form")))
	if disabled(t, ctx, `input[name="o.message.read"][value="allow"]`) {
		t.Fatal("an override radio is still disabled on Pro")
	}
	if notes := eval[int](t, ctx, `document.querySelectorAll('.plan-note').length`); notes != 0 {
		t.Fatalf("%d plan notes on Pro", notes)
	}
	step(t, ctx, "save an override", chromedp.Click(chromedp.CSS(`input[name="o.message.read"][value="allow"]`)),
		chromedp.Click(chromedp.CSS("#save-member")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	s.apiGet(t, "alice", "/v1/workspaces/initech-ops/members/alice", &m)
	if !slices.Equal(m.Grants, []string{"message.read"}) {
		t.Fatalf("API: grants %v after saving on Pro", m.Grants)
	}
}

type apiProjectMember struct {
	UserID         string   `json:"user_id"`
	Roles          []string `json:"roles"`
	WorkspaceRoles []string `json:"workspace_roles"`
}

// TestConsoleBrowserProjects: alice (owner of an organization made through
// the API) creates a project, adds bob as a developer, creates a
// project-scope workspace in it; bob sees it in his switcher under the
// organization; deleting the non-empty project is refused with the API's
// project_not_empty detail; carol, an org member without
// organization.members, is refused adding a member with the API's detail.
func TestConsoleBrowserProjects(t *testing.T) {
	s := startOrgConsole(t)
	dir := screenshotDir(t)
	var org apiOrg
	s.apiJSON(t, "POST", "/v1/orgs", "alice", map[string]any{"name": "Hooli", "slug": "hooli"}, &org)
	for _, u := range []string{"bob", "carol"} { // project members are organization members
		s.apiJSON(t, "PUT", "/v1/orgs/hooli/members/"+u, "alice", map[string]any{"roles": []string{"member"}}, nil)
	}
	ctx := newBrowser(t)
	base := s.url("/console")

	consoleLogin(t, ctx, base, "alice", "alice@example.com")
	step(t, ctx, "projects", chromedp.Navigate(base+"/o/hooli/projects"), chromedp.WaitVisible(chromedp.CSS("#new-project")),
		chromedp.SendKeys(chromedp.CSS("#project-name"), "Apollo"), chromedp.SendKeys(chromedp.CSS("#project-slug"), "apollo"),
		chromedp.Click(chromedp.CSS("#create-project")), chromedp.WaitVisible(chromedp.CSS("#project-form")))
	if got := text(t, ctx, "#notice"); got != "Project created." {
		t.Fatalf("after create: %q", got)
	}
	var members struct {
		Items []apiProjectMember `json:"items"`
	}
	s.apiGet(t, "alice", "/v1/orgs/hooli/projects/apollo/members", &members)
	if len(members.Items) != 1 || members.Items[0].UserID != "alice" || !slices.Equal(members.Items[0].Roles, []string{"admin"}) {
		t.Fatalf("API: the creator is not the project admin: %+v", members.Items)
	}

	step(t, ctx, "add bob", chromedp.SendKeys(chromedp.CSS("#add-user"), "bob"),
		chromedp.Click(chromedp.CSS(`#add-project-member input[value="developer"]`)), chromedp.Click(chromedp.CSS("#add-member")),
		chromedp.WaitVisible(chromedp.CSS(`#project-members tr[data-user="bob"]`)))
	if got := text(t, ctx, `#project-members tr[data-user="bob"] .workspace-roles`); got != "operator" {
		t.Fatalf("bob's mapped workspace roles show %q", got)
	}
	s.apiGet(t, "alice", "/v1/orgs/hooli/projects/apollo/members", &members)
	var bob *apiProjectMember
	for i := range members.Items {
		if members.Items[i].UserID == "bob" {
			bob = &members.Items[i]
		}
	}
	if bob == nil || !slices.Equal(bob.Roles, []string{"developer"}) || !slices.Equal(bob.WorkspaceRoles, []string{"operator"}) {
		t.Fatalf("API: bob in the project: %+v", bob)
	}
	shoot(t, ctx, dir, "26-project")
	step(t, ctx, "project list", chromedp.Navigate(base+"/o/hooli/projects"), chromedp.WaitVisible(chromedp.CSS(`#project-list li[data-project="apollo"]`)))
	shoot(t, ctx, dir, "27-projects")

	// A project-scope workspace in Apollo.
	step(t, ctx, "create project workspace", chromedp.Navigate(base+"/o/hooli/workspaces"), chromedp.WaitVisible(chromedp.CSS("#new-workspace")),
		chromedp.SendKeys(chromedp.CSS("#ws-name"), "Apollo API"), chromedp.SendKeys(chromedp.CSS("#ws-slug"), "apollo-api"),
		chromedp.SetValue(chromedp.CSS("#ws-project"), "apollo"), chromedp.Click(chromedp.CSS(`#new-workspace input[value="project"]`)),
		chromedp.Click(chromedp.CSS("#create-workspace")), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
	ws := s.apiWorkspace(t, "apollo-api")
	if ws["scope"] != "project" || ws["organization_id"] != org.ID || ws["project_id"] == "" || ws["project_id"] == nil {
		t.Fatalf("API: workspace %v", ws)
	}
	step(t, ctx, "org workspaces filtered", chromedp.Navigate(base+"/o/hooli/workspaces?project=apollo"),
		chromedp.WaitVisible(chromedp.CSS(`#org-workspaces tr[data-slug="apollo-api"]`)))
	if got := text(t, ctx, `tr[data-slug="apollo-api"] .scope`) + "/" + text(t, ctx, `tr[data-slug="apollo-api"] .project`); got != "project/Apollo" {
		t.Fatalf("the listing shows scope/project %q", got)
	}
	shoot(t, ctx, dir, "28-org-workspaces")

	// The project still has a live workspace: delete is refused.
	step(t, ctx, "delete non-empty project", chromedp.Navigate(base+"/o/hooli/p/apollo"), chromedp.WaitVisible(chromedp.CSS("#delete-project")),
		chromedp.Click(chromedp.CSS("#delete-project")), chromedp.WaitVisible(chromedp.CSS("#delete-error")))
	want := s.apiDetail(t, "alice", "DELETE", "/v1/orgs/hooli/projects/apollo", nil, 409)
	if got := text(t, ctx, "#delete-error"); got != want {
		t.Fatalf("delete refusal: page %q, the API's detail %q", got, want)
	}
	consoleLogout(t, ctx)

	// bob reaches the project workspace through the project: his switcher shows it under Hooli.
	consoleLogin(t, ctx, base, "bob", "bob@example.com")
	if got := text(t, ctx, `#workspace-list a[data-slug="apollo-api"]`); got != "Apollo API" {
		t.Fatalf("bob's switcher shows %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('a[data-slug="apollo-api"]').closest('section').querySelector('h2').innerText`); got != "Hooli" {
		t.Fatalf("bob's project workspace is listed under %q, want Hooli", got)
	}
	var list struct {
		Items []struct {
			Slug string `json:"slug"`
		} `json:"items"`
	}
	s.apiGet(t, "bob", "/v1/orgs/hooli/workspaces?project=apollo", &list)
	if len(list.Items) != 1 || list.Items[0].Slug != "apollo-api" {
		t.Fatalf("API: bob's project workspaces %+v", list.Items)
	}
	shoot(t, ctx, dir, "30-switcher-grouped")
	consoleLogout(t, ctx)

	// carol (org role member) may not manage members: the API's refusal is shown.
	consoleLogin(t, ctx, base, "carol", "carol@example.com")
	step(t, ctx, "carol adds dave", chromedp.Navigate(base+"/o/hooli/members"), chromedp.WaitVisible(chromedp.CSS("#add-org-member")),
		chromedp.SendKeys(chromedp.CSS("#add-user"), "dave"), chromedp.Click(chromedp.CSS(`#add-org-member input[value="owner"]`)),
		chromedp.Click(chromedp.CSS("#add-member")), chromedp.WaitVisible(chromedp.CSS("#add-error")))
	want = s.apiDetail(t, "carol", "PUT", "/v1/orgs/hooli/members/dave", map[string]any{"roles": []string{"owner"}}, 403)
	if got := text(t, ctx, "#add-error"); got != want {
		t.Fatalf("carol's refusal: page %q, the API's detail %q", got, want)
	}
	var orgMembers struct {
		Items []struct {
			UserID string `json:"user_id"`
		} `json:"items"`
	}
	s.apiGet(t, "alice", "/v1/orgs/hooli/members", &orgMembers)
	for _, m := range orgMembers.Items {
		if m.UserID == "dave" {
			t.Fatal("API: dave was added by carol")
		}
	}
	shoot(t, ctx, dir, "29-org-members")
}
