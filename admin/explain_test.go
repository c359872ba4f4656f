package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// explainRules is one gatehouse directive's rule table.
var explainRules = []gateway.RuleSpec{
	{Methods: []string{"GET"}, Path: "/healthz", Require: "public"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/platform", Require: "global_admin"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/messages", Require: "message.read", Source: "Caddyfile:7"},
	{Methods: []string{"POST"}, Path: "/w/{workspace}/messages", Require: "message.send"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/campaigns", Require: "campaign.read"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/instances/{instance}/chats", Require: "message.read", RestrictType: "instance", RestrictParam: "instance"},
}

func withRuleTable(t testing.TB) func(*admin.Options) {
	return func(o *admin.Options) {
		p, err := o.Engine.NewPolicy(explainRules, gateway.DefaultWorkspaceSource)
		must(t, err)
		o.RuleTables = func() []*gateway.Policy { return []*gateway.Policy{p} }
	}
}

type explanation struct {
	Rule *struct {
		Rule   string `json:"rule"`
		Source string `json:"source"`
	} `json:"rule"`
	Requirement struct {
		Kind, Permission, Restrict string
		RestrictValue              string `json:"restrict_value"`
	} `json:"requirement"`
	Roles       []string                  `json:"roles"`
	Permissions []gateway.Provenance      `json:"permissions"`
	Decision    gateway.ExplainedDecision `json:"decision"`
}

