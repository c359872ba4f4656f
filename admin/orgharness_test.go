package admin_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Fixtures of the organization tests.

// orgAPIConfig is harnessConfig with organization roles (an owner, a
// manager of members and settings, a billing role, a plain member),
// project roles and two plans: free (contact, message and the never-gated
// workspace.*) and pro (everything, every feature), free the default.
func orgAPIConfig() model.Config {
	cfg := harnessConfig()
	cfg.OrgRoles = []model.OrgRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{model.PermOrgAdmin}},
		{Slug: "manager", Name: "Manager", Permissions: []string{model.PermOrgMembers, model.PermOrgSettings}},
		{Slug: "billing", Name: "Billing", Permissions: []string{model.PermOrgBilling}},
		{Slug: "member", Name: "Member"},
	}
	cfg.ProjectRoles = []model.ProjectRole{
		{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"member"}},
		{Slug: "lead", Name: "Lead", WorkspaceRoles: []string{"owner"}},
	}
	cfg.Plans = []model.PlanConfig{
		{Slug: "free", Name: "Free", Permissions: []string{"contact.*", "message.*", "workspace.*"}},
		{Slug: "pro", Name: "Pro", Permissions: []string{"*"}, Features: model.Features()},
	}
	cfg.DefaultPlan = "free"
	return cfg
}

// allOrgPermissions is every organization permission, sorted: what
// organization.admin grants.
var allOrgPermissions = []string{
	"organization.admin", "organization.billing", "organization.members",
	"organization.projects", "organization.settings", "organization.workspaces",
}

func newOrgHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessModel(t, orgAPIConfig())
}

// orgJSON is an organization as the API answers it.
type orgJSON struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	Plan *struct {
		Slug     string   `json:"slug"`
		Name     string   `json:"name"`
		Features []string `json:"features"`
	} `json:"plan"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at"`
	Roles       []string   `json:"roles"`
	Permissions []string   `json:"permissions"`
}

type orgMemberJSON struct {
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Roles       []string  `json:"roles"`
	Permissions []string  `json:"permissions"`
	JoinedAt    time.Time `json:"joined_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// postOrg creates an organization as owner through the API.
func (h *harness) postOrg(owner, name string) orgJSON {
	h.t.Helper()
	var o orgJSON
	h.do("POST", "/v1/orgs", h.token(owner), map[string]any{"name": name}).want(http.StatusCreated).decode(&o)
	return o
}

// putOrgMember sets user's organization roles directly in the store.
func (h *harness) putOrgMemberDirect(orgID, user string, roles ...string) {
	h.t.Helper()
	now := time.Now().UTC()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutOrgMember(store.OrgMember{OrganizationID: orgID, UserID: user, Roles: roles, JoinedAt: now, UpdatedAt: now})
	}))
}

// intoOrg moves workspace wsID into organization orgID (private scope),
// directly in the store.
func (h *harness) intoOrg(wsID, orgID string) {
	h.t.Helper()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		ws, err := tx.Workspace(wsID)
		if err != nil {
			return err
		}
		ws.OrganizationID = orgID
		return tx.PutWorkspace(ws)
	}))
}

// orgState is everything the store holds about one organization.
type orgState struct {
	Org     store.Organization
	Members []store.OrgMember
	Audit   []store.AuditEvent
}

func (h *harness) orgState(orgID string) orgState {
	h.t.Helper()
	var s orgState
	h.view(func(tx store.Tx) error {
		var err error
		if s.Org, err = tx.Organization(orgID); err != nil {
			return err
		}
		if s.Members, _, err = tx.OrgMembers(orgID, "", 0); err != nil {
			return err
		}
		s.Audit, _, err = tx.Audit(orgID, "", 0)
		return err
	})
	return s
}

// orgRefused runs a request that must be refused and checks that the
// organization, its members and its audit log are as before.
func (h *harness) orgRefused(orgID string, request func() *resp) *resp {
	h.t.Helper()
	before := h.orgState(orgID)
	r := request()
	if r.status < 400 {
		h.t.Fatalf("%s: status %d, want a refusal; body: %s", r.req, r.status, r.raw)
	}
	if after := h.orgState(orgID); !reflect.DeepEqual(before, after) {
		h.t.Fatalf("%s was refused (%d) but the store changed:\nbefore: %+v\nafter:  %+v", r.req, r.status, before, after)
	}
	return r
}

// orgRoles reads user's organization roles from the store (nil: not a
// member).
func (h *harness) orgRoles(orgID, user string) []string {
	h.t.Helper()
	var roles []string
	h.view(func(tx store.Tx) error {
		m, err := tx.OrgMember(orgID, user)
		if err == nil {
			roles = m.Roles
		}
		return nil
	})
	return roles
}

// permID is a workspace permission's id in the harness's catalog.
func (h *harness) permID(name string) authz.PermID {
	h.t.Helper()
	id, ok := h.engine.Model().Catalog().ID(name)
	if !ok {
		h.t.Fatalf("no permission %s", name)
	}
	return id
}
