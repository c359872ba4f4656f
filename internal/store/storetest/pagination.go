package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testPagination walks every paged list with limits 1, 2, n-1, n, n+1 and
// 0 (no limit): pages hold at most limit records, strictly after the
// cursor (Audit and FindAudit: before it), next is the page's last key or
// "" when no record follows — also when the last page is exactly full —
// and the pages together are the whole list in order, each record once. A
// cursor that names no record pages from where it would sort.
func testPagination(t *testing.T, b Backend) {
	s := b.Open(t)
	const n = 5
	key := func(i int) string { return fmt.Sprintf("%02d", i) }
	var wsIDs, userIDs, inviteIDs, keyIDs []string
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			w, u := "ws_"+key(i), "u_"+key(i)
			wsIDs, userIDs = append(wsIDs, w), append(userIDs, u)
			inviteIDs, keyIDs = append(inviteIDs, "inv_"+key(i)), append(keyIDs, "k_"+key(i))
			for _, err := range []error{
				tx.PutUser(store.User{ID: u, FirstSeen: t0, LastSeen: t0}),
				tx.PutWorkspace(ws(w, "slug-"+key(i))),
			} {
				if err != nil {
					return err
				}
			}
		}
		for i := range n {
			for _, err := range []error{
				tx.PutMember(member(wsIDs[0], userIDs[i], "viewer")),
				tx.PutMember(member(wsIDs[i], userIDs[0], "viewer")),
				tx.PutInvite(invite(inviteIDs[i], wsIDs[0], "x@example.com", "h"+key(i))),
				tx.PutAPIKey(apiKey(keyIDs[i], wsIDs[0])),
			} {
				if err != nil {
					return err
				}
			}
			action := "member.put"
			if i%2 == 1 {
				action = "role.put"
			}
			if _, err := tx.AppendAudit(event(wsIDs[0], action, t0.Add(time.Duration(i)*time.Second))); err != nil {
				return err
			}
			if i == 0 {
				continue // ws_00's own events are the ones above
			}
			if _, err := tx.AppendAudit(event(wsIDs[i], "workspace.create", t0)); err != nil {
				return err
			}
		}
		return nil
	})
	var auditIDs []string // newest first
	view(t, s, func(tx store.Tx) error {
		evs, _, err := tx.Audit(wsIDs[0], "", 0)
		auditIDs = ids(evs, auditID)
		return err
	})
	if len(auditIDs) != n {
		t.Fatalf("Audit: %d events, want %d", len(auditIDs), n)
	}
	var memberPuts []string
	for i, id := range auditIDs {
		if (n-1-i)%2 == 0 {
			memberPuts = append(memberPuts, id)
		}
	}

	type list struct {
		name string
		want []string
		page func(tx store.Tx, cursor string, limit int) ([]string, string, error)
	}
	lists := []list{
		{"Users", userIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(u store.User) string { return u.ID })(tx.Users(c, l))
		}},
		{"Workspaces", wsIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(w store.Workspace) string { return w.ID })(tx.Workspaces(c, l))
		}},
		{"Members", userIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(m store.Membership) string { return m.UserID })(tx.Members(wsIDs[0], c, l))
		}},
		{"UserMemberships", wsIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(m store.Membership) string { return m.WorkspaceID })(tx.UserMemberships(userIDs[0], c, l))
		}},
		{"Invites", inviteIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(i store.Invite) string { return i.ID })(tx.Invites(wsIDs[0], c, l))
		}},
		{"APIKeys", keyIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(func(k store.APIKey) string { return k.ID })(tx.APIKeys(wsIDs[0], c, l))
		}},
		{"Audit", auditIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(auditID)(tx.Audit(wsIDs[0], c, l))
		}},
		{"FindAudit", memberPuts, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return keys(auditID)(tx.FindAudit(wsIDs[0], store.AuditFilter{Action: "member.put"}, c, l))
		}},
		{"AuditWorkspaces", wsIDs, func(tx store.Tx, c string, l int) ([]string, string, error) {
			return tx.AuditWorkspaces(c, l)
		}},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			view(t, s, func(tx store.Tx) error {
				for _, limit := range []int{1, 2, len(l.want) - 1, len(l.want), len(l.want) + 1, 0, -1} {
					got := walk(t, limit, func(c string) ([]string, string, error) { return l.page(tx, c, limit) })
					equal(t, fmt.Sprintf("%s walked with limit %d", l.name, limit), got, l.want)
				}
				return nil
			})
		})
	}
	// A cursor that is no record's key: the page starts where it would
	// sort ("ws_01x" sorts between ws_01 and ws_02).
	view(t, s, func(tx store.Tx) error {
		got, _, err := keys(func(w store.Workspace) string { return w.ID })(tx.Workspaces(wsIDs[1]+"x", 0))
		noErr(t, "Workspaces from a foreign cursor", err)
		equal(t, "Workspaces from a foreign cursor", got, wsIDs[2:])
		return nil
	})
}

// keys adapts a typed page to a page of keys.
func keys[T any](key func(T) string) func([]T, string, error) ([]string, string, error) {
	return func(items []T, next string, err error) ([]string, string, error) {
		return ids(items, key), next, err
	}
}

// walk pages through a list from the start and returns all keys.
func walk(t testing.TB, limit int, page func(cursor string) ([]string, string, error)) []string {
	t.Helper()
	all := []string{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("limit %d: pagination does not terminate", limit)
		}
		got, next, err := page(cursor)
		noErr(t, "page", err)
		if limit > 0 && len(got) > limit {
			t.Fatalf("page of %d items with limit %d", len(got), limit)
		}
		if next != "" && (len(got) == 0 || next != got[len(got)-1]) {
			t.Fatalf("limit %d: next %q is not the last key of page %q", limit, next, got)
		}
		if next == "" && pages > 0 && len(got) == 0 {
			t.Fatalf("limit %d: an empty last page: the previous page's next should have been \"\"", limit)
		}
		for _, k := range got {
			if slices.Contains(all, k) {
				t.Fatalf("limit %d: %q on two pages", limit, k)
			}
		}
		all = append(all, got...)
		if next == "" {
			return all
		}
		cursor = next
	}
}
