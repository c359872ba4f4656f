package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// orgFixture adds to the fixture an organization "org_a" with project
// prj_web (PROJECT workspaces web1 and web2, PRIVATE workspace webpriv of
// the same project) and an organization "org_b" with project prj_b and its
// PROJECT workspace bws, and an engine whose model declares the project
// roles developer (→ member), sender (→ operator) and admin (→ owner).
type orgFixture struct {
	*fixture
	web1, web2, webPriv, bws store.Workspace
	orgB                     store.Organization
}

var inheritRules = append([]gateway.RuleSpec{
	{Methods: []string{"GET"}, Path: "/w/{workspace}/admin", Require: "workspace.admin"},
}, testRules...)

func newOrgFixture(t *testing.T) *orgFixture {
	t.Helper()
	f := &orgFixture{fixture: newFixture(t)}
	cfg := testConfig()
	cfg.ProjectRoles = []model.ProjectRole{
		{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"member"}},
		{Slug: "sender", Name: "Sender", WorkspaceRoles: []string{"operator"}},
		{Slug: "admin", Name: "Admin", WorkspaceRoles: []string{"owner"}},
	}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(t, cfg) })
	now := time.Now().UTC()
	ws := func(id, slug, org, project string, scope store.Scope) store.Workspace {
		return store.Workspace{ID: id, Slug: slug, Name: slug, OrganizationID: org, ProjectID: project, Scope: scope, CreatedAt: now, UpdatedAt: now}
	}
	f.web1 = ws("ws_web10000000000000000000000", "web1", "org_a", "prj_web", store.ScopeProject)
	f.web2 = ws("ws_web20000000000000000000000", "web2", "org_a", "prj_web", store.ScopeProject)
	f.webPriv = ws("ws_webpriv00000000000000000000", "webpriv", "org_a", "prj_web", store.ScopePrivate)
	f.bws = ws("ws_bws00000000000000000000000", "bws", "org_b", "prj_b", store.ScopeProject)
	f.orgB = store.Organization{ID: "org_b", Slug: "beta", Name: "Beta", CreatedAt: now, UpdatedAt: now}
	f.update(func(tx store.Tx) error {
		must(t, tx.PutOrganization(store.Organization{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now}))
		must(t, tx.PutOrganization(f.orgB))
		must(t, tx.PutProject(store.Project{ID: "prj_web", OrganizationID: "org_a", Slug: "web", Name: "Web", CreatedAt: now, UpdatedAt: now}))
		must(t, tx.PutProject(store.Project{ID: "prj_b", OrganizationID: "org_b", Slug: "b", Name: "B", CreatedAt: now, UpdatedAt: now}))
		for _, w := range []store.Workspace{f.web1, f.web2, f.webPriv, f.bws} {
			must(t, tx.PutWorkspace(w))
		}
		for _, m := range []store.ProjectMember{
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "dev", Roles: []string{"developer"}},
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "padmin", Roles: []string{"admin"}},
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "uni", Roles: []string{"sender"}},
			{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "ghost", Roles: []string{"retired"}},
			{ProjectID: "prj_b", OrganizationID: "org_b", UserID: "pete", Roles: []string{"developer"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(t, tx.PutProjectMember(m))
		}
		for _, m := range []store.Membership{
			// uni: explicit member of web1 with a grant and a deny on
			// top of the inherited operator role.
			{WorkspaceID: f.web1.ID, UserID: "uni", Roles: []string{"member"}, Grants: []string{"campaign.*"}, Denies: []string{"message.send"}},
			{WorkspaceID: f.webPriv.ID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: f.bws.ID, UserID: "alice", Roles: []string{"owner"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(t, tx.PutMember(m))
		}
		return nil
	})
	return f
}

func (f *orgFixture) decideAs(p *gateway.Policy, method, path, user string) *gateway.Decision {
	return decide(p, request(method, path, f.token(user)))
}

