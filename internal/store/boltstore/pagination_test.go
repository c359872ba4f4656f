package boltstore

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- pagination

// walk pages through a list and returns every item key, checking the page
// invariants on the way.
func walk(t *testing.T, limit int, page func(cursor string) ([]string, string, error)) []string {
	t.Helper()
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not terminate")
		}
		keys, next, err := page(cursor)
		if err != nil {
			t.Fatal(err)
		}
		if limit > 0 && len(keys) > limit {
			t.Fatalf("page of %d items with limit %d", len(keys), limit)
		}
		if next != "" {
			if len(keys) == 0 {
				t.Fatalf("empty page with next %q", next)
			}
			if next != keys[len(keys)-1] {
				t.Fatalf("next %q is not the page's last key %q", next, keys[len(keys)-1])
			}
		}
		all = append(all, keys...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func TestPagination(t *testing.T) {
	s, _ := openT(t, Options{})
	const n = 10
	var wsIDs, userIDs []string
	update(t, s, func(tx store.Tx) error {
		// Neighbours that share a prefix with "w1" must not leak into its
		// lists.
		for _, id := range []string{"w0", "w1", "w10", "w1-"} {
			if err := tx.PutWorkspace(ws(id, "s-"+id)); err != nil {
				return err
			}
		}
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("u%02d", i)
			userIDs = append(userIDs, u)
			for _, w := range []string{"w0", "w1", "w10", "w1-"} {
				if err := tx.PutMember(member(w, u)); err != nil {
					return err
				}
			}
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("x%02d", i)
			if err := tx.PutWorkspace(ws(id, "s-"+id)); err != nil {
				return err
			}
			if err := tx.PutMember(member(id, "u00")); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		all, _, err := tx.Workspaces("", 0)
		for _, w := range all {
			wsIDs = append(wsIDs, w.ID)
		}
		return err
	})
	if len(wsIDs) != n+4 || !slices.IsSorted(wsIDs) {
		t.Fatalf("all workspaces: %q", wsIDs)
	}
	u00ws := []string{"w0", "w1", "w1-", "w10"}
	for i := 0; i < n; i++ {
		u00ws = append(u00ws, fmt.Sprintf("x%02d", i))
	}

	for _, limit := range []int{-1, 0, 1, 2, 3, 5, n - 1, n, n + 1, n + 4, 100} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			err := s.View(context.Background(), func(tx store.Tx) error {
				got := walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := tx.Workspaces(c, limit)
					var ids []string
					for _, w := range items {
						ids = append(ids, w.ID)
					}
					return ids, next, err
				})
				if !slices.Equal(got, wsIDs) {
					t.Errorf("Workspaces walk = %q, want %q", got, wsIDs)
				}
				got = walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := tx.Members("w1", c, limit)
					var ids []string
					for _, m := range items {
						if m.WorkspaceID != "w1" {
							t.Errorf("Members(w1) returned a member of %q", m.WorkspaceID)
						}
						ids = append(ids, m.UserID)
					}
					return ids, next, err
				})
				if !slices.Equal(got, userIDs) {
					t.Errorf("Members walk = %q, want %q", got, userIDs)
				}
				got = walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := tx.UserMemberships("u00", c, limit)
					var ids []string
					for _, m := range items {
						if m.UserID != "u00" {
							t.Errorf("UserMemberships(u00) returned a member %q", m.UserID)
						}
						ids = append(ids, m.WorkspaceID)
					}
					return ids, next, err
				})
				if !slices.Equal(got, u00ws) {
					t.Errorf("UserMemberships walk = %q, want %q", got, u00ws)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	view(t, s, func(tx store.Tx) error {
		// A page that ends exactly at the last record has no next.
		items, next, _ := tx.Members("w1", "u04", 5)
		if len(items) != 5 || next != "" {
			t.Errorf("exact last page: %d items, next %q", len(items), next)
		}
		items, next, _ = tx.Members("w1", "", n)
		if len(items) != n || next != "" {
			t.Errorf("exact single page: %d items, next %q", len(items), next)
		}
		// A cursor between keys, before all keys and after all keys.
		items, _, _ = tx.Members("w1", "u03x", 2)
		if len(items) != 2 || items[0].UserID != "u04" {
			t.Errorf("cursor between keys: %+v", items)
		}
		items, _, _ = tx.Members("w1", "a", 1)
		if len(items) != 1 || items[0].UserID != "u00" {
			t.Errorf("cursor before all keys: %+v", items)
		}
		items, next, _ = tx.Members("w1", "zzz", 0)
		if len(items) != 0 || next != "" {
			t.Errorf("cursor after all keys: %+v %q", items, next)
		}
		wss, next, _ := tx.Workspaces("x09", 3)
		if len(wss) != 0 || next != "" {
			t.Errorf("cursor at the last workspace: %+v %q", wss, next)
		}
		return nil
	})
}

// walkEachWorkspace pages through list(ws) for every workspace of want at
// limits around n, checking each walk yields exactly want[ws] and nothing
// of another workspace. ids returns a record's id and workspace id.
func walkEachWorkspace[T any](t *testing.T, s *Store, want map[string][]string, n int, name string,
	list func(tx store.Tx, ws, cursor string, limit int) ([]T, string, error), ids func(T) (id, ws string)) {
	t.Helper()
	for _, limit := range []int{-1, 0, 1, 2, 3, n - 1, n, n + 1, 100} {
		view(t, s, func(tx store.Tx) error {
			for w := range want {
				got := walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := list(tx, w, c, limit)
					var out []string
					for _, item := range items {
						id, ws := ids(item)
						if ws != w {
							t.Errorf("%s(%s) returned a record of %q", name, w, ws)
						}
						out = append(out, id)
					}
					return out, next, err
				})
				if !slices.Equal(got, want[w]) {
					t.Errorf("limit %d: %s(%s) walk = %q, want %q", limit, name, w, got, want[w])
				}
			}
			return nil
		})
	}
}
