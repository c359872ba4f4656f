package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestOrgPlanChangeReachesTheGateway: PUT /v1/orgs/{org}/plan by
// organization.billing (or a global admin) is audited with the plans
// before and after, and the gateway's very next decision is under the new
// plan: campaign.run, outside free, goes right after the downgrade's 2xx
// and comes back after the upgrade's; workspace.admin is never gated.
func TestOrgPlanChangeReachesTheGateway(t *testing.T) { orgPlanFlow(t, newOrgHarness(t)) }

func orgPlanFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.known("bob", "carol")
	h.putOrgMemberDirect(acme.ID, "bob", "billing")
	h.putOrgMemberDirect(acme.ID, "carol", "manager")
	ws := h.newWorkspace("alice", "Campaigns")
	h.intoOrg(ws.ID, acme.ID)
	run, admin := h.permID("campaign.run"), h.permID("workspace.admin")
	plan := "/v1/orgs/" + acme.ID + "/plan"

	// Under the default plan free: no campaign.run. The decision is
	// cached from here on.
	if a := h.access("alice", ws.ID); !a.Member || a.Permissions.Has(run) || !a.Permissions.Has(admin) {
		t.Fatalf("under free: %+v", a)
	}
	var o orgJSON
	r := h.do("PUT", plan, h.token("bob"), map[string]any{"plan": "pro"}).want(http.StatusOK)
	r.decode(&o)
	if o.Plan == nil || o.Plan.Slug != "pro" || !slices.Contains(o.Plan.Features, "api_keys") || r.header.Get("Gatehouse-Revision") == "" {
		t.Fatalf("upgraded: %s", r.raw)
	}
	if a := h.access("alice", ws.ID); !a.Permissions.Has(run) {
		t.Errorf("right after the upgrade the gateway refuses campaign.run: %+v", a)
	}
	ev := h.orgState(acme.ID).Audit[0]
	if ev.Action != "organization.plan" || ev.Actor != "bob" ||
		!strings.Contains(string(ev.Summary), `"before":{"plan":"free"}`) || !strings.Contains(string(ev.Summary), `"after":{"plan":"pro"}`) {
		t.Errorf("audit %+v %s", ev, ev.Summary)
	}

	// A global admin who is no member may change it too.
	h.do("PUT", plan, h.token("root"), map[string]any{"plan": "free"}).want(http.StatusOK)
	if a := h.access("alice", ws.ID); a.Permissions.Has(run) || !a.Permissions.Has(admin) {
		t.Errorf("right after the downgrade: %+v", a)
	}
	if st := h.orgState(acme.ID); st.Org.Plan != "free" {
		t.Errorf("stored plan %q", st.Org.Plan)
	}

	// Refusals change nothing.
	h.orgRefused(acme.ID, func() *resp { return h.do("PUT", plan, h.token("carol"), map[string]any{"plan": "pro"}) }).
		forbidden("organization.billing")
	h.orgRefused(acme.ID, func() *resp { return h.do("PUT", plan, h.token("eve"), map[string]any{"plan": "pro"}) }).
		problem(http.StatusNotFound, "organization_not_found")
	bad := h.orgRefused(acme.ID, func() *resp { return h.do("PUT", plan, h.token("bob"), map[string]any{"plan": "prp"}) }).invalid("plan")
	if d := bad.str("detail"); !strings.Contains(d, "declared: free, pro") || !strings.Contains(d, "did you mean pro?") {
		t.Errorf("detail %q", d)
	}
	h.orgRefused(acme.ID, func() *resp { return h.do("PUT", plan, h.token("bob"), map[string]any{}) }).invalid("plan")
	h.orgRefused(acme.ID, func() *resp { return h.do("PUT", plan, h.token("bob"), map[string]any{"plan": 1}) }).invalid("plan")
	if a := h.access("alice", ws.ID); a.Permissions.Has(run) {
		t.Errorf("a refused change reached the gateway: %+v", a)
	}
}

// TestOrgPlanWithoutPlans: a configuration that declares no plan has none
// to choose (400 field plan), and organizations show no plan.
func TestOrgPlanWithoutPlans(t *testing.T) {
	h := newHarness(t)
	var o orgJSON
	h.do("POST", "/v1/orgs", h.token("alice"), map[string]any{"name": "Acme"}).want(http.StatusCreated).decode(&o)
	if o.Plan != nil {
		t.Errorf("plan %+v without plans configured", o.Plan)
	}
	wantStrings(t, "default org roles", o.Roles, []string{"owner"})
	h.orgRefused(o.ID, func() *resp {
		return h.do("PUT", "/v1/orgs/"+o.ID+"/plan", h.token("alice"), map[string]any{"plan": "pro"})
	}).invalid("plan")
}

// TestOrgStalePlanReadsAsCheapest (decision 5): a stored plan slug that
// config no longer declares reads as the cheapest plan, in the API's view
// and at the gateway (fail towards less).
func TestOrgStalePlanReadsAsCheapest(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	ws := h.newWorkspace("alice", "Campaigns")
	h.intoOrg(ws.ID, acme.ID)
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		org, err := tx.Organization(acme.ID)
		if err != nil {
			return err
		}
		org.Plan = "gold" // removed from config by a reload
		return tx.PutOrganization(org)
	}))
	var o orgJSON
	h.do("GET", "/v1/orgs/"+acme.ID, h.token("alice"), nil).want(http.StatusOK).decode(&o)
	if o.Plan == nil || o.Plan.Slug != "free" {
		t.Errorf("plan %+v, want free (the cheapest)", o.Plan)
	}
	if a := h.access("alice", ws.ID); a.Permissions.Has(h.permID("campaign.run")) {
		t.Errorf("a stale plan slug let campaign.run through: %+v", a)
	}
	// Changing it again is audited from the plan in force.
	h.do("PUT", "/v1/orgs/"+acme.ID+"/plan", h.token("alice"), map[string]any{"plan": "pro"}).want(http.StatusOK)
	if ev := h.orgState(acme.ID).Audit[0]; !strings.Contains(string(ev.Summary), `"before":{"plan":"free"}`) {
		t.Errorf("audit %s", ev.Summary)
	}
}
