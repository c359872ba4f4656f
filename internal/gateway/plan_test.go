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

// testPlans are the spec §11 plans: free (contact.*, message.*, no
// feature) and pro (everything).
var testPlans = []model.PlanConfig{
	{Slug: "free", Name: "Free", Permissions: []string{"contact.*", "message.*", "workspace.*"}},
	{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features()},
}

func planTestConfig() model.Config {
	cfg := testConfig()
	cfg.Plans = testPlans
	cfg.DefaultPlan = "free"
	return cfg
}

// planFixture is the fixture with an engine whose model declares
// testPlans, and an organization "org_p" (plan free) with a PRIVATE
// workspace orgws (alice owner, eve member + the custom role exporter
// + a campaign.* grant).
type planFixture struct {
	*fixture
	org   store.Organization
	orgWS store.Workspace
}

func newPlanFixture(t *testing.T) *planFixture {
	t.Helper()
	f := &planFixture{fixture: newFixture(t)}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(t, planTestConfig()) })
	now := time.Now().UTC()
	f.org = store.Organization{ID: "org_p", Slug: "plans", Name: "Plans", Plan: "free", CreatedAt: now, UpdatedAt: now}
	f.orgWS = store.Workspace{ID: "ws_orgws000000000000000000000", Slug: "orgws", Name: "Org WS", OrganizationID: f.org.ID,
		Scope: store.ScopePrivate, CreatedAt: now, UpdatedAt: now}
	f.update(func(tx store.Tx) error {
		must(t, tx.PutOrganization(f.org))
		must(t, tx.PutWorkspace(f.orgWS))
		must(t, tx.PutRole(store.Role{WorkspaceID: f.orgWS.ID, Slug: "exporter", Name: "Exporter", Permissions: []string{"contact.manage"}}))
		for _, m := range []store.Membership{
			{WorkspaceID: f.orgWS.ID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: f.orgWS.ID, UserID: "eve", Roles: []string{"member", "exporter"}, Grants: []string{"campaign.*"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(t, tx.PutMember(m))
		}
		return nil
	})
	return f
}

// setWorkspacePlan changes ws's own plan through the store.
func (f *fixture) setWorkspacePlan(ws *store.Workspace, plan string) {
	f.t.Helper()
	ws.Plan = plan
	f.update(func(tx store.Tx) error { return tx.PutWorkspace(*ws) })
}

// setOrgPlan changes the organization's plan through the store.
func (f *planFixture) setOrgPlan(plan string) {
	f.t.Helper()
	f.org.Plan = plan
	f.update(func(tx store.Tx) error { return tx.PutOrganization(f.org) })
}

// planDenied checks a 403 plan_required naming perm (or feature) and
// the plan that unlocks it, with a detail naming both plans.
func planDenied(t *testing.T, name string, d *gateway.Decision, perm, feature, inForce, required string) {
	t.Helper()
	if d.Allowed {
		t.Errorf("%s: allowed, want 403 plan_required", name)
		return
	}
	pr := d.Problem
	if pr.Status != 403 || pr.Code != problem.CodePlanRequired || pr.Reason != problem.ReasonPlanRequired ||
		pr.RequiredPermission != perm || pr.RequiredFeature != feature || pr.RequiredPlan != required {
		t.Errorf("%s: got %d %s reason=%s permission=%q feature=%q plan=%q (%s)", name, pr.Status, pr.Code, pr.Reason,
			pr.RequiredPermission, pr.RequiredFeature, pr.RequiredPlan, pr.Detail)
		return
	}
	if !strings.Contains(pr.Detail, "the "+inForce+" plan") || !strings.Contains(pr.Detail, "the "+required+" plan") {
		t.Errorf("%s: detail %q must name the %s plan in force and the %s plan", name, pr.Detail, inForce, required)
	}
}

// A permission the plan in force excludes is 403 plan_required whatever
// the member's roles (alice owns acme: workspace.admin implies it); a
// permission inside the plan the member lacks stays forbidden; a
// non-member learns nothing about the plan. Upgrading the workspace's
// own plan lifts it on the very next decision; downgrading restores it.
func TestPlanRequiredAtTheGateway(t *testing.T) {
	f := newPlanFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice, eve, bob := f.token("alice"), f.token("eve"), f.token("bob")
	run := func(ws, tok string) *gateway.Decision {
		return decide(p, request("POST", "/w/"+ws+"/campaigns/c1/run", tok))
	}

	planDenied(t, "owner on free", run("acme", alice), "campaign.run", "", "free", "pro")
	planDenied(t, "member holding it by grant on free", run("acme", eve), "campaign.run", "", "free", "pro")
	check(t, "owner on free reads messages", decide(p, request("GET", "/w/acme/messages", alice)), want{})
	check(t, "a stranger learns nothing of the plan", run("acme", bob), want{404, "workspace_not_found", ""})
	// eve's contact.manage came from the custom role exporter: free lacks
	// custom_roles, and contact.manage is inside free, so it is missing.
	d := decide(p, request("GET", "/w/acme/contacts/export", eve))
	check(t, "custom role without custom_roles", d, want{403, "forbidden", "contact.manage"})
	if d.Problem != nil && d.Problem.Reason != problem.ReasonMissingPermission {
		t.Errorf("custom role without custom_roles: reason %s, want missing_permission", d.Problem.Reason)
	}

	f.setWorkspacePlan(&f.acme, "pro")
	check(t, "owner after the upgrade", run("acme", alice), want{})
	check(t, "grant after the upgrade", run("acme", eve), want{})
	check(t, "custom role after the upgrade", decide(p, request("GET", "/w/acme/contacts/export", eve)), want{})

	f.setWorkspacePlan(&f.acme, "free")
	planDenied(t, "owner after the downgrade", run("acme", alice), "campaign.run", "", "free", "pro")
	check(t, "custom role after the downgrade", decide(p, request("GET", "/w/acme/contacts/export", eve)), want{403, "forbidden", "contact.manage"})
}

// An organization's plan governs its workspaces; changing it through
// the store reaches the next decision in both directions.
func TestOrganizationPlanChangeReachesTheNextDecision(t *testing.T) {
	f := newPlanFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice, eve := f.token("alice"), f.token("eve")
	run := func(tok string) *gateway.Decision {
		return decide(p, request("POST", "/w/orgws/campaigns/c1/run", tok))
	}
	export := func() *gateway.Decision { return decide(p, request("GET", "/w/orgws/contacts/export", eve)) }
	// The workspace's own plan field is ignored in an organization.
	f.setWorkspacePlan(&f.orgWS, "pro")
	planDenied(t, "org on free", run(alice), "campaign.run", "", "free", "pro")
	check(t, "org on free, custom role", export(), want{403, "forbidden", "contact.manage"})

	f.setOrgPlan("pro")
	check(t, "org upgraded", run(alice), want{})
	check(t, "org upgraded, grant", run(eve), want{})
	check(t, "org upgraded, custom role", export(), want{})

	f.setOrgPlan("free")
	planDenied(t, "org downgraded", run(alice), "campaign.run", "", "free", "pro")
	planDenied(t, "org downgraded, grant", run(eve), "campaign.run", "", "free", "pro")
	check(t, "org downgraded, custom role", export(), want{403, "forbidden", "contact.manage"})

	// A plan slug config does not declare reads as the cheapest plan.
	f.setOrgPlan("platinum")
	planDenied(t, "unknown plan", run(alice), "campaign.run", "", "free", "pro")
}

// Without api_keys an API key is refused (403 plan_required,
// required_feature api_keys) even on routes that need no workspace; an
// upgrade, of the workspace's own plan or of its organization's, brings
// it back on the next request, and a downgrade refuses it again: the
// key credential cache follows the plan.
func TestAPIKeyNeedsTheAPIKeysFeature(t *testing.T) {
	f := newPlanFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read", "campaign.*"}, nil)
	get := func(path, k string) *gateway.Decision { return decide(p, request("GET", path, k)) }

	planDenied(t, "key on free", get("/w/acme/messages", key), "", model.FeatureAPIKeys, "free", "pro")
	planDenied(t, "key on free, authenticated route", get("/me", key), "", model.FeatureAPIKeys, "free", "pro")

	f.setWorkspacePlan(&f.acme, "pro")
	check(t, "key after the upgrade", get("/w/acme/messages", key), want{})
	check(t, "key's campaign.* on pro", decide(p, request("POST", "/w/acme/campaigns/c1/run", key)), want{})
	f.setWorkspacePlan(&f.acme, "free")
	planDenied(t, "key after the downgrade", get("/w/acme/messages", key), "", model.FeatureAPIKeys, "free", "pro")

	orgKey, _ := f.putKey(f.orgWS, []string{"message.read"}, nil)
	planDenied(t, "org key on free", get("/w/orgws/messages", orgKey), "", model.FeatureAPIKeys, "free", "pro")
	f.setOrgPlan("pro")
	check(t, "org key after the upgrade", get("/w/orgws/messages", orgKey), want{})
	f.setOrgPlan("free")
	planDenied(t, "org key after the downgrade", get("/w/orgws/messages", orgKey), "", model.FeatureAPIKeys, "free", "pro")

	// A wrong secret is told nothing about the plan.
	bad := key[:len(key)-2] + "xx"
	if d := get("/w/acme/messages", bad); d.Allowed || d.Problem.Code != problem.CodeInvalidToken {
		t.Errorf("wrong secret: %+v", d.Problem)
	}
}

// On a plan with api_keys but a narrow ceiling, a key's permissions are
// capped by the ceiling like a member's: outside it, plan_required.
func TestAPIKeyPermissionsUnderTheCeiling(t *testing.T) {
	f := newFixture(t)
	cfg := testConfig()
	cfg.Plans = []model.PlanConfig{
		{Slug: "team", Permissions: []string{"message.*"}, Features: []string{model.FeatureAPIKeys}},
		{Slug: "pro", Permissions: []string{"*"}, Features: model.Features()},
	}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(t, cfg) })
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read", "campaign.*"}, nil)
	check(t, "key inside team", decide(p, request("GET", "/w/acme/messages", key)), want{})
	planDenied(t, "key outside team", decide(p, request("POST", "/w/acme/campaigns/c1/run", key)), "campaign.run", "", "team", "pro")
}

