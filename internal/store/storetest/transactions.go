package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The transaction contract (store package doc, "Transactions"): the
// failed-statement rule, touch writes, set-based reads.

// testDoom: an error other than ErrNotFound from a write method dooms the
// transaction: later calls (reads and writes) return it, and Update
// returns it and commits nothing although fn returns nil, also what fn
// wrote before the failure. The revision does not move.
func testDoom(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "acme")
	rev := s.Revision()

	err := s.Update(t.Context(), func(tx store.Tx) error {
		noErr(t, "PutUser before the failure", tx.PutUser(store.User{ID: "early", FirstSeen: t0, LastSeen: t0}))
		wantErr(t, "PutWorkspace with a taken slug", tx.PutWorkspace(ws("ws_b", "acme")), store.ErrSlugTaken)
		// Later calls report the first failure.
		wantErr(t, "PutUser after the failure", tx.PutUser(store.User{ID: "late", FirstSeen: t0, LastSeen: t0}), store.ErrSlugTaken)
		_, err := tx.Workspace("ws_a")
		wantErr(t, "Workspace after the failure", err, store.ErrSlugTaken)
		_, err = tx.AppendAudit(event("ws_a", "x", t0))
		wantErr(t, "AppendAudit after the failure", err, store.ErrSlugTaken)
		return nil // the caller "handled" it: the store must not commit anyway
	})
	wantErr(t, "Update of a doomed transaction", err, store.ErrSlugTaken)
	equal(t, "Revision after a doomed Update", s.Revision(), rev)
	view(t, s, func(tx store.Tx) error {
		for _, id := range []string{"early", "late"} {
			_, err := tx.User(id)
			wantErr(t, "User "+id+" of a doomed transaction", err, store.ErrNotFound)
		}
		_, err := tx.Workspace("ws_b")
		wantErr(t, "the refused workspace", err, store.ErrNotFound)
		items, _, err := tx.Audit("ws_a", "", 0)
		noErr(t, "Audit", err)
		equal(t, "audit events of a doomed transaction", len(items), 0)
		return nil
	})

	// ErrInvalid dooms too, whatever write made it.
	err = s.Update(t.Context(), func(tx store.Tx) error {
		noErr(t, "PutUser", tx.PutUser(store.User{ID: "kept-out", FirstSeen: t0, LastSeen: t0}))
		wantErr(t, "PutUser with an empty id", tx.PutUser(store.User{}), store.ErrInvalid)
		return nil
	})
	wantErr(t, "Update after ErrInvalid", err, store.ErrInvalid)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.User("kept-out")
		wantErr(t, "User of a transaction doomed by ErrInvalid", err, store.ErrNotFound)
		return nil
	})

	// Whatever fn returns: an error of fn's own after the failure does
	// not replace it (errors.Is finds the failure), and nothing commits.
	mine := errors.New("storetest: the caller's own error")
	err = s.Update(t.Context(), func(tx store.Tx) error {
		noErr(t, "PutUser", tx.PutUser(store.User{ID: "kept-out", FirstSeen: t0, LastSeen: t0}))
		if err := tx.PutWorkspace(ws("ws_c", "acme")); !errors.Is(err, store.ErrSlugTaken) {
			t.Errorf("PutWorkspace with a taken slug: %v", err)
		}
		return mine
	})
	wantErr(t, "Update of a doomed transaction whose fn failed too", err, store.ErrSlugTaken)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.User("kept-out")
		wantErr(t, "User of a failed transaction", err, store.ErrNotFound)
		return nil
	})
	equal(t, "Revision after failed Updates", s.Revision(), rev)
}

