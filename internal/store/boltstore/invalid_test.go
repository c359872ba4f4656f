package boltstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestInvalid(t *testing.T) {
	s, _ := openT(t, Options{})
	long := strings.Repeat("x", MaxIDLen+1)
	maxOK := strings.Repeat("y", MaxIDLen)
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })

	cases := []struct {
		name string
		op   func(tx store.Tx) error
	}{
		{"user empty id", func(tx store.Tx) error { return tx.PutUser(store.User{}) }},
		{"user NUL id", func(tx store.Tx) error { return tx.PutUser(store.User{ID: "a\x00b"}) }},
		{"user long id", func(tx store.Tx) error { return tx.PutUser(store.User{ID: long}) }},
		{"workspace empty id", func(tx store.Tx) error { return tx.PutWorkspace(ws("", "s")) }},
		{"workspace empty slug", func(tx store.Tx) error { return tx.PutWorkspace(ws("w2", "")) }},
		{"workspace NUL id", func(tx store.Tx) error { return tx.PutWorkspace(ws("w\x00", "s")) }},
		{"workspace NUL slug", func(tx store.Tx) error { return tx.PutWorkspace(ws("w2", "s\x00")) }},
		{"workspace long id", func(tx store.Tx) error { return tx.PutWorkspace(ws(long, "s")) }},
		{"workspace long slug", func(tx store.Tx) error { return tx.PutWorkspace(ws("w2", long)) }},
		{"member empty ws", func(tx store.Tx) error { return tx.PutMember(member("", "u")) }},
		{"member empty user", func(tx store.Tx) error { return tx.PutMember(member("w1", "")) }},
		{"member NUL user", func(tx store.Tx) error { return tx.PutMember(member("w1", "u\x00w1")) }},
		{"member long user", func(tx store.Tx) error { return tx.PutMember(member("w1", long)) }},
		{"delete member NUL", func(tx store.Tx) error { return tx.DeleteMember("w1\x00", "u") }},
		{"delete member empty", func(tx store.Tx) error { return tx.DeleteMember("w1", "") }},
		{"role empty slug", func(tx store.Tx) error { return tx.PutRole(store.Role{WorkspaceID: "w1"}) }},
		{"role NUL slug", func(tx store.Tx) error { return tx.PutRole(store.Role{WorkspaceID: "w1", Slug: "\x00"}) }},
		{"role empty ws", func(tx store.Tx) error { return tx.PutRole(store.Role{Slug: "r"}) }},
		{"delete role long", func(tx store.Tx) error { return tx.DeleteRole("w1", long) }},
	}
	for _, c := range cases {
		refused(t, s, func(tx store.Tx) error {
			err := c.op(tx)
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", c.name, err)
			} else if !strings.Contains(err.Error(), "boltstore: ") {
				t.Errorf("%s: error without detail: %v", c.name, err)
			}
			return nil
		})
	}
	st, _ := s.Stats(context.Background())
	if st.Users != 0 || st.Workspaces != 1 || st.Memberships != 0 || st.Roles != 0 {
		t.Errorf("invalid writes left records: %+v", st)
	}
	checkIndexes(t, s)

	// The longest valid id works.
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws(maxOK, maxOK)); err != nil {
			return err
		}
		return tx.PutMember(member(maxOK, maxOK))
	})
	// Reads of impossible keys find nothing (they usually come from a
	// request), rather than failing as a programming error.
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Member(maxOK, maxOK); err != nil {
			t.Errorf("max-length member: %v", err)
		}
		for _, id := range []string{"", "w1\x00", long} {
			if _, err := tx.Workspace(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Workspace(%q): %v", id, err)
			}
			if _, err := tx.WorkspaceBySlug(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("WorkspaceBySlug(%q): %v", id, err)
			}
			if _, err := tx.User(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("User(%q): %v", id, err)
			}
			if _, err := tx.Member("w1", id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Member(w1, %q): %v", id, err)
			}
			if _, err := tx.Role(id, "r"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Role(%q, r): %v", id, err)
			}
			if items, next, err := tx.Members(id, "", 0); err != nil || len(items) != 0 || next != "" {
				t.Errorf("Members(%q): %v %q %v", id, items, next, err)
			}
		}
		// A long id is not echoed whole into error messages.
		_, err := tx.Workspace(long)
		if len(err.Error()) > 200 {
			t.Errorf("error message of %d bytes", len(err.Error()))
		}
		return nil
	})
}
