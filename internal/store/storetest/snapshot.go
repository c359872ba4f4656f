package storetest

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testSnapshot: store.Export of a full store (with a purged workspace's
// tombstone and a store-wide event), through JSON, store.Import
// into a fresh store, and Export again gives the same snapshot, indexes
// included (the imported store answers the index reads), and appends after
// the import follow the imported audit ids.
func testSnapshot(t *testing.T, b Backend) {
	src := b.Open(t)
	seedFull(t, src)
	// A purged workspace's tombstone outlives it and travels too.
	seedWorkspace(t, src, "ws_gone", "gone")
	update(t, src, func(tx store.Tx) error {
		if _, err := tx.PurgeWorkspace("ws_gone"); err != nil {
			return err
		}
		_, err := tx.AppendAudit(event("ws_gone", "workspace.purge", t0))
		return err
	})
	snap := export(t, src)
	var tombs int
	for _, ev := range snap.Audit {
		if ev.WorkspaceID == "ws_gone" || ev.WorkspaceID == store.GlobalAuditWorkspace {
			tombs++
		}
	}
	if tombs != 2 {
		t.Errorf("Export holds %d of the tombstone and the store-wide event, want 2", tombs)
	}
	if snap.Version != store.SnapshotVersion {
		t.Errorf("Export version %d, want %d", snap.Version, store.SnapshotVersion)
	}
	raw, err := json.Marshal(snap)
	noErr(t, "encoding the snapshot", err)
	var decoded store.Snapshot
	noErr(t, "decoding the snapshot", json.Unmarshal(raw, &decoded))

	dst := b.Open(t)
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, decoded) })
	equal(t, "Export after Import", export(t, dst), snap)
	view(t, dst, func(tx store.Tx) error {
		w, err := tx.WorkspaceBySlug("beta")
		noErr(t, "WorkspaceBySlug after import", err)
		equal(t, "WorkspaceBySlug after import", w.ID, "ws_b")
		ms, _, err := tx.UserMemberships("alice", "", 0)
		noErr(t, "UserMemberships after import", err)
		equal(t, "UserMemberships after import", len(ms), 2)
		inv, err := tx.InviteByTokenHash("h2")
		noErr(t, "InviteByTokenHash after import", err)
		equal(t, "InviteByTokenHash after import", inv.ID, "inv_2")
		return nil
	})
	update(t, dst, func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("ws_a", "member.put", t0))
		if err != nil {
			return err
		}
		newest, _, err := tx.Audit("ws_a", "", 1)
		noErr(t, "Audit after import and append", err)
		equal(t, "the append after an import is the newest event", ids(newest, auditID), []string{ev.ID})
		return nil
	})

	// A snapshot that fails halfway (a membership of an unknown
	// workspace) writes nothing.
	bad := decoded
	bad.Memberships = append(append([]store.Membership{}, bad.Memberships...), member("ws_unknown", "alice", "admin"))
	empty := b.Open(t)
	if err := empty.Update(t.Context(), func(tx store.Tx) error { return store.Import(tx, bad) }); err == nil {
		t.Error("Import of a snapshot with a membership of an unknown workspace succeeded")
	}
	equal(t, "the store after a failed Import", export(t, empty), export(t, b.Open(t)))
}
