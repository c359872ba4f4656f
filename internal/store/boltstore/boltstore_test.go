package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
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

// recorder is a ChangeListener that records its calls.
type recorder struct {
	mu     sync.Mutex
	events []string
	hook   func() // called on every event, e.g. to check visibility
}

func (r *recorder) WorkspaceChanged(id string, slugs bool) {
	r.add(fmt.Sprintf("ws %s %v", id, slugs))
}

func (r *recorder) MemberChanged(wsID, userID string) {
	r.add(fmt.Sprintf("member %s %s", wsID, userID))
}

func (r *recorder) APIKeyChanged(wsID, keyID string) {
	r.add(fmt.Sprintf("apikey %s %s", wsID, keyID))
}

func (r *recorder) add(e string) {
	if r.hook != nil {
		r.hook()
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// take returns and clears the recorded events.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

func wantEvents(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	got := r.take()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("listener events:\n got %q\nwant %q", got, want)
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

// ---- open

func TestOpenCreatesFileDirAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "gatehouse.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q", s.Path())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %v, want 0600", perm)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("parent dir: %v %v", di.Mode(), err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keySchemaVersion); string(v) != "1" {
			return fmt.Errorf("schema_version = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Reopening an initialized file works and keeps the data.
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	view(t, s2, func(tx store.Tx) error {
		_, err := tx.WorkspaceBySlug("one")
		return err
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openT(t, Options{})
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("7"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("readOnly=%v: got %v, want ErrSchemaTooNew", ro, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "version 7") || !strings.Contains(msg, path) || !strings.Contains(msg, "upgrade") {
			t.Errorf("unclear error: %s", msg)
		}
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()

	// A bbolt file of somebody else's.
	foreign := filepath.Join(dir, "acme.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("acme"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(foreign, Options{}); !errors.Is(err, ErrNotGatehouseStore) {
		t.Errorf("foreign bbolt file: %v", err)
	}
	// It was not modified.
	db, err = bbolt.Open(foreign, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			t.Error("Open added buckets to a foreign file")
		}
		return nil
	})
	db.Close()

	// Not a bbolt file at all.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk, Options{}); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk file: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	s, path := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		return tx.PutMember(member("w1", "u1", "owner"))
	})
	s.Close()

	r1, err := Open(path, Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	// Read-only opens share the file.
	r2, err := Open(path, Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("second read-only open: %v", err)
	}
	defer r2.Close()
	view(t, r2, func(tx store.Tx) error {
		_, err := tx.Member("w1", "u1")
		return err
	})
	ran := false
	err = r1.Update(context.Background(), func(store.Tx) error { ran = true; return nil })
	if !errors.Is(err, ErrReadOnly) || ran {
		t.Errorf("Update on a read-only store: err=%v ran=%v", err, ran)
	}
	st, err := r1.Stats(context.Background())
	if err != nil || st.Workspaces != 1 || st.Memberships != 1 {
		t.Errorf("Stats: %+v %v", st, err)
	}
	// A writer is excluded while readers hold the file.
	if _, err := Open(path, Options{Timeout: 100 * time.Millisecond}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("read-write open while read-only opens hold the file: %v", err)
	}

	// A missing file is an error in read-only mode, and is not created.
	missing := filepath.Join(t.TempDir(), "nope", "missing.db")
	if _, err := Open(missing, Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open of a missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open created the directory: %v", err)
	}
}

func TestErrLocked(t *testing.T) {
	s, path := openT(t, Options{})
	for _, ro := range []bool{false, true} {
		start := time.Now()
		s2, err := Open(path, Options{Timeout: 150 * time.Millisecond, ReadOnly: ro})
		took := time.Since(start)
		if err == nil {
			s2.Close()
			t.Fatalf("readOnly=%v: second Open of a held file succeeded", ro)
		}
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("readOnly=%v: got %v, want ErrLocked", ro, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, path) || !strings.Contains(msg, "is Gatehouse running?") {
			t.Errorf("message lacks the path or the hint: %s", msg)
		}
		if took < 100*time.Millisecond || took > 3*time.Second {
			t.Errorf("took %v with a 150ms timeout", took)
		}
	}
	// Released by Close.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, Options{Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func TestCloseIsIdempotent(t *testing.T) {
	s, _ := openT(t, Options{})
	for i := 0; i < 3; i++ {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	ctx := context.Background()
	if err := s.View(ctx, func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close: %v", err)
	}
	if err := s.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
	if _, err := s.Stats(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close: %v", err)
	}
}

// ---- CRUD

func TestUserCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	u := store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.User("alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing user: %v", err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutUser(u) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("alice")
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("User = %+v, %v; want %+v", got, err, u)
		}
		return nil
	})
	u.LastSeen = t0.Add(2 * time.Hour)
	u.Email = ""
	update(t, s, func(tx store.Tx) error { return tx.PutUser(u) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("alice")
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("replaced User = %+v, %v; want %+v", got, err, u)
		}
		return nil
	})
}

func TestWorkspaceCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	w := ws("w1", "acme")
	w.Description = "the acme workspace"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Workspace("w1")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("Workspace = %+v, %v", got, err)
		}
		got, err = tx.WorkspaceBySlug("acme")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("WorkspaceBySlug = %+v, %v", got, err)
		}
		if _, err := tx.Workspace("w2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing id: %v", err)
		}
		if _, err := tx.WorkspaceBySlug("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing slug: %v", err)
		}
		// The id is not a slug and vice versa.
		if _, err := tx.WorkspaceBySlug("w1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("id as slug: %v", err)
		}
		if _, err := tx.Workspace("acme"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("slug as id: %v", err)
		}
		return nil
	})

	// Replace; soft delete: still readable by id and slug.
	w.Name = "Acme Corp"
	del := t0.Add(time.Minute)
	w.DeletedAt = &del
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WorkspaceBySlug("acme")
		if err != nil || !got.Deleted() || got.Name != "Acme Corp" || !got.DeletedAt.Equal(del) {
			t.Errorf("deleted workspace by slug = %+v, %v", got, err)
		}
		got, err = tx.Workspace("w1")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("deleted workspace by id = %+v, %v", got, err)
		}
		return nil
	})
	checkIndexes(t, s)
}

func TestSlugIndex(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("a", "alpha")); err != nil {
			return err
		}
		return tx.PutWorkspace(ws("b", "beta"))
	})

	t.Run("taken", func(t *testing.T) {
		// The conflict is reported, leaves nothing behind, and the caller
		// may go on and commit the rest of its transaction.
		update(t, s, func(tx store.Tx) error {
			if err := tx.PutWorkspace(ws("c", "alpha")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("new workspace with a taken slug: %v", err)
			}
			if err := tx.PutWorkspace(ws("b", "alpha")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("rename onto a taken slug: %v", err)
			}
			return tx.PutWorkspace(ws("c", "gamma"))
		})
		view(t, s, func(tx store.Tx) error {
			for slug, id := range map[string]string{"alpha": "a", "beta": "b", "gamma": "c"} {
				if w, err := tx.WorkspaceBySlug(slug); err != nil || w.ID != id {
					t.Errorf("slug %s → %+v, %v; want %s", slug, w, err, id)
				}
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("rename frees the old slug", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("a", "alpha2")) })
		view(t, s, func(tx store.Tx) error {
			if _, err := tx.WorkspaceBySlug("alpha"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("old slug still resolves: %v", err)
			}
			if w, err := tx.WorkspaceBySlug("alpha2"); err != nil || w.ID != "a" {
				t.Errorf("new slug: %+v %v", w, err)
			}
			return nil
		})
		// Somebody else may take the freed slug.
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("d", "alpha")) })
		checkIndexes(t, s)
	})

	t.Run("swap in one transaction", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			for _, w := range []store.Workspace{ws("a", "tmp"), ws("d", "alpha2"), ws("a", "alpha")} {
				if err := tx.PutWorkspace(w); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, s, func(tx store.Tx) error {
			if w, _ := tx.WorkspaceBySlug("alpha"); w.ID != "a" {
				t.Errorf("alpha → %q", w.ID)
			}
			if w, _ := tx.WorkspaceBySlug("alpha2"); w.ID != "d" {
				t.Errorf("alpha2 → %q", w.ID)
			}
			if _, err := tx.WorkspaceBySlug("tmp"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("tmp: %v", err)
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("deleted workspace keeps its slug", func(t *testing.T) {
		w := ws("b", "beta")
		del := t0
		w.DeletedAt = &del
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
		update(t, s, func(tx store.Tx) error {
			if err := tx.PutWorkspace(ws("e", "beta")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("taking a deleted workspace's slug: %v", err)
			}
			return nil
		})
		// Restore: same slug, still its own.
		w.DeletedAt = nil
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
		view(t, s, func(tx store.Tx) error {
			if got, err := tx.WorkspaceBySlug("beta"); err != nil || got.ID != "b" || got.Deleted() {
				t.Errorf("restored: %+v %v", got, err)
			}
			return nil
		})
		checkIndexes(t, s)
	})
}

func TestMemberCRUDAndUserIndex(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"w1", "w2", "w10"} {
			if err := tx.PutWorkspace(ws(id, "slug-"+id)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutMember(member("nope", "u1", "owner")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("member of a missing workspace: %v", err)
		}
		return nil
	})
	m := member("w1", "u1", "owner", "custom")
	m.Grants = []string{"message.send"}
	m.Denies = []string{"contact.read"}
	m.Restrictions = map[string][]string{"instance": {"i1", "i2"}}
	update(t, s, func(tx store.Tx) error {
		for _, x := range []store.Membership{m, member("w10", "u1", "viewer"), member("w1", "u2", "viewer"), member("w2", "u2")} {
			if err := tx.PutMember(x); err != nil {
				return err
			}
		}
		return nil
	})
	checkIndexes(t, s)
	var kept store.Membership
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Member("w1", "u1")
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Member = %+v, %v; want %+v", got, err, m)
		}
		kept = got
		if _, err := tx.Member("w2", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing member: %v", err)
		}
		items, next, err := tx.UserMemberships("u1", "", 0)
		if err != nil || next != "" || len(items) != 2 || items[0].WorkspaceID != "w1" || items[1].WorkspaceID != "w10" {
			t.Errorf("UserMemberships(u1) = %+v %q %v", items, next, err)
		}
		items, _, _ = tx.Members("w1", "", 0)
		if len(items) != 2 || items[0].UserID != "u1" || items[1].UserID != "u2" {
			t.Errorf("Members(w1) = %+v", items)
		}
		return nil
	})
	// Returned records are copies: usable after the transaction, and
	// changing them changes nothing stored.
	kept.Roles[0] = "hacked"
	kept.Restrictions["instance"][0] = "hacked"
	kept.Restrictions["new"] = nil
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.Member("w1", "u1")
		if !reflect.DeepEqual(got, m) {
			t.Errorf("stored member changed through a returned copy: %+v", got)
		}
		return nil
	})

	// Replace: still one index entry, new content.
	m2 := member("w1", "u1", "viewer")
	update(t, s, func(tx store.Tx) error { return tx.PutMember(m2) })
	checkIndexes(t, s)
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.Member("w1", "u1")
		if !reflect.DeepEqual(got, m2) {
			t.Errorf("replaced member = %+v", got)
		}
		items, _, _ := tx.UserMemberships("u1", "", 0)
		if len(items) != 2 || !reflect.DeepEqual(items[0], m2) {
			t.Errorf("UserMemberships after replace = %+v", items)
		}
		return nil
	})

	// Delete.
	update(t, s, func(tx store.Tx) error { return tx.DeleteMember("w1", "u1") })
	checkIndexes(t, s)
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Member("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted member: %v", err)
		}
		items, _, _ := tx.UserMemberships("u1", "", 0)
		if len(items) != 1 || items[0].WorkspaceID != "w10" {
			t.Errorf("UserMemberships after delete = %+v", items)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteMember("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting a missing member: %v", err)
		}
		return nil
	})
	// Empty lists are empty, not nil (they become JSON arrays).
	view(t, s, func(tx store.Tx) error {
		items, next, err := tx.UserMemberships("nobody", "", 10)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("UserMemberships(nobody) = %#v %q %v", items, next, err)
		}
		items, next, err = tx.Members("w-none", "", 10)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("Members(w-none) = %#v %q %v", items, next, err)
		}
		return nil
	})
}

func TestRoleCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		return tx.PutWorkspace(ws("w10", "ten"))
	})
	role := func(wsID, slug string, perms ...string) store.Role {
		return store.Role{WorkspaceID: wsID, Slug: slug, Name: strings.ToUpper(slug), Permissions: perms, CreatedAt: t0, UpdatedAt: t0}
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRole(role("nope", "r")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("role of a missing workspace: %v", err)
		}
		for _, r := range []store.Role{role("w1", "support", "contact.read"), role("w1", "agent", "message.*"), role("w10", "other", "x")} {
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Role("w1", "agent")
		if err != nil || !reflect.DeepEqual(got, role("w1", "agent", "message.*")) {
			t.Errorf("Role = %+v %v", got, err)
		}
		if _, err := tx.Role("w1", "other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another workspace's role: %v", err)
		}
		roles, err := tx.Roles("w1")
		if err != nil || len(roles) != 2 || roles[0].Slug != "agent" || roles[1].Slug != "support" {
			t.Errorf("Roles(w1) = %+v %v", roles, err)
		}
		if roles, _ := tx.Roles("w2"); roles == nil || len(roles) != 0 {
			t.Errorf("Roles(w2) = %#v", roles)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutRole(role("w1", "agent", "message.read")) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteRole("w1", "support") })
	view(t, s, func(tx store.Tx) error {
		roles, _ := tx.Roles("w1")
		if len(roles) != 1 || !reflect.DeepEqual(roles[0].Permissions, []string{"message.read"}) {
			t.Errorf("Roles(w1) after replace+delete = %+v", roles)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteRole("w1", "support"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting a missing role: %v", err)
		}
		return nil
	})
	checkIndexes(t, s)
}

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

