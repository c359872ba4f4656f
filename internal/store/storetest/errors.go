package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testInvalid: writes of records no backend can store (an empty id, a NUL
// byte in a key) fail with ErrInvalid and write nothing; reads of such keys
// find nothing (ErrNotFound or an empty list), never an error of another
// kind, since a read key often comes straight from a request.
func testInvalid(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	before := export(t, s)
	for _, c := range []struct {
		name  string
		write func(tx store.Tx) error
	}{
		{"user with an empty id", func(tx store.Tx) error { return tx.PutUser(store.User{}) }},
		{"user id with NUL", func(tx store.Tx) error { return tx.PutUser(store.User{ID: "a\x00b"}) }},
		{"workspace with an empty id", func(tx store.Tx) error { return tx.PutWorkspace(ws("", "empty-id")) }},
		{"workspace with an empty slug", func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_x", "")) }},
		{"slug with NUL", func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_x", "a\x00b")) }},
		{"member with an empty user", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "", "admin")) }},
		{"member user with NUL", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "u\x00v", "admin")) }},
		{"role with an empty slug", func(tx store.Tx) error { return tx.PutRole(role("ws_a", "", "x:read")) }},
		{"invite with an empty id", func(tx store.Tx) error { return tx.PutInvite(invite("", "ws_a", "x@example.com", "h")) }},
		{"invite with an empty token hash", func(tx store.Tx) error { return tx.PutInvite(invite("inv_1", "ws_a", "x@example.com", "")) }},
		{"API key with an empty id", func(tx store.Tx) error { return tx.PutAPIKey(apiKey("", "ws_a")) }},
		{"signing key with an empty id", func(tx store.Tx) error { return tx.PutSigningKey(store.SigningKey{JWK: []byte(`{}`)}) }},
	} {
		err := s.Update(t.Context(), c.write)
		wantErr(t, c.name, err, store.ErrInvalid)
	}
	equal(t, "the store after refused writes", export(t, s), before)

	view(t, s, func(tx store.Tx) error {
		for _, id := range []string{"", "a\x00b"} {
			for name, err := range map[string]error{
				"User":              second(tx.User(id)),
				"Workspace":         second(tx.Workspace(id)),
				"WorkspaceBySlug":   second(tx.WorkspaceBySlug(id)),
				"Member":            second(tx.Member("ws_a", id)),
				"Role":              second(tx.Role(id, "admin")),
				"Invite":            second(tx.Invite(id)),
				"InviteByTokenHash": second(tx.InviteByTokenHash(id)),
				"APIKey":            second(tx.APIKey(id)),
			} {
				wantErr(t, name+" of "+quoteID(id), err, store.ErrNotFound)
			}
			ms, _, err := tx.Members(id, "", 0)
			if err != nil || len(ms) != 0 {
				t.Errorf("Members of %s: %d, %v; want none, nil", quoteID(id), len(ms), err)
			}
			evs, _, err := tx.Audit(id, "", 0)
			if err != nil || len(evs) != 0 {
				t.Errorf("Audit of %s: %d, %v; want none, nil", quoteID(id), len(evs), err)
			}
		}
		return nil
	})
}

func second[T any](_ T, err error) error { return err }

func quoteID(id string) string {
	if id == "" {
		return "an empty id"
	}
	return "an id with NUL"
}

// testTxMisuse: writes inside View fail and write nothing; so do writes on
// a Tx kept past its function. (Reads on such a Tx are not checked: the
// contract says only that it "must not be used".)
func testTxMisuse(t *testing.T, b Backend) {
	s := b.Open(t)
	var writeErr error
	view(t, s, func(tx store.Tx) error {
		writeErr = tx.PutUser(store.User{ID: "alice", FirstSeen: t0, LastSeen: t0})
		return nil
	})
	if writeErr == nil {
		t.Error("PutUser inside View succeeded")
	}
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	if err := leaked.PutUser(store.User{ID: "bob", FirstSeen: t0, LastSeen: t0}); err == nil {
		t.Error("PutUser on a Tx whose Update returned succeeded")
	}
	view(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	if err := leaked.PutUser(store.User{ID: "carol", FirstSeen: t0, LastSeen: t0}); err == nil {
		t.Error("PutUser on a Tx whose View returned succeeded")
	}
	view(t, s, func(tx store.Tx) error {
		users, _, err := tx.Users("", 0)
		noErr(t, "Users", err)
		equal(t, "users written by misused transactions", len(users), 0)
		return nil
	})
}
