package model_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestWorkspaceRolesMatchesMemberAccess: compiling members from the
// workspace's roles read once gives what MemberAccess (a Role read per
// role) gives, for every fixture member: system roles, a custom role, a
// custom role shadowing a system role's slug, grants, denies and
// restrictions, and a slug that names no role.
func TestWorkspaceRolesMatchesMemberAccess(t *testing.T) {
	f := newFixture(t)
	f.update(func(tx store.Tx) error {
		must(t, tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: "member", Name: "Shadow", Permissions: []string{"campaign.run"}}))
		m, err := tx.Member(f.acme.ID, "dave")
		must(t, err)
		m.Roles = append(m.Roles, "member", "no-such-role")
		return tx.PutMember(m)
	})
	f.view(func(tx store.Tx) error {
		roles, err := f.model.WorkspaceRoles(tx, f.acme)
		must(t, err)
		ms, _, err := tx.Members(f.acme.ID, "", 0)
		must(t, err)
		for _, m := range ms {
			want, err := f.model.MemberAccess(tx, f.acme, m)
			must(t, err)
			got := roles.Access(m)
			if !slices.Equal(f.names(got.Permissions), f.names(want.Permissions)) ||
				!slices.Equal(f.names(got.Granted), f.names(want.Granted)) ||
				!slices.Equal(got.Roles, want.Roles) {
				t.Errorf("%s: WorkspaceRoles gives %v, MemberAccess %v", m.UserID, f.names(got.Permissions), f.names(want.Permissions))
			}
		}
		return nil
	})
}
