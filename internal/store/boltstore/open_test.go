package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

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
	if _, err := Open(path, Options{Timeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
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
		if !errors.Is(err, ErrLocked) {
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

// ---- durability

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
