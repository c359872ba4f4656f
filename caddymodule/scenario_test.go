package caddymodule

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// scenarioCaddyfile is a gateway with organizations, projects and local
// workspaces: workspace rules and organization rules in one handler,
// the management API next to it, a real upstream behind.
const scenarioCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	gatehouse {
		store {{dir}}/gatehouse.db
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		global_admins root
		permission message.read
		permission message.send implies message.read
		role owner  "Owner"  workspace.admin
		role member "Member" message.read
		creator_role owner
		org_role owner   "Owner"           organization.admin
		org_role wsadmin "Workspace admin" organization.workspaces
		org_role billing "Billing"         organization.billing
		org_role member  "Member"
		project_role developer "Developer"     workspace_roles member
		project_role admin     "Project admin" workspace_roles owner
		local_workspaces on
	}
}

http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	handle_path /gatehouse/* {
		gatehouse_api
	}
	handle {
		gatehouse {
			workspace    param workspace
			organization param org
			rule GET  /me                        authenticated
			rule GET  /w/{workspace}             member
			rule GET  /w/{workspace}/messages    message.read
			rule POST /w/{workspace}/messages    message.send
			rule GET  /o/{org}                   org_member
			rule GET  /o/{org}/workspaces        organization.workspaces
			rule PUT  /o/{org}/plan              organization.billing
		}
		request_header X-Seen-Org "{gatehouse.organization.slug}"
		reverse_proxy {{upstream}}
	}
}
`

const (
	scenarioOrgID = "org_acme00000000000000000000"
	scenarioWeb1  = "ws_web10000000000000000000000"
	scenarioWeb2  = "ws_web20000000000000000000000"
	scenarioPriv  = "ws_priv0000000000000000000000"
	scenarioLone  = "ws_lone0000000000000000000000"
)

// seedScenario writes, before the server starts: organization acme
// (oscar owner, wanda workspace admin, bill billing, mia member), its
// project web (dev developer, pat project admin) with PROJECT workspaces
// web1 and web2 and PRIVATE workspace priv (alice its explicit owner),
// and lone, a workspace outside any organization (alice owner).
func seedScenario(t *testing.T, s *server) {
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		if err := tx.PutOrganization(store.Organization{ID: scenarioOrgID, Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for _, m := range []store.OrgMember{
			{OrganizationID: scenarioOrgID, UserID: "oscar", Roles: []string{"owner"}},
			{OrganizationID: scenarioOrgID, UserID: "wanda", Roles: []string{"wsadmin"}},
			{OrganizationID: scenarioOrgID, UserID: "bill", Roles: []string{"billing", "member"}},
			{OrganizationID: scenarioOrgID, UserID: "mia", Roles: []string{"member"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutOrgMember(m); err != nil {
				return err
			}
		}
		if err := tx.PutProject(store.Project{ID: "prj_web", OrganizationID: scenarioOrgID, Slug: "web", Name: "Web", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for _, m := range []store.ProjectMember{
			{ProjectID: "prj_web", OrganizationID: scenarioOrgID, UserID: "dev", Roles: []string{"developer"}},
			{ProjectID: "prj_web", OrganizationID: scenarioOrgID, UserID: "pat", Roles: []string{"admin"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutProjectMember(m); err != nil {
				return err
			}
		}
		for _, w := range []store.Workspace{
			{ID: scenarioWeb1, Slug: "web1", Name: "Web 1", OrganizationID: scenarioOrgID, ProjectID: "prj_web", Scope: store.ScopeProject},
			{ID: scenarioWeb2, Slug: "web2", Name: "Web 2", OrganizationID: scenarioOrgID, ProjectID: "prj_web", Scope: store.ScopeProject},
			{ID: scenarioPriv, Slug: "priv", Name: "Private", OrganizationID: scenarioOrgID, ProjectID: "prj_web", Scope: store.ScopePrivate},
			{ID: scenarioLone, Slug: "lone", Name: "Lone"},
		} {
			w.CreatedAt, w.UpdatedAt = now, now
			if err := tx.PutWorkspace(w); err != nil {
				return err
			}
		}
		for _, m := range []store.Membership{
			{WorkspaceID: scenarioPriv, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: scenarioLone, UserID: "alice", Roles: []string{"owner"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
}

func startScenario(t *testing.T) *server {
	s := newServer(t)
	seedScenario(t, s)
	s.load(scenarioCaddyfile)
	return s
}

// expectStatus checks a response's status and, for a denial, its code
// and reason.
func expectStatus(t *testing.T, name string, r *response, status int, code, reason string) {
	t.Helper()
	if r.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %s", name, r.StatusCode, status, r.body)
		return
	}
	if status < 400 {
		return
	}
	p := r.problem(t)
	if p["code"] != code || reason != "" && p["reason"] != reason {
		t.Errorf("%s: code %v reason %v, want %s %s", name, p["code"], p["reason"], code, reason)
	}
}

// upstreamSaw checks headers the upstream got on the last request.
func upstreamSaw(t *testing.T, s *server, name string, want map[string]string) {
	t.Helper()
	got, _ := s.upstream.received()
	for h, v := range want {
		if vals := got.Values(h); v == "" && len(vals) != 0 || v != "" && (len(vals) != 1 || vals[0] != v) {
			t.Errorf("%s: upstream got %s = %q, want %q", name, h, vals, v)
		}
	}
}

// (a) A project developer reaches every PROJECT workspace of the project
// and no PRIVATE one.
func TestScenarioProjectDeveloperReachesProjectWorkspacesOnly(t *testing.T) {
	s := startScenario(t)
	dev := s.token("dev")
	for _, ref := range []string{"web1", "web2", scenarioWeb1} {
		r := s.do("GET", "/w/"+ref+"/messages", dev)
		expectStatus(t, "dev reads "+ref, r, 200, "", "")
	}
	upstreamSaw(t, s, "dev in web1 by id", map[string]string{
		"X-Gatehouse-User":              "dev",
		"X-Gatehouse-Workspace":         scenarioWeb1,
		"X-Gatehouse-Workspace-Slug":    "web1",
		"X-Gatehouse-Organization":      scenarioOrgID,
		"X-Gatehouse-Organization-Slug": "",
		"X-Gatehouse-Roles":             "member",
	})
	expectStatus(t, "dev sends in web1", s.do("POST", "/w/web1/messages", dev), 403, "forbidden", "missing_permission")
	expectStatus(t, "dev in the private workspace", s.do("GET", "/w/priv/messages", dev), 404, "workspace_not_found", "not_member")
	expectStatus(t, "dev in lone", s.do("GET", "/w/lone", dev), 404, "workspace_not_found", "not_member")
	// The project admin holds workspace.admin in project workspaces only.
	pat := s.token("pat")
	expectStatus(t, "pat sends in web2", s.do("POST", "/w/web2/messages", pat), 200, "", "")
	expectStatus(t, "pat in the private workspace", s.do("GET", "/w/priv", pat), 404, "workspace_not_found", "not_member")
	// The private workspace's explicit owner reaches it.
	expectStatus(t, "alice in priv", s.do("GET", "/w/priv/messages", s.token("alice")), 200, "", "")
}

// localWorkspacesOf lists user's LOCAL workspaces from the running
// server's store.
func localWorkspacesOf(t *testing.T, s *server, user string) []store.Workspace {
	t.Helper()
	var out []store.Workspace
	err := pooledStore(t, s.storePath()).View(context.Background(), func(tx store.Tx) error {
		out = nil
		all, _, err := tx.Workspaces("", 0)
		for _, w := range all {
			if w.Scope == store.ScopeLocal && w.OwnerID == user {
				out = append(out, w)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// (b) A LOCAL workspace is created once on the first request, reachable
// at once by its owner, invisible to others; a second request or a
// second token creates no other; the management API makes it too.
func TestScenarioLocalWorkspaceCreatedOnceInvisibleToOthers(t *testing.T) {
	s := startScenario(t)
	slug := model.LocalSlug("zoe", 0)
	zoe := s.token("zoe")
	r := s.do("GET", "/w/"+slug+"/messages", zoe)
	expectStatus(t, "zoe's first request, to her local workspace", r, 200, "", "")
	local := localWorkspacesOf(t, s, "zoe")
	if len(local) != 1 || local[0].Slug != slug || local[0].Name != "Personal" || local[0].OrganizationID != "" {
		t.Fatalf("zoe's local workspaces: %+v", local)
	}
	upstreamSaw(t, s, "zoe in her local workspace", map[string]string{
		"X-Gatehouse-Workspace": local[0].ID, "X-Gatehouse-Roles": "owner", "X-Gatehouse-Organization": "",
	})
	// Invisible to others: the answer of an unknown workspace.
	alice := s.token("alice")
	theirs := s.do("GET", "/w/"+slug+"/messages", alice)
	unknown := s.do("GET", "/w/u-000000000000/messages", alice)
	expectStatus(t, "alice in zoe's", theirs, 404, "workspace_not_found", "not_member")
	pa, pu := theirs.problem(t), unknown.problem(t)
	if pa["detail"] != pu["detail"] || pa["title"] != pu["title"] || len(theirs.body)-len(slug) != len(unknown.body)-len("u-000000000000") {
		t.Errorf("zoe's workspace answers alice unlike an unknown one:\n%s\n%s", theirs.body, unknown.body)
	}
	expectStatus(t, "alice by id", s.do("GET", "/w/"+local[0].ID, alice), 404, "workspace_not_found", "not_member")
	// A second request, a second token: no other.
	expectStatus(t, "again", s.do("GET", "/w/"+slug, zoe), 200, "", "")
	second, err := signing.Sign(s.key, signing.TokenSpec{Subject: "zoe", Email: "zoe@example.com", Claims: map[string]any{"jti": "second"}})
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, "second token", s.do("GET", "/me", second), 200, "", "")
	if got := localWorkspacesOf(t, s, "zoe"); len(got) != 1 || got[0].ID != local[0].ID {
		t.Errorf("after a second token: %+v", got)
	}
	// Through the management API: the first request of yan makes his,
	// and it is his alone to list.
	r = s.do("GET", "/gatehouse/v1/workspaces", s.token("yan"))
	expectStatus(t, "yan lists his workspaces", r, 200, "", "")
	var list struct {
		Items []struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	yans := localWorkspacesOf(t, s, "yan")
	if len(yans) != 1 || len(list.Items) != 1 || list.Items[0].ID != yans[0].ID {
		t.Errorf("yan's local workspace %+v, API list %+v", yans, list.Items)
	}
	// Never in an organization's list.
	err = pooledStore(t, s.storePath()).View(context.Background(), func(tx store.Tx) error {
		ws, _, err := tx.OrgWorkspaces(scenarioOrgID, "", "", 0)
		for _, w := range ws {
			if w.Scope == store.ScopeLocal {
				t.Errorf("local workspace %s in the organization's list", w.Slug)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// (c) An organization admin passes an organization.workspaces rule but
// reads no workspace data without a workspace permission.
func TestScenarioOrgAdminPassesOrgRuleNotWorkspaceData(t *testing.T) {
	s := startScenario(t)
	for user, role := range map[string]string{"wanda": "wsadmin", "oscar": "owner"} {
		tok := s.token(user)
		r := s.do("GET", "/o/acme/workspaces", tok, "X-Gatehouse-Organization", "org_spoofed")
		expectStatus(t, user+" on the organization.workspaces rule", r, 200, "", "")
		upstreamSaw(t, s, user+" on the org rule", map[string]string{
			"X-Gatehouse-User":              user,
			"X-Gatehouse-Organization":      scenarioOrgID,
			"X-Gatehouse-Organization-Slug": "acme",
			"X-Gatehouse-Permission":        "organization.workspaces",
			"X-Gatehouse-Roles":             role,
			"X-Gatehouse-Workspace":         "",
			"X-Seen-Org":                    "acme",
		})
		for _, ws := range []string{"web1", "priv", scenarioWeb2} {
			expectStatus(t, user+" reads "+ws, s.do("GET", "/w/"+ws+"/messages", tok), 404, "workspace_not_found", "not_member")
		}
	}
	expectStatus(t, "mia on the organization.workspaces rule", s.do("GET", "/o/acme/workspaces", s.token("mia")), 403, "forbidden", "missing_permission")
}

// setOrgDeleted soft-deletes (or restores) the scenario organization
// through the running server's store.
func setOrgDeleted(t *testing.T, s *server, deleted bool) {
	t.Helper()
	err := pooledStore(t, s.storePath()).Update(context.Background(), func(tx store.Tx) error {
		o, err := tx.Organization(scenarioOrgID)
		if err != nil {
			return err
		}
		o.DeletedAt = nil
		if deleted {
			now := time.Now().UTC()
			o.DeletedAt = &now
		}
		return tx.PutOrganization(o)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// eventually repeats a request until it answers status (the write went
// through another Store value than the gateway's, so it is applied
// within the feed's lag: a wake-up, not a poll, on bbolt).
func eventually(t *testing.T, s *server, name, method, path, token string, status int) *response {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := s.do(method, path, token)
		if r.StatusCode == status || time.Now().After(deadline) {
			if r.StatusCode != status {
				t.Errorf("%s: status %d, want %d within 3 s: %s", name, r.StatusCode, status, r.body)
			}
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// (d) Soft-deleting the organization hides its workspaces at once, at
// the gateway and the API; restoring brings them back.
func TestScenarioOrgSoftDeleteHidesWorkspaces(t *testing.T) {
	s := startScenario(t)
	dev, alice, mia := s.token("dev"), s.token("alice"), s.token("mia")
	expectStatus(t, "dev before", s.do("GET", "/w/web1/messages", dev), 200, "", "")
	expectStatus(t, "alice before", s.do("GET", "/w/priv/messages", alice), 200, "", "")
	expectStatus(t, "mia before", s.do("GET", "/o/acme", mia), 200, "", "")
	setOrgDeleted(t, s, true)
	r := eventually(t, s, "dev after the delete", "GET", "/w/web1/messages", dev, 404)
	expectStatus(t, "dev after the delete", r, 404, "workspace_not_found", "")
	expectStatus(t, "alice after the delete", s.do("GET", "/w/priv/messages", alice), 404, "workspace_not_found", "workspace_deleted")
	expectStatus(t, "the org rule after the delete", s.do("GET", "/o/acme", mia), 404, "organization_not_found", "not_org_member")
	expectStatus(t, "the API after the delete", s.do("GET", "/gatehouse/v1/workspaces/priv", alice), 404, "workspace_not_found", "")
	// A workspace outside the organization is untouched.
	expectStatus(t, "lone", s.do("GET", "/w/lone/messages", alice), 200, "", "")
	setOrgDeleted(t, s, false)
	eventually(t, s, "dev after the restore", "GET", "/w/web1/messages", dev, 200)
	expectStatus(t, "alice after the restore", s.do("GET", "/w/priv/messages", alice), 200, "", "")
	expectStatus(t, "the org rule after the restore", s.do("GET", "/o/acme", mia), 200, "", "")
	expectStatus(t, "the API after the restore", s.do("GET", "/gatehouse/v1/workspaces/priv", alice), 200, "", "")
}

// (e) org_member and organization permission rules allow and deny as
// specified; the three kinds of 404 are byte-identical.
func TestScenarioOrgRulesAllowAndDeny(t *testing.T) {
	s := startScenario(t)
	bill, mia, dev, root := s.token("bill"), s.token("mia"), s.token("dev"), s.token("root")
	expectStatus(t, "mia org_member", s.do("GET", "/o/acme", mia), 200, "", "")
	expectStatus(t, "mia org_member by id", s.do("GET", "/o/"+scenarioOrgID, mia), 200, "", "")
	upstreamSaw(t, s, "mia", map[string]string{
		"X-Gatehouse-Organization": scenarioOrgID, "X-Gatehouse-Organization-Slug": "acme",
		"X-Gatehouse-Roles": "member", "X-Gatehouse-Permission": "",
	})
	expectStatus(t, "bill billing", s.do("PUT", "/o/acme/plan", bill), 200, "", "")
	upstreamSaw(t, s, "bill", map[string]string{"X-Gatehouse-Roles": "billing,member", "X-Gatehouse-Permission": "organization.billing"})
	r := s.do("PUT", "/o/acme/plan", mia)
	expectStatus(t, "mia billing", r, 403, "forbidden", "missing_permission")
	if p := r.problem(t); p["required_permission"] != "organization.billing" {
		t.Errorf("mia billing: required_permission %v", p["required_permission"])
	}
	expectStatus(t, "oscar billing (organization.admin)", s.do("PUT", "/o/acme/plan", s.token("oscar")), 200, "", "")
	expectStatus(t, "no token", s.do("GET", "/o/acme", ""), 401, "unauthenticated", "")
	// A project member is no organization member; a global admin stands
	// in no organization by that alone.
	notMember := s.do("GET", "/o/acme", dev)
	expectStatus(t, "dev org_member", notMember, 404, "organization_not_found", "not_org_member")
	expectStatus(t, "root org_member", s.do("GET", "/o/acme", root), 404, "organization_not_found", "not_org_member")
	unknown := s.do("GET", "/o/nope", dev)
	setOrgDeleted(t, s, true)
	deleted := eventually(t, s, "mia after the delete", "GET", "/o/acme", mia, 404)
	for name, r := range map[string]*response{"unknown": unknown, "deleted": deleted} {
		if string(r.body) != string(notMember.body) {
			t.Errorf("%s organization:\n%s\nnot-a-member:\n%s", name, r.body, notMember.body)
		}
		if r.Header.Get("Content-Type") != notMember.Header.Get("Content-Type") || r.Header.Get("Content-Length") != notMember.Header.Get("Content-Length") {
			t.Errorf("%s organization: headers differ", name)
		}
	}
}

// An organization rule in a handler without an organization source is a
// config error naming the line and the fix.
func TestScenarioOrgRuleNeedsOrganizationSource(t *testing.T) {
	s := newServer(t)
	cfg := strings.Replace(scenarioCaddyfile, "\t\t\torganization param org\n", "", 1)
	err := s.tryLoad(cfg)
	if err == nil {
		t.Fatal("loaded an organization rule without an organization source")
	}
	for _, want := range []string{"Caddyfile:", "organization param org", "org_member"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
