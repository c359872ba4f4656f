package boltstore

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// only keeps the records of snap that belong to workspace id (all users
// and signing keys).
func only(snap store.Snapshot, id string) store.Snapshot {
	keep := func(ws string) bool { return ws == id }
	out := snap
	out.Workspaces = slices.DeleteFunc(slices.Clone(snap.Workspaces), func(w store.Workspace) bool { return !keep(w.ID) })
	out.Memberships = slices.DeleteFunc(slices.Clone(snap.Memberships), func(m store.Membership) bool { return !keep(m.WorkspaceID) })
	out.Roles = slices.DeleteFunc(slices.Clone(snap.Roles), func(r store.Role) bool { return !keep(r.WorkspaceID) })
	out.Invites = slices.DeleteFunc(slices.Clone(snap.Invites), func(i store.Invite) bool { return !keep(i.WorkspaceID) })
	out.APIKeys = slices.DeleteFunc(slices.Clone(snap.APIKeys), func(k store.APIKey) bool { return !keep(k.WorkspaceID) })
	out.Audit = slices.DeleteFunc(slices.Clone(snap.Audit), func(e store.AuditEvent) bool { return !keep(e.WorkspaceID) })
	return out
}

func TestPurgeWorkspace(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	fullStore(t, s)
	rec.take(t)
	before := export(t, s)

	var purged store.Purged
	update(t, s, func(tx store.Tx) error {
		var err error
		if purged, err = tx.PurgeWorkspace("w1"); err != nil {
			return err
		}
		_, err = tx.AppendAudit(store.AuditEvent{WorkspaceID: "w1", Actor: "root", Action: "workspace.purge", Target: "workspace:w1", Time: t0})
		return err
	})
	if want := (store.Purged{Members: 2, Roles: 1, Invites: 1, APIKeys: 1, AuditEvents: 2}); purged != want {
		t.Errorf("purged %+v, want %+v", purged, want)
	}
	// Every cache keyed on what went is told.
	wantEvents(t, rec, "ws w1 true", "member w1 alice", "member w1 carol", "apikey w1 key-c")
	checkIndexes(t, s)

	after := export(t, s)
	// The other workspace, every user and the signing keys are untouched.
	if !reflect.DeepEqual(only(after, "w2"), only(before, "w2")) {
		t.Errorf("workspace w2 changed:\nbefore %+v\nafter  %+v", only(before, "w2"), only(after, "w2"))
	}
	// Nothing of w1 is left but its tombstone.
	w1 := only(after, "w1")
	if len(w1.Workspaces)+len(w1.Memberships)+len(w1.Roles)+len(w1.Invites)+len(w1.APIKeys) != 0 ||
		len(w1.Audit) != 1 || w1.Audit[0].Action != "workspace.purge" {
		t.Errorf("left of w1: %+v", w1)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Workspace("w1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Workspace(w1) after purge: %v", err)
		}
		if _, err := tx.WorkspaceBySlug("old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("slug old after purge: %v", err)
		}
		if _, err := tx.APIKey("key-c"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("API key of w1 after purge: %v", err)
		}
		if _, err := tx.InviteByTokenHash("hash-r"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("invite token of w1 after purge: %v", err)
		}
		if items, _ := tx.InvitesForEmail("dave@example.com"); len(items) != 1 || items[0].ID != "inv-p" {
			t.Errorf("dave's invites after purge: %+v", items)
		}
		if items, _, _ := tx.UserMemberships("alice", "", 0); len(items) != 1 || items[0].WorkspaceID != "w2" {
			t.Errorf("alice's memberships after purge: %+v", items)
		}
		if items, _, _ := tx.UserMemberships("carol", "", 0); len(items) != 0 {
			t.Errorf("carol's memberships after purge: %+v", items)
		}
		if _, err := tx.User("carol"); err != nil {
			t.Errorf("user carol after purge: %v", err)
		}
		return nil
	})
	st, _ := s.Stats(context.Background())
	if st.Workspaces != 1 || st.DeletedWorkspaces != 0 || st.Memberships != 2 || st.Users != 3 || st.AuditEvents != 3 {
		t.Errorf("stats after purge %+v", st)
	}

	// The slug is free again.
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w3", "old")) })

	// Export → import → export keeps the tombstone of the purged workspace.
	snap := export(t, s)
	data1, back := jsonRoundTrip(t, snap)
	dst, _ := openT(t, Options{})
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, back) })
	checkIndexes(t, dst)
	if data2, _ := jsonRoundTrip(t, export(t, dst)); string(data1) != string(data2) {
		t.Errorf("snapshot differs after a round trip:\n%s\n----\n%s", data1, data2)
	}

	// Errors: no such workspace; a read transaction.
	err := s.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.PurgeWorkspace("w1")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purging a purged workspace: %v", err)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.PurgeWorkspace("w2"); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("PurgeWorkspace in View: %v", err)
		}
		return nil
	})
}

