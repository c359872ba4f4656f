package boltstore

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"go.etcd.io/bbolt"
)

// The revision and the store id are in the file: a reopen (read-write or
// read-only) continues from the last committed revision with the same id,
// and a file copy (a backup) carries both.
func TestRevisionPersistsAcrossReopen(t *testing.T) {
	s, path := openT(t, Options{})
	for range 3 {
		update(t, s, func(tx store.Tx) error { return nil })
	}
	id, rev := s.ID(), s.Revision()
	if rev != 3 || id == "" {
		t.Fatalf("after 3 commits on a new store: Revision() = %d, ID() = %q", rev, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ro.ID() != id || ro.Revision() != rev {
		t.Errorf("read-only reopen: ID %q rev %d, want %q %d", ro.ID(), ro.Revision(), id, rev)
	}
	_ = ro.Close()

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.ID() != id || s2.Revision() != rev {
		t.Fatalf("reopen: ID %q rev %d, want %q %d", s2.ID(), s2.Revision(), id, rev)
	}
	got, err := s2.UpdateRev(t.Context(), func(tx store.Tx) error { return nil })
	if err != nil || got != rev+1 {
		t.Fatalf("UpdateRev after reopen = %d, %v; want %d", got, err, rev+1)
	}
}

// A file from a build before revisions (no store id, no revision key)
// gets an id at its first read-write open and starts at revision 0.
func TestRevisionUpgradesOldFile(t *testing.T) {
	s, path := openT(t, Options{})
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyStoreID); err != nil {
			return err
		}
		return meta.Delete(keyRevision)
	}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.ID() == "" || s2.Revision() != 0 {
		t.Fatalf("old file reopened: ID %q rev %d", s2.ID(), s2.Revision())
	}
}
