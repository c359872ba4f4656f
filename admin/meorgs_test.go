package admin_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestMeListsOrganizationsAndProjects: GET /v1/me lists the caller's live
// organizations (roles, permissions, plan) and their projects (project
// roles and the workspace roles they map to); a deleted organization
// leaves both lists.
func TestMeListsOrganizationsAndProjects(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	h.postOrg("bob", "Beta")
	h.known("dev")
	h.putOrgMemberDirect(acme.ID, "dev", "member", "billing")
	now := time.Now().UTC()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		must(t, tx.PutProject(store.Project{ID: "prj_web", OrganizationID: acme.ID, Slug: "web", Name: "Web", CreatedAt: now, UpdatedAt: now}))
		return tx.PutProjectMember(store.ProjectMember{ProjectID: "prj_web", OrganizationID: acme.ID, UserID: "dev",
			Roles: []string{"developer", "lead"}, JoinedAt: now, UpdatedAt: now})
	}))
	type me struct {
		Organizations []struct {
			ID, Slug, Name string
			Roles          []string
			Permissions    []string
			Plan           *struct{ Slug, Name string }
		}
		Projects []struct {
			ID             string
			OrganizationID string `json:"organization_id"`
			Slug, Name     string
			Roles          []string
			WorkspaceRoles []string `json:"workspace_roles"`
		}
	}
	var got me
	r := h.do("GET", "/v1/me", h.token("dev"), nil).want(http.StatusOK)
	r.decode(&got)
	if len(got.Organizations) != 1 || got.Organizations[0].ID != acme.ID || got.Organizations[0].Slug != "acme" ||
		got.Organizations[0].Plan == nil || got.Organizations[0].Plan.Slug != "free" {
		t.Fatalf("organizations %s", r.raw)
	}
	wantStrings(t, "org roles", got.Organizations[0].Roles, []string{"member", "billing"})
	wantStrings(t, "org permissions", got.Organizations[0].Permissions, []string{"organization.billing"})
	if len(got.Projects) != 1 || got.Projects[0].ID != "prj_web" || got.Projects[0].OrganizationID != acme.ID || got.Projects[0].Slug != "web" {
		t.Fatalf("projects %s", r.raw)
	}
	wantStrings(t, "project roles", got.Projects[0].Roles, []string{"developer", "lead"})
	wantStrings(t, "mapped workspace roles", got.Projects[0].WorkspaceRoles, []string{"member", "owner"})

	var none me
	h.do("GET", "/v1/me", h.token("eve"), nil).want(http.StatusOK).decode(&none)
	if none.Organizations == nil || none.Projects == nil || len(none.Organizations)+len(none.Projects) != 0 {
		t.Errorf("a user in no organization: %+v", none)
	}

	h.do("DELETE", "/v1/orgs/"+acme.ID, h.token("alice"), nil).want(http.StatusNoContent)
	h.do("GET", "/v1/me", h.token("dev"), nil).want(http.StatusOK).decode(&got)
	if len(got.Organizations) != 0 || len(got.Projects) != 0 {
		t.Errorf("a deleted organization is still listed: %+v", got)
	}
}

// TestPermissionsListsOrganizationsAndPlans: GET /v1/permissions adds the
// organization catalog, the organization and project roles, the plans
// with their ceilings and features, and default_plan.
func TestPermissionsListsOrganizationsAndPlans(t *testing.T) {
	h := newOrgHarness(t)
	type catalog struct {
		OrgPermissions []struct {
			Name   string
			Grants []string
		} `json:"organization_permissions"`
		OrgRoles []struct {
			Slug, Name  string
			Permissions []string
		} `json:"org_roles"`
		ProjectRoles []struct {
			Slug           string
			WorkspaceRoles []string `json:"workspace_roles"`
		} `json:"project_roles"`
		Plans []struct {
			Slug, Name  string
			Permissions []string
			Features    []string
		}
		DefaultPlan *string `json:"default_plan"`
	}
	var c catalog
	r := h.do("GET", "/v1/permissions", h.token("alice"), nil).want(http.StatusOK)
	r.decode(&c)
	var orgNames []string
	for _, p := range c.OrgPermissions {
		orgNames = append(orgNames, p.Name)
		if p.Name == "organization.admin" && !slices.Contains(p.Grants, "organization.billing") {
			t.Errorf("organization.admin grants %v", p.Grants)
		}
	}
	wantStrings(t, "organization permissions", sorted(orgNames), allOrgPermissions)
	if len(c.OrgRoles) != 4 || c.OrgRoles[0].Slug != "owner" || !slices.Equal(c.OrgRoles[1].Permissions, []string{"organization.members", "organization.settings"}) {
		t.Errorf("org roles %+v", c.OrgRoles)
	}
	if len(c.ProjectRoles) != 2 || c.ProjectRoles[1].Slug != "lead" || !slices.Equal(c.ProjectRoles[1].WorkspaceRoles, []string{"owner"}) {
		t.Errorf("project roles %+v", c.ProjectRoles)
	}
	if len(c.Plans) != 2 || c.Plans[0].Slug != "free" || c.Plans[1].Slug != "pro" {
		t.Fatalf("plans %s", r.raw)
	}
	free, pro := c.Plans[0], c.Plans[1]
	if !slices.Contains(free.Permissions, "contact.read") || slices.Contains(free.Permissions, "campaign.run") ||
		!slices.Contains(free.Permissions, "workspace.admin") || len(free.Features) != 0 {
		t.Errorf("free %+v", free)
	}
	if !slices.Contains(pro.Permissions, "campaign.run") || len(pro.Features) != 4 {
		t.Errorf("pro %+v", pro)
	}
	if c.DefaultPlan == nil || *c.DefaultPlan != "free" {
		t.Errorf("default_plan %v", c.DefaultPlan)
	}

	// Without plans: none listed, default_plan null, the default org roles.
	plain := newHarness(t)
	var p catalog
	r = plain.do("GET", "/v1/permissions", plain.token("alice"), nil).want(http.StatusOK)
	r.decode(&p)
	if p.Plans == nil || len(p.Plans) != 0 || p.DefaultPlan != nil || len(p.OrgRoles) != 2 || len(p.ProjectRoles) != 0 {
		t.Errorf("without plans: %s", r.raw)
	}
}
