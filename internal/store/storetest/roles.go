package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testRoles: Role, PutRole (the workspace must exist), DeleteRole, Roles.
func testRoles(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	seedWorkspace(t, s, "ws_b", "b")
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRole(role("ws_missing", "exporter", "x:read")) })
	wantErr(t, "PutRole in a missing workspace", err, store.ErrNotFound)
	exp := role("ws_a", "exporter", "instance:read", "export:*")
	exp.Description = "exports"
	update(t, s, func(tx store.Tx) error {
		for _, r := range []store.Role{role("ws_a", "zeta", "z:read"), exp, role("ws_b", "exporter", "b:read")} {
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		return nil
	})
	exp.Permissions = []string{"instance:read"}
	update(t, s, func(tx store.Tx) error { return tx.PutRole(exp) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Role("ws_a", "exporter")
		noErr(t, "Role", err)
		equal(t, "Role after replace", got, exp)
		_, err = tx.Role("ws_a", "nope")
		wantErr(t, "Role of a missing slug", err, store.ErrNotFound)
		list, err := tx.Roles("ws_a")
		noErr(t, "Roles", err)
		equal(t, "Roles ws_a (by slug)", ids(list, func(r store.Role) string { return r.Slug }), []string{"exporter", "zeta"})
		list, err = tx.Roles("ws_missing")
		noErr(t, "Roles of a missing workspace", err)
		equal(t, "Roles of a missing workspace", len(list), 0)
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteRole("ws_a", "exporter") })
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteRole("ws_a", "exporter") })
	wantErr(t, "DeleteRole twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Role("ws_a", "exporter")
		wantErr(t, "Role after delete", err, store.ErrNotFound)
		got, err := tx.Role("ws_b", "exporter")
		noErr(t, "the other workspace's role of the same slug", err)
		equal(t, "the other workspace's role", got.Permissions, []string{"b:read"})
		return nil
	})
}