// ---- transactions

type codedError struct{ code string }

func (e *codedError) Error() string { return "coded: " + e.code }

func TestRollbackWritesNothingAndNotifiesNobody(t *testing.T) {
	rec := &recorder{}
	s, _ := openT(t, Options{Listener: rec})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w0", "zero")) })
	rec.take()
	before, _ := s.Stats(context.Background())

	sentinel := &codedError{"last_admin"}
	calls := 0
	err := s.Update(context.Background(), func(tx store.Tx) error {
		calls++
		steps := []error{
			tx.PutUser(store.User{ID: "u1"}),
			tx.PutWorkspace(ws("w1", "one")),
			tx.PutWorkspace(ws("w0", "zero-renamed")),
			tx.PutMember(member("w1", "u1", "owner")),
			tx.PutRole(store.Role{WorkspaceID: "w1", Slug: "r"}),
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		return fmt.Errorf("check failed: %w", sentinel)
	})
	if calls != 1 {
		t.Errorf("fn ran %d times", calls)
	}
	var ce *codedError
	if !errors.As(err, &ce) || ce != sentinel {
		t.Errorf("Update error = %v, want the caller's error", err)
	}
	// Returned unchanged, not wrapped.
	err = s.Update(context.Background(), func(tx store.Tx) error { return sentinel })
	if err != error(sentinel) {
		t.Errorf("Update error = %#v, want exactly the sentinel", err)
	}
	wantEvents(t, rec)
	after, _ := s.Stats(context.Background())
	before.FileSizeBytes, after.FileSizeBytes = 0, 0
	if before != after {
		t.Errorf("stats changed by a rolled-back Update: %+v → %+v", before, after)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.User("u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user written by a rolled-back tx: %v", err)
		}
		if _, err := tx.WorkspaceBySlug("one"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("workspace written by a rolled-back tx: %v", err)
		}
		if w, err := tx.WorkspaceBySlug("zero"); err != nil || w.ID != "w0" {
			t.Errorf("rename survived the rollback: %+v %v", w, err)
		}
		return nil
	})
	checkIndexes(t, s)

	// A panic in fn rolls back too, and notifies nobody.
	func() {
		defer func() { _ = recover() }()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			_ = tx.PutWorkspace(ws("w2", "two"))
			panic("boom")
		})
	}()
	wantEvents(t, rec)
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Workspace("w2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("workspace written by a panicking tx: %v", err)
		}
		return nil
	})
}

