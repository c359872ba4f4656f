package admin_test

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Fixtures of the organization, project and plan tests. Organizations are
// written to the store directly (their API is another file's business);
// projects, project members and workspaces go through the API.

// orgConfig is harnessConfig with organization roles, project roles and
// two plans: free (the spec's: no campaign.*, no feature) and pro
// (everything).
func orgConfig() model.Config {
	cfg := harnessConfig()
	cfg.OrgRoles = []model.OrgRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{model.PermOrgAdmin}},
		{Slug: "wsadmin", Name: "Workspace manager", Permissions: []string{model.PermOrgWorkspaces}},
		{Slug: "pm", Name: "Project manager", Permissions: []string{model.PermOrgProjects}},
		{Slug: "member", Name: "Member"},
	}
	cfg.ProjectRoles = []model.ProjectRole{
		{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"operator"}},
		{Slug: "admin", Name: "Project admin", WorkspaceRoles: []string{"owner"}},
		{Slug: "viewer", Name: "Viewer", WorkspaceRoles: []string{"member"}},
	}
	cfg.Plans = []model.PlanConfig{
		{Slug: "free", Name: "Free", Permissions: []string{"contact.*", "message.*", "workspace.*"}},
		{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features()},
	}
	cfg.DefaultPlan = "free"
	return cfg
}

// newOrg writes a live organization with plan and members (user → org
// roles); the members are made known users.
func (h *harness) newOrg(slug, plan string, members map[string][]string) store.Organization {
	h.t.Helper()
	for user := range members {
		h.known(user)
	}
	now := time.Now().UTC()
	org := store.Organization{ID: "org_" + slug, Slug: slug, Name: "Org " + slug, Plan: plan, CreatedAt: now, UpdatedAt: now}
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		for user, roles := range members {
			if err := tx.PutOrgMember(store.OrgMember{OrganizationID: org.ID, UserID: user, Roles: roles,
				JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}))
	return org
}

// setOrgPlan changes an organization's plan in the store.
func (h *harness) setOrgPlan(orgID, plan string) {
	h.t.Helper()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		org, err := tx.Organization(orgID)
		if err != nil {
			return err
		}
		org.Plan = plan
		return tx.PutOrganization(org)
	}))
}

// projView is a project in answers.
type projView struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organization_id"`
	Slug           string   `json:"slug"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Roles          []string `json:"roles"`
}

// projMemberView is a project member in answers.
type projMemberView struct {
	UserID         string   `json:"user_id"`
	Email          string   `json:"email"`
	Roles          []string `json:"roles"`
	WorkspaceRoles []string `json:"workspace_roles"`
}

// orgWSView is a workspace view with its organization fields.
type orgWSView struct {
	wsView
	OrganizationID string    `json:"organization_id"`
	ProjectID      string    `json:"project_id"`
	Scope          string    `json:"scope"`
	Plan           string    `json:"plan"`
	PlanFeatures   *[]string `json:"plan_features"`
}

// newProject creates a project as actor.
func (h *harness) newProject(actor string, org store.Organization, name string) projView {
	h.t.Helper()
	var p projView
	h.do("POST", "/v1/orgs/"+org.Slug+"/projects", h.token(actor), map[string]any{"name": name}).
		want(http.StatusCreated).decode(&p)
	return p
}

// putProjectMember sets user's project roles as actor and expects 200 or
// 201.
func (h *harness) putProjectMember(actor string, org store.Organization, p projView, user string, roles ...string) {
	h.t.Helper()
	r := h.do("PUT", "/v1/orgs/"+org.Slug+"/projects/"+p.Slug+"/members/"+user, h.token(actor), map[string]any{"roles": roles})
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		h.t.Fatalf("PUT project member %s: status %d: %s", user, r.status, r.raw)
	}
}

// newOrgWorkspace creates a workspace in org (and project p, when not
// nil) with scope as actor.
func (h *harness) newOrgWorkspace(actor string, org store.Organization, p *projView, scope, name string) orgWSView {
	h.t.Helper()
	body := map[string]any{"name": name, "organization": org.Slug}
	if p != nil {
		body["project"] = p.Slug
	}
	if scope != "" {
		body["scope"] = scope
	}
	var ws orgWSView
	h.do("POST", "/v1/workspaces", h.token(actor), body).want(http.StatusCreated).decode(&ws)
	return ws
}

// orgAudit lists the actions of the organization's audit log, newest
// first.
func (h *harness) orgAudit(orgID string) []string {
	h.t.Helper()
	var out []string
	h.view(func(tx store.Tx) error {
		evs, _, err := tx.Audit(orgID, "", 0)
		for _, ev := range evs {
			out = append(out, ev.Action+" "+ev.Target)
		}
		return err
	})
	return out
}

// addOrgMember makes user (made known) a member of the organization.
func (h *harness) addOrgMember(orgID, user string, roles ...string) {
	h.t.Helper()
	h.known(user)
	now := time.Now().UTC()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutOrgMember(store.OrgMember{OrganizationID: orgID, UserID: user, Roles: roles, JoinedAt: now, UpdatedAt: now})
	}))
}

// roleOf is a system role of the test configuration.
func roleOf(slug string, permissions ...string) model.SystemRole {
	return model.SystemRole{Slug: slug, Name: slug, Permissions: permissions}
}
