package admin_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// planRequired checks a 403 plan_required naming the feature and the
// cheapest plan with it.
func (r *resp) planRequired(feature, plan string) *resp {
	r.t.Helper()
	r.problem(http.StatusForbidden, "plan_required")
	if r.body["required_feature"] != feature || r.body["required_plan"] != plan {
		r.t.Fatalf("%s: required_feature %v, required_plan %v; want %s, %s", r.req, r.body["required_feature"], r.body["required_plan"], feature, plan)
	}
	return r
}

// TestFreePlanRefusals: on a plan without the features, the API refuses
// to create what needs them (403 plan_required with required_feature and
// required_plan) and writes nothing; a member PUT that keeps the stored
// overrides as they are still changes roles; after an upgrade all of it
// is allowed.
func TestFreePlanRefusals(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "free", map[string][]string{"olive": {"owner"}})
	ws := h.newOrgWorkspace("olive", org, nil, "", "Support")
	if ws.Plan != "free" || len(*ws.PlanFeatures) != 0 {
		t.Fatalf("workspace plan: %+v", ws)
	}
	h.knownTo("olive", "agent", "bob")
	tok := h.token("olive")
	// Before any feature: the owner may still assign system roles whose
	// permissions the plan leaves out (operator holds campaign.read): what
	// they hand out is judged within the plan.
	h.putMember("olive", wsView{Slug: ws.Slug}, "agent", map[string]any{"roles": []string{"operator"}})
	members := "/v1/workspaces/" + ws.Slug + "/members/"

	for _, c := range []struct {
		body    map[string]any
		feature string
	}{
		{map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}}, "member_overrides"},
		{map[string]any{"roles": []string{"operator"}, "grants": []string{"contact.manage"}}, "member_overrides"},
		{map[string]any{"roles": []string{"operator"}, "restrictions": map[string][]string{"inbox": {"i1"}}}, "resource_restrictions"},
	} {
		for _, user := range []string{"agent", "bob"} { // a change, an addition
			h.refused(ws.ID, func() *resp {
				return h.do("PUT", members+user, tok, c.body)
			}).planRequired(c.feature, "pro")
		}
	}
	h.refused(ws.ID, func() *resp {
		return h.do("POST", "/v1/workspaces/"+ws.Slug+"/roles", tok, map[string]any{"slug": "triage", "name": "Triage", "permissions": []string{"message.read"}})
	}).planRequired("custom_roles", "pro")
	h.refused(ws.ID, func() *resp {
		return h.do("POST", "/v1/workspaces/"+ws.Slug+"/api-keys", tok, map[string]any{"name": "bot", "permissions": []string{"message.read"}})
	}).planRequired("api_keys", "pro")

	// Objects made before a downgrade stay, and keep what they are.
	now := time.Now().UTC()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutRole(store.Role{WorkspaceID: ws.ID, Slug: "legacy", Name: "Legacy", Permissions: []string{"message.read"},
			CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "agent", Roles: []string{"operator"},
			Denies: []string{"message.send"}, Restrictions: map[string][]string{"inbox": {"i1", "i2"}}, JoinedAt: now, UpdatedAt: now})
	}))
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/"+ws.Slug+"/roles/legacy", tok, map[string]any{"name": "Renamed"})
	}).planRequired("custom_roles", "pro")
	// The same overrides, in another order, with other roles: allowed.
	m := h.putMember("olive", wsView{Slug: ws.Slug}, "agent", map[string]any{"roles": []string{"member"},
		"denies": []string{"message.send"}, "restrictions": map[string][]string{"inbox": {"i2", "i1"}}})
	if !slices.Equal(m.Roles, []string{"member"}) || !slices.Equal(m.Denies, []string{"message.send"}) {
		t.Fatalf("kept overrides: %+v", m)
	}
	// One more deny, or other restrictions: refused.
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", members+"agent", tok, map[string]any{"roles": []string{"member"},
			"denies": []string{"message.send", "contact.read"}, "restrictions": map[string][]string{"inbox": {"i1", "i2"}}})
	}).planRequired("member_overrides", "pro")
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", members+"agent", tok, map[string]any{"roles": []string{"member"},
			"denies": []string{"message.send"}, "restrictions": map[string][]string{"inbox": {"i1"}}})
	}).planRequired("resource_restrictions", "pro")
	// Removing them is always allowed; deleting the role too.
	h.putMember("olive", wsView{Slug: ws.Slug}, "agent", map[string]any{"roles": []string{"member"}})
	h.do("DELETE", "/v1/workspaces/"+ws.Slug+"/roles/legacy", tok, nil).want(http.StatusNoContent)

	// Upgraded: everything the plan refused is allowed.
	h.setOrgPlan(org.ID, "pro")
	h.putMember("olive", wsView{Slug: ws.Slug}, "agent", map[string]any{"roles": []string{"operator"},
		"denies": []string{"message.send"}, "grants": []string{"campaign.run"}, "restrictions": map[string][]string{"inbox": {"i1"}}})
	h.do("POST", "/v1/workspaces/"+ws.Slug+"/roles", tok, map[string]any{"slug": "triage", "name": "Triage", "permissions": []string{"message.read"}}).
		want(http.StatusCreated)
	h.do("POST", "/v1/workspaces/"+ws.Slug+"/api-keys", tok, map[string]any{"name": "bot", "permissions": []string{"message.read"}}).
		want(http.StatusCreated)
	var got orgWSView
	h.do("GET", "/v1/workspaces/"+ws.Slug, tok, nil).want(http.StatusOK).decode(&got)
	if got.Plan != "pro" || len(*got.PlanFeatures) != 4 {
		t.Errorf("after the upgrade: %+v", got)
	}
}