func TestListener(t *testing.T) {
	rec := &recorder{}
	s, _ := openT(t, Options{Listener: rec})

	// Called after the commit: the data is visible to a new reader from
	// inside the callback (and the callback does not deadlock).
	var visible []bool
	rec.hook = func() {
		err := s.View(context.Background(), func(tx store.Tx) error {
			_, err := tx.Workspace("w1")
			visible = append(visible, err == nil)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	update(t, s, func(tx store.Tx) error {
		steps := []error{
			tx.PutUser(store.User{ID: "u1"}),      // users: nothing
			tx.PutWorkspace(ws("w1", "one")),      // create: slugs changed
			tx.PutWorkspace(ws("w1", "one")),      // dedup
			tx.PutMember(member("w1", "u1")),      // member
			tx.PutMember(member("w1", "u1", "x")), // dedup
			tx.PutWorkspace(ws("w2", "two")),
			tx.PutRole(store.Role{WorkspaceID: "w2", Slug: "r"}), // w2 again: dedup, keeps true
			tx.PutMember(member("w2", "u1")),
			tx.DeleteMember("w1", "u1"), // dedup with the put
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		// Nothing is announced before the commit.
		if got := rec.take(); len(got) != 0 {
			t.Errorf("listener called inside the transaction: %q", got)
		}
		return nil
	})
	wantEvents(t, rec, "ws w1 true", "ws w2 true", "member w1 u1", "member w2 u1")
	if !slices.Equal(visible, []bool{true, true, true, true}) {
		t.Errorf("data visible from the listener: %v", visible)
	}
	rec.hook = nil

	w := ws("w1", "one")
	w.Name = "renamed"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	wantEvents(t, rec, "ws w1 false") // same slug, same deletion state

	w.Slug = "uno"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	wantEvents(t, rec, "ws w1 true") // slug edit

	del := t0
	w.DeletedAt = &del
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	wantEvents(t, rec, "ws w1 true") // delete

	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	wantEvents(t, rec, "ws w1 false") // still deleted

	w.DeletedAt = nil
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	wantEvents(t, rec, "ws w1 true") // restore

	// slugsChanged is OR-ed over the transaction, whatever the order.
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRole(store.Role{WorkspaceID: "w1", Slug: "r"}); err != nil {
			return err
		}
		w.Slug = "one"
		return tx.PutWorkspace(w)
	})
	wantEvents(t, rec, "ws w1 true")

	update(t, s, func(tx store.Tx) error { return tx.DeleteRole("w1", "r") })
	wantEvents(t, rec, "ws w1 false")

	update(t, s, func(tx store.Tx) error { return tx.PutMember(member("w1", "u2")) })
	wantEvents(t, rec, "member w1 u2")

	update(t, s, func(tx store.Tx) error { return tx.DeleteMember("w1", "u2") })
	wantEvents(t, rec, "member w1 u2")

	// Users only, reads only, or failed writes whose error the caller
	// handled: nothing to announce.
	update(t, s, func(tx store.Tx) error { return tx.PutUser(store.User{ID: "u9"}) })
	update(t, s, func(tx store.Tx) error { _, err := tx.Workspace("w1"); return err })
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w3", "two")); !errors.Is(err, store.ErrSlugTaken) {
			t.Errorf("expected ErrSlugTaken, got %v", err)
		}
		if err := tx.PutMember(member("missing", "u1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expected ErrNotFound, got %v", err)
		}
		if err := tx.DeleteMember("w1", "u2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expected ErrNotFound, got %v", err)
		}
		return nil
	})
	wantEvents(t, rec)
}