func TestProjectRolesReachProjectWorkspacesOnly(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	notFound := want{404, "workspace_not_found", ""}
	cases := []struct {
		method, path, user string
		want
	}{
		// a project developer (→ member) reaches every PROJECT workspace
		// of the project, by slug and by id, and no PRIVATE one
		{"GET", "/w/web1/messages", "dev", want{}},
		{"GET", "/w/" + f.web1.ID + "/messages", "dev", want{}},
		{"GET", "/w/web2/messages", "dev", want{}},
		{"POST", "/w/web2/messages", "dev", want{403, "forbidden", "message.send"}},
		{"GET", "/w/webpriv/messages", "dev", notFound},
		{"GET", "/w/webpriv", "dev", notFound},
		{"GET", "/w/acme/messages", "dev", notFound},
		// a project admin (→ owner) holds workspace.admin in project
		// workspaces, and nothing in the private one
		{"GET", "/w/web1/admin", "padmin", want{}},
		{"GET", "/w/web2/admin", "padmin", want{}},
		{"GET", "/w/webpriv/admin", "padmin", notFound},
		{"GET", "/w/web1/admin", "dev", want{403, "forbidden", "workspace.admin"}},
		// explicit membership ∪ project role: the explicit grant and
		// deny apply where the explicit membership is
		{"PATCH", "/w/web1/campaigns/c1/run", "uni", want{}},
		{"GET", "/w/web1/messages", "uni", want{}},
		{"POST", "/w/web1/messages", "uni", want{403, "forbidden", "message.send"}},
		{"POST", "/w/web2/messages", "uni", want{}},
		{"PATCH", "/w/web2/campaigns/c1/run", "uni", want{403, "forbidden", "campaign.run"}},
		// a project role config does not know grants nothing
		{"GET", "/w/web1", "ghost", notFound},
		// the private workspace's own member is unaffected
		{"GET", "/w/webpriv/admin", "alice", want{}},
		// another organization's project member reaches nothing here
		{"GET", "/w/web1", "pete", notFound},
	}
	for _, c := range cases {
		check(t, c.method+" "+c.path+" as "+c.user, f.decideAs(p, c.method, c.path, c.user), c.want)
	}
}

// sameDenial compares two denials, the workspace reference they name
// aside.
func sameDenial(t *testing.T, name string, got, want *gateway.Decision, gotRef, wantRef string) {
	t.Helper()
	if got.Allowed || want.Allowed {
		t.Fatalf("%s: allowed (got %v, reference %v)", name, got.Allowed, want.Allowed)
	}
	norm := func(p *problem.Problem, ref string) problem.Problem {
		c := *p
		c.Detail = strings.ReplaceAll(c.Detail, ref, "REF")
		c.Workspace = strings.ReplaceAll(c.Workspace, ref, "REF")
		return c
	}
	g, w := norm(got.Problem, gotRef), norm(want.Problem, wantRef)
	if g.Type != w.Type || g.Title != w.Title || g.Status != w.Status || g.Detail != w.Detail || g.Code != w.Code ||
		g.Reason != w.Reason || g.RequiredPermission != w.RequiredPermission || g.Workspace != w.Workspace {
		t.Errorf("%s:\n got %+v\nwant %+v (a deleted workspace's)", name, g, w)
	}
}

