package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// newPlanReplica is newReplica with the plan model (planTestConfig).
func (f *fixture) newPlanReplica(dbURL string, opts changefeed.Options) *replica {
	f.t.Helper()
	pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		f.t.Fatalf("opening PostgreSQL: %v", err)
	}
	live, err := changefeed.New(pg, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = live.Close() })
	e := f.newEngineWith(func(o *gateway.Options) { o.Live = live; o.Model = newModel(f.t, planTestConfig()) })
	p, err := e.NewPolicy(testRules, gateway.DefaultWorkspaceSource)
	if err != nil {
		f.t.Fatal(err)
	}
	return &replica{live: live, policy: p}
}

// A plan change written on replica A — an organization's plan, and a
// workspace's own — reaches A's very next decision and replica B (which
// had the old answer cached) through the change feed, in both
// directions; API keys follow too.
func TestReplicasPlanChangePropagates(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	opts := changefeed.Options{MaxStaleness: 5 * time.Second, ConsistencyWait: 50 * time.Millisecond}
	a, b := f.newPlanReplica(dbURL, opts), f.newPlanReplica(dbURL, opts)
	ctx := context.Background()
	now := time.Now().UTC()
	org := store.Organization{ID: "org_r", Slug: "rep", Name: "Rep", Plan: "free", CreatedAt: now, UpdatedAt: now}
	orgWS := store.Workspace{ID: "ws_rep0000000000000000000000", Slug: "rep", Name: "Rep", OrganizationID: org.ID, Scope: store.ScopePrivate, CreatedAt: now, UpdatedAt: now}
	key, keyID, hash := apikey.Generate()
	write := func(r *replica, fn func(tx store.Tx) error) {
		t.Helper()
		if _, err := r.live.UpdateRev(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(a, func(tx store.Tx) error {
		for _, ws := range []store.Workspace{f.acme} {
			if err := tx.PutWorkspace(ws); err != nil {
				return err
			}
		}
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		if err := tx.PutWorkspace(orgWS); err != nil {
			return err
		}
		for _, ws := range []string{f.acme.ID, orgWS.ID} {
			if err := tx.PutMember(store.Membership{WorkspaceID: ws, UserID: "alice", Roles: []string{"owner"}, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return tx.PutAPIKey(store.APIKey{ID: keyID, WorkspaceID: orgWS.ID, Name: "k", Permissions: []string{"message.read"},
			SecretHash: hash, CreatedBy: "alice", CreatedAt: now})
	})
	alice := f.token("alice")
	run := func(r *replica, ws string) *gateway.Decision {
		return decide(r.policy, request("POST", "/w/"+ws+"/campaigns/c1/run", alice))
	}
	planned := func(d *gateway.Decision) bool { return !d.Allowed && d.Problem.Code == "plan_required" }
	eventuallyDecide(t, "B sees the seed", func() bool { return planned(run(b, "rep")) })
	for name, r := range map[string]*replica{"A": a, "B": b} {
		planDenied(t, name+" org on free", run(r, "rep"), "campaign.run", "", "free", "pro")
		planDenied(t, name+" workspace on free", run(r, "acme"), "campaign.run", "", "free", "pro")
		planDenied(t, name+" key on free", decide(r.policy, request("GET", "/w/rep/messages", key)), "", model.FeatureAPIKeys, "free", "pro")
	}

	step := func(what string, fn func(tx store.Tx) error, ws string, allowed bool, keyAllowed *bool) {
		t.Helper()
		write(a, fn)
		if d := run(a, ws); d.Allowed != allowed {
			t.Fatalf("%s: A's next decision allowed=%v, want %v (%+v)", what, d.Allowed, allowed, d.Problem)
		}
		start := time.Now()
		eventuallyDecide(t, what+" on B", func() bool { return run(b, ws).Allowed == allowed })
		if keyAllowed != nil {
			eventuallyDecide(t, what+" on B (key)", func() bool {
				return decide(b.policy, request("GET", "/w/rep/messages", key)).Allowed == *keyAllowed
			})
			if d := decide(a.policy, request("GET", "/w/rep/messages", key)); d.Allowed != *keyAllowed {
				t.Fatalf("%s: A's key decision allowed=%v, want %v", what, d.Allowed, *keyAllowed)
			}
		}
		t.Logf("%s reached B in %v", what, time.Since(start))
	}
	yes, no := true, false
	setOrg := func(plan string) func(tx store.Tx) error {
		return func(tx store.Tx) error { o := org; o.Plan = plan; return tx.PutOrganization(o) }
	}
	setWS := func(plan string) func(tx store.Tx) error {
		return func(tx store.Tx) error { w := f.acme; w.Plan = plan; return tx.PutWorkspace(w) }
	}
	step("org upgrade", setOrg("pro"), "rep", true, &yes)
	step("org downgrade", setOrg("free"), "rep", false, &no)
	step("workspace upgrade", setWS("pro"), "acme", true, nil)
	step("workspace downgrade", setWS("free"), "acme", false, nil)
}
