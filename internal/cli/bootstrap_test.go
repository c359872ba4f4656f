package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

func openBolt(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func owner(name string) model.NewWorkspace {
	return model.NewWorkspace{Name: name, Owner: "alice", OwnerRoles: []string{"owner"}, Actor: model.ActorCLI}
}

// TestBootstrapIfEmptyRetried: another bootstrap commits a workspace
// between the two runs of ours (a retry). --if-empty is decided in the
// transaction that creates, so the second run sees the workspace and
// creates nothing. (Before, the check was a Stats call ahead of the
// Update, and both bootstraps created a workspace.)
func TestBootstrapIfEmptyRetried(t *testing.T) {
	s := openBolt(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var once bool
	r := storetest.Retrying(s, func() {
		if once {
			return
		}
		once = true
		if _, created, err := bootstrap(ctx, s, owner("Other"), true, now); err != nil || !created {
			t.Fatalf("the concurrent bootstrap: created %v, %v", created, err)
		}
	})
	_, created, err := bootstrap(ctx, r, owner("Acme"), true, now)
	if err != nil || created {
		t.Fatalf("bootstrap --if-empty after a concurrent one: created %v, %v", created, err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Workspaces != 1 {
		t.Fatalf("workspaces: %d (%v), want 1", st.Workspaces, err)
	}
}

// TestBootstrapRetried: a retried bootstrap creates one workspace, one
// member and one audit event, and returns the workspace it committed.
func TestBootstrapRetried(t *testing.T) {
	s := openBolt(t)
	ctx := context.Background()
	ws, created, err := bootstrap(ctx, storetest.Retrying(s, nil), owner("Acme"), false, time.Now().UTC())
	if err != nil || !created {
		t.Fatalf("bootstrap: created %v, %v", created, err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Workspaces != 1 || st.Memberships != 1 || st.AuditEvents != 1 {
		t.Fatalf("stats %+v (%v), want 1 workspace, member, audit event", st, err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.Workspace(ws.ID)
		if err == nil && got.Slug != "acme" {
			t.Errorf("stored workspace %+v", got)
		}
		return err
	}); err != nil {
		t.Fatalf("the returned workspace is not the stored one: %v", err)
	}
}

// TestBootstrapIfEmptyIgnoresDeleted: a store whose only workspace is
// soft-deleted counts as empty, as `store stats` counts it.
func TestBootstrapIfEmptyIgnoresDeleted(t *testing.T) {
	s := openBolt(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ws, _, err := bootstrap(ctx, s, owner("Old"), false, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		ws.DeletedAt = &now
		return tx.PutWorkspace(ws)
	}); err != nil {
		t.Fatal(err)
	}
	if _, created, err := bootstrap(ctx, s, owner("Acme"), true, now); err != nil || !created {
		t.Fatalf("bootstrap --if-empty next to a deleted workspace: created %v, %v", created, err)
	}
}