func TestDeletedOrganizationHidesItsWorkspaces(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	keyB, _ := f.putKey(f.bws, []string{"message.read"}, nil)
	keyGone, _ := f.putKey(f.gone, []string{"message.read"}, nil)
	byKey := func(path, key string) *gateway.Decision { return decide(p, request("GET", path, key)) }

	// Live: every path answers (and fills the cache).
	check(t, "alice before", f.decideAs(p, "GET", "/w/bws/messages", "alice"), want{})
	check(t, "pete before", f.decideAs(p, "GET", "/w/bws/messages", "pete"), want{})
	check(t, "key before", byKey("/w/bws/messages", keyB), want{})

	deleted := f.orgB
	now := time.Now().UTC()
	deleted.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutOrganization(deleted) })

	// The next decision of each is a deleted workspace's, byte for byte.
	sameDenial(t, "explicit member", f.decideAs(p, "GET", "/w/bws/messages", "alice"),
		f.decideAs(p, "GET", "/w/gone/messages", "alice"), "bws", "gone")
	sameDenial(t, "explicit member by id", f.decideAs(p, "GET", "/w/"+f.bws.ID+"/messages", "alice"),
		f.decideAs(p, "GET", "/w/"+f.gone.ID+"/messages", "alice"), f.bws.ID, f.gone.ID)
	sameDenial(t, "project member", f.decideAs(p, "GET", "/w/bws/messages", "pete"),
		f.decideAs(p, "GET", "/w/gone/messages", "pete"), "bws", "gone")
	sameDenial(t, "API key", byKey("/w/bws/messages", keyB), byKey("/w/gone/messages", keyGone), "bws", "gone")

	// The other organization's workspaces are untouched.
	check(t, "other organization", f.decideAs(p, "GET", "/w/web1/messages", "dev"), want{})

	// Restored: the next decisions are the live ones again.
	f.update(func(tx store.Tx) error { return tx.PutOrganization(f.orgB) })
	check(t, "alice restored", f.decideAs(p, "GET", "/w/bws/messages", "alice"), want{})
	check(t, "pete restored", f.decideAs(p, "GET", "/w/bws/messages", "pete"), want{})
	check(t, "key restored", byKey("/w/bws/messages", keyB), want{})
}

func TestProjectMembershipChangesReachTheNextDecision(t *testing.T) {
	f := newOrgFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource, inheritRules...)
	now := time.Now().UTC()

	check(t, "developer before", f.decideAs(p, "GET", "/w/web1/admin", "dev"), want{403, "forbidden", "workspace.admin"})
	check(t, "developer reads", f.decideAs(p, "GET", "/w/web1/messages", "dev"), want{})
	// Promoted: the cached developer entry must not survive.
	f.update(func(tx store.Tx) error {
		return tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "dev", Roles: []string{"admin"}, JoinedAt: now, UpdatedAt: now})
	})
	check(t, "promoted", f.decideAs(p, "GET", "/w/web1/admin", "dev"), want{})

	// A new project member reaches the workspaces at once (a cached
	// not-member answer does not survive either).
	check(t, "newcomer before", f.decideAs(p, "GET", "/w/web2/messages", "newbie"), want{404, "workspace_not_found", ""})
	f.update(func(tx store.Tx) error {
		return tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: "org_a", UserID: "newbie", Roles: []string{"developer"}, JoinedAt: now, UpdatedAt: now})
	})
	check(t, "newcomer after", f.decideAs(p, "GET", "/w/web2/messages", "newbie"), want{})

	// Removed: no stale allow in any project workspace.
	check(t, "member web2", f.decideAs(p, "GET", "/w/web2/messages", "dev"), want{})
	f.update(func(tx store.Tx) error { return tx.DeleteProjectMember("prj_web", "dev") })
	for _, path := range []string{"/w/web1/messages", "/w/web2/messages", "/w/web1/admin"} {
		check(t, "removed "+path, f.decideAs(p, "GET", path, "dev"), want{404, "workspace_not_found", ""})
	}
	// uni keeps the explicit membership, loses the inherited role.
	check(t, "uni before", f.decideAs(p, "GET", "/w/web1/messages", "uni"), want{})
	check(t, "uni web2 before", f.decideAs(p, "POST", "/w/web2/messages", "uni"), want{})
	f.update(func(tx store.Tx) error { return tx.DeleteProjectMember("prj_web", "uni") })
	check(t, "uni explicit stays", f.decideAs(p, "GET", "/w/web1/messages", "uni"), want{})
	check(t, "uni campaign stays", f.decideAs(p, "PATCH", "/w/web1/campaigns/c1/run", "uni"), want{})
	check(t, "uni web2 gone", f.decideAs(p, "POST", "/w/web2/messages", "uni"), want{404, "workspace_not_found", ""})
}
