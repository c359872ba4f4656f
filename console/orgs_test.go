package console_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Handler tests of the organization screens over the real API: what the
// page offers, that refusals show the API's detail where they belong and
// change nothing, and paging.

func newOrgConsoleHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessConfig(t, model.Config{Permissions: harnessPermissions, Roles: harnessRoles, GlobalAdmins: []string{"root"},
		OrgRoles: []model.OrgRole{
			{Slug: "owner", Name: "Owner", Permissions: []string{model.PermOrgAdmin}},
			{Slug: "billing", Name: "Billing", Permissions: []string{model.PermOrgBilling}},
			{Slug: "member", Name: "Member"},
		},
		ProjectRoles: []model.ProjectRole{{Slug: "admin", Name: "Project admin", WorkspaceRoles: []string{"owner"}}},
		Plans: []model.PlanConfig{
			{Slug: "free", Name: "Free", Permissions: []string{"message.*"}},
			{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features()},
		},
		DefaultPlan: "free",
	})
}

// seedOrg has alice create organization initech through the API, with
// members (user id → org roles) who share workspace acme with her.
func (h *harness) seedOrg(members map[string][]string) {
	h.t.Helper()
	var ms []store.Membership
	for u := range members {
		ms = append(ms, store.Membership{UserID: u, Roles: []string{"operator"}})
	}
	h.seedAcme(ms...)
	if w := h.apiCall("POST", "/v1/orgs", "alice", `{"name":"Initech","slug":"initech"}`); w.Code != http.StatusCreated {
		h.t.Fatalf("create org: %d %s", w.Code, w.Body)
	}
	for u, roles := range members {
		b, _ := json.Marshal(map[string]any{"roles": roles})
		if w := h.apiCall("PUT", "/v1/orgs/initech/members/"+u, "alice", string(b)); w.Code/100 != 2 {
			h.t.Fatalf("add %s: %d %s", u, w.Code, w.Body)
		}
	}
}

func (h *harness) orgPlan() string {
	h.t.Helper()
	w := h.apiCall("GET", "/v1/orgs/initech", "alice", "")
	var o struct {
		Plan struct {
			Slug string `json:"slug"`
		} `json:"plan"`
	}
	must(h.t, json.Unmarshal(w.Body.Bytes(), &o))
	return o.Plan.Slug
}

