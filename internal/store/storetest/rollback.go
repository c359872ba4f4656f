package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

var errRollback = errors.New("storetest: fn fails on purpose")

// testRollback: when fn returns an error, Update returns it (errors.Is) and
// nothing fn wrote is kept — new records, replaced and deleted ones, a
// purge, and every index (slug, user → workspace, token hash, email, audit
// workspaces) — and the change feed gets no commit.
func testRollback(t *testing.T, b Backend) {
	s := b.Open(t)
	rec := newRecorder(s)
	seedFull(t, s)
	rec.take(t)
	before := export(t, s)

	err := s.Update(t.Context(), func(tx store.Tx) error {
		w := ws("ws_new", "new-slug")
		a, err := tx.Workspace("ws_a")
		if err != nil {
			return err
		}
		a.Slug = "acme-renamed"
		k1, err := tx.APIKey("k1")
		if err != nil {
			return err
		}
		k1.RevokedAt = tp(t0)
		for _, err := range []error{
			tx.PutUser(store.User{ID: "zed", FirstSeen: t0, LastSeen: t0}),
			tx.PutWorkspace(w),
			tx.PutWorkspace(a),
			tx.PutMember(member("ws_new", "zed", "admin")),
			tx.DeleteMember("ws_a", "bob"),
			tx.PutRole(role("ws_new", "r", "x:read")),
			tx.DeleteRole("ws_a", "exporter"),
			tx.PutInvite(invite("inv_new", "ws_new", "zed@example.com", "hnew")),
			tx.PutAPIKey(apiKey("k_new", "ws_new")),
			tx.PutAPIKey(k1),
			tx.TouchAPIKey("k2", t0.Add(time.Hour)),
			tx.PutSigningKey(store.SigningKey{ID: "kid_new", JWK: []byte(`{}`), CreatedAt: t0}),
		} {
			if err != nil {
				return err
			}
		}
		if _, err := tx.AppendAudit(event("ws_new", "workspace.create", t0)); err != nil {
			return err
		}
		if _, err := tx.PurgeWorkspace("ws_b"); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, "Update whose fn fails", err, errRollback)
	rec.wantNoCommit(t, "a rolled-back Update")
	equal(t, "the store after a rolled-back Update", export(t, s), before)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.WorkspaceBySlug("new-slug")
		wantErr(t, "slug index after rollback", err, store.ErrNotFound)
		_, err = tx.WorkspaceBySlug("acme-renamed")
		wantErr(t, "renamed slug after rollback", err, store.ErrNotFound)
		got, err := tx.WorkspaceBySlug("acme")
		noErr(t, "the old slug after rollback", err)
		equal(t, "the old slug after rollback", got.ID, "ws_a")
		got, err = tx.WorkspaceBySlug("beta")
		noErr(t, "the purged slug after rollback", err)
		equal(t, "the purged slug after rollback", got.ID, "ws_b")
		ms, _, err := tx.UserMemberships("zed", "", 0)
		noErr(t, "user index after rollback", err)
		equal(t, "user index after rollback", len(ms), 0)
		ms, _, err = tx.UserMemberships("bob", "", 0)
		noErr(t, "user index of a deleted member after rollback", err)
		equal(t, "user index of a deleted member after rollback", len(ms), 1)
		_, err = tx.InviteByTokenHash("hnew")
		wantErr(t, "token index after rollback", err, store.ErrNotFound)
		inv, err := tx.InvitesForEmail("zed@example.com")
		noErr(t, "email index after rollback", err)
		equal(t, "email index after rollback", len(inv), 0)
		wss, _, err := tx.AuditWorkspaces("", 0)
		noErr(t, "AuditWorkspaces after rollback", err)
		equal(t, "AuditWorkspaces after rollback", wss, []string{store.GlobalAuditWorkspace, "ws_a"})
		return nil
	})
	// Nor is the audit sequence consumed in a way that collides: the next
	// append gets an id no event has.
	update(t, s, func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("ws_a", "member.put", t0))
		if err != nil {
			return err
		}
		for _, old := range before.Audit {
			if old.WorkspaceID == "ws_a" && old.ID == ev.ID {
				t.Errorf("AppendAudit after a rollback reused id %q", ev.ID)
			}
		}
		return nil
	})
}
