package boltstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- transactions

type codedError struct{ code string }

func (e *codedError) Error() string { return "coded: " + e.code }

func TestRollbackWritesNothingAndNotifiesNobody(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w0", "zero")) })
	rec.take(t)
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
	before.SizeBytes, after.SizeBytes = 0, 0
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

func TestFeedChanges(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)

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
		if got := rec.take(t); len(got) != 0 {
			t.Errorf("the feed shows changes before the commit: %q", got)
		}
		return nil
	})
	wantEvents(t, rec, "ws w1 true", "ws w2 true", "member w1 u1", "member w2 u1")

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
	refused(t, s, func(tx store.Tx) error {
		if err := tx.PutMember(member("missing", "u1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expected ErrNotFound, got %v", err)
		}
		if err := tx.DeleteMember("w1", "u2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expected ErrNotFound, got %v", err)
		}
		if err := tx.PutWorkspace(ws("w3", "two")); !errors.Is(err, store.ErrSlugTaken) {
			t.Errorf("expected ErrSlugTaken, got %v", err)
		}
		return nil
	})
	wantEvents(t, rec)
}

// A commit that fails after fn succeeded adds nothing to the feed: its
// log entry was in the failed transaction, so the feed and the data stay
// alike, and the next commit takes the revision the failed one did not.
func TestFeedOnFailedCommit(t *testing.T) {
	s, _ := openT(t, Options{boltOptions: func(o *bbolt.Options) { o.MaxSize = 1 << 20 }})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	rec := newRecorder(s)
	before := s.Revision()
	wake, cancel := s.Subscribe()
	defer cancel()
	big := member("w1", "u1")
	big.Grants = []string{strings.Repeat("g", 4<<20)}
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.PutMember(big) })
	if err == nil {
		t.Fatal("a write beyond MaxSize committed")
	}
	wantEvents(t, rec)
	select {
	case <-wake: // a spurious wake-up is allowed: the consumer reads the log
	default:
		t.Error("no wake-up after a failed commit whose data bbolt may have exposed")
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Member("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("failed commit left the member: %v", err)
		}
		return nil
	})
	// The store still works.
	update(t, s, func(tx store.Tx) error { return tx.PutMember(member("w1", "u1")) })
	wantEvents(t, rec, "member w1 u1")
	if got := s.Revision(); got != before+1 {
		t.Errorf("revision %d after a failed and a good commit from %d, want %d", got, before, before+1)
	}
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
