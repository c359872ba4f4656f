package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testMembers: Member, PutMember (the workspace must exist), DeleteMember,
// Members, and the user → workspace index UserMemberships.
func testMembers(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	seedWorkspace(t, s, "ws_b", "b")
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutMember(member("ws_missing", "alice", "admin")) })
	wantErr(t, "PutMember in a missing workspace", err, store.ErrNotFound)

	full := member("ws_a", "alice", "admin", "viewer")
	full.Grants = []string{"instance:read"}
	full.Denies = []string{"instance:delete"}
	full.Restrictions = map[string][]string{"instance": {"i1", "i2"}}
	update(t, s, func(tx store.Tx) error {
		for _, m := range []store.Membership{full, member("ws_a", "bob", "viewer"), member("ws_b", "alice", "viewer")} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Member("ws_a", "alice")
		noErr(t, "Member", err)
		equal(t, "Member", got, full)
		_, err = tx.Member("ws_a", "carol")
		wantErr(t, "Member of a non-member", err, store.ErrNotFound)
		_, err = tx.Member("ws_missing", "alice")
		wantErr(t, "Member in a missing workspace", err, store.ErrNotFound)
		list, next, err := tx.Members("ws_a", "", 0)
		noErr(t, "Members", err)
		equal(t, "Members ws_a", ids(list, func(m store.Membership) string { return m.UserID }), []string{"alice", "bob"})
		equal(t, "Members next", next, "")
		list, _, err = tx.UserMemberships("alice", "", 0)
		noErr(t, "UserMemberships", err)
		equal(t, "UserMemberships alice", ids(list, func(m store.Membership) string { return m.WorkspaceID }), []string{"ws_a", "ws_b"})
		equal(t, "UserMemberships alice ws_a", list[0], full)
		list, _, err = tx.UserMemberships("nobody", "", 0)
		noErr(t, "UserMemberships of nobody", err)
		equal(t, "UserMemberships of nobody", len(list), 0)
		return nil
	})

	// Replace, then delete: both the record and the index follow.
	full.Roles = []string{"viewer"}
	update(t, s, func(tx store.Tx) error { return tx.PutMember(full) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteMember("ws_b", "alice") })
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteMember("ws_b", "alice") })
	wantErr(t, "DeleteMember twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Member("ws_a", "alice")
		noErr(t, "Member after replace", err)
		equal(t, "Member after replace", got, full)
		_, err = tx.Member("ws_b", "alice")
		wantErr(t, "Member after delete", err, store.ErrNotFound)
		list, _, err := tx.UserMemberships("alice", "", 0)
		noErr(t, "UserMemberships after delete", err)
		equal(t, "UserMemberships after delete", ids(list, func(m store.Membership) string { return m.WorkspaceID }), []string{"ws_a"})
		equal(t, "UserMemberships sees the replaced record", list[0], full)
		return nil
	})
}
