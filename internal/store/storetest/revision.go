package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testRevision: every committed Update (UpdateRev or Update, with or
// without writes) raises the revision by exactly one and UpdateRev returns
// it; a rolled-back Update and a View leave it alone; the store has an id
// of the token alphabet that another store does not share, kept by Import
// into a fresh store; CheckToken accepts this store's reached revisions
// only.
func testRevision(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	r0 := s.Revision()

	rev, err := s.UpdateRev(ctx, func(tx store.Tx) error { return tx.PutUser(store.User{ID: "u1", FirstSeen: t0, LastSeen: t0}) })
	if err != nil || rev != r0+1 || s.Revision() != r0+1 {
		t.Fatalf("first UpdateRev = %d, %v; Revision() = %d; want %d", rev, err, s.Revision(), r0+1)
	}
	update(t, s, func(tx store.Tx) error { return nil }) // commits, though it writes nothing
	if got := s.Revision(); got != r0+2 {
		t.Fatalf("after Update: Revision() = %d, want %d", got, r0+2)
	}
	rev, err = s.UpdateRev(ctx, func(tx store.Tx) error {
		if err := tx.PutUser(store.User{ID: "u2", FirstSeen: t0, LastSeen: t0}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) || rev != 0 {
		t.Fatalf("rolled-back UpdateRev = %d, %v; want 0, errRollback", rev, err)
	}
	view(t, s, func(tx store.Tx) error { _, err := tx.User("u1"); return err })
	if got := s.Revision(); got != r0+2 {
		t.Fatalf("after a rollback and a View: Revision() = %d, want %d", got, r0+2)
	}
	rev, err = s.UpdateRev(ctx, func(tx store.Tx) error { return nil })
	if err != nil || rev != r0+3 {
		t.Fatalf("UpdateRev after the rollback = %d, %v; want %d (no gap)", rev, err, r0+3)
	}

	id := s.ID()
	if _, _, err := store.ParseToken(store.FormatToken(id, 1)); err != nil || id == "" {
		t.Fatalf("ID() = %q: not usable in a token (%v)", id, err)
	}
	if err := store.CheckToken(s, store.FormatToken(id, rev)); err != nil {
		t.Errorf("CheckToken(current) = %v", err)
	}
	if err := store.CheckToken(s, store.FormatToken(id, 0)); err != nil {
		t.Errorf("CheckToken(revision 0) = %v", err)
	}
	if err := store.CheckToken(s, store.FormatToken(id, rev+1)); !errors.Is(err, store.ErrTokenFuture) {
		t.Errorf("CheckToken(future) = %v, want ErrTokenFuture", err)
	}
	if err := store.CheckToken(s, "r1."+id+".x"); !errors.Is(err, store.ErrTokenMalformed) {
		t.Errorf("CheckToken(malformed) = %v, want ErrTokenMalformed", err)
	}

	other := b.Open(t)
	if other.ID() == id {
		t.Fatalf("two stores share the id %q", id)
	}
	if err := store.CheckToken(other, store.FormatToken(id, 0)); !errors.Is(err, store.ErrTokenOtherStore) {
		t.Errorf("CheckToken(other store's token) = %v, want ErrTokenOtherStore", err)
	}
	otherID := other.ID()
	snap := export(t, s)
	update(t, other, func(tx store.Tx) error { return store.Import(tx, snap) })
	if other.ID() != otherID {
		t.Errorf("Import changed the destination's id from %q to %q", otherID, other.ID())
	}
}

// testRevisionConcurrent: Updates from many goroutines on two Store values
// of one database get distinct, gapless revisions.
func testRevisionConcurrent(t *testing.T, b Backend) {
	st := pair(t, b)
	r0 := st[0].Revision()
	const n = 40
	var (
		mu   sync.Mutex
		revs []uint64
		wg   sync.WaitGroup
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rev, err := st[i%2].UpdateRev(t.Context(), func(tx store.Tx) error { return nil })
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			revs = append(revs, rev)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(revs)
	for i, rev := range revs {
		if rev != r0+uint64(i)+1 {
			t.Fatalf("revisions %v are not the gapless run %d..%d", revs, r0+1, r0+n)
		}
	}
	if got := st[0].Revision(); got > r0+n {
		t.Errorf("Revision() = %d, beyond the last commit %d", got, r0+n)
	}
}
