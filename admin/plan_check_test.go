package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// planHarnessConfig is the harness model with the spec §11 plans: free
// (contact.*, message.*, no feature, the default) and pro (everything).
func planHarnessConfig() model.Config {
	cfg := harnessConfig()
	cfg.Plans = []model.PlanConfig{
		{Slug: "free", Name: "Free", Permissions: []string{"contact.*", "message.*", "workspace.*"}},
		{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features()},
	}
	cfg.DefaultPlan = "free"
	return cfg
}

type checkAnswer struct {
	Allowed            bool   `json:"allowed"`
	Reason             string `json:"reason"`
	RequiredPermission string `json:"required_permission"`
	RequiredPlan       string `json:"required_plan"`
	Plan               string `json:"plan"`
}

// setPlan sets workspace id's own plan in the store (no organization).
func (h *harness) setPlan(id, plan string) {
	h.t.Helper()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		ws, err := tx.Workspace(id)
		if err != nil {
			return err
		}
		ws.Plan = plan
		return tx.PutWorkspace(ws)
	}))
}

// check answers plan_required, with the permission and the plan that
// unlocks it, for a permission the plan excludes whatever the caller's
// roles, before missing_permission; it follows a plan change at once.
func TestCheckPlanRequired(t *testing.T) {
	h := newHarnessModel(t, planHarnessConfig())
	h.knownTo("alice", "mia")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "mia", map[string]any{"roles": []string{"member"}})
	check := func(user, perm string) checkAnswer {
		t.Helper()
		var a checkAnswer
		h.do("POST", "/v1/workspaces/"+ws.Slug+"/check", h.token(user), map[string]any{"permission": perm}).want(http.StatusOK).decode(&a)
		return a
	}
	planned := checkAnswer{Reason: "plan_required", RequiredPermission: "campaign.run", RequiredPlan: "pro", Plan: "free"}
	if got := check("alice", "campaign.run"); got != planned {
		t.Errorf("owner, campaign.run on free: %+v, want %+v", got, planned)
	}
	if got := check("mia", "campaign.run"); got != planned {
		t.Errorf("member without it, campaign.run on free: %+v (plan_required whatever the roles)", got)
	}
	if got := check("mia", "contact.manage"); got != (checkAnswer{Reason: "missing_permission"}) {
		t.Errorf("inside the plan, not held: %+v", got)
	}
	if got := check("alice", "workspace.admin"); got != (checkAnswer{Allowed: true, Reason: "granted"}) {
		t.Errorf("never-gated: %+v", got)
	}
	h.setPlan(ws.ID, "pro")
	if got := check("alice", "campaign.run"); got != (checkAnswer{Allowed: true, Reason: "granted"}) {
		t.Errorf("after the upgrade: %+v", got)
	}
	h.setPlan(ws.ID, "free")
	if got := check("alice", "campaign.run"); got != planned {
		t.Errorf("after the downgrade: %+v", got)
	}
}

// planExplanation is explain's answer with the plan step.
type planExplanation struct {
	explanation
	Plan *struct {
		Slug               string   `json:"slug"`
		Name               string   `json:"name"`
		Features           []string `json:"features"`
		IncludesPermission *bool    `json:"includes_permission"`
		RequiredPlan       string   `json:"required_plan"`
	} `json:"plan"`
}

