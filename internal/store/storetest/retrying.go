package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Retrying returns s with Update and UpdateRev playing a networked
// backend's retry (store package doc, "Transactions": fn may run more
// than once): each runs fn once in a transaction that is then rolled back
// whatever fn returned, calls between (nil: nothing), and runs fn again in
// a fresh transaction, for real: that run's result is the Update's. A test
// may write through s (not through the returned store) in between, to
// play the concurrent writer whose commit made the first run fail.
//
// View is retried the same way (a networked backend may retry a
// read-only transaction too): fn runs twice, each time in its own
// transaction, between runs between them, and the second run's result is
// the View's.
//
// Code whose closures are retry-safe behaves under Retrying exactly as
// under s; a closure that appends to an outer slice, counts, keeps an id
// made in the first run, or acts outside its transaction gives itself
// away. Everything else (Revision, Changes, ...) is s's own.
func Retrying(s store.Store, between func()) store.Store {
	return &retrying{Store: s, between: between}
}

type retrying struct {
	store.Store
	between func()
}

// errFirstRun rolls the first run back.
var errFirstRun = errors.New("storetest: the first run of a retried Update is rolled back")

func (r *retrying) View(ctx context.Context, fn func(store.Tx) error) error {
	err := r.Store.View(ctx, func(tx store.Tx) error {
		_ = fn(tx)
		return errFirstRun
	})
	if !errors.Is(err, errFirstRun) {
		return err
	}
	if r.between != nil {
		r.between()
	}
	return r.Store.View(ctx, fn)
}

func (r *retrying) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := r.UpdateRev(ctx, fn)
	return err
}

func (r *retrying) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		_ = fn(tx) // a real backend may fail the run at any statement or at commit
		return errFirstRun
	})
	if !errors.Is(err, errFirstRun) {
		return 0, err // the store itself failed (closed, cancelled, ...): no retry
	}
	if r.between != nil {
		r.between()
	}
	return r.Store.UpdateRev(ctx, fn)
}

// testRetrying: the Retrying wrapper runs fn twice, keeps only the second
// run, and lets between commit a concurrent write that the second run
// sees; one retried Update is one revision.
func testRetrying(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "acme")
	var runs int
	r := Retrying(s, func() {
		// The first run's write is gone, and a concurrent writer commits.
		view(t, s, func(tx store.Tx) error {
			_, err := tx.User("u1")
			wantErr(t, "User of the rolled-back first run", err, store.ErrNotFound)
			return nil
		})
		update(t, s, func(tx store.Tx) error { return tx.PutUser(store.User{ID: "between", FirstSeen: t0, LastSeen: t0}) })
	})
	before := s.Revision()
	rev, err := r.UpdateRev(t.Context(), func(tx store.Tx) error {
		runs++
		_, err := tx.User("between")
		if runs == 1 {
			wantErr(t, "the concurrent write in the first run", err, store.ErrNotFound)
		} else {
			noErr(t, "the concurrent write in the second run", err)
		}
		return tx.PutUser(store.User{ID: "u1", FirstSeen: t0, LastSeen: t0})
	})
	noErr(t, "UpdateRev", err)
	equal(t, "runs of fn", runs, 2)
	equal(t, "revision of the retried Update", rev, before+2) // the concurrent write, then this one
	view(t, s, func(tx store.Tx) error {
		_, err := tx.User("u1")
		noErr(t, "User of the second run", err)
		return nil
	})
}
