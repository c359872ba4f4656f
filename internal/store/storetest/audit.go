package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testAudit: AppendAudit (ids assigned in append order per workspace, a
// given id kept, a duplicate id ErrInvalid), Audit (newest first),
// FindAudit (filters), AuditWorkspaces.
func testAudit(t *testing.T, b Backend) {
	s := b.Open(t)
	var a []store.AuditEvent // ws_a's events, oldest first
	update(t, s, func(tx store.Tx) error {
		for i, action := range []string{"member.put", "role.put", "member.put", "member.delete"} {
			ev := event("ws_a", action, t0.Add(time.Duration(i)*time.Minute))
			if i == 2 {
				ev.Actor = "cli"
			}
			got, err := tx.AppendAudit(ev)
			if err != nil {
				return err
			}
			if got.ID == "" {
				t.Fatal("AppendAudit assigned no id")
			}
			ev.ID = got.ID
			equal(t, "AppendAudit's stored event", got, ev)
			a = append(a, got)
		}
		_, err := tx.AppendAudit(event("ws_b", "workspace.create", t0))
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(event(store.GlobalAuditWorkspace, "store.backup", t0))
		return err
	})
	for i := 1; i < len(a); i++ {
		if a[i].ID == a[i-1].ID {
			t.Errorf("AppendAudit gave two events id %q", a[i].ID)
		}
	}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.AppendAudit(a[1])
		return err
	})
	wantErr(t, "AppendAudit of an id the workspace already has", err, store.ErrInvalid)

	newestFirst := []string{a[3].ID, a[2].ID, a[1].ID, a[0].ID}
	view(t, s, func(tx store.Tx) error {
		list, next, err := tx.Audit("ws_a", "", 0)
		noErr(t, "Audit", err)
		equal(t, "Audit ws_a, newest first", ids(list, auditID), newestFirst)
		equal(t, "Audit next", next, "")
		equal(t, "Audit's newest event", list[0], a[3])
		list, next, err = tx.Audit("ws_a", a[2].ID, 0)
		noErr(t, "Audit from a cursor", err)
		equal(t, "Audit older than the cursor", ids(list, auditID), newestFirst[2:])
		equal(t, "Audit from a cursor: next", next, "")
		list, _, err = tx.Audit("ws_missing", "", 0)
		noErr(t, "Audit of a workspace without events", err)
		equal(t, "Audit of a workspace without events", len(list), 0)

		for _, c := range []struct {
			name string
			f    store.AuditFilter
			want []string
		}{
			{"no filter", store.AuditFilter{}, newestFirst},
			{"action", store.AuditFilter{Action: "member.put"}, []string{a[2].ID, a[0].ID}},
			{"actor", store.AuditFilter{Actor: "cli"}, []string{a[2].ID}},
			{"since (inclusive)", store.AuditFilter{Since: a[2].Time}, []string{a[3].ID, a[2].ID}},
			{"until (exclusive)", store.AuditFilter{Until: a[1].Time}, []string{a[0].ID}},
			{"action and actor", store.AuditFilter{Action: "member.put", Actor: "alice"}, []string{a[0].ID}},
			{"nothing matches", store.AuditFilter{Action: "nope"}, nil},
		} {
			list, next, err := tx.FindAudit("ws_a", c.f, "", 0)
			noErr(t, "FindAudit "+c.name, err)
			equal(t, "FindAudit "+c.name, ids(list, auditID), orEmpty(c.want))
			equal(t, "FindAudit "+c.name+": next", next, "")
		}
		// A page of one matching event, then the cursor: next is "" once
		// no further event matches, though older non-matching ones exist.
		list, next, err = tx.FindAudit("ws_a", store.AuditFilter{Action: "member.put"}, "", 1)
		noErr(t, "FindAudit page", err)
		equal(t, "FindAudit first page", ids(list, auditID), []string{a[2].ID})
		if next == "" {
			t.Fatal("FindAudit: next is empty though a further event matches")
		}
		list, next, err = tx.FindAudit("ws_a", store.AuditFilter{Action: "member.put"}, next, 1)
		noErr(t, "FindAudit second page", err)
		equal(t, "FindAudit second page", ids(list, auditID), []string{a[0].ID})
		equal(t, "FindAudit second page: next", next, "")
		list, next, err = tx.FindAudit("ws_a", store.AuditFilter{Action: "role.put"}, "", 1)
		noErr(t, "FindAudit, last match on a full page", err)
		equal(t, "FindAudit, last match on a full page", ids(list, auditID), []string{a[1].ID})
		equal(t, "FindAudit, nothing matches after a full page: next", next, "")

		wss, next, err := tx.AuditWorkspaces("", 0)
		noErr(t, "AuditWorkspaces", err)
		equal(t, "AuditWorkspaces", wss, []string{store.GlobalAuditWorkspace, "ws_a", "ws_b"})
		equal(t, "AuditWorkspaces next", next, "")
		return nil
	})

	// Appends after a given id follow it: sequence is per workspace and
	// after its greatest id.
	update(t, s, func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("ws_a", "member.put", t0.Add(time.Hour)))
		if err != nil {
			return err
		}
		list, _, err := tx.Audit("ws_a", "", 1)
		noErr(t, "Audit after a further append", err)
		equal(t, "Audit's newest after a further append", ids(list, auditID), []string{ev.ID})
		return nil
	})
}

func auditID(ev store.AuditEvent) string { return ev.ID }

// orEmpty turns nil into an empty list, which ids returns for no items.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
