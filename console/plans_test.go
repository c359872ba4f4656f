package console

import (
	"reflect"
	"testing"
)

// TestGatesFor: a workspace on a plan lacking a feature gets that
// control disabled with the cheapest plan that has it; a plan with the
// feature, or no plan at all (none configured), gates nothing.
func TestGatesFor(t *testing.T) {
	pl := planList{Default: "free", Plans: []planView{
		{Slug: "free", Name: "Free"},
		{Slug: "team", Name: "Team", Features: []string{featureAPIKeys}},
		{Slug: "pro", Name: "Pro", Features: []string{featureMemberOverrides, featureResourceRestrictions, featureCustomRoles, featureAPIKeys}},
	}}
	free := pl.gatesFor(workspaceView{Plan: "free"})
	want := gates{
		featureMemberOverrides:      {Disabled: true, Note: "Requires the Pro plan"},
		featureResourceRestrictions: {Disabled: true, Note: "Requires the Pro plan"},
		featureCustomRoles:          {Disabled: true, Note: "Requires the Pro plan"},
		featureAPIKeys:              {Disabled: true, Note: "Requires the Team plan"}, // the cheapest with it
	}
	if !reflect.DeepEqual(free, want) {
		t.Fatalf("free plan gates:\n got %v\nwant %v", free, want)
	}
	team := pl.gatesFor(workspaceView{Plan: "team", PlanFeatures: []string{featureAPIKeys}})
	if team[featureAPIKeys].Disabled || !team[featureCustomRoles].Disabled {
		t.Fatalf("team plan gates: %v", team)
	}
	if g := pl.gatesFor(workspaceView{Plan: "pro", PlanFeatures: pl.Plans[2].Features}); len(g) != 0 {
		t.Fatalf("pro plan gates %v, want none", g)
	}
	if g := pl.gatesFor(workspaceView{}); len(g) != 0 {
		t.Fatalf("no plan configured: gates %v, want none", g)
	}
	none := planList{Plans: []planView{{Slug: "free", Name: "Free"}}}.gatesFor(workspaceView{Plan: "free"})
	if none[featureAPIKeys].Note != "Not available on any plan" {
		t.Fatalf("a feature no plan has: %v", none[featureAPIKeys])
	}
}

// TestPlanRefusal: only a 403 plan_required is a plan refusal, with its
// feature and the API's detail.
func TestPlanRefusal(t *testing.T) {
	f, d, ok := planRefusal(&apiProblem{Status: 403, Code: "plan_required", Detail: "needs Pro", RequiredFeature: featureCustomRoles})
	if !ok || f != featureCustomRoles || d != "needs Pro" {
		t.Fatalf("plan refusal: %q %q %v", f, d, ok)
	}
	if _, _, ok := planRefusal(&apiProblem{Status: 403, Code: "forbidden", Detail: "no"}); ok {
		t.Fatal("a forbidden is not a plan refusal")
	}
}

// TestGroupWorkspaces: the personal workspace first, then organizations
// by name (named from /v1/me, or by id when the caller is not a member),
// then workspaces outside any organization; nothing lost or doubled.
func TestGroupWorkspaces(t *testing.T) {
	me := meView{Organizations: []orgView{{ID: "org_b", Slug: "beta", Name: "Beta"}, {ID: "org_a", Slug: "alpha", Name: "Alpha"}}}
	all := []workspaceView{
		{ID: "w1", Slug: "acme"},
		{ID: "w2", Slug: "b1", OrganizationID: "org_b", Scope: "private"},
		{ID: "w3", Slug: "mine", Scope: "local"},
		{ID: "w4", Slug: "a1", OrganizationID: "org_a", ProjectID: "prj_1", Scope: "project"},
		{ID: "w5", Slug: "x1", OrganizationID: "org_x"},
	}
	var got []string
	for _, g := range groupWorkspaces(all, me) {
		line := g.Name + "(" + g.OrgSlug + "):"
		for _, ws := range g.Workspaces {
			line += " " + ws.Slug
		}
		got = append(got, line)
	}
	want := []string{"Personal(): mine", "Alpha(alpha): a1", "Beta(beta): b1", "org_x(): x1", "Without an organization(): acme"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups:\n got %q\nwant %q", got, want)
	}
}
