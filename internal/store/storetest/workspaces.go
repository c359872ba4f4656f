package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testWorkspaces: Workspace, WorkspaceBySlug, PutWorkspace and its slug
// index (a changed slug frees the old one, ErrSlugTaken, deleted
// workspaces are still found), Workspaces.
func testWorkspaces(t *testing.T, b Backend) {
	s := b.Open(t)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Workspace("ws_a")
		wantErr(t, "Workspace of a missing id", err, store.ErrNotFound)
		_, err = tx.WorkspaceBySlug("acme")
		wantErr(t, "WorkspaceBySlug of a missing slug", err, store.ErrNotFound)
		return nil
	})
	a := seedWorkspace(t, s, "ws_a", "acme")
	seedWorkspace(t, s, "ws_b", "beta")
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Workspace("ws_a")
		noErr(t, "Workspace", err)
		equal(t, "Workspace", got, a)
		got, err = tx.WorkspaceBySlug("acme")
		noErr(t, "WorkspaceBySlug", err)
		equal(t, "WorkspaceBySlug", got, a)
		return nil
	})

	// Another workspace cannot take the slug, and the failed Update
	// leaves both workspaces as they were.
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_b", "acme")) })
	wantErr(t, "PutWorkspace with another workspace's slug", err, store.ErrSlugTaken)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_c", "acme")) })
	wantErr(t, "PutWorkspace of a new workspace with a taken slug", err, store.ErrSlugTaken)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WorkspaceBySlug("beta")
		noErr(t, "WorkspaceBySlug after a refused slug change", err)
		equal(t, "the refused workspace's slug", got.ID, "ws_b")
		_, err = tx.Workspace("ws_c")
		wantErr(t, "Workspace refused for its slug", err, store.ErrNotFound)
		return nil
	})

	// Replacing with the same slug is no conflict; a changed slug frees
	// the old one for anyone.
	a.Name = "Acme Inc"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(a) })
	a.Slug = "acme-inc"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(a) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.WorkspaceBySlug("acme")
		wantErr(t, "WorkspaceBySlug of the freed slug", err, store.ErrNotFound)
		got, err := tx.WorkspaceBySlug("acme-inc")
		noErr(t, "WorkspaceBySlug of the new slug", err)
		equal(t, "WorkspaceBySlug of the new slug", got, a)
		return nil
	})
	seedWorkspace(t, s, "ws_c", "acme")

	// A deleted workspace is still found, by id and by slug, and keeps
	// its slug.
	a.DeletedAt = tp(t0)
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(a) })
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_d", "acme-inc")) })
	wantErr(t, "PutWorkspace with a deleted workspace's slug", err, store.ErrSlugTaken)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WorkspaceBySlug("acme-inc")
		noErr(t, "WorkspaceBySlug of a deleted workspace", err)
		if !got.Deleted() {
			t.Errorf("WorkspaceBySlug lost DeletedAt: %+v", got)
		}
		list, next, err := tx.Workspaces("", 0)
		noErr(t, "Workspaces", err)
		equal(t, "Workspaces ids (deleted ones too)", ids(list, func(w store.Workspace) string { return w.ID }), []string{"ws_a", "ws_b", "ws_c"})
		equal(t, "Workspaces next", next, "")
		return nil
	})
}
