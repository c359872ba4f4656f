package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// Set-based reads: a handler that lists or checks many records reads them
// with a constant number of store calls (UsersByID, WorkspacesByID, one
// Roles per workspace), never one User, Workspace or Role call per member
// or membership. On bbolt the difference is small; on a networked backend
// each call is a round trip. A counting wrapper around the API's store
// counts the Tx calls of one request.

const setSize = 50

// fewCalls is the most calls of a per-record method a request may make on
// a page of setSize records: a handful for the caller's own standing, each
// counted twice (the harness's Retrying store runs every View and Update
// twice).
const fewCalls = 8

func wantFew(t *testing.T, calls *storetest.Calls, what string, methods ...string) {
	t.Helper()
	for _, m := range methods {
		if n := calls.Get(m); n > fewCalls {
			t.Errorf("%s: %d %s calls for %d records: a read per record (calls: %v)", what, n, m, setSize, calls.Snapshot())
		}
	}
}

func countingHarness(t *testing.T) (*harness, *storetest.Calls) {
	var calls *storetest.Calls
	h := newHarness(t, func(o *admin.Options) { o.Store, calls = storetest.Counting(o.Store) })
	return h, calls
}

// TestSetReadsMembers: listing a workspace of 51 members (alice and 50
// others), finding one by email, and the last-admin check that walks all
// of them read users, workspaces and roles in sets.
func TestSetReadsMembers(t *testing.T) {
	t.Parallel()
	h, calls := countingHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	tok := h.token("alice")
	h.do("GET", "/v1/me", tok, nil).want(http.StatusOK) // alice is known: later requests write nothing first
	now := time.Now().UTC()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutRole(store.Role{WorkspaceID: ws.ID, Slug: "reader", Name: "Reader", Permissions: []string{"message.read"},
			CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for i := range setSize {
			id := fmt.Sprintf("m%02d", i)
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
			// A custom and a system role: resolving either is a role read.
			if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: id, Roles: []string{"reader", "member"},
				JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		// The only other admin sorts last: the last-admin check must walk
		// every member to find them.
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "zz-admin", Roles: []string{"owner"}, JoinedAt: now, UpdatedAt: now})
	}))

	calls.Reset()
	var p page[memberView]
	h.do("GET", "/v1/workspaces/acme/members?limit=100", tok, nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != setSize+2 || p.Items[1].Email != "m00@example.com" || p.Items[setSize+1].Email != "" {
		t.Fatalf("members: %d, %+v", len(p.Items), p.Items[1])
	}
	wantFew(t, calls, "GET members", "User", "Workspace", "Role", "Member")
	if calls.Get("UsersByID") != 2 { // one per run: the View runs twice
		t.Errorf("GET members: %d UsersByID calls, want 2 (one for each of the View's two runs)", calls.Get("UsersByID"))
	}

	calls.Reset()
	h.do("GET", "/v1/workspaces/acme/members?email=M49@example.com", tok, nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != 1 || p.Items[0].UserID != "m49" {
		t.Fatalf("members by email: %+v", p.Items)
	}
	wantFew(t, calls, "GET members?email=", "User", "Workspace", "Role", "Member")

	// alice leaves: she held workspace.admin, so every member is compiled
	// until zz-admin, the last, is found.
	calls.Reset()
	h.do("DELETE", "/v1/workspaces/acme/members/alice", tok, nil).want(http.StatusNoContent)
	wantFew(t, calls, "DELETE member (last-admin check)", "User", "Workspace", "Role", "Member")
	if _, ok := h.member(ws.ID, "alice"); ok {
		t.Fatal("alice is still a member")
	}
}

// TestSetReadsWorkspaces: /v1/me, the workspace list and the "do we share
// a workspace" check of PUT member, for a user in 50 workspaces, read the
// workspaces in sets.
func TestSetReadsWorkspaces(t *testing.T) {
	t.Parallel()
	h, calls := countingHarness(t)
	h.newWorkspace("alice", "Acme")
	tok, wtok := h.token("alice"), h.token("wanderer")
	h.do("GET", "/v1/me", tok, nil).want(http.StatusOK)
	h.do("GET", "/v1/me", wtok, nil).want(http.StatusOK)
	now := time.Now().UTC()
	var shared store.Workspace
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		for i := range setSize {
			ws, err := model.CreateWorkspace(tx, model.NewWorkspace{Name: fmt.Sprintf("Place %02d", i), Owner: "wanderer",
				OwnerRoles: []string{"member"}, Actor: model.ActorCLI}, now)
			if err != nil {
				return err
			}
			shared = ws
		}
		// alice shares the last of them only.
		return tx.PutMember(store.Membership{WorkspaceID: shared.ID, UserID: "alice", Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now})
	}))

	calls.Reset()
	var me struct {
		Workspaces []struct{ Slug string } `json:"workspaces"`
	}
	h.do("GET", "/v1/me", wtok, nil).want(http.StatusOK).decode(&me)
	if len(me.Workspaces) != setSize {
		t.Fatalf("/v1/me: %d workspaces, want %d", len(me.Workspaces), setSize)
	}
	wantFew(t, calls, "GET /v1/me", "User", "Workspace", "Member")

	calls.Reset()
	var p page[wsView]
	h.do("GET", "/v1/workspaces?limit=100", wtok, nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != setSize {
		t.Fatalf("workspaces: %d, want %d", len(p.Items), setSize)
	}
	wantFew(t, calls, "GET /v1/workspaces", "User", "Workspace", "Member", "Role")

	// alice may add wanderer directly: they share a live workspace (the
	// last of wanderer's 50).
	calls.Reset()
	h.do("PUT", "/v1/workspaces/acme/members/wanderer", tok, map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)
	wantFew(t, calls, "PUT member (shared workspace check)", "User", "Workspace", "Member")
}
