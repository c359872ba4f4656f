package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- helpers

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)

func openT(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func update(t testing.TB, s *Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// refused runs fn in an Update that one of its writes fails: the
// failed-statement rule (doom.go) makes the Update fail and keep nothing,
// whatever fn returns.
func refused(t testing.TB, s *Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err == nil {
		t.Fatal("Update committed after a failed write")
	}
}

func view(t testing.TB, s *Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func ws(id, slug string) store.Workspace {
	return store.Workspace{ID: id, Slug: slug, Name: "Workspace " + id, CreatedAt: t0, UpdatedAt: t0}
}

func member(wsID, userID string, roles ...string) store.Membership {
	return store.Membership{WorkspaceID: wsID, UserID: userID, Roles: roles, JoinedAt: t0, UpdatedAt: t0}
}

// recorder reads the store's change feed from its own cursor and turns
// each Change into a string ("ws <id> <slugs>", "member <ws> <user>",
// "apikey <ws> <key>").
type recorder struct {
	s     *Store
	since uint64
}

func newRecorder(s *Store) *recorder { return &recorder{s: s, since: s.Revision()} }

// take returns the changes of every commit after the cursor, checking the
// commits are gapless, and advances the cursor.
func (r *recorder) take(t testing.TB) []string {
	t.Helper()
	var out []string
	for {
		cms, err := r.s.Changes(context.Background(), r.since, 0)
		if err != nil {
			t.Fatalf("Changes(%d): %v", r.since, err)
		}
		if len(cms) == 0 {
			return out
		}
		for _, cm := range cms {
			if cm.Revision != r.since+1 {
				t.Fatalf("commit %d after %d: a gap in the feed", cm.Revision, r.since)
			}
			r.since = cm.Revision
			for _, c := range cm.Changes {
				switch c.Kind {
				case store.ChangeWorkspace:
					out = append(out, fmt.Sprintf("ws %s %v", c.WorkspaceID, c.Slugs))
				case store.ChangeMember:
					out = append(out, fmt.Sprintf("member %s %s", c.WorkspaceID, c.UserID))
				case store.ChangeAPIKey:
					out = append(out, fmt.Sprintf("apikey %s %s", c.WorkspaceID, c.KeyID))
				default:
					out = append(out, fmt.Sprintf("kind %d", c.Kind))
				}
			}
		}
	}
}

func wantEvents(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	got := r.take(t)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("feed changes:\n got %q\nwant %q", got, want)
	}
}

// checkIndexes walks the raw buckets and checks every secondary index
// against the records it indexes.
func checkIndexes(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		// slugs ↔ workspaces: a bijection.
		wsSlug := map[string]string{}
		err := tx.Bucket(bucketWorkspaces).ForEach(func(k, v []byte) error {
			var w store.Workspace
			if err := unmarshal(v, &w, bucketWorkspaces, k); err != nil {
				return err
			}
			if w.ID != string(k) {
				return fmt.Errorf("workspace key %q holds id %q", k, w.ID)
			}
			wsSlug[w.ID] = w.Slug
			return nil
		})
		if err != nil {
			return err
		}
		n := 0
		err = tx.Bucket(bucketSlugs).ForEach(func(k, v []byte) error {
			n++
			if wsSlug[string(v)] != string(k) {
				return fmt.Errorf("slug %q → %q, but that workspace has slug %q", k, v, wsSlug[string(v)])
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n != len(wsSlug) {
			return fmt.Errorf("%d slugs for %d workspaces", n, len(wsSlug))
		}
		// members ↔ user_ws.
		memberKeys := map[string]bool{}
		err = tx.Bucket(bucketMembers).ForEach(func(k, v []byte) error {
			var m store.Membership
			if err := unmarshal(v, &m, bucketMembers, k); err != nil {
				return err
			}
			if string(k) != m.WorkspaceID+"\x00"+m.UserID {
				return fmt.Errorf("member key %q holds %s/%s", k, m.WorkspaceID, m.UserID)
			}
			if _, ok := wsSlug[m.WorkspaceID]; !ok {
				return fmt.Errorf("member %q of a missing workspace", k)
			}
			memberKeys[m.UserID+"\x00"+m.WorkspaceID] = true
			return nil
		})
		if err != nil {
			return err
		}
		n = 0
		err = tx.Bucket(bucketUserWS).ForEach(func(k, v []byte) error {
			n++
			if !memberKeys[string(k)] {
				return fmt.Errorf("user_ws %q has no membership", k)
			}
			if len(v) != 0 {
				return fmt.Errorf("user_ws %q has value %q", k, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n != len(memberKeys) {
			return fmt.Errorf("%d user_ws entries for %d memberships", n, len(memberKeys))
		}
		err = tx.Bucket(bucketRoles).ForEach(func(k, v []byte) error {
			var r store.Role
			if err := unmarshal(v, &r, bucketRoles, k); err != nil {
				return err
			}
			if string(k) != r.WorkspaceID+"\x00"+r.Slug {
				return fmt.Errorf("role key %q holds %s/%s", k, r.WorkspaceID, r.Slug)
			}
			if _, ok := wsSlug[r.WorkspaceID]; !ok {
				return fmt.Errorf("role %q of a missing workspace", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := checkInviteIndexes(tx, wsSlug); err != nil {
			return err
		}
		return checkAPIKeyIndexes(tx, wsSlug)
	})
	if err != nil {
		t.Fatalf("index check: %v", err)
	}
}
