package gateway_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// explainIn explains method on path for user (or keyID) in ws, from one
// read transaction as the admin API does.
func (f *orgFixture) explainIn(p *gateway.Policy, ws store.Workspace, method, path, user, keyID string) *gateway.Explanation {
	f.t.Helper()
	var ex *gateway.Explanation
	must(f.t, f.store.View(t0(), func(tx store.Tx) error {
		var err error
		ex, err = p.Explain(tx, gateway.ExplainInput{Method: method, Path: path, Subject: user, KeyID: keyID, Workspace: ws})
		return err
	}))
	return ex
}

type outcome struct {
	status       int
	code, reason string
}

func decisionOutcome(d *gateway.Decision) outcome {
	if d.Allowed {
		return outcome{status: http.StatusOK}
	}
	return outcome{d.Problem.Status, d.Problem.Code, d.Problem.Reason}
}

func explainOutcome(ex *gateway.Explanation) outcome {
	return outcome{ex.Decision.Status, ex.Decision.Code, ex.Decision.Reason}
}

// TestExplainAgreesWithDecideOverProjectWorkspaces replays every rule of
// inheritRules, in PROJECT and PRIVATE workspaces of a project and in a
// workspace of a soft-deleted organization, for project-only members,
// explicit members, members by both, a project role config does not know,
// another organization's project member, a stranger and API keys, through
// Decide and through Explain, and fails on any difference: explain reads
// membership with the gateway's own function.
func TestExplainAgreesWithDecideOverProjectWorkspaces(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	now := time.Now().UTC()
	f.update(func(tx store.Tx) error {
		// both: member of web1 explicitly and through the project.
		must(t, tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "both",
			Roles: []string{"developer"}, JoinedAt: now, UpdatedAt: now}))
		return tx.PutMember(store.Membership{WorkspaceID: f.web1.ID, UserID: "both", Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now})
	})
	keyWeb, recWeb := f.putKey(f.web1, []string{"message.read"}, nil)
	keyB, recB := f.putKey(f.bws, []string{"message.read"}, nil)
	deleted := f.orgB
	deleted.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutOrganization(deleted) })

	users := []string{"dev", "padmin", "uni", "both", "ghost", "pete", "alice", "mallory"}
	subPaths := []string{"", "/messages", "/admin", "/campaigns/c1/run", "/contacts/export", "/instances/i1/chats"}
	methods := []string{"GET", "POST", "PATCH"}
	seen := map[outcome]int{}
	compared := 0
	for _, ws := range []store.Workspace{f.web1, f.web2, f.webPriv, f.bws} {
		for _, ref := range []string{ws.Slug, ws.ID} {
			for _, sub := range subPaths {
				path := "/w/" + ref + sub
				for _, method := range methods {
					for _, u := range users {
						d := decisionOutcome(f.decideAs(p, method, path, u))
						e := explainOutcome(f.explainIn(p, ws, method, path, u, ""))
						compared++
						seen[d]++
						if d != e {
							t.Errorf("%s %s as %s: decide %+v, explain %+v", method, path, u, d, e)
						}
					}
					for _, k := range []struct {
						token string
						rec   store.APIKey
					}{{keyWeb, recWeb}, {keyB, recB}} {
						if k.rec.WorkspaceID != ws.ID {
							continue
						}
						d := decisionOutcome(decide(p, request(method, path, k.token)))
						e := explainOutcome(f.explainIn(p, ws, method, path, "", k.rec.ID))
						compared++
						seen[d]++
						if d != e {
							t.Errorf("%s %s as key of %s: decide %+v, explain %+v", method, path, ws.Slug, d, e)
						}
					}
				}
			}
		}
	}
	// The table reached what it is about.
	reasons := map[string]bool{}
	for o := range seen {
		reasons[o.reason] = true
	}
	for _, want := range []string{"", "not_member", "missing_permission", "denied_by_member_deny", "workspace_deleted"} {
		if !reasons[want] {
			t.Errorf("no request produced reason %q (outcomes %v)", want, seen)
		}
	}
	t.Logf("%d requests agree; outcomes %v", compared, seen)
}

