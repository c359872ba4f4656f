package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testInvites: Invite, InviteByTokenHash, PutInvite (the workspace must
// exist; a duplicate token hash or an upper-case email is ErrInvalid; the
// token and email indexes move with the record), Invites,
// InvitesForEmail.
func testInvites(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	seedWorkspace(t, s, "ws_b", "b")
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutInvite(invite("inv_1", "ws_missing", "bob@example.com", "h1")) })
	wantErr(t, "PutInvite in a missing workspace", err, store.ErrNotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutInvite(invite("inv_1", "ws_a", "Bob@example.com", "h1")) })
	wantErr(t, "PutInvite with an upper-case email", err, store.ErrInvalid)

	one := invite("inv_1", "ws_a", "bob@example.com", "h1")
	one.Restrictions = map[string][]string{"instance": {"i1"}}
	update(t, s, func(tx store.Tx) error {
		for _, inv := range []store.Invite{one, invite("inv_2", "ws_a", "carol@example.com", "h2"), invite("inv_3", "ws_b", "bob@example.com", "h3")} {
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutInvite(invite("inv_4", "ws_a", "dave@example.com", "h1")) })
	wantErr(t, "PutInvite with another invite's token hash", err, store.ErrInvalid)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Invite("inv_1")
		noErr(t, "Invite", err)
		equal(t, "Invite", got, one)
		got, err = tx.InviteByTokenHash("h1")
		noErr(t, "InviteByTokenHash", err)
		equal(t, "InviteByTokenHash", got, one)
		_, err = tx.Invite("inv_4")
		wantErr(t, "Invite refused for its token hash", err, store.ErrNotFound)
		_, err = tx.InviteByTokenHash("nope")
		wantErr(t, "InviteByTokenHash of a missing hash", err, store.ErrNotFound)
		list, next, err := tx.Invites("ws_a", "", 0)
		noErr(t, "Invites", err)
		equal(t, "Invites ws_a", ids(list, func(i store.Invite) string { return i.ID }), []string{"inv_1", "inv_2"})
		equal(t, "Invites next", next, "")
		list, err = tx.InvitesForEmail("bob@example.com")
		noErr(t, "InvitesForEmail", err)
		equal(t, "InvitesForEmail bob", ids(list, func(i store.Invite) string { return i.ID }), []string{"inv_1", "inv_3"})
		return nil
	})

	// Accepting (status), a new token and a new email move the indexes.
	one.Status = store.InviteAccepted
	one.AcceptedBy = "bob"
	one.AcceptedAt = tp(t0)
	one.TokenHash = "h1b"
	one.Email = "robert@example.com"
	update(t, s, func(tx store.Tx) error { return tx.PutInvite(one) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.InviteByTokenHash("h1")
		wantErr(t, "InviteByTokenHash of the replaced hash", err, store.ErrNotFound)
		got, err := tx.InviteByTokenHash("h1b")
		noErr(t, "InviteByTokenHash of the new hash", err)
		equal(t, "InviteByTokenHash of the new hash", got, one)
		list, err := tx.InvitesForEmail("bob@example.com")
		noErr(t, "InvitesForEmail old email", err)
		equal(t, "InvitesForEmail old email", ids(list, func(i store.Invite) string { return i.ID }), []string{"inv_3"})
		list, err = tx.InvitesForEmail("robert@example.com")
		noErr(t, "InvitesForEmail new email", err)
		equal(t, "InvitesForEmail new email (all statuses)", list, []store.Invite{one})
		return nil
	})
	// The freed hash is free again.
	update(t, s, func(tx store.Tx) error { return tx.PutInvite(invite("inv_5", "ws_b", "eve@example.com", "h1")) })
}
