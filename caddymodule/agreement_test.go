package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestGatewayAndExplainAgree replays generated requests (methods, paths
// inside and outside the rules, members with roles, grants, denies and
// restrictions, non-members, a global admin, live, revoked and expired
// API keys; project members in PROJECT and PRIVATE workspaces of their
// project, members by both sources, a workspace of a soft-deleted
// organization) through the real gateway and through the explain endpoint,
// and fails on any difference of status, code or reason: both run the
// one evaluator, and this proves nothing else decides.
func TestGatewayAndExplainAgree(t *testing.T) {
	s := newServer(t)
	now := time.Now().UTC()
	past := now.Add(-time.Hour)
	goneID := "ws_gone0000000000000000000000"
	webID, webPrivID, orgGoneID := "ws_web00000000000000000000000", "ws_webpriv00000000000000000000", "ws_orggone0000000000000000000"
	type key struct{ token, id string }
	keys := map[string]key{}
	seed(t, s.storePath(), func(tx store.Tx) error {
		for _, org := range []store.Organization{
			{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now},
			{ID: "org_gone", Slug: "gone-org", Name: "Gone", CreatedAt: now, UpdatedAt: now, DeletedAt: &now},
		} {
			if err := tx.PutOrganization(org); err != nil {
				return err
			}
		}
		for _, prj := range []store.Project{
			{ID: "prj_web", OrganizationID: "org_a", Slug: "web", Name: "Web", CreatedAt: now, UpdatedAt: now},
			{ID: "prj_gone", OrganizationID: "org_gone", Slug: "gone", Name: "Gone", CreatedAt: now, UpdatedAt: now},
		} {
			if err := tx.PutProject(prj); err != nil {
				return err
			}
		}
		for _, ws := range []store.Workspace{
			{ID: webID, Slug: "web", Name: "Web", OrganizationID: "org_a", ProjectID: "prj_web", Scope: store.ScopeProject, CreatedAt: now, UpdatedAt: now},
			{ID: webPrivID, Slug: "webpriv", Name: "Web private", OrganizationID: "org_a", ProjectID: "prj_web", Scope: store.ScopePrivate, CreatedAt: now, UpdatedAt: now},
			{ID: orgGoneID, Slug: "orggone", Name: "Org gone", OrganizationID: "org_gone", ProjectID: "prj_gone", Scope: store.ScopeProject, CreatedAt: now, UpdatedAt: now},
			{ID: acmeID, Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now},
			{ID: globexID, Slug: "globex", Name: "Globex", CreatedAt: now, UpdatedAt: now},
			{ID: goneID, Slug: "gone", Name: "Gone", CreatedAt: now, UpdatedAt: now, DeletedAt: &now},
		} {
			if err := tx.PutWorkspace(ws); err != nil {
				return err
			}
		}
		if err := tx.PutRole(store.Role{WorkspaceID: acmeID, Slug: "reader", Name: "Reader", Permissions: []string{"message.read"}}); err != nil {
			return err
		}
		for _, m := range []store.Membership{
			{WorkspaceID: acmeID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: acmeID, UserID: "olga", Roles: []string{"operator"}, Restrictions: map[string][]string{"instance": {"i1", "i2"}}},
			{WorkspaceID: acmeID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
			{WorkspaceID: acmeID, UserID: "eve", Roles: []string{"reader"}},
			{WorkspaceID: acmeID, UserID: "frank", Grants: []string{"campaign.*"}},
			{WorkspaceID: acmeID, UserID: "carl", Roles: []string{"operator"}, Restrictions: map[string][]string{"instance": {}}},
			{WorkspaceID: globexID, UserID: "bob", Roles: []string{"owner"}},
			{WorkspaceID: globexID, UserID: "eve", Roles: []string{"operator"}, Denies: []string{"message.*"}},
			{WorkspaceID: goneID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: webID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: webPrivID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: orgGoneID, UserID: "alice", Roles: []string{"owner"}},
			// dave: in web by both sources, his deny over the inherited role.
			{WorkspaceID: webID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		// pat: project-only developer (→ operator); dave by both; ghost
		// a project role config does not know.
		for _, pm := range []store.ProjectMember{
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "pat", Roles: []string{"developer"}},
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "dave", Roles: []string{"developer"}},
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "ghost", Roles: []string{"retired"}},
			{ProjectID: "prj_gone", OrganizationID: "org_gone", UserID: "pat", Roles: []string{"developer"}},
		} {
			pm.JoinedAt, pm.UpdatedAt = now, now
			if err := tx.PutProjectMember(pm); err != nil {
				return err
			}
		}
		for name, edit := range map[string]func(*store.APIKey){
			"live":    func(*store.APIKey) {},
			"revoked": func(k *store.APIKey) { k.RevokedAt = &now },
			"expired": func(k *store.APIKey) { k.ExpiresAt = &past },
			"narrow":  func(k *store.APIKey) { k.Permissions = []string{"campaign.read"} },
		} {
			token, id, hash := apikey.Generate()
			k := store.APIKey{ID: id, WorkspaceID: acmeID, Name: name, Permissions: []string{"message.*"},
				Restrictions: map[string][]string{"instance": {"i1"}}, SecretHash: hash, CreatedBy: "alice", CreatedAt: now}
			edit(&k)
			if err := tx.PutAPIKey(k); err != nil {
				return err
			}
			keys[name] = key{token, id}
		}
		return nil
	})
	// The explainers are global admins too: explaining a global_admin rule
	// for another user is reserved to global admins (it would tell whether
	// that user is one).
	s.load(strings.NewReplacer("global_admins root", "global_admins root alice bob",
		"creator_role owner", "creator_role owner\n\t\tproject_role developer \"Developer\" workspace_roles operator").Replace(testCaddyfile))

	// explainer is, per workspace, a member holding workspace.members.
	explainer := map[string]string{"acme": "alice", "globex": "bob", "web": "alice", "webpriv": "alice", "orggone": "alice"}
	tokens := map[string]string{}
	users := []string{"alice", "olga", "dave", "eve", "frank", "carl", "bob", "mallory", "root", "pat", "ghost"}
	for _, u := range users {
		tokens[u] = s.token(u)
	}
	for u := range explainer {
		tokens[explainer[u]] = s.token(explainer[u])
	}
	wsPaths := []string{"", "/messages", "/instances/i1/chats", "/instances/i2/chats", "/instances/i3/chats",
		"/campaigns/c1/run", "/campaigns/c2/run", "/contacts"}
	global := []string{"/healthz", "/me", "/billing-admin/x", "/nowhere"}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

	type outcome struct {
		Status       int
		Code, Reason string
	}
	gatewayOutcome := func(method, path, token string) outcome {
		r := s.do(method, path, token)
		if r.StatusCode == http.StatusOK {
			return outcome{Status: 200}
		}
		var p struct{ Code, Reason string }
		if err := json.Unmarshal(r.body, &p); err != nil || p.Reason == "" {
			t.Fatalf("%s %s: %d without a reason: %s", method, path, r.StatusCode, r.body)
		}
		if len(r.Header.Get("Gatehouse-Decision-Id")) != 24 {
			t.Fatalf("%s %s: no decision id", method, path)
		}
		return outcome{r.StatusCode, p.Code, p.Reason}
	}
	explainOutcome := func(ws, method, path, who, field string) outcome {
		body, _ := json.Marshal(map[string]string{"method": method, "path": path, field: who})
		req, _ := http.NewRequest("POST", s.url("/gatehouse/v1/workspaces/"+ws+"/explain"), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens[explainer[ws]])
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("explain %s %s for %s: %d %s", method, path, who, resp.StatusCode, raw)
		}
		var ex struct {
			Decision struct {
				Status       int
				Code, Reason string
			}
		}
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatal(err)
		}
		return outcome{ex.Decision.Status, ex.Decision.Code, ex.Decision.Reason}
	}

	compared := 0
	seen := map[outcome]int{}
	check := func(ws, method, path, token, who, field string) {
		g := gatewayOutcome(method, path, token)
		e := explainOutcome(ws, method, path, who, field)
		compared++
		seen[g]++
		if g != e {
			t.Errorf("%s %s as %s (explained in %s): gateway %+v, explain %+v", method, path, who, ws, g, e)
		}
	}
	// The management API hides a deleted organization's workspace, as it
	// hides a deleted workspace (its explain answers 404); the gateway's
	// explain there is compared with its decisions in internal/gateway.
	{
		body, _ := json.Marshal(map[string]string{"method": "GET", "path": "/healthz", "user": "alice"})
		req, _ := http.NewRequest("POST", s.url("/gatehouse/v1/workspaces/orggone/explain"), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens[explainer["orggone"]])
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !bytes.Contains(raw, []byte(`"workspace_not_found"`)) {
			t.Errorf("explain in a deleted organization's workspace: %d %s, want 404 workspace_not_found", resp.StatusCode, raw)
		}
	}
	for _, ws := range []string{"acme", "globex", "web", "webpriv"} {
		paths := slicesConcat(global, prefixed("/w/"+ws, wsPaths))
		wsMethods := methods
		if ws != "acme" && ws != "globex" {
			wsMethods = []string{"GET", "POST", "PATCH"} // enough for the project cases
		}
		for _, method := range wsMethods {
			for _, path := range paths {
				for _, u := range users {
					check(ws, method, path, tokens[u], u, "user")
				}
				if ws == "acme" {
					for _, k := range keys {
						check(ws, method, path, k.token, k.id, "api_key")
					}
				}
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("compared only %d requests", compared)
	}
	// Every reason the table can produce was produced.
	reasons := map[string]bool{}
	for o := range seen {
		reasons[o.Reason] = true
	}
	for _, want := range []string{"", "no_rule", "method_not_allowed", "not_member", "missing_permission",
		"denied_by_member_deny", "restricted", "key_revoked", "key_expired", "global_admin_required"} {
		if !reasons[want] {
			t.Errorf("no request produced reason %q (outcomes %v)", want, seen)
		}
	}
	// A deleted workspace: its member is told, nobody else; explain has
	// no live workspace to answer in (the API's 404).
	if g := gatewayOutcome("GET", "/w/gone/messages", tokens["alice"]); g.Reason != "workspace_deleted" {
		t.Errorf("deleted workspace to its member: %+v", g)
	}
	if g := gatewayOutcome("GET", "/w/gone/messages", tokens["bob"]); g != gatewayOutcome("GET", "/w/nope/messages", tokens["bob"]) || g.Reason != "not_member" {
		t.Errorf("deleted workspace to a stranger: %+v", g)
	}
	t.Logf("%d requests agree; outcomes %v", compared, seen)
}

func prefixed(prefix string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}

func slicesConcat(a, b []string) []string { return append(append([]string{}, a...), b...) }