// TestExplainShowsProjectRoleProvenance: a project-only member's role is
// sourced from their project role; a role held both explicitly and
// through the project shows both origins; the project's PRIVATE workspace
// gives project members nothing.
func TestExplainShowsProjectRoleProvenance(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	now := time.Now().UTC()
	f.update(func(tx store.Tx) error {
		must(t, tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "both",
			Roles: []string{"developer"}, JoinedAt: now, UpdatedAt: now}))
		return tx.PutMember(store.Membership{WorkspaceID: f.web1.ID, UserID: "both", Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now})
	})

	ex := f.explainIn(p, f.web1, "GET", "/w/web1/messages", "dev", "")
	if !ex.Decision.Allowed || !slices.Equal(ex.Roles, []string{"member"}) || len(ex.Permissions) != 1 {
		t.Fatalf("project-only developer in a PROJECT workspace: %+v", ex)
	}
	from := ex.Permissions[0].From
	if len(from) == 0 {
		t.Fatalf("no source: %+v", ex.Permissions[0])
	}
	for _, s := range from {
		if s.Kind != gateway.SourceRole || s.Name != "member" || s.ProjectRole != "developer" {
			t.Errorf("source %+v: want role member through project role developer", s)
		}
	}

	ex = f.explainIn(p, f.webPriv, "GET", "/w/webpriv/messages", "dev", "")
	if ex.Decision.Allowed || ex.Decision.Reason != "not_member" || len(ex.Roles) != 0 || len(ex.Permissions) != 0 {
		t.Errorf("project-only developer in the project's PRIVATE workspace: %+v", ex)
	}

	ex = f.explainIn(p, f.web1, "GET", "/w/web1/messages", "both", "")
	if !ex.Decision.Allowed || !slices.Equal(ex.Roles, []string{"member"}) || len(ex.Permissions) != 1 {
		t.Fatalf("member by both: %+v", ex)
	}
	var explicit, inherited int
	for _, s := range ex.Permissions[0].From {
		switch {
		case s.Kind == gateway.SourceRole && s.Name == "member" && s.ProjectRole == "":
			explicit++
		case s.Kind == gateway.SourceRole && s.Name == "member" && s.ProjectRole == "developer":
			inherited++
		default:
			t.Errorf("unexpected source %+v", s)
		}
	}
	if explicit == 0 || inherited == 0 {
		t.Errorf("member by both: want both origins, got %+v", ex.Permissions[0].From)
	}

	// uni: explicit member (grant, deny) and project sender (→ operator):
	// the deny removes what the inherited role grants, and says so.
	ex = f.explainIn(p, f.web1, "POST", "/w/web1/messages", "uni", "")
	if ex.Decision.Reason != "denied_by_member_deny" || len(ex.Permissions) != 1 ||
		len(ex.Permissions[0].RemovedBy) != 1 || !slices.ContainsFunc(ex.Permissions[0].From,
		func(s gateway.Source) bool { return s.Name == "operator" && s.ProjectRole == "sender" }) {
		t.Errorf("explicit deny over an inherited role: %+v", ex)
	}
}

// TestExplainInDeletedOrganization: the workspace of a soft-deleted
// organization is explained as the gateway answers it: workspace_deleted
// to its explicit member, not_member to its project-only member, and its
// API key refused at authentication.
func TestExplainInDeletedOrganization(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	key, rec := f.putKey(f.bws, []string{"message.read"}, nil)
	deleted := f.orgB
	now := time.Now().UTC()
	deleted.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutOrganization(deleted) })

	for _, c := range []struct {
		name     string
		decision *gateway.Decision
		ex       *gateway.Explanation
		reason   string
	}{
		{"explicit member", f.decideAs(p, "GET", "/w/bws/messages", "alice"), f.explainIn(p, f.bws, "GET", "/w/bws/messages", "alice", ""), "workspace_deleted"},
		{"project member", f.decideAs(p, "GET", "/w/bws/messages", "pete"), f.explainIn(p, f.bws, "GET", "/w/bws/messages", "pete", ""), "not_member"},
		{"API key", decide(p, request("GET", "/w/bws/messages", key)), f.explainIn(p, f.bws, "GET", "/w/bws/messages", "", rec.ID), "workspace_deleted"},
	} {
		d, e := decisionOutcome(c.decision), explainOutcome(c.ex)
		if d != e || d.reason != c.reason {
			t.Errorf("%s: decide %+v, explain %+v, want reason %s", c.name, d, e, c.reason)
		}
	}
}