// Explain reports the plan step, the plan as a remover in the
// provenance, plan_required with its fields, and agrees with the
// gateway's decision; an API key on a plan without api_keys is refused
// as the gateway refuses it.
func TestExplainPlanStep(t *testing.T) {
	h := newHarnessModel(t, planHarnessConfig(), withRuleTable(t))
	h.knownTo("alice", "eve")
	ws := h.newWorkspace("alice", "Acme")
	// eve: a grant of campaign.read on top of member, written directly
	// (what the API lets one create depends on the plan).
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		now := time.Now().UTC()
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "eve", Roles: []string{"member"},
			Grants: []string{"campaign.read", "message.send"}, JoinedAt: now, UpdatedAt: now})
	}))
	url := "/v1/workspaces/" + ws.Slug + "/explain"
	explain := func(body map[string]any) planExplanation {
		t.Helper()
		var ex planExplanation
		h.do("POST", url, h.token("alice"), body).want(http.StatusOK).decode(&ex)
		return ex
	}
	policy, err := h.engine.NewPolicy(explainRules, gateway.DefaultWorkspaceSource)
	must(t, err)
	agree := func(ex planExplanation, method, path, token string) {
		t.Helper()
		d := new(gateway.Decision)
		r := httptestRequest(method, path, token)
		policy.Decide(r, nil, d)
		if d.Allowed != ex.Decision.Allowed || (!d.Allowed && (d.Problem.Code != ex.Decision.Code || d.Problem.Reason != ex.Decision.Reason ||
			d.Problem.RequiredPlan != ex.Decision.RequiredPlan || d.Problem.RequiredPermission != ex.Decision.RequiredPermission ||
			d.Problem.RequiredFeature != ex.Decision.RequiredFeature)) {
			t.Errorf("%s %s: explain %+v, gateway allowed=%v %+v", method, path, ex.Decision, d.Allowed, d.Problem)
		}
	}

	campaigns := "/w/" + ws.Slug + "/campaigns"
	ex := explain(map[string]any{"method": "GET", "path": campaigns, "user": "eve"})
	if d := ex.Decision; d.Status != 403 || d.Code != "plan_required" || d.Reason != "plan_required" ||
		d.RequiredPermission != "campaign.read" || d.RequiredPlan != "pro" {
		t.Errorf("decision %+v", d)
	}
	if ex.Plan == nil || ex.Plan.Slug != "free" || ex.Plan.IncludesPermission == nil || *ex.Plan.IncludesPermission ||
		ex.Plan.RequiredPlan != "pro" || len(ex.Plan.Features) != 0 {
		t.Errorf("plan step %+v", ex.Plan)
	}
	if len(ex.Permissions) != 1 || ex.Permissions[0].Effective ||
		!slices.Contains(ex.Permissions[0].RemovedBy, gateway.Source{Kind: "plan", Name: "free", Pattern: "campaign.read"}) ||
		!slices.Contains(ex.Permissions[0].RemovedBy, gateway.Source{Kind: "plan", Name: "free", Pattern: "campaign.read", Feature: model.FeatureMemberOverrides}) {
		t.Errorf("provenance %+v", ex.Permissions)
	}
	agree(ex, "GET", campaigns, h.token("eve"))

	// Inside the plan, from a grant the plan disables (no
	// member_overrides): missing, removed by the plan's lack of the feature.
	messages := "/w/" + ws.Slug + "/messages"
	ex = explain(map[string]any{"method": "POST", "path": messages, "user": "eve"})
	if d := ex.Decision; d.Code != "forbidden" || d.Reason != "missing_permission" {
		t.Errorf("grant without member_overrides: %+v", d)
	}
	if len(ex.Permissions) != 1 || ex.Permissions[0].Effective || len(ex.Permissions[0].RemovedBy) != 1 ||
		ex.Permissions[0].RemovedBy[0] != (gateway.Source{Kind: "plan", Name: "free", Pattern: "message.send", Feature: model.FeatureMemberOverrides}) {
		t.Errorf("provenance %+v", ex.Permissions)
	}
	if ex.Plan == nil || ex.Plan.IncludesPermission == nil || !*ex.Plan.IncludesPermission {
		t.Errorf("plan step %+v", ex.Plan)
	}
	agree(ex, "POST", messages, h.token("eve"))

	// An API key on a plan without api_keys.
	key, id, hash := apikey.Generate()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutAPIKey(store.APIKey{ID: id, WorkspaceID: ws.ID, Name: "k", Permissions: []string{"message.read"},
			SecretHash: hash, CreatedBy: "alice", CreatedAt: time.Now().UTC()})
	}))
	ex = explain(map[string]any{"method": "GET", "path": messages, "api_key": id})
	if d := ex.Decision; d.Status != 403 || d.Code != "plan_required" || d.RequiredFeature != model.FeatureAPIKeys || d.RequiredPlan != "pro" {
		t.Errorf("key on free: %+v", d)
	}
	agree(ex, "GET", messages, key)

	// Upgraded: everything is back, and the plan step says so.
	h.setPlan(ws.ID, "pro")
	ex = explain(map[string]any{"method": "GET", "path": campaigns, "user": "eve"})
	if !ex.Decision.Allowed || ex.Plan == nil || ex.Plan.Slug != "pro" || !*ex.Plan.IncludesPermission || len(ex.Permissions[0].RemovedBy) != 0 {
		t.Errorf("on pro: %+v plan %+v provenance %+v", ex.Decision, ex.Plan, ex.Permissions)
	}
	agree(ex, "GET", campaigns, h.token("eve"))
	ex = explain(map[string]any{"method": "GET", "path": messages, "api_key": id})
	if !ex.Decision.Allowed {
		t.Errorf("key on pro: %+v", ex.Decision)
	}
	agree(ex, "GET", messages, key)
}

// httptestRequest is a gateway request with a bearer token.
func httptestRequest(method, target, token string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// Effective permissions are listed under the workspace's plan, as the
// gateway decides: what the plan excludes is not effective, and comes
// back with an upgrade.
func TestEffectivePermissionsUnderThePlan(t *testing.T) {
	h := newHarnessModel(t, planHarnessConfig(), withRuleTable(t))
	h.knownTo("alice", "eve")
	ws := h.newWorkspace("alice", "Acme")
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		now := time.Now().UTC()
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "eve", Roles: []string{"member"},
			Grants: []string{"campaign.read"}, JoinedAt: now, UpdatedAt: now})
	}))
	effective := func() []string {
		t.Helper()
		var pg page[gateway.Provenance]
		h.do("GET", "/v1/workspaces/"+ws.Slug+"/members/eve/effective?limit=500", h.token("alice"), nil).want(http.StatusOK).decode(&pg)
		var names []string
		for _, pv := range pg.Items {
			if !pv.Effective {
				t.Errorf("%s listed as not effective", pv.Permission)
			}
			names = append(names, pv.Permission)
		}
		return names
	}
	if got := effective(); !slices.Equal(got, []string{"message.read"}) {
		t.Errorf("on free: %v, want [message.read] (campaign.read is outside free, and a grant without member_overrides)", got)
	}
	h.setPlan(ws.ID, "pro")
	if got := effective(); !slices.Equal(got, []string{"campaign.read", "message.read"}) {
		t.Errorf("on pro: %v", got)
	}
}
