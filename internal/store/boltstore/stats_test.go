package boltstore

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestStats(t *testing.T) {
	s, _ := openT(t, Options{})
	del := t0
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 5; i++ {
			w := ws(fmt.Sprint("w", i), fmt.Sprint("s", i))
			if i >= 3 {
				w.DeletedAt = &del
			}
			if err := tx.PutWorkspace(w); err != nil {
				return err
			}
			for j := 0; j <= i; j++ {
				if err := tx.PutMember(member(w.ID, fmt.Sprint("u", j))); err != nil {
					return err
				}
			}
			if err := tx.PutRole(store.Role{WorkspaceID: w.ID, Slug: "r"}); err != nil {
				return err
			}
		}
		for _, u := range []string{"u0", "u1"} {
			if err := tx.PutUser(store.User{ID: u}); err != nil {
				return err
			}
		}
		return nil
	})
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(s.Path())
	want := store.Stats{Users: 2, Workspaces: 3, DeletedWorkspaces: 2, Memberships: 15, Roles: 5, SizeBytes: fi.Size()}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}
