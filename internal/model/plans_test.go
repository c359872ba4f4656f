package model_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The spec's example: free and pro.
var specPlans = []model.PlanConfig{
	{Slug: "free", Name: "Free", Permissions: []string{"contact.*", "message.*", "workspace.*"}, Source: "Caddyfile:20"},
	{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features(), Source: "Caddyfile:23"},
}

func planConfig() model.Config {
	cfg := testConfig()
	cfg.Plans = specPlans
	cfg.DefaultPlan = "free"
	cfg.OrgRoles = []model.OrgRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{model.PermOrgAdmin}},
		{Slug: "member", Name: "Member"},
	}
	cfg.ProjectRoles = []model.ProjectRole{
		{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"member"}},
		{Slug: "admin", Name: "Project admin", WorkspaceRoles: []string{"owner"}},
	}
	return cfg
}

// Plans compile: ceilings, features, the default, the cheapest plan of a
// permission and of a feature (declaration order).
func TestPlans(t *testing.T) {
	m := newModel(t, planConfig())
	free, ok := m.Plan("free")
	pro, _ := m.Plan("pro")
	if !ok || m.DefaultPlan() != free || len(m.Plans()) != 2 {
		t.Fatalf("plans %v, default %v", m.Plans(), m.DefaultPlan())
	}
	c := m.Catalog()
	id := func(name string) authz.PermID {
		i, ok := c.ID(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return i
	}
	if got := free.Ceiling().Names(c); !slices.Equal(got, []string{"contact.manage", "contact.read", "message.read", "message.send",
		"workspace.admin", "workspace.api_keys", "workspace.members", "workspace.roles", "workspace.settings"}) {
		t.Errorf("free ceiling %v (workspace.admin's implication of * must not widen it)", got)
	}
	if free.Allows(id("campaign.run")) || !pro.Allows(id("campaign.run")) {
		t.Error("campaign.run: free must not include it, pro must")
	}
	if free.Has(model.FeatureMemberOverrides) || !pro.Has(model.FeatureAPIKeys) {
		t.Error("features")
	}
	for perm, want := range map[string]string{
		"campaign.run": "pro", "message.send": "free", "workspace.admin": "free",
		"organization.billing": "free", "nope.nothing": "", "organization.nothing": "",
	} {
		if got := m.CheapestPlanFor(perm); got != want {
			t.Errorf("CheapestPlanFor(%s) = %q, want %q", perm, got, want)
		}
	}
	if got := m.CheapestPlanWith(model.FeatureCustomRoles); got != "pro" {
		t.Errorf("CheapestPlanWith(custom_roles) = %q", got)
	}
	// A plan's implications count: campaign.run implies campaign.read.
	cfg := planConfig()
	cfg.Plans = []model.PlanConfig{{Slug: "runner", Permissions: []string{"campaign.run"}}}
	cfg.DefaultPlan = ""
	runner := newModel(t, cfg).DefaultPlan()
	if runner == nil || runner.Slug != "runner" || !runner.Allows(id("campaign.read")) {
		t.Errorf("default plan without default_plan: %+v", runner)
	}
}

// No plan can remove workspace.admin (nor any workspace.* permission):
// not one that names none of them, not one that names nothing gated.
func TestNoPlanRemovesWorkspaceAdmin(t *testing.T) {
	cfg := testConfig()
	cfg.Plans = []model.PlanConfig{
		{Slug: "bare"},
		{Slug: "contacts", Permissions: []string{"contact.read"}},
		{Slug: "everything", Permissions: []string{"*"}},
	}
	m := newModel(t, cfg)
	f := newFixture(t)
	f.model = m
	alice := f.access("alice")
	for _, p := range m.Plans() {
		for _, name := range []string{"workspace.admin", "workspace.settings", "workspace.members", "workspace.roles", "workspace.api_keys"} {
			id, _ := m.Catalog().ID(name)
			if !p.Allows(id) {
				t.Errorf("plan %s removes %s", p.Slug, name)
			}
			if !m.Ceiling(alice, p).Permissions.Has(id) {
				t.Errorf("plan %s takes %s from the owner", p.Slug, name)
			}
		}
	}
}

// Ceiling, by hand: on free (no features) eve gets her roles' defaults
// only, and her system roles' only (campaign.* grant gone, and the
// custom exporter role's contact.manage too: free lacks custom_roles), dave's deny stops applying, olga's restrictions stop
// applying; on pro everything is as compiled; nothing stored changes.
func TestCeiling(t *testing.T) {
	f := newFixture(t)
	f.model = newModel(t, planConfig())
	free, _ := f.model.Plan("free")
	pro, _ := f.model.Plan("pro")
	eve, dave, olga := f.access("eve"), f.access("dave"), f.access("olga")
	if got := f.names(f.model.Ceiling(eve, free).Permissions); !slices.Equal(got, []string{"message.read"}) {
		t.Errorf("eve on free (no member_overrides, no custom_roles): %v", got)
	}
	if got := f.names(f.model.Ceiling(eve, pro).Permissions); !slices.Equal(got, f.names(eve.Permissions)) {
		t.Errorf("eve on pro: %v, want %v", got, f.names(eve.Permissions))
	}
	if got := f.names(f.model.Ceiling(dave, free).Permissions); !slices.Equal(got, []string{"contact.read", "message.read", "message.send"}) {
		t.Errorf("dave on free (his deny of message.send has no effect; campaign.read is outside free): %v", got)
	}
	if got := f.names(f.model.Ceiling(dave, pro).Permissions); slices.Contains(got, "message.send") {
		t.Errorf("dave on pro: his deny must apply: %v", got)
	}
	o := f.model.Ceiling(olga, free)
	if o.Restrictions != nil || !o.Allows("instance", "i9") {
		t.Errorf("olga on free: restrictions %v", o.Restrictions)
	}
	if p := f.model.Ceiling(olga, pro); p.Allows("instance", "i9") {
		t.Error("olga on pro: restrictions must apply")
	}
	if olga.Allows("instance", "i9") || !slices.Contains(f.names(eve.Permissions), "campaign.run") {
		t.Error("Ceiling changed its input")
	}
	if f.model.Ceiling(eve, nil) != eve {
		t.Error("no plan must change nothing")
	}
}

// An admin by grant keeps workspace.* on a plan without member_overrides,
// and a member denied workspace.members stays denied: overrides of the
// never-gated permissions keep their effect.
func TestCeilingKeepsNeverGatedOverrides(t *testing.T) {
	f := newFixture(t)
	f.model = newModel(t, planConfig())
	free, _ := f.model.Plan("free")
	f.update(func(tx store.Tx) error {
		m, _ := tx.Member(f.acme.ID, "olga")
		m.Grants = []string{authz.PermAdmin}
		must(t, tx.PutMember(m))
		a, _ := tx.Member(f.acme.ID, "alice")
		a.Denies = []string{authz.PermMembers}
		return tx.PutMember(a)
	})
	olga := f.model.Ceiling(f.access("olga"), free)
	adminID, _ := f.model.Catalog().ID(authz.PermAdmin)
	if !olga.Permissions.Has(adminID) {
		t.Errorf("olga (admin by grant) on free: %v", f.names(olga.Permissions))
	}
	if got := f.names(olga.Permissions); slices.Contains(got, "campaign.run") {
		t.Errorf("olga's admin grant widened past the plan: %v", got)
	}
	alice := f.model.Ceiling(f.access("alice"), free)
	if slices.Contains(f.names(alice.Permissions), authz.PermMembers) {
		t.Errorf("alice's deny of workspace.members was lifted: %v", f.names(alice.Permissions))
	}
}

// Property: for random plans and random memberships, the access under a
// plan is within role defaults ∪ the grants the plan lets apply, holds
// nothing outside the ceiling, and keeps every workspace.* permission the
// applicable grants and roles give.
func TestCeilingProperty(t *testing.T) {
	f := newFixture(t)
	c := f.model.Catalog()
	names := c.Expand([]string{"*"}).Names(c)
	patterns := append(slices.Clone(names), "*", "message.*", "contact.*", "campaign.*", "workspace.*")
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(from []string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	roles := []string{"owner", "operator", "member", "exporter"}
	for i := range 1000 {
		cfg := testConfig()
		var features []string
		for _, feat := range model.Features() {
			if rng.IntN(2) == 0 {
				features = append(features, feat)
			}
		}
		cfg.Plans = []model.PlanConfig{{Slug: "p", Permissions: pick(patterns, 4), Features: features}}
		m := newModel(t, cfg)
		plan := m.DefaultPlan()
		mem := store.Membership{WorkspaceID: f.acme.ID, UserID: "u", Roles: pick(roles, 2), Grants: pick(patterns, 3), Denies: pick(patterns, 2),
			Restrictions: map[string][]string{"instance": {"i1"}}}
		var access *model.Access
		f.view(func(tx store.Tx) error {
			var err error
			access, err = m.MemberAccess(tx, f.acme, mem)
			return err
		})
		got := m.Ceiling(access, plan)
		defaults := access.Defaults
		grants := c.Expand(mem.Grants)
		overrides := plan.Has(model.FeatureMemberOverrides)
		neverGated := c.Matching([]string{"workspace.*"})
		allowed := defaults
		if overrides {
			allowed = defaults.Union(grants)
		} else {
			allowed = defaults.Union(grants.Intersect(neverGated))
		}
		if !allowed.Contains(got.Permissions) {
			t.Fatalf("case %d: %v exceeds roles ∪ applicable grants %v (plan %+v, member %+v)", i, got.Permissions.Names(c), allowed.Names(c), cfg.Plans[0], mem)
		}
		if !plan.Ceiling().Contains(got.Permissions) {
			t.Fatalf("case %d: %v outside the ceiling %v", i, got.Permissions.Names(c), plan.Ceiling().Names(c))
		}
		// Never loses workspace.*: what applies (all overrides, or only
		// those of never-gated permissions) keeps its workspace.* part.
		want := access.Permissions.Intersect(neverGated)
		if !got.Permissions.Contains(want) {
			t.Fatalf("case %d: lost %v (had %v)", i, strings.Join(want.Minus(got.Permissions).Names(c), ","), access.Permissions.Names(c))
		}
		if !plan.Has(model.FeatureResourceRestrictions) && got.Restrictions != nil {
			t.Fatalf("case %d: restrictions apply without resource_restrictions", i)
		}
	}
}

// Organization and project roles: the organization catalog is apart from
// the workspace catalog, project roles map to workspace roles.
func TestOrgAndProjectRoles(t *testing.T) {
	cfg := planConfig()
	cfg.Permissions = append(slices.Clone(cfg.Permissions), model.Permission{Name: "organization.audit"})
	m := newModel(t, cfg)
	if _, ok := m.Catalog().ID(model.PermOrgAdmin); ok {
		t.Error("organization.admin is in the workspace catalog")
	}
	if got := m.Catalog().Expand([]string{"*"}).Names(m.Catalog()); slices.ContainsFunc(got, model.IsOrgPermission) {
		t.Errorf("a workspace * lists organization permissions: %v", got)
	}
	owner := m.OrgPermissions([]string{"owner"})
	if got := owner.Names(m.OrgCatalog()); !slices.Equal(got, []string{"organization.admin", "organization.audit", "organization.billing",
		"organization.members", "organization.projects", "organization.settings", "organization.workspaces"}) {
		t.Errorf("org owner: %v", got)
	}
	if m.OrgPermissions([]string{"member"}).Len() != 0 {
		t.Error("org member holds something")
	}
	if got := m.ProjectWorkspaceRoles([]string{"developer", "admin", "developer", "nope"}); !slices.Equal(got, []string{"member", "owner"}) {
		t.Errorf("project roles map to %v", got)
	}
}

// Without any organization, project or plan configuration the model is
// what it was: no plan, nothing gated, the default organization roles
// only, no local workspaces, and the workspace catalog unchanged.
func TestNoOrgConfigChangesNothing(t *testing.T) {
	f := newFixture(t)
	m := f.model
	if m.DefaultPlan() != nil || len(m.Plans()) != 0 || m.CheapestPlanFor("campaign.run") != "" ||
		m.CheapestPlanWith(model.FeatureAPIKeys) != "" || m.LocalWorkspaces() || len(m.ProjectRoles()) != 0 {
		t.Fatal("a config without plans has plans")
	}
	for _, user := range []string{"alice", "olga", "dave", "eve"} {
		a := f.access(user)
		if m.Ceiling(a, m.DefaultPlan()) != a {
			t.Errorf("%s: Ceiling without plans changed the access", user)
		}
	}
	if got := m.Catalog().Len(); got != len(testPermissions)+len(authz.Builtins()) {
		t.Errorf("catalog of %d permissions", got)
	}
}

// Every configuration error of organizations, projects and plans names
// the declaration's line.
func TestOrgPlanConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*model.Config)
		want string
	}{
		{"org role naming a workspace permission", func(c *model.Config) {
			c.OrgRoles = []model.OrgRole{{Slug: "owner", Permissions: []string{"message.read"}, Source: "Caddyfile:30"}}
		}, "Caddyfile:30: org_role owner: message.read is not an organization permission"},
		{"org role naming an unknown organization permission", func(c *model.Config) {
			c.OrgRoles = []model.OrgRole{{Slug: "owner", Permissions: []string{"organization.nope"}, Source: "Caddyfile:31"}}
		}, "Caddyfile:31: org_role owner: unknown permission"},
		{"duplicate org role", func(c *model.Config) {
			c.OrgRoles = []model.OrgRole{{Slug: "owner", Source: "Caddyfile:1"}, {Slug: "owner", Source: "Caddyfile:2"}}
		}, "Caddyfile:2: org_role owner is declared twice (first at Caddyfile:1)"},
		{"project role naming an unknown workspace role", func(c *model.Config) {
			c.ProjectRoles = []model.ProjectRole{{Slug: "developer", WorkspaceRoles: []string{"membr"}, Source: "Caddyfile:32"}}
		}, "Caddyfile:32: project_role developer: workspace_roles membr: no such system role (declared: owner, operator, member); did you mean member?"},
		{"duplicate project role", func(c *model.Config) {
			c.ProjectRoles = []model.ProjectRole{{Slug: "dev", Source: "Caddyfile:3"}, {Slug: "dev", Source: "Caddyfile:4"}}
		}, "Caddyfile:4: project_role dev is declared twice"},
		{"plan naming an unknown permission", func(c *model.Config) {
			c.Plans = []model.PlanConfig{{Slug: "free", Permissions: []string{"campaign.rn"}, Source: "Caddyfile:33"}}
		}, `Caddyfile:33: plan free: permissions: unknown permission "campaign.rn"`},
		{"plan pattern matching nothing", func(c *model.Config) {
			c.Plans = []model.PlanConfig{{Slug: "free", Permissions: []string{"billing.*"}, Source: "Caddyfile:34"}}
		}, "Caddyfile:34: plan free: permissions:"},
		{"unknown feature", func(c *model.Config) {
			c.Plans = []model.PlanConfig{{Slug: "pro", Features: []string{"api_key"}, Source: "Caddyfile:35"}}
		}, `Caddyfile:35: plan pro: unknown feature "api_key"`},
		{"duplicate plan", func(c *model.Config) {
			c.Plans = []model.PlanConfig{{Slug: "free", Source: "Caddyfile:5"}, {Slug: "free", Source: "Caddyfile:6"}}
		}, "Caddyfile:6: plan free is declared twice"},
		{"default plan that does not exist", func(c *model.Config) {
			c.Plans = specPlans
			c.DefaultPlan, c.DefaultPlanSource = "fre", "Caddyfile:36"
		}, "Caddyfile:36: default_plan fre: no such plan (declared: free, pro); did you mean free?"},
		{"default plan without plans", func(c *model.Config) {
			c.DefaultPlan, c.DefaultPlanSource = "free", "Caddyfile:37"
		}, "Caddyfile:37: default_plan free: no such plan"},
		{"workspace role naming an organization permission", func(c *model.Config) {
			c.Roles = append(slices.Clone(c.Roles), model.SystemRole{Slug: "boss", Permissions: []string{"organization.admin"}, Source: "Caddyfile:38"})
		}, "Caddyfile:38: role boss: organization.admin is an organization permission"},
		{"workspace permission implying an organization one", func(c *model.Config) {
			c.Permissions = append(slices.Clone(c.Permissions), model.Permission{Name: "x.y", Implies: []string{"organization.admin"}, Source: "Caddyfile:39"})
		}, "Caddyfile:39: permission x.y implies organization.admin"},
		{"organization permission implying a workspace one", func(c *model.Config) {
			c.Permissions = append(slices.Clone(c.Permissions), model.Permission{Name: "organization.x", Implies: []string{"message.read"}, Source: "Caddyfile:40"})
		}, "Caddyfile:40: permission organization.x implies message.read"},
		{"organization permission implying an unknown one", func(c *model.Config) {
			c.Permissions = append(slices.Clone(c.Permissions), model.Permission{Name: "organization.x", Implies: []string{"organization.nope"}, Source: "Caddyfile:41"})
		}, "Caddyfile:41: permission organization.x implies organization.nope"},
	}
	for _, c := range cases {
		cfg := testConfig()
		c.edit(&cfg)
		_, err := model.New(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v\nwant it to contain %q", c.name, err, c.want)
		}
	}
}