// TestDefaultPlanGatesSoloWorkspaces: a workspace outside any
// organization has default_plan (free here) unless its own plan says
// otherwise.
func TestDefaultPlanGatesSoloWorkspaces(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	solo := h.newWorkspace("alice", "Solo")
	h.refused(solo.ID, func() *resp {
		return h.do("POST", "/v1/workspaces/"+solo.Slug+"/api-keys", h.token("alice"), map[string]any{"name": "bot", "permissions": []string{"message.read"}})
	}).planRequired("api_keys", "pro")
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		ws, err := tx.Workspace(solo.ID)
		if err != nil {
			return err
		}
		ws.Plan = "pro"
		return tx.PutWorkspace(ws)
	}))
	h.do("POST", "/v1/workspaces/"+solo.Slug+"/api-keys", h.token("alice"), map[string]any{"name": "bot", "permissions": []string{"message.read"}}).
		want(http.StatusCreated)
}

// TestEscalationAcrossAnUpgrade: what a member hands out on a small plan
// is judged against their access without the plan too, so an upgrade can
// never make it exceed theirs: a member without campaign.run cannot
// assign a role holding it, though on free the role gives nothing of it
// (within free's ceiling the two are equal).
func TestEscalationAcrossAnUpgrade(t *testing.T) {
	t.Parallel()
	cfg := orgConfig()
	// "mid" holds contact.* and message.* and workspace.members: within
	// free's ceiling all that free gives; "runner" adds campaign.run.
	cfg.Roles = append(cfg.Roles,
		roleOf("mid", "contact.manage", "message.send", "workspace.members"),
		roleOf("runner", "message.read", "campaign.run"))
	h := newHarnessModel(t, cfg)
	org := h.newOrg("acme", "free", map[string][]string{"olive": {"owner"}})
	ws := h.newOrgWorkspace("olive", org, nil, "", "Support")
	h.knownTo("olive", "mia", "bob")
	h.shareWith("mia", "bob")
	h.putMember("olive", wsView{Slug: ws.Slug}, "mia", map[string]any{"roles": []string{"mid"}})
	r := h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/"+ws.Slug+"/members/bob", h.token("mia"), map[string]any{"roles": []string{"runner"}})
	}).problem(http.StatusForbidden, "escalation")
	if r.body["required_permission"] != "campaign.read" && r.body["required_permission"] != "campaign.run" {
		t.Errorf("escalation names %v", r.body["required_permission"])
	}
	// Within what mia holds: fine.
	h.putMember("mia", wsView{Slug: ws.Slug}, "bob", map[string]any{"roles": []string{"member"}})
}
