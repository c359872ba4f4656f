package caddymodule

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// planCaddyfile is a gateway whose organization pays for free or pro:
// free leaves out campaign.* and every feature.
const planCaddyfile = `{
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
		permission campaign.run
		role owner "Owner" workspace.admin
		role agent "Agent" message.send
		creator_role owner
		org_role owner  "Owner"  organization.admin
		org_role member "Member"
		plan free "Free" {
			permissions message.* workspace.*
		}
		plan pro "Pro" {
			permissions *
			features member_overrides resource_restrictions custom_roles api_keys
		}
		default_plan free
	}
}

http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	handle_path /gatehouse/* {
		gatehouse_api
	}
	handle {
		gatehouse {
			rule POST /w/{workspace}/messages  message.send
			rule POST /w/{workspace}/campaigns campaign.run
		}
		reverse_proxy {{upstream}}
	}
}
`

// TestScenarioPlanGatesOverridesAndPermissions is the seeds' plan
// scenario on a real Caddy, through the management API and the gateway:
// on Free an agent's per-member deny is refused at the API
// (plan_required, required_feature) and campaign.run is 403
// plan_required; on Pro the deny is stored and applies; after a downgrade
// it is kept but stops applying; after an upgrade it applies again. No
// plan removes workspace.admin from the owner.
func TestScenarioPlanGatesOverridesAndPermissions(t *testing.T) {
	s := newServer(t)
	now := time.Now().UTC()
	const orgID, wsID = "org_shop0000000000000000000", "ws_shop00000000000000000000000"
	seed(t, s.storePath(), func(tx store.Tx) error {
		if err := tx.PutOrganization(store.Organization{ID: orgID, Slug: "shop", Name: "Shop", Plan: "free", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutOrgMember(store.OrgMember{OrganizationID: orgID, UserID: "olga", Roles: []string{"owner"}, JoinedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutWorkspace(store.Workspace{ID: wsID, Slug: "shop", Name: "Shop", OrganizationID: orgID, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for _, m := range []store.Membership{
			{WorkspaceID: wsID, UserID: "olga", Roles: []string{"owner"}},
			{WorkspaceID: wsID, UserID: "agent", Roles: []string{"agent"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		for _, id := range []string{"olga", "agent"} {
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
		}
		return nil
	})
	s.load(planCaddyfile)
	olga, agent, root := s.token("olga"), s.token("agent"), s.token("root")
	denySend := map[string]any{"roles": []string{"agent"}, "denies": []string{"message.send"}}
	setPlan := func(plan string) {
		t.Helper()
		s.mustStatus(s.doJSON("PUT", "/gatehouse/v1/orgs/shop/plan", root, map[string]any{"plan": plan}), 200, "plan "+plan)
	}

	// Free: the deny is refused and nothing is written; campaign.run is
	// outside the plan whatever the owner's roles.
	r := s.doJSON("PUT", "/gatehouse/v1/workspaces/shop/members/agent", olga, denySend)
	expectStatus(t, "deny on free", r, 403, "plan_required", "")
	if p := r.problem(t); p["required_feature"] != "member_overrides" || p["required_plan"] != "pro" {
		t.Errorf("deny on free: %v, want required_feature member_overrides, required_plan pro", p)
	}
	if d := storedDenies(t, s, olga); len(d) != 0 {
		t.Fatalf("a refused deny was written: %v", d)
	}
	expectStatus(t, "agent sends on free", s.do("POST", "/w/shop/messages", agent), 200, "", "")
	r = s.do("POST", "/w/shop/campaigns", olga)
	expectStatus(t, "campaign on free", r, 403, "plan_required", "plan_required")
	if p := r.problem(t); p["required_permission"] != "campaign.run" || p["required_plan"] != "pro" {
		t.Errorf("campaign on free: %v, want required_permission campaign.run, required_plan pro", p)
	}
	// No plan removes workspace.admin: the owner still manages members.
	expectStatus(t, "owner manages on free", s.do("GET", "/gatehouse/v1/workspaces/shop/members", olga), 200, "", "")

	// Pro: campaign.run is there, the deny is accepted and applies.
	setPlan("pro")
	expectStatus(t, "campaign on pro", s.do("POST", "/w/shop/campaigns", olga), 200, "", "")
	s.mustStatus(s.doJSON("PUT", "/gatehouse/v1/workspaces/shop/members/agent", olga, denySend), 200, "deny on pro")
	expectStatus(t, "agent sends on pro", s.do("POST", "/w/shop/messages", agent), 403, "forbidden", "denied_by_member_deny")

	// Downgrade: the deny is kept but has no effect.
	setPlan("free")
	expectStatus(t, "agent sends after the downgrade", s.do("POST", "/w/shop/messages", agent), 200, "", "")
	if d := storedDenies(t, s, olga); !slices.Equal(d, []string{"message.send"}) {
		t.Errorf("denies after the downgrade: %v, want the stored [message.send]", d)
	}
	expectStatus(t, "campaign after the downgrade", s.do("POST", "/w/shop/campaigns", olga), 403, "plan_required", "plan_required")

	// Upgrade: it applies again, nothing rewritten.
	setPlan("pro")
	expectStatus(t, "agent sends after the upgrade", s.do("POST", "/w/shop/messages", agent), 403, "forbidden", "denied_by_member_deny")
}

// storedDenies reads the agent's denies through the management API.
func storedDenies(t *testing.T, s *server, token string) []string {
	t.Helper()
	r := s.do("GET", "/gatehouse/v1/workspaces/shop/members/agent", token)
	s.mustStatus(r, 200, "GET member agent")
	var m struct {
		Denies []string `json:"denies"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	return m.Denies
}