// TestOrgPlanForm: the plan form is offered to a holder of
// organization.billing and to a global admin, not to a plain member; a
// plain member's forged plan change shows the API's refusal by the plan
// form and changes nothing; a billing holder's change is made.
func TestOrgPlanForm(t *testing.T) {
	h := newOrgConsoleHarness(t)
	h.seedOrg(map[string][]string{"bob": {"member"}, "carol": {"billing"}})

	bob := h.login("bob")
	w := h.get("/o/initech", bob)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `id="plan-form"`) {
		t.Fatalf("a plain member's organization page: %d, plan form offered: %v", w.Code, strings.Contains(w.Body.String(), `id="plan-form"`))
	}
	if !strings.Contains(w.Body.String(), `<strong id="plan-name">Free</strong>`) {
		t.Fatalf("the plan is not shown:\n%s", w.Body)
	}
	w = h.post("/o/initech/plan", bob, "csrf", csrfOf(t, h, bob), "plan", "pro")
	api := h.apiCall("PUT", "/v1/orgs/initech/plan", "bob", `{"plan":"pro"}`)
	if api.Code != http.StatusForbidden || w.Code != http.StatusForbidden {
		t.Fatalf("a member's plan change: console %d, API %d", w.Code, api.Code)
	}
	var p struct {
		Detail string `json:"detail"`
	}
	must(t, json.Unmarshal(api.Body.Bytes(), &p))
	if !strings.Contains(w.Body.String(), `<p class="field-error" id="plan-error">`+htmlEscape(p.Detail)+`</p>`) {
		t.Fatalf("the API's detail %q is not shown by the plan form:\n%s", p.Detail, w.Body)
	}
	if got := h.orgPlan(); got != "free" {
		t.Fatalf("a refused plan change changed the plan to %q", got)
	}

	for _, who := range []string{"carol", "root"} {
		ck := h.login(who)
		if w := h.get("/o/initech", ck); !strings.Contains(w.Body.String(), `id="plan-form"`) {
			t.Fatalf("%s is not offered the plan form", who)
		}
	}
	carol := h.login("carol")
	w = h.post("/o/initech/plan", carol, "csrf", csrfOf(t, h, carol), "plan", "pro")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("billing's plan change: %d %s", w.Code, w.Body)
	}
	if got := h.orgPlan(); got != "pro" {
		t.Fatalf("after billing's change the plan is %q", got)
	}
	// An unknown plan: the API's 400 by the plan field.
	w = h.post("/o/initech/plan", carol, "csrf", csrfOf(t, h, carol), "plan", "gold")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="plan-error"`) || !strings.Contains(w.Body.String(), "gold") {
		t.Fatalf("unknown plan: %d\n%s", w.Code, w.Body)
	}
}

// TestOrgMembersPaged: 30 members show 25 on the first page with a next
// link, the rest on the second; a refused role change shows the API's
// detail by the member's row.
func TestOrgMembersPaged(t *testing.T) {
	h := newOrgConsoleHarness(t)
	h.seedOrg(map[string][]string{"bob": {"member"}})
	now := time.Now().UTC()
	h.seed(func(tx store.Tx) error {
		org, err := tx.OrganizationBySlug("initech")
		if err != nil {
			return err
		}
		for i := range 28 {
			id := "u" + string(rune('a'+i/10)) + string(rune('0'+i%10))
			if err := tx.PutOrgMember(store.OrgMember{OrganizationID: org.ID, UserID: id, Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	alice := h.login("alice")
	w := h.get("/o/initech/members", alice)
	body := w.Body.String()
	if w.Code != http.StatusOK || strings.Count(body, "<tr data-user=") != 25 || !strings.Contains(body, `id="next-page"`) {
		t.Fatalf("first page: %d, %d rows, next link %v", w.Code, strings.Count(body, "<tr data-user="), strings.Contains(body, `id="next-page"`))
	}
	i := strings.Index(body, `id="next-page" href="`) + len(`id="next-page" href="`)
	next := strings.ReplaceAll(body[i:i+strings.IndexByte(body[i:], '"')], "&amp;", "&")
	w = h.get(next, alice)
	if n := strings.Count(w.Body.String(), "<tr data-user="); w.Code != http.StatusOK || n != 5 {
		t.Fatalf("second page %s: %d, %d rows", next, w.Code, n)
	}

	// bob (a plain member) may not give himself owner: the row shows why.
	bob := h.login("bob")
	w = h.post("/o/initech/members", bob, "csrf", csrfOf(t, h, bob), "user", "bob", "role", "owner")
	api := h.apiCall("PUT", "/v1/orgs/initech/members/bob", "bob", `{"roles":["owner"]}`)
	var p struct {
		Detail string `json:"detail"`
	}
	must(t, json.Unmarshal(api.Body.Bytes(), &p))
	if w.Code != api.Code || api.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `<p class="field-error row-error">`+htmlEscape(p.Detail)+`</p>`) {
		t.Fatalf("escalation: console %d, API %d %q:\n%s", w.Code, api.Code, p.Detail, w.Body)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the session's CSRF token, read from the home page's form.
func csrfOf(t *testing.T, h *harness, ck *http.Cookie) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(h.get("/", ck).Body.String())
	if m == nil {
		t.Fatal("no csrf field on the home page")
	}
	return m[1]
}

// TestOrgDeleteAndRestore: the danger zone needs the slug typed (else
// nothing is sent); a delete hides the organization from the API; a
// global admin finds it under deleted organizations and restores it.
func TestOrgDeleteAndRestore(t *testing.T) {
	h := newOrgConsoleHarness(t)
	h.seedOrg(nil)
	alice := h.login("alice")
	w := h.post("/o/initech/delete", alice, "csrf", csrfOf(t, h, alice), "confirm", "nope")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="confirm-error"`) {
		t.Fatalf("unconfirmed delete: %d\n%s", w.Code, w.Body)
	}
	if api := h.apiCall("GET", "/v1/orgs/initech", "alice", ""); api.Code != http.StatusOK {
		t.Fatalf("an unconfirmed delete deleted: %d", api.Code)
	}
	w = h.post("/o/initech/delete", alice, "csrf", csrfOf(t, h, alice), "confirm", "initech")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/orgs?deleted=initech" {
		t.Fatalf("delete: %d %s", w.Code, w.Header().Get("Location"))
	}
	if api := h.apiCall("GET", "/v1/orgs/initech", "alice", ""); api.Code != http.StatusNotFound {
		t.Fatalf("API after delete: %d", api.Code)
	}
	// alice is no global admin: the API refuses her the deleted list.
	if w := h.get("/admin/orgs", alice); w.Code != http.StatusForbidden {
		t.Fatalf("deleted organizations for alice: %d", w.Code)
	}
	root := h.login("root")
	w = h.get("/admin/orgs", root)
	id := regexp.MustCompile(`<tr data-slug="initech" data-id="([^"]+)">`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || id == nil {
		t.Fatalf("deleted organizations for root: %d\n%s", w.Code, w.Body)
	}
	w = h.post("/admin/orgs/restore", root, "csrf", csrfOf(t, h, root), "id", id[1])
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/orgs?restored=initech" {
		t.Fatalf("restore: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if api := h.apiCall("GET", "/v1/orgs/initech", "alice", ""); api.Code != http.StatusOK {
		t.Fatalf("API after restore: %d", api.Code)
	}
}