func TestExplain(t *testing.T) {
	h := newHarness(t, withRuleTable(t))
	h.knownTo("alice", "dave", "mia", "olga", "carl", "mallory")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}})
	h.putMember("alice", ws, "mia", map[string]any{"roles": []string{"member"}})
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"}, "restrictions": map[string][]string{"instance": {"i1"}}})
	h.putMember("alice", ws, "carl", map[string]any{"roles": []string{"member"}, "grants": []string{"campaign.admin"}})
	url := "/v1/workspaces/" + ws.Slug + "/explain"
	explain := func(actor string, body map[string]any) explanation {
		t.Helper()
		var ex explanation
		h.do("POST", url, h.token(actor), body).want(http.StatusOK).decode(&ex)
		return ex
	}
	decision := func(ex explanation, status int, code, reason string) {
		t.Helper()
		if d := ex.Decision; d.Status != status || d.Code != code || d.Reason != reason {
			t.Errorf("decision %+v, want %d %s %s", d, status, code, reason)
		}
	}

	// Denied by the member's deny: the role grants it, the deny removes it.
	ex := explain("alice", map[string]any{"method": "POST", "path": "/w/" + ws.Slug + "/messages", "user": "dave"})
	decision(ex, 403, "forbidden", "denied_by_member_deny")
	if ex.Rule == nil || ex.Rule.Source != "POST /w/{workspace}/messages message.send" {
		t.Errorf("rule %+v", ex.Rule)
	}
	if len(ex.Permissions) != 1 || ex.Permissions[0].Effective || len(ex.Permissions[0].From) != 1 ||
		ex.Permissions[0].From[0] != (gateway.Source{Kind: "role", Name: "operator", Pattern: "message.send"}) ||
		len(ex.Permissions[0].RemovedBy) != 1 || ex.Permissions[0].RemovedBy[0].Pattern != "message.send" {
		t.Errorf("provenance %+v", ex.Permissions)
	}
	if len(ex.Roles) != 1 || ex.Roles[0] != "operator" {
		t.Errorf("roles %v", ex.Roles)
	}

	// For oneself, any member: allowed, with the rule's file:line.
	ex = explain("mia", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/messages"})
	decision(ex, 200, "", "")
	if !ex.Decision.Allowed || ex.Rule.Source != "Caddyfile:7" || ex.Requirement.Permission != "message.read" {
		t.Errorf("explanation %+v", ex)
	}
	decision(explain("mia", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/campaigns"}), 403, "forbidden", "missing_permission")

	// Implication: campaign.admin → campaign.run → campaign.read.
	ex = explain("carl", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/campaigns"})
	decision(ex, 200, "", "")
	if len(ex.Permissions) != 1 || len(ex.Permissions[0].From) != 1 ||
		ex.Permissions[0].From[0] != (gateway.Source{Kind: "grant", Pattern: "campaign.admin", Via: "campaign.admin"}) {
		t.Errorf("provenance %+v", ex.Permissions)
	}

	// Restriction, with the captured value.
	ex = explain("alice", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/instances/i9/chats", "user": "olga"})
	decision(ex, 403, "restricted", "restricted")
	if ex.Requirement.Restrict != "instance {instance}" || ex.Requirement.RestrictValue != "i9" {
		t.Errorf("requirement %+v", ex.Requirement)
	}

	// Not a member: not_member. No rule, method not allowed, non-canonical path.
	decision(explain("alice", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/messages", "user": "mallory"}), 404, "workspace_not_found", "not_member")
	decision(explain("alice", map[string]any{"method": "GET", "path": "/nowhere"}), 403, "forbidden", "no_rule")
	decision(explain("alice", map[string]any{"method": "DELETE", "path": "/w/" + ws.Slug + "/messages"}), 405, "method_not_allowed", "method_not_allowed")
	decision(explain("alice", map[string]any{"method": "GET", "path": "/w/" + ws.Slug + "/../x"}), 400, "invalid_path", "invalid_path")

	// Authorization: others need workspace.members; non-members get the
	// workspace's usual 404.
	h.do("POST", url, h.token("mia"), map[string]any{"method": "GET", "path": "/healthz", "user": "dave"}).forbidden("workspace.members")
	want404 := h.do("GET", "/v1/workspaces/"+ws.Slug, h.token("mallory"), nil).problem(http.StatusNotFound, "workspace_not_found")
	got404 := h.do("POST", url, h.token("mallory"), map[string]any{"method": "GET", "path": "/healthz"}).problem(http.StatusNotFound, "workspace_not_found")
	if string(got404.raw) != string(want404.raw) {
		t.Errorf("non-member explain 404 %s, workspace 404 %s", got404.raw, want404.raw)
	}

	// Validation.
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET", "path": "/x", "extra": 1}).invalid("extra")
	h.do("POST", url, h.token("alice"), map[string]any{"method": "get", "path": "/x"}).invalid("method")
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET"}).invalid("path")
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET", "path": "/x", "user": "dave", "api_key": "k"}).invalid("api_key")
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET", "path": "/w/other/messages"}).invalid("path")
}

func TestEffectivePermissions(t *testing.T) {
	h := newHarness(t, withRuleTable(t))
	h.knownTo("alice", "dave", "mia")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}, "grants": []string{"campaign.run"}})
	h.putMember("alice", ws, "mia", map[string]any{"roles": []string{"member"}})
	url := "/v1/workspaces/" + ws.Slug + "/members/dave/effective"
	var all []gateway.Provenance
	cursor := ""
	for range 10 {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var pg page[gateway.Provenance]
		h.do("GET", url+q, h.token("alice"), nil).want(http.StatusOK).decode(&pg)
		all = append(all, pg.Items...)
		if pg.NextCursor == nil {
			break
		}
		cursor = *pg.NextCursor
	}
	names := []string{}
	for _, p := range all {
		names = append(names, p.Permission)
		if !p.Effective || len(p.From) == 0 {
			t.Errorf("%s: %+v", p.Permission, p)
		}
	}
	// operator minus message.send, plus campaign.run (which implies campaign.read).
	want := []string{"campaign.read", "campaign.run", "contact.read", "message.read"}
	if len(names) != len(want) {
		t.Fatalf("effective %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("effective %v, want %v", names, want)
		}
	}
	// campaign.read comes from the operator role and from the grant via campaign.run.
	if len(all[0].From) != 2 || all[0].From[1] != (gateway.Source{Kind: "grant", Pattern: "campaign.run", Via: "campaign.run"}) {
		t.Errorf("campaign.read from %+v", all[0].From)
	}
	h.do("GET", url, h.token("dave"), nil).want(http.StatusOK)
	h.do("GET", url, h.token("mia"), nil).forbidden("workspace.members")
	h.do("GET", url+"?limit=0", h.token("alice"), nil).invalid("limit")
}

// Explaining a global_admin rule for another user would tell whether they
// are a global admin, which workspace.members does not entitle anyone to
// learn: 403, while explaining it for oneself still answers.
func TestExplainGlobalAdminRuleForOthers(t *testing.T) {
	h := newHarness(t, withRuleTable(t))
	h.knownTo("alice", "dave")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"operator"}})
	url := "/v1/workspaces/" + ws.Slug + "/explain"
	path := "/w/" + ws.Slug + "/platform"
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET", "path": path, "user": "dave"}).
		problem(http.StatusForbidden, "forbidden")
	var ex explanation
	h.do("POST", url, h.token("alice"), map[string]any{"method": "GET", "path": path}).want(http.StatusOK).decode(&ex)
	if ex.Requirement.Kind != "global_admin" || ex.Decision.Status != http.StatusForbidden {
		t.Errorf("alice explaining for herself: %+v", ex)
	}
}
