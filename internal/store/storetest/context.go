package storetest

import (
	"context"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testContext: a cancelled context makes View, Update and Stats fail with
// the context's error; Update's fn never runs, so nothing is written and
// the change feed gets no commit.
func testContext(t *testing.T, b Backend) {
	s := b.Open(t)
	rec := newRecorder(s)
	seedWorkspace(t, s, "ws_a", "a")
	rec.take(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx store.Tx) error {
		ran = true
		return tx.PutMember(member("ws_a", "alice", "admin"))
	})
	wantErr(t, "Update with a cancelled context", err, context.Canceled)
	err = s.View(ctx, func(store.Tx) error { ran = true; return nil })
	wantErr(t, "View with a cancelled context", err, context.Canceled)
	if ran {
		t.Error("fn ran under a cancelled context")
	}
	_, err = s.Stats(ctx)
	wantErr(t, "Stats with a cancelled context", err, context.Canceled)
	rec.wantNoCommit(t, "Update with a cancelled context")
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Member("ws_a", "alice")
		wantErr(t, "Member written under a cancelled context", err, store.ErrNotFound)
		return nil
	})
}

// contextCancelled returns a context that is already cancelled.
func contextCancelled(t testing.TB) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx, cancel
}