func TestFindAudit(t *testing.T) {
	s, _ := openT(t, Options{})
	// 30 events of w1: actors alternate, actions cycle over three, one
	// minute apart; w1- shares the prefix and must never leak in.
	actions := []string{"member.put", "role.create", "invite.create"}
	var all []store.AuditEvent // newest first
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 30; i++ {
			ev := store.AuditEvent{WorkspaceID: "w1", Actor: []string{"alice", "bob"}[i%2], Action: actions[i%3],
				Target: "x", Time: t0.Add(time.Duration(i) * time.Minute)}
			got, err := tx.AppendAudit(ev)
			if err != nil {
				return err
			}
			all = append([]store.AuditEvent{got}, all...)
			if _, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: "w1-", Actor: "alice", Action: "member.put", Time: ev.Time}); err != nil {
				return err
			}
		}
		return nil
	})
	filters := []store.AuditFilter{
		{},
		{Actor: "alice"},
		{Action: "role.create"},
		{Actor: "bob", Action: "member.put"},
		{Since: t0.Add(10 * time.Minute)},
		{Until: t0.Add(10 * time.Minute)},
		{Since: t0.Add(5 * time.Minute), Until: t0.Add(25 * time.Minute), Actor: "alice"},
		{Actor: "nobody"},
	}
	for _, f := range filters {
		var want []string
		for _, ev := range all {
			if f.Match(ev) {
				want = append(want, ev.ID)
			}
		}
		for _, limit := range []int{0, 1, 2, 3, 7, 100} {
			view(t, s, func(tx store.Tx) error {
				got := walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := tx.FindAudit("w1", f, c, limit)
					var ids []string
					for _, ev := range items {
						if ev.WorkspaceID != "w1" || !f.Match(ev) {
							t.Errorf("FindAudit(%+v) returned %+v", f, ev)
						}
						ids = append(ids, ev.ID)
					}
					if limit > 0 && len(items) < limit && next != "" {
						t.Errorf("FindAudit(%+v, limit %d): a short page with a next cursor", f, limit)
					}
					return ids, next, err
				})
				if !slices.Equal(got, want) {
					t.Errorf("FindAudit(%+v) limit %d = %q, want %q", f, limit, got, want)
				}
				return nil
			})
		}
	}
	// A full last page has no next cursor when nothing further matches.
	view(t, s, func(tx store.Tx) error {
		items, next, err := tx.FindAudit("w1", store.AuditFilter{Action: "role.create"}, "", 10)
		if err != nil || len(items) != 10 || next != "" {
			t.Errorf("exact page: %d items, next %q, %v", len(items), next, err)
		}
		return nil
	})
}

func TestAuditWorkspaces(t *testing.T) {
	s, _ := openT(t, Options{})
	wss := []string{"a", "a-", "b", "ba", "c"}
	update(t, s, func(tx store.Tx) error {
		for _, w := range wss {
			for i := 0; i < 3; i++ {
				if _, err := tx.AppendAudit(event(w, "x")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, limit := range []int{0, 1, 2, 4, 5, 6} {
		view(t, s, func(tx store.Tx) error {
			got := walk(t, limit, func(c string) ([]string, string, error) { return tx.AuditWorkspaces(c, limit) })
			if !slices.Equal(got, wss) {
				t.Errorf("limit %d: %q", limit, got)
			}
			return nil
		})
	}
}

// Purging the only workspace that has audit events empties the audit
// bucket; appending the tombstone in the same transaction must still
// work (bbolt's Cursor.Last loops forever on such a bucket).
func TestPurgeTheOnlyWorkspaceThenTombstone(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		for i := 0; i < 500; i++ { // several pages
			if _, err := tx.AppendAudit(event("w1", "x")); err != nil {
				return err
			}
		}
		return nil
	})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.PurgeWorkspace("w1"); err != nil {
				return err
			}
			if items, _, err := tx.Audit("w1", "", 0); err != nil || len(items) != 0 {
				t.Errorf("Audit after purge: %+v %v", items, err)
			}
			ev, err := tx.AppendAudit(event("w1", "workspace.purge"))
			if err == nil && ev.ID != "ev_0000000000000001" {
				t.Errorf("tombstone id %q", ev.ID)
			}
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("appending after purging every audit event hangs")
	}
	checkIndexes(t, s)
}
