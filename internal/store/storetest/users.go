package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testUsers: User, PutUser (create, replace), Users.
func testUsers(t *testing.T, b Backend) {
	s := b.Open(t)
	u := store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t0, LastSeen: t0}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.User("alice")
		wantErr(t, "User of a missing user", err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutUser(u) })
	u.LastSeen = t0.Add(time.Minute)
	update(t, s, func(tx store.Tx) error {
		// A write is visible to the rest of its own transaction.
		if err := tx.PutUser(u); err != nil {
			return err
		}
		got, err := tx.User("alice")
		noErr(t, "User in the writing transaction", err)
		equal(t, "User in the writing transaction", got, u)
		return tx.PutUser(store.User{ID: "bob", FirstSeen: t0, LastSeen: t0})
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("alice")
		noErr(t, "User", err)
		equal(t, "User after replace", got, u)
		// Records are copies: changing one changes nothing stored.
		got.Email = "mallory@example.com"
		again, _ := tx.User("alice")
		equal(t, "User after modifying a returned copy", again, u)
		list, next, err := tx.Users("", 0)
		noErr(t, "Users", err)
		equal(t, "Users ids", ids(list, func(u store.User) string { return u.ID }), []string{"alice", "bob"})
		equal(t, "Users next", next, "")
		return nil
	})
}
