package model_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// featurePlans are plans that each lack one feature, so a test can tell
// the features' effects apart: "roles" has custom roles only,
// "overrides" member overrides only, and "all" everything.
var featurePlans = []model.PlanConfig{
	{Slug: "roles", Permissions: []string{"*"}, Features: []string{model.FeatureCustomRoles}},
	{Slug: "overrides", Permissions: []string{"*"}, Features: []string{model.FeatureMemberOverrides}},
	{Slug: "all", Permissions: []string{"*"}, Features: model.Features()},
}

func featureModel(t *testing.T) *model.Model {
	cfg := testConfig()
	cfg.Plans = featurePlans
	return newModel(t, cfg)
}

// Without custom_roles, a custom role grants nothing and is not listed;
// the member's system roles and (with member_overrides) grants still
// apply. With custom_roles it is back, from the same compiled access:
// nothing is recompiled or rewritten.
func TestCeilingWithoutCustomRoles(t *testing.T) {
	f := newFixture(t)
	f.model = featureModel(t)
	eve := f.access("eve") // member + exporter (custom: contact.manage), grant campaign.*
	plan := func(slug string) *model.Plan { p, _ := f.model.Plan(slug); return p }

	over := f.model.Ceiling(eve, plan("overrides"))
	if got := f.names(over.Permissions); !slices.Equal(got, []string{"campaign.read", "campaign.run", "message.read"}) {
		t.Errorf("without custom_roles: %v, want member's message.read and the campaign.* grant", got)
	}
	if !slices.Equal(over.Roles, []string{"member"}) {
		t.Errorf("without custom_roles the roles are %v, want [member]: a custom role that grants nothing is not forwarded", over.Roles)
	}
	roles := f.model.Ceiling(eve, plan("roles"))
	if got := f.names(roles.Permissions); !slices.Equal(got, []string{"contact.manage", "contact.read", "message.read"}) {
		t.Errorf("with custom_roles, without member_overrides: %v", got)
	}
	if !slices.Equal(roles.Roles, []string{"member", "exporter"}) {
		t.Errorf("with custom_roles the roles are %v", roles.Roles)
	}
	all := f.model.Ceiling(eve, plan("all"))
	if !slices.Equal(f.names(all.Permissions), f.names(eve.Permissions)) {
		t.Errorf("with every feature: %v, want %v", f.names(all.Permissions), f.names(eve.Permissions))
	}
	// Applying a plan to an access already under one never brings the
	// custom role back.
	if again := f.model.Ceiling(over, plan("all")); again.Permissions.Has(mustPerm(t, f.model, "contact.manage")) {
		t.Error("a second Ceiling restored what the first removed")
	}
}

// A member whose only role is custom stays a member (a member rule
// admits them) but holds nothing on a plan without custom_roles.
func TestOnlyCustomRoleMember(t *testing.T) {
	f := newFixture(t)
	f.model = featureModel(t)
	f.update(func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: f.acme.ID, UserID: "xena", Roles: []string{"exporter"}})
	})
	over, _ := f.model.Plan("overrides")
	a := f.model.Ceiling(f.access("xena"), over)
	if !a.Member || a.Permissions.Len() != 0 || len(a.Roles) != 0 {
		t.Errorf("xena without custom_roles: member %v, permissions %v, roles %v", a.Member, f.names(a.Permissions), a.Roles)
	}
}

// Every plan's RequiredPlan table answers what CheapestPlanFor walks to,
// for every workspace permission; the plan is recorded on the access.
func TestRequiredPlanTable(t *testing.T) {
	m := newModel(t, planConfig())
	c := m.Catalog()
	for _, p := range m.Plans() {
		for id := 0; id < c.Len(); id++ {
			name := c.Name(authzID(id))
			if got, want := p.RequiredPlan(authzID(id)), m.CheapestPlanFor(name); got != want {
				t.Errorf("plan %s: RequiredPlan(%s) = %q, CheapestPlanFor = %q", p.Slug, name, got, want)
			}
		}
	}
	free, _ := m.Plan("free")
	if got := free.RequiredPlan(mustPerm(t, m, "campaign.run")); got != "pro" {
		t.Errorf("campaign.run needs %q, want pro", got)
	}
	f := newFixture(t)
	f.model = m
	if a := m.Ceiling(f.access("alice"), free); a.Plan != free {
		t.Errorf("Ceiling recorded plan %v", a.Plan)
	}
}

func authzID(i int) authz.PermID { return authz.PermID(i) }

func mustPerm(t *testing.T, m *model.Model, name string) authz.PermID {
	t.Helper()
	id, ok := m.Catalog().ID(name)
	if !ok {
		t.Fatalf("no permission %s", name)
	}
	return id
}

// An admin by custom role is not locked out by a plan without
// custom_roles: the role's never-gated workspace.* permissions keep
// their effect (as overrides' do); its gated ones go.
func TestCustomRoleKeepsNeverGatedPermissions(t *testing.T) {
	f := newFixture(t)
	f.model = featureModel(t)
	f.update(func(tx store.Tx) error {
		if err := tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: "steward", Name: "Steward", Permissions: []string{"workspace.members", "contact.manage"}}); err != nil {
			return err
		}
		return tx.PutMember(store.Membership{WorkspaceID: f.acme.ID, UserID: "sam", Roles: []string{"member", "steward"}})
	})
	over, _ := f.model.Plan("overrides")
	a := f.model.Ceiling(f.access("sam"), over)
	if got := f.names(a.Permissions); !slices.Equal(got, []string{"message.read", "workspace.members"}) {
		t.Errorf("without custom_roles: %v, want message.read (member) and workspace.members (never gated)", got)
	}
}
