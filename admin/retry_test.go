package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Targeted retry tests: the harness's Retrying store runs every Update
// twice; here a concurrent writer commits between the two runs (h.between)
// and changes what the second run finds. The answer, the store and the
// audit log must be those of the second run alone.

// once runs f the first time it is called only: the concurrent writer
// commits once, before the second run of the first Update that follows.
func once(f func()) func() {
	var o sync.Once
	return func() { o.Do(f) }
}

// TestPutMemberRetriedAfterConcurrentCreate: bob becomes a member between
// the two runs of alice's PUT. The first run saw no membership (a
// creation); the second replaces bob's: the answer is 200, not 201, and
// the audit event carries the membership it replaced.
func TestPutMemberRetriedAfterConcurrentCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob")

	h.between(once(func() {
		now := time.Now().UTC()
		must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
			return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "bob", Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now})
		}))
	}))
	r := h.do("PUT", "/v1/workspaces/acme/members/bob", h.token("alice"), map[string]any{"roles": []string{"operator"}})
	h.between(nil)
	r.want(http.StatusOK)
	if loc := r.header.Get("Location"); loc != "" {
		t.Errorf("a replaced membership answers with a Location: %q", loc)
	}
	m, ok := h.member(ws.ID, "bob")
	if !ok || len(m.Roles) != 1 || m.Roles[0] != "operator" {
		t.Fatalf("bob's membership: %+v %v", m, ok)
	}
	var summary map[string]json.RawMessage
	ev := h.state(ws.ID).Audit[0]
	must(t, json.Unmarshal(ev.Summary, &summary))
	if ev.Action != "member.put" || summary["before"] == nil {
		t.Errorf("audit event %s %s: the replaced membership is missing: %s", ev.Action, ev.Target, ev.Summary)
	}
}

// TestLastAdminDecidedByTheCommittingRun: carol (an admin) leaves the
// workspace while, between the two runs of her DELETE, another writer
// demotes alice, the other admin. The first run saw two admins; the
// second, the one that would commit, sees carol as the last one and
// refuses: the invariant is checked on the data the change commits
// against, and nothing of the DELETE is written.
func TestLastAdminDecidedByTheCommittingRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "carol")
	h.putMember("alice", ws, "carol", map[string]any{"roles": []string{"owner"}})
	h.known("carol")

	h.between(once(func() {
		must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
			m, err := tx.Member(ws.ID, "alice")
			if err != nil {
				return err
			}
			m.Roles = []string{"member"}
			return tx.PutMember(m)
		}))
	}))
	h.do("DELETE", "/v1/workspaces/acme/members/carol", h.token("carol"), nil).problem(http.StatusConflict, "last_admin")
	h.between(nil)
	if _, ok := h.member(ws.ID, "carol"); !ok {
		t.Fatal("carol, the last admin, was removed")
	}
	if got := h.auditActions(ws.ID)[0]; got != "member.put" {
		t.Errorf("newest audit event %s, want the member.put before the refused DELETE", got)
	}
}
