package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testPurge: PurgeWorkspace removes the workspace and everything of it
// (users stay with their other memberships), counts what it removed, frees
// the slug, records the promised changes in the feed, and leaves room for the
// tombstone in the same transaction.
func testPurge(t *testing.T, b Backend) {
	s := b.Open(t)
	rec := newRecorder(s)
	seedWorkspace(t, s, "ws_a", "acme")
	seedWorkspace(t, s, "ws_b", "beta")
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.PutUser(store.User{ID: "alice", FirstSeen: t0, LastSeen: t0}),
			tx.PutMember(member("ws_a", "alice", "admin")),
			tx.PutMember(member("ws_a", "bob", "viewer")),
			tx.PutMember(member("ws_b", "alice", "admin")),
			tx.PutRole(role("ws_a", "exporter", "x:read")),
			tx.PutInvite(invite("inv_1", "ws_a", "carol@example.com", "h1")),
			tx.PutAPIKey(apiKey("k1", "ws_a")),
			tx.PutAPIKey(apiKey("k2", "ws_b")),
		} {
			if err != nil {
				return err
			}
		}
		_, err := tx.AppendAudit(event("ws_a", "member.put", t0))
		return err
	})
	rec.take(t)

	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.PurgeWorkspace("ws_missing")
		return err
	})
	wantErr(t, "PurgeWorkspace of a missing workspace", err, store.ErrNotFound)
	var tomb store.AuditEvent
	update(t, s, func(tx store.Tx) error {
		p, err := tx.PurgeWorkspace("ws_a")
		if err != nil {
			return err
		}
		equal(t, "Purged", p, store.Purged{Members: 2, Roles: 1, Invites: 1, APIKeys: 1, AuditEvents: 1})
		tomb, err = tx.AppendAudit(event("ws_a", "workspace.purge", t0))
		return err
	})
	rec.wantCalls(t, "PurgeWorkspace", "ws ws_a true", "member ws_a alice", "member ws_a bob", "apikey ws_a k1")
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Workspace("ws_a")
		wantErr(t, "Workspace after purge", err, store.ErrNotFound)
		_, err = tx.WorkspaceBySlug("acme")
		wantErr(t, "WorkspaceBySlug after purge", err, store.ErrNotFound)
		_, err = tx.Member("ws_a", "alice")
		wantErr(t, "Member after purge", err, store.ErrNotFound)
		_, err = tx.Role("ws_a", "exporter")
		wantErr(t, "Role after purge", err, store.ErrNotFound)
		_, err = tx.Invite("inv_1")
		wantErr(t, "Invite after purge", err, store.ErrNotFound)
		_, err = tx.InviteByTokenHash("h1")
		wantErr(t, "InviteByTokenHash after purge", err, store.ErrNotFound)
		inv, err := tx.InvitesForEmail("carol@example.com")
		noErr(t, "InvitesForEmail after purge", err)
		equal(t, "InvitesForEmail after purge", len(inv), 0)
		_, err = tx.APIKey("k1")
		wantErr(t, "APIKey after purge", err, store.ErrNotFound)
		_, err = tx.User("alice")
		noErr(t, "the user stays", err)
		ms, _, err := tx.UserMemberships("alice", "", 0)
		noErr(t, "UserMemberships after purge", err)
		equal(t, "UserMemberships after purge", ids(ms, func(m store.Membership) string { return m.WorkspaceID }), []string{"ws_b"})
		_, err = tx.APIKey("k2")
		noErr(t, "the other workspace's key stays", err)
		evs, _, err := tx.Audit("ws_a", "", 0)
		noErr(t, "Audit after purge", err)
		equal(t, "only the tombstone is left", evs, []store.AuditEvent{tomb})
		wss, _, err := tx.AuditWorkspaces("", 0)
		noErr(t, "AuditWorkspaces after purge", err)
		equal(t, "AuditWorkspaces keeps the purged workspace", wss, []string{"ws_a"})
		return nil
	})
	// The slug is free again.
	seedWorkspace(t, s, "ws_c", "acme")
}