// A plan change committed by another process on the same bbolt file (a
// raw write, bypassing this engine's Live) reaches the cached decision
// once the follower has applied it.
func TestRawPlanCommitReachesCacheThroughFeed(t *testing.T) {
	f := newPlanFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice := f.token("alice")
	run := func() *gateway.Decision { return decide(p, request("POST", "/w/orgws/campaigns/c1/run", alice)) }
	planDenied(t, "warm", run(), "campaign.run", "", "free", "pro")
	planDenied(t, "warm hit", run(), "campaign.run", "", "free", "pro")
	for _, step := range []struct {
		plan    string
		allowed bool
	}{{"pro", true}, {"free", false}} {
		org := f.org
		org.Plan = step.plan
		rev, err := f.raw.UpdateRev(t.Context(), func(tx store.Tx) error { return tx.PutOrganization(org) })
		must(t, err)
		deadline := time.Now().Add(10 * time.Second)
		for f.store.Applied() < rev {
			if time.Now().After(deadline) {
				t.Fatalf("the follower did not apply revision %d within 10s", rev)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if d := run(); d.Allowed != step.allowed {
			t.Errorf("after the raw change to %s: allowed=%v, want %v (%+v)", step.plan, d.Allowed, step.allowed, d.Problem)
		}
	}
}

// A permission no plan includes is still plan_required, without
// required_plan, and the detail says no plan includes it.
func TestPlanRequiredNoPlanIncludesIt(t *testing.T) {
	f := newFixture(t)
	cfg := testConfig()
	cfg.Plans = []model.PlanConfig{
		{Slug: "free", Permissions: []string{"message.*"}},
		{Slug: "team", Permissions: []string{"message.*", "contact.*"}, Features: model.Features()},
	}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(t, cfg) })
	p := f.policy(gateway.DefaultWorkspaceSource)
	d := decide(p, request("POST", "/w/acme/campaigns/c1/run", f.token("alice")))
	if d.Allowed || d.Problem.Code != problem.CodePlanRequired || d.Problem.RequiredPlan != "" ||
		d.Problem.RequiredPermission != "campaign.run" || !strings.Contains(d.Problem.Detail, "no plan includes it") {
		t.Fatalf("got allowed=%v %+v", d.Allowed, d.Problem)
	}
}