// A commit that fails after fn succeeded still invalidates: bbolt may have
// made the new data visible before reporting the failure, and an extra
// invalidation costs only a cache miss.
func TestListenerOnFailedCommit(t *testing.T) {
	rec := &recorder{}
	s, _ := openT(t, Options{Listener: rec, boltOptions: func(o *bbolt.Options) { o.MaxSize = 1 << 20 }})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	rec.take()
	big := member("w1", "u1")
	big.Grants = []string{strings.Repeat("g", 4<<20)}
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.PutMember(big) })
	if err == nil {
		t.Fatal("a write beyond MaxSize committed")
	}
	wantEvents(t, rec, "member w1 u1")
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Member("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("failed commit left the member: %v", err)
		}
		return nil
	})
	// The store still works.
	update(t, s, func(tx store.Tx) error { return tx.PutMember(member("w1", "u1")) })
	wantEvents(t, rec, "member w1 u1")
}

func TestTxMisuse(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	var leaked store.Tx
	view(t, s, func(tx store.Tx) error {
		leaked = tx
		if err := tx.PutUser(store.User{ID: "u"}); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("write in View: %v", err)
		}
		if err := tx.DeleteRole("w1", "r"); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("delete in View: %v", err)
		}
		return nil
	})
	if _, err := leaked.Workspace("w1"); !errors.Is(err, ErrTxDone) {
		t.Errorf("read after View returned: %v", err)
	}
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	if err := leaked.PutUser(store.User{ID: "u"}); !errors.Is(err, ErrTxDone) {
		t.Errorf("write after Update returned: %v", err)
	}
	if _, _, err := leaked.Workspaces("", 0); !errors.Is(err, ErrTxDone) {
		t.Errorf("list after Update returned: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	s, _ := openT(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(store.Tx) error { ran = true; return nil }
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View: %v", err)
	}
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update: %v", err)
	}
	if _, err := s.Stats(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stats: %v", err)
	}
	if ran {
		t.Error("fn ran with a cancelled context")
	}

	// Cancelled while waiting for the writer lock: fn does not run.
	hold, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.Update(context.Background(), func(store.Tx) error {
			close(hold)
			<-release
			return nil
		})
	}()
	<-hold
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Update(ctx2, fn) }()
	time.Sleep(20 * time.Millisecond)
	cancel2()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update cancelled while queued: err=%v ran=%v", err, ran)
	}
}

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
		update(t, s, func(tx store.Tx) error {
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
	want := store.Stats{Users: 2, Workspaces: 3, DeletedWorkspaces: 2, Memberships: 15, Roles: 5, FileSizeBytes: fi.Size()}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

// ---- durability and concurrency

func TestDurableAcrossReopen(t *testing.T) {
	s, path := openT(t, Options{})
	m := member("w1", "u1", "owner")
	m.Restrictions = map[string][]string{"chat": {"assigned_only"}}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		if err := tx.PutUser(store.User{ID: "u1", Email: "u1@example.com", FirstSeen: t0, LastSeen: t0}); err != nil {
			return err
		}
		if err := tx.PutRole(store.Role{WorkspaceID: "w1", Slug: "r", Permissions: []string{"a.b"}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		return tx.PutMember(m)
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	view(t, s2, func(tx store.Tx) error {
		if w, err := tx.WorkspaceBySlug("one"); err != nil || w.ID != "w1" {
			t.Errorf("workspace after reopen: %+v %v", w, err)
		}
		if u, err := tx.User("u1"); err != nil || u.Email != "u1@example.com" {
			t.Errorf("user after reopen: %+v %v", u, err)
		}
		if r, err := tx.Role("w1", "r"); err != nil || !reflect.DeepEqual(r.Permissions, []string{"a.b"}) {
			t.Errorf("role after reopen: %+v %v", r, err)
		}
		if got, err := tx.Member("w1", "u1"); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("member after reopen: %+v %v", got, err)
		}
		if items, _, err := tx.UserMemberships("u1", "", 0); err != nil || len(items) != 1 {
			t.Errorf("user index after reopen: %+v %v", items, err)
		}
		return nil
	})
	checkIndexes(t, s2)
}

// Eight writers doing read-modify-write on the same membership: Updates are
// serialized, so no increment is lost. Readers run alongside.
func TestConcurrentReadModifyWrite(t *testing.T) {
	s, _ := openT(t, Options{Listener: &recorder{}})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		return tx.PutMember(member("w1", "u1", "owner"))
	})
	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			last := -1
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.View(context.Background(), func(tx store.Tx) error {
					m, err := tx.Member("w1", "u1")
					if err != nil {
						return err
					}
					if len(m.Grants) < last {
						return fmt.Errorf("grants went from %d to %d", last, len(m.Grants))
					}
					last = len(m.Grants)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				err := s.Update(context.Background(), func(tx store.Tx) error {
					m, err := tx.Member("w1", "u1")
					if err != nil {
						return err
					}
					m.Grants = append(m.Grants, fmt.Sprintf("g.%d.%d", w, i))
					return tx.PutMember(m)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	view(t, s, func(tx store.Tx) error {
		m, err := tx.Member("w1", "u1")
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, g := range m.Grants {
			seen[g] = true
		}
		if len(m.Grants) != writers*perWriter || len(seen) != writers*perWriter {
			t.Errorf("%d grants (%d distinct), want %d: updates lost", len(m.Grants), len(seen), writers*perWriter)
		}
		return nil
	})
}

func TestSigningKeys(t *testing.T) {
	s, _ := openT(t, Options{})
	view(t, s, func(tx store.Tx) error {
		keys, err := tx.SigningKeys()
		if err != nil || len(keys) != 0 {
			t.Fatalf("fresh store keys: %v, %v", keys, err)
		}
		return nil
	})
	k1 := store.SigningKey{ID: "k1", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}`), CreatedAt: t0}
	k2 := store.SigningKey{ID: "k2", JWK: json.RawMessage(`{"kty":"OKP"}`), CreatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSigningKey(k2); err != nil {
			return err
		}
		return tx.PutSigningKey(k1)
	})
	view(t, s, func(tx store.Tx) error {
		keys, err := tx.SigningKeys()
		if err != nil || len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" || string(keys[0].JWK) != string(k1.JWK) {
			t.Fatalf("keys: %+v, %v", keys, err)
		}
		if err := tx.PutSigningKey(k1); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("PutSigningKey inside View: %v", err)
		}
		return nil
	})
}

// A file written before a bucket existed gets it on the next read-write
// open; a read-only open says how to upgrade.
func TestOpenAddsMissingBuckets(t *testing.T) {
	s, path := openT(t, Options{})
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketKeys) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "open it once read-write") {
		t.Fatalf("read-only open of an old file: %v", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	update(t, s, func(tx store.Tx) error { return tx.PutSigningKey(store.SigningKey{ID: "k"}) })
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