// TestPlanGatedFormsForged: in a Free workspace of an organization the
// custom role and API key forms are disabled with the note naming Pro; a
// forged POST of either is refused by the API (403 plan_required), the
// page shows the API's detail by the form, and nothing is created.
func TestPlanGatedFormsForged(t *testing.T) {
	h := newOrgConsoleHarness(t)
	h.seedOrg(nil)
	if w := h.apiCall("POST", "/v1/workspaces", "alice", `{"name":"Ops","slug":"ops","organization":"initech"}`); w.Code != http.StatusCreated {
		t.Fatalf("create workspace: %d %s", w.Code, w.Body)
	}
	alice := h.login("alice")
	for _, tc := range []struct {
		screen, post, note string
		form               []string
		api, apiBody       string
		list               string
	}{
		{"/w/ops/roles", "/w/ops/roles", `<p class="plan-note" id="roles-plan">Requires the Pro plan`,
			[]string{"slug", "agent", "name", "Agent", "permission", "message.read"},
			"/v1/workspaces/ops/roles", `{"slug":"agent","name":"Agent","permissions":["message.read"]}`, "/v1/workspaces/ops/roles/agent"},
		{"/w/ops/api-keys", "/w/ops/api-keys", `<p class="plan-note" id="keys-plan">Requires the Pro plan`,
			[]string{"name", "ci", "permission", "message.read"},
			"/v1/workspaces/ops/api-keys", `{"name":"ci","permissions":["message.read"]}`, ""},
	} {
		w := h.get(tc.screen, alice)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), tc.note) || !strings.Contains(w.Body.String(), `<fieldset class="plain" disabled>`) {
			t.Fatalf("%s on Free: %d, note or disabled form missing:\n%s", tc.screen, w.Code, w.Body)
		}
		w = h.post(tc.post, alice, append([]string{"csrf", csrfOf(t, h, alice)}, tc.form...)...)
		api := h.apiCall("POST", tc.api, "alice", tc.apiBody)
		var p struct {
			Code, Detail string
		}
		must(t, json.Unmarshal(api.Body.Bytes(), &p))
		if api.Code != http.StatusForbidden || p.Code != "plan_required" || w.Code != http.StatusForbidden ||
			!strings.Contains(w.Body.String(), `<p class="field-error" id="plan-error">`+htmlEscape(p.Detail)+`</p>`) {
			t.Fatalf("forged %s: console %d, API %d %s %q:\n%s", tc.post, w.Code, api.Code, p.Code, p.Detail, w.Body)
		}
		if tc.list != "" {
			if got := h.apiCall("GET", tc.list, "alice", ""); got.Code != http.StatusNotFound {
				t.Fatalf("the refused role exists: %d", got.Code)
			}
		}
	}
	var keys struct {
		Items []any `json:"items"`
	}
	must(t, json.Unmarshal(h.apiCall("GET", "/v1/workspaces/ops/api-keys", "alice", "").Body.Bytes(), &keys))
	if len(keys.Items) != 0 {
		t.Fatalf("refused keys were created: %v", keys.Items)
	}
}

