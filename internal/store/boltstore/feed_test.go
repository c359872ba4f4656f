package boltstore

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// A store written before the change log (no "changes" bucket) opens,
// read-write and read-only; its history is reported as truncated (the
// consumer flushes and continues from the latest revision), and the first
// write creates the log.
func TestFeedPreFeedStore(t *testing.T) {
	s, path := openT(t, Options{})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	update(t, s, func(tx store.Tx) error { return tx.PutMember(member("w1", "u1")) })
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketChanges) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a pre-feed store: %v", err)
	}
	_, err = ro.Changes(context.Background(), 0, 0)
	var te *store.ChangesTruncatedError
	if !errors.As(err, &te) || te.Oldest != 3 {
		t.Errorf("Changes(0) on a pre-feed store at revision 2: %v, want truncated with Oldest 3", err)
	}
	if cms, err := ro.Changes(context.Background(), 2, 0); err != nil || len(cms) != 0 {
		t.Errorf("Changes(latest) on a pre-feed store: %v, %v; want none", cms, err)
	}
	_ = ro.Close()

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &recorder{s: s, since: 2}
	update(t, s, func(tx store.Tx) error { return tx.DeleteMember("w1", "u1") })
	wantEvents(t, rec, "member w1 u1")
}

// Pruning keeps exactly the latest ChangeRetention entries in the bucket;
// the default is DefaultChangeRetention.
func TestFeedPruning(t *testing.T) {
	if d, _ := openT(t, Options{}); d.retention != DefaultChangeRetention {
		t.Errorf("default retention %d, want %d", d.retention, DefaultChangeRetention)
	}
	s, _ := openT(t, Options{ChangeRetention: 3})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		update(t, s, func(tx store.Tx) error { return tx.PutMember(member("w1", u)) })
	}
	var first uint64
	var n int
	if err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketChanges)
		n = b.Stats().KeyN
		k, _ := b.Cursor().First()
		first = uint64(k[7])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 3 || first != 4 {
		t.Errorf("log holds %d entries from revision %d after 6 commits, want 3 from 4", n, first)
	}
}
