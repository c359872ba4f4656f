package model_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestWorkspaceAccessInheritsProjectRoles checks the compiled entry of a
// project member: the union of roles, the explicit grants and denies on
// top, Defaults from the roles only, and nothing from a project role config
// does not know or in a private workspace.
func TestWorkspaceAccessInheritsProjectRoles(t *testing.T) {
	f := newFixture(t)
	cfg := testConfig()
	cfg.ProjectRoles = []model.ProjectRole{{Slug: "sender", Name: "Sender", WorkspaceRoles: []string{"operator"}}}
	m := newModel(t, cfg)
	now := time.Now().UTC()
	proj := store.Workspace{ID: "ws_proj0000000000000000000000", Slug: "proj", Name: "Proj", OrganizationID: "org_a", ProjectID: "prj_a", Scope: store.ScopeProject, CreatedAt: now, UpdatedAt: now}
	priv := proj
	priv.ID, priv.Slug, priv.Scope = "ws_priv0000000000000000000000", "priv", store.ScopePrivate
	f.update(func(tx store.Tx) error {
		must(t, tx.PutOrganization(store.Organization{ID: "org_a", Slug: "a", Name: "A", CreatedAt: now, UpdatedAt: now}))
		must(t, tx.PutProject(store.Project{ID: "prj_a", OrganizationID: "org_a", Slug: "p", Name: "P", CreatedAt: now, UpdatedAt: now}))
		must(t, tx.PutWorkspace(proj))
		must(t, tx.PutWorkspace(priv))
		for _, pm := range []store.ProjectMember{
			{ProjectID: "prj_a", OrganizationID: "org_a", UserID: "uni", Roles: []string{"sender", "retired"}},
			{ProjectID: "prj_a", OrganizationID: "org_a", UserID: "ghost", Roles: []string{"retired"}},
		} {
			pm.JoinedAt, pm.UpdatedAt = now, now
			must(t, tx.PutProjectMember(pm))
		}
		return tx.PutMember(store.Membership{WorkspaceID: proj.ID, UserID: "uni", Roles: []string{"member"}, Grants: []string{"campaign.run"}, Denies: []string{"message.send"}, JoinedAt: now, UpdatedAt: now})
	})
	read := func(ws store.Workspace, user string) (a *model.Access, found bool) {
		f.view(func(tx store.Tx) error {
			var err error
			a, found, err = m.WorkspaceAccess(tx, ws, user)
			return err
		})
		return a, found
	}
	a, found := read(proj, "uni")
	if !found || !a.Member {
		t.Fatal("uni: not a member of the project workspace")
	}
	if !slices.Equal(a.Roles, []string{"member", "operator"}) {
		t.Errorf("roles %v, want [member operator]", a.Roles)
	}
	if got, want := f.names(a.Permissions), []string{"campaign.read", "campaign.run", "contact.read", "message.read"}; !slices.Equal(got, want) {
		t.Errorf("permissions %v, want %v", got, want)
	}
	if got, want := f.names(a.Defaults), []string{"campaign.read", "contact.read", "message.read", "message.send"}; !slices.Equal(got, want) {
		t.Errorf("defaults %v, want %v (the roles alone)", got, want)
	}
	if _, found := read(proj, "ghost"); found {
		t.Error("ghost: a project role config does not know made a member")
	}
	if _, found := read(priv, "ghost"); found {
		t.Error("ghost: member of a private workspace")
	}
	// uni has no explicit membership in priv: the project role gives nothing there.
	if _, found := read(priv, "uni"); found {
		t.Error("uni: project role reached a private workspace")
	}
}