// testNotFoundKeepsTx: ErrNotFound, from reads and from writes, leaves the
// transaction usable: fn may look up, find nothing, create, and commit.
func testNotFoundKeepsTx(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "acme")
	update(t, s, func(tx store.Tx) error {
		_, err := tx.User("alice")
		wantErr(t, "User of a missing user", err, store.ErrNotFound)
		wantErr(t, "PutMember in a missing workspace", tx.PutMember(member("ws_missing", "alice")), store.ErrNotFound)
		wantErr(t, "DeleteMember of a missing member", tx.DeleteMember("ws_a", "nobody"), store.ErrNotFound)
		wantErr(t, "DeleteRole of a missing role", tx.DeleteRole("ws_a", "nope"), store.ErrNotFound)
		wantErr(t, "PutRole in a missing workspace", tx.PutRole(role("ws_missing", "r")), store.ErrNotFound)
		wantErr(t, "PutAPIKey in a missing workspace", tx.PutAPIKey(apiKey("k9", "ws_missing")), store.ErrNotFound)
		wantErr(t, "TouchAPIKey of a missing key", tx.TouchAPIKey("k_missing", t0), store.ErrNotFound)
		_, err = tx.PurgeWorkspace("ws_missing")
		wantErr(t, "PurgeWorkspace of a missing workspace", err, store.ErrNotFound)
		if err := tx.PutUser(store.User{ID: "alice", FirstSeen: t0, LastSeen: t0}); err != nil {
			return err
		}
		return tx.PutMember(member("ws_a", "alice", "admin"))
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.User("alice")
		noErr(t, "User written after ErrNotFound", err)
		_, err = tx.Member("ws_a", "alice")
		noErr(t, "Member written after ErrNotFound", err)
		return nil
	})
}

// testTouchUser: TouchUser creates a missing user with FirstSeen = LastSeen
// = at; on an existing one it moves LastSeen forward only and sets Email
// only when given, and changes nothing else.
func testTouchUser(t *testing.T, b Backend) {
	s := b.Open(t)
	getUser := func(id string) store.User {
		t.Helper()
		var u store.User
		view(t, s, func(tx store.Tx) (err error) { u, err = tx.User(id); return err })
		return u
	}
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)

	update(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "alice@example.com", t1) })
	equal(t, "a touched new user", getUser("alice"),
		store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t1, LastSeen: t1})
	update(t, s, func(tx store.Tx) error { return tx.TouchUser("bob", "", t1) })
	equal(t, "a touched new user without email", getUser("bob"), store.User{ID: "bob", FirstSeen: t1, LastSeen: t1})

	// Forward: LastSeen moves, FirstSeen stays, an empty email keeps the
	// stored one.
	update(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "", t2) })
	equal(t, "after a later touch", getUser("alice"),
		store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t1, LastSeen: t2})
	// Backward: LastSeen stays; a given email is still recorded.
	update(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "new@example.com", t0) })
	equal(t, "after an earlier touch", getUser("alice"),
		store.User{ID: "alice", Email: "new@example.com", FirstSeen: t1, LastSeen: t2})

	// Only its fields: a FirstSeen written by PutUser (an import, say)
	// survives a touch.
	update(t, s, func(tx store.Tx) error {
		return tx.PutUser(store.User{ID: "carol", Email: "carol@example.com", FirstSeen: t0, LastSeen: t0})
	})
	update(t, s, func(tx store.Tx) error { return tx.TouchUser("carol", "", t1) })
	equal(t, "a touch of an imported user", getUser("carol"),
		store.User{ID: "carol", Email: "carol@example.com", FirstSeen: t0, LastSeen: t1})

	// A touch in a transaction is visible to the rest of it.
	update(t, s, func(tx store.Tx) error {
		if err := tx.TouchUser("dave", "dave@example.com", t1); err != nil {
			return err
		}
		u, err := tx.User("dave")
		noErr(t, "User after TouchUser in the same transaction", err)
		equal(t, "User after TouchUser in the same transaction", u,
			store.User{ID: "dave", Email: "dave@example.com", FirstSeen: t1, LastSeen: t1})
		return nil
	})

	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchUser("", "x@example.com", t1) })
	wantErr(t, "TouchUser with an empty id", err, store.ErrInvalid)
	err = s.View(t.Context(), func(tx store.Tx) error { return tx.TouchUser("alice", "", t2) })
	if err == nil {
		t.Error("TouchUser in View: no error")
	}
}

