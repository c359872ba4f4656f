package gateway_test

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
	view := func(fn func(store.Tx) error) { must(t, f.store.View(t.Context(), fn)) }
	view(func(tx store.Tx) error {
		roles, err := f.engine.WorkspaceRoles(tx, f.acme)
		must(t, err)
		ms, _, err := tx.Members(f.acme.ID, "", 0)
		must(t, err)
		for _, m := range ms {
			want, err := f.engine.MemberAccess(tx, f.acme, m)
			must(t, err)
			got := roles.Access(m)
			if !slices.Equal(got.Permissions.Names(f.engine.Catalog()), want.Permissions.Names(f.engine.Catalog())) ||
				!slices.Equal(got.Roles, want.Roles) {
				t.Errorf("%s: WorkspaceRoles gives %v, MemberAccess %v", m.UserID,
					got.Permissions.Names(f.engine.Catalog()), want.Permissions.Names(f.engine.Catalog()))
			}
		}
		return nil
	})
}