// TestProjectScreens: a project is created and renamed through the
// console; adding a user outside the organization shows the API's
// user_not_found detail by the add form; an empty project is deleted.
func TestProjectScreens(t *testing.T) {
	h := newOrgConsoleHarness(t)
	h.seedOrg(map[string][]string{"bob": {"member"}})
	h.seed(func(tx store.Tx) error {
		now := time.Now().UTC()
		return tx.PutUser(store.User{ID: "eve", Email: "eve@example.com", FirstSeen: now, LastSeen: now})
	})
	alice := h.login("alice")
	csrf := csrfOf(t, h, alice)
	w := h.post("/o/initech/projects", alice, "csrf", csrf, "name", "Apollo", "slug", "apollo", "description", "moon")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/o/initech/p/apollo?created=1" {
		t.Fatalf("create project: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	w = h.post("/o/initech/p/apollo", alice, "csrf", csrf, "name", "Apollo 11", "slug", "apollo", "description", "moon")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("rename project: %d %s", w.Code, w.Body)
	}
	var pv struct {
		Name string `json:"name"`
	}
	must(t, json.Unmarshal(h.apiCall("GET", "/v1/orgs/initech/projects/apollo", "alice", "").Body.Bytes(), &pv))
	if pv.Name != "Apollo 11" {
		t.Fatalf("API: project name %q", pv.Name)
	}
	w = h.post("/o/initech/p/apollo/members", alice, "csrf", csrf, "mode", "add", "user", "eve", "role", "admin")
	api := h.apiCall("PUT", "/v1/orgs/initech/projects/apollo/members/eve", "alice", `{"roles":["admin"]}`)
	var p struct{ Detail string }
	must(t, json.Unmarshal(api.Body.Bytes(), &p))
	if api.Code != http.StatusNotFound || w.Code != http.StatusNotFound ||
		!strings.Contains(w.Body.String(), `<p class="field-error" id="add-error">`+htmlEscape(p.Detail)+`</p>`) ||
		!strings.Contains(w.Body.String(), `id="add-user" name="user" value="eve"`) {
		t.Fatalf("adding an outsider: console %d, API %d %q:\n%s", w.Code, api.Code, p.Detail, w.Body)
	}
	w = h.post("/o/initech/p/apollo/members", alice, "csrf", csrf, "mode", "add", "user", "bob", "role", "admin")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("adding bob: %d %s", w.Code, w.Body)
	}
	w = h.get("/o/initech/p/apollo", alice)
	if !strings.Contains(w.Body.String(), `<tr data-user="bob">`) || !strings.Contains(w.Body.String(), `<span class="tag">owner</span>`) {
		t.Fatalf("bob is not listed with his mapped workspace role:\n%s", w.Body)
	}
	w = h.post("/o/initech/p/apollo/delete", alice, "csrf", csrf)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/o/initech/projects?deleted=apollo" {
		t.Fatalf("delete an empty project: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if got := h.apiCall("GET", "/v1/orgs/initech/projects/apollo", "alice", ""); got.Code != http.StatusNotFound {
		t.Fatalf("API after delete: %d", got.Code)
	}
}