// testTouchAPIKeyAfterRevoke: TouchAPIKey changes only LastUsedAt, only
// forward: a touch after a revoke leaves the key revoked and the rest of
// the record as the revoke wrote it.
func testTouchAPIKeyAfterRevoke(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "acme")
	k := apiKey("k1", "ws_a")
	update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(k) })
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", t2) })

	// The revoke is a read-modify-write of the whole record (as the API
	// does it); the touch that follows must not undo it.
	update(t, s, func(tx store.Tx) error {
		cur, err := tx.APIKey("k1")
		if err != nil {
			return err
		}
		cur.RevokedAt = tp(t1)
		cur.Name = "renamed at revoke"
		return tx.PutAPIKey(cur)
	})
	getKey := func() store.APIKey {
		t.Helper()
		var got store.APIKey
		view(t, s, func(tx store.Tx) (err error) { got, err = tx.APIKey("k1"); return err })
		return got
	}
	want := k
	want.RevokedAt, want.Name, want.LastUsedAt = tp(t1), "renamed at revoke", tp(t2)

	// Backward: nothing moves.
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", t1) })
	equal(t, "key after an earlier touch", getKey(), want)
	// Forward: only LastUsedAt.
	t3 := t2.Add(time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", t3) })
	want.LastUsedAt = tp(t3)
	equal(t, "revoked key after a later touch", getKey(), want)
}

// testByID: UsersByID and WorkspacesByID return the existing records among
// ids keyed by id: missing (and impossible) ids absent, duplicates
// allowed, empty input an empty map, deleted workspaces included, a
// transaction's own writes seen.
func testByID(t *testing.T, b Backend) {
	s := b.Open(t)
	alice := store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t0, LastSeen: t0}
	bob := store.User{ID: "bob", FirstSeen: t0, LastSeen: t0}
	live, gone := ws("ws_a", "acme"), ws("ws_b", "beta")
	gone.DeletedAt = tp(t0.Add(time.Hour))
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{tx.PutUser(alice), tx.PutUser(bob), tx.PutWorkspace(live), tx.PutWorkspace(gone)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		users, err := tx.UsersByID([]string{"alice", "nobody", "alice", "bob", "", "a\x00b"})
		noErr(t, "UsersByID", err)
		equal(t, "UsersByID", users, map[string]store.User{"alice": alice, "bob": bob})
		for name, in := range map[string][]string{"nil": nil, "empty": {}, "only missing": {"nobody", "x"}} {
			users, err := tx.UsersByID(in)
			noErr(t, "UsersByID "+name, err)
			if users == nil || len(users) != 0 {
				t.Errorf("UsersByID(%s) = %#v, want an empty map", name, users)
			}
			wss, err := tx.WorkspacesByID(in)
			noErr(t, "WorkspacesByID "+name, err)
			if wss == nil || len(wss) != 0 {
				t.Errorf("WorkspacesByID(%s) = %#v, want an empty map", name, wss)
			}
		}
		wss, err := tx.WorkspacesByID([]string{"ws_b", "ws_missing", "ws_a", "ws_b"})
		noErr(t, "WorkspacesByID", err)
		equal(t, "WorkspacesByID (deleted included)", wss, map[string]store.Workspace{"ws_a": live, "ws_b": gone})
		// The map holds copies.
		u := users["alice"]
		u.Email = "mallory@example.com"
		again, _ := tx.User("alice")
		equal(t, "User after modifying a UsersByID copy", again, alice)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		carol := store.User{ID: "carol", FirstSeen: t0, LastSeen: t0}
		if err := tx.PutUser(carol); err != nil {
			return err
		}
		users, err := tx.UsersByID([]string{"carol"})
		noErr(t, "UsersByID in the writing transaction", err)
		equal(t, "UsersByID in the writing transaction", users, map[string]store.User{"carol": carol})
		return nil
	})
}
