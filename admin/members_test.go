package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestListMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	users := []string{"bob", "carol", "dave", "erin", "frank"}
	h.knownTo("alice", users...)
	for _, u := range users {
		h.putMember("alice", ws, u, map[string]any{"roles": []string{"member"}})
	}
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"operator"}, "grants": []string{"campaign.run"},
		"denies": []string{"message.send"}, "restrictions": map[string][]string{"instance": {"i1"}}})
	h.putMember("alice", ws, "carol", map[string]any{"roles": []string{"member"}, "grants": []string{"workspace.members"}})

	var p page[memberView]
	h.do("GET", "/v1/workspaces/acme/members", h.token("alice"), nil).want(http.StatusOK).decode(&p)
	var ids []string
	for _, m := range p.Items {
		ids = append(ids, m.UserID)
		if m.JoinedAt.IsZero() || m.Email != m.UserID+"@example.com" {
			t.Errorf("member %+v", m)
		}
		if m.UserID == "bob" {
			wantStrings(t, "bob's roles", m.Roles, []string{"operator"})
			wantStrings(t, "bob's grants", m.Grants, []string{"campaign.run"})
			wantStrings(t, "bob's denies", m.Denies, []string{"message.send"})
			wantStrings(t, "bob's restrictions", m.Restrictions["instance"], []string{"i1"})
		}
	}
	wantStrings(t, "members", ids, []string{"alice", "bob", "carol", "dave", "erin", "frank"})

	// Pages of 4 walk everyone once.
	h.do("GET", "/v1/workspaces/acme/members?limit=4", h.token("carol"), nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != 4 || p.NextCursor == nil {
		t.Fatalf("first page: %+v", p)
	}
	first := p.Items
	h.do("GET", "/v1/workspaces/acme/members?limit=4&cursor="+*p.NextCursor, h.token("carol"), nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != 2 || p.NextCursor != nil || p.Items[0].UserID != "erin" || first[3].UserID != "dave" {
		t.Fatalf("second page: %+v", p)
	}

	h.do("GET", "/v1/workspaces/acme/members", h.token("bob"), nil).forbidden("workspace.members")
	h.do("GET", "/v1/workspaces/acme/members", h.token("zed"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/acme/members?limit=9999", h.token("alice"), nil).invalid("limit")
}

func TestGetMember(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob", "carol")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}})
	h.putMember("alice", ws, "carol", map[string]any{"roles": []string{"member"}})

	var m memberView
	// Oneself: no workspace.members needed.
	h.do("GET", "/v1/workspaces/acme/members/bob", h.token("bob"), nil).want(http.StatusOK).decode(&m)
	if m.UserID != "bob" || m.Email != "bob@example.com" {
		t.Errorf("bob: %+v", m)
	}
	wantStrings(t, "bob's permissions", m.Permissions, []string{"campaign.read", "contact.read", "message.read"})
	h.do("GET", "/v1/workspaces/"+ws.ID+"/members/alice", h.token("alice"), nil).want(http.StatusOK).decode(&m)
	wantStrings(t, "alice's permissions", m.Permissions, allPermissions)
	h.do("GET", "/v1/workspaces/acme/members/carol", h.token("alice"), nil).want(http.StatusOK).decode(&m)
	wantStrings(t, "carol's roles", m.Roles, []string{"member"})

	h.do("GET", "/v1/workspaces/acme/members/carol", h.token("bob"), nil).forbidden("workspace.members")
	h.do("GET", "/v1/workspaces/acme/members/nobody", h.token("alice"), nil).problem(http.StatusNotFound, "member_not_found")
	h.do("GET", "/v1/workspaces/acme/members/dave", h.token("dave"), nil).problem(http.StatusNotFound, "workspace_not_found")
}

func TestPutMember(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "contact.*")
	h.knownTo("alice", "bob")
	alice := h.token("alice")

	// Before: not a member at the gateway (and that answer is cached).
	if h.access("bob", "acme").Member {
		t.Fatal("bob is a member already")
	}
	var created memberView
	r := h.do("PUT", "/v1/workspaces/acme/members/bob", alice, map[string]any{
		"roles": []string{"operator", "support"}, "grants": []string{"campaign.run"}, "denies": []string{"message.send"},
		"restrictions": map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}},
	}).want(http.StatusCreated)
	r.decode(&created)
	if created.UserID != "bob" || created.Email != "bob@example.com" || created.JoinedAt.IsZero() {
		t.Errorf("created %+v", created)
	}
	wantStrings(t, "roles", created.Roles, []string{"operator", "support"})
	stored, ok := h.member(ws.ID, "bob")
	if !ok {
		t.Fatal("not stored")
	}
	wantStrings(t, "stored roles", stored.Roles, []string{"operator", "support"})
	wantStrings(t, "stored grants", stored.Grants, []string{"campaign.run"})
	wantStrings(t, "stored denies", stored.Denies, []string{"message.send"})
	wantStrings(t, "stored restrictions", stored.Restrictions["chat"], []string{"assigned_only"})
	// Immediate effect at the gateway.
	a := h.access("bob", "acme")
	if !a.Member || !a.Allows("instance", "i2") || a.Allows("instance", "i3") {
		t.Fatalf("gateway access after PUT: %+v", a)
	}
	if got := a.Permissions.Names(h.engine.Catalog()); !equal(got, []string{"campaign.read", "campaign.run", "contact.manage", "contact.read", "message.read"}) {
		t.Errorf("gateway permissions %v", got)
	}

	// Replace: 200, joined_at kept, everything else replaced.
	h.clock.Advance(time.Minute)
	var replaced memberView
	h.do("PUT", "/v1/workspaces/"+ws.ID+"/members/bob", alice, map[string]any{"roles": []string{"member"}}).want(http.StatusOK).decode(&replaced)
	if !replaced.JoinedAt.Equal(created.JoinedAt) || !replaced.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("replace: joined_at %v → %v, updated_at %v → %v", created.JoinedAt, replaced.JoinedAt, created.UpdatedAt, replaced.UpdatedAt)
	}
	stored, _ = h.member(ws.ID, "bob")
	if len(stored.Grants) != 0 || len(stored.Denies) != 0 || len(stored.Restrictions) != 0 || !stored.JoinedAt.Equal(created.JoinedAt) {
		t.Errorf("replace kept old overrides: %+v", stored)
	}
	if a := h.access("bob", "acme"); a.Allows("instance", "i3") != true || a.Permissions.Names(h.engine.Catalog())[0] != "message.read" {
		t.Errorf("gateway access after replace: %+v", a)
	}

	// Unknown user.
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/ghost", alice, map[string]any{"roles": []string{"member"}}).problem(http.StatusNotFound, "user_not_found")
	})
	// A user known through the API alone (never through the gateway) can be added at once.
	h.knownTo("alice", "newbie")
	h.do("PUT", "/v1/workspaces/acme/members/newbie", alice, map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)

	long := strings.Repeat("x", 256)
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no roles", map[string]any{}, "roles"},
		{"empty roles", map[string]any{"roles": []string{}}, "roles"},
		{"unknown role", map[string]any{"roles": []string{"nope"}}, "roles[0]"},
		{"unknown second role", map[string]any{"roles": []string{"member", "nope"}}, "roles[1]"},
		{"role twice", map[string]any{"roles": []string{"member", "member"}}, "roles[1]"},
		{"roles not a list", map[string]any{"roles": "member"}, "roles"},
		{"unknown grant", map[string]any{"roles": []string{"member"}, "grants": []string{"bogus.perm"}}, "grants[0]"},
		{"bad grant pattern", map[string]any{"roles": []string{"member"}, "grants": []string{"message.read", "message..read"}}, "grants[1]"},
		{"grant pattern matching nothing", map[string]any{"roles": []string{"member"}, "grants": []string{"billing.*"}}, "grants[0]"},
		{"bad deny", map[string]any{"roles": []string{"member"}, "denies": []string{"Message.Read"}}, "denies[0]"},
		{"bad restriction type", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"Bad Type": {"x"}}}, "restrictions.Bad Type"},
		{"restriction type with a digit first", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"1st": {"x"}}}, "restrictions.1st"},
		{"id with a comma", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {"a,b"}}}, "restrictions.instance[0]"},
		{"id with a space", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {"ok", "a b"}}}, "restrictions.instance[1]"},
		{"empty id", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {""}}}, "restrictions.instance[0]"},
		{"id too long", map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {long}}}, "restrictions.instance[0]"},
		{"unknown field", map[string]any{"roles": []string{"member"}, "role": "x"}, "role"},
		{"not JSON", "roles=member", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			h.refused(ws.ID, func() *resp {
				return h.do("PUT", "/v1/workspaces/acme/members/bob", alice, tc.body).invalid(tc.field)
			})
		})
	}
	// 403 before anything else for a member without workspace.members.
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/newbie", h.token("bob"), map[string]any{"roles": []string{"member"}}).forbidden("workspace.members")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/bob", h.token("bob"), map[string]any{"roles": []string{"owner"}}).forbidden("workspace.members")
	})
	wantStrings(t, "audit", h.auditActions(ws.ID)[:3], []string{"member.put", "member.put", "member.put"})
}

func TestDeleteMember(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob", "carol", "dave")
	for _, u := range []string{"bob", "carol", "dave"} {
		h.putMember("alice", ws, u, map[string]any{"roles": []string{"member"}})
	}
	alice := h.token("alice")

	if !h.access("bob", "acme").Member {
		t.Fatal("bob is not a member")
	}
	r := h.do("DELETE", "/v1/workspaces/acme/members/bob", alice, nil).want(http.StatusNoContent)
	if len(r.raw) != 0 {
		t.Errorf("204 with a body %q", r.raw)
	}
	if _, ok := h.member(ws.ID, "bob"); ok {
		t.Error("bob still stored")
	}
	if h.access("bob", "acme").Member {
		t.Error("the gateway still admits bob")
	}
	h.do("GET", "/v1/workspaces/acme", h.token("bob"), nil).problem(http.StatusNotFound, "workspace_not_found")

	// Leaving needs no workspace.members.
	h.do("DELETE", "/v1/workspaces/"+ws.ID+"/members/carol", h.token("carol"), nil).want(http.StatusNoContent)
	if _, ok := h.member(ws.ID, "carol"); ok {
		t.Error("carol still stored")
	}
	// But removing someone else does.
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/alice", h.token("dave"), nil).forbidden("workspace.members")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/bob", alice, nil).problem(http.StatusNotFound, "member_not_found")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/bob", h.token("bob"), nil).problem(http.StatusNotFound, "workspace_not_found")
	})

	// The history stays in the audit log.
	evs := h.state(ws.ID).Audit
	if evs[0].Action != "member.delete" || evs[0].Target != "user:carol" || evs[0].Actor != "carol" ||
		evs[1].Action != "member.delete" || evs[1].Target != "user:bob" || evs[1].Actor != "alice" {
		t.Errorf("audit: %s", describe(evs[:2]))
	}
	if !strings.Contains(string(evs[1].Summary), `"roles":["member"]`) {
		t.Errorf("the removal's summary lacks the removed roles: %s", evs[1].Summary)
	}
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// Anyone may create a workspace, but PUT members/{user} does not tell a
// caller whether a user exists, nor their email, unless the caller already
// shares a live workspace with them or is a global admin (issue 10 item
// 6): a known stranger gets byte for byte the answer of an unknown id.
func TestPutMemberDoesNotEnumerateUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.newWorkspace("alice", "Acme")
	h.known("victim")
	evil := h.newWorkspace("mallory", "Evil")
	mallory := h.token("mallory")
	body := map[string]any{"roles": []string{"member"}}
	var known, unknown *resp
	h.refused(evil.ID, func() *resp {
		known = h.do("PUT", "/v1/workspaces/evil/members/victim", mallory, body).problem(http.StatusNotFound, "user_not_found")
		return known
	})
	h.refused(evil.ID, func() *resp {
		unknown = h.do("PUT", "/v1/workspaces/evil/members/nobody", mallory, body).problem(http.StatusNotFound, "user_not_found")
		return unknown
	})
	if !bytes.Equal(known.raw, unknown.raw) {
		t.Fatalf("a known and an unknown user are told apart:\n%s\n%s", known.raw, unknown.raw)
	}
	if strings.Contains(string(known.raw), "victim@") {
		t.Fatalf("the victim's email leaked: %s", known.raw)
	}
	// A workspace shared only in the past (now deleted) does not count.
	gone := h.newWorkspace("mallory", "Gone")
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: gone.ID, UserID: "victim", Roles: []string{"member"}})
	}))
	h.do("DELETE", "/v1/workspaces/"+gone.Slug, mallory, nil).want(http.StatusNoContent)
	again := h.do("PUT", "/v1/workspaces/evil/members/victim", mallory, body).problem(http.StatusNotFound, "user_not_found")
	if !bytes.Equal(again.raw, unknown.raw) {
		t.Fatalf("a deleted shared workspace tells the victim apart: %s", again.raw)
	}

	// A global admin may add anyone; a user who shares a workspace with the
	// caller may be added directly.
	root := h.newWorkspace("root", "Roots")
	h.do("PUT", "/v1/workspaces/"+root.Slug+"/members/victim", h.token("root"), body).want(http.StatusCreated)
	h.putMember("root", root, "alice", map[string]any{"roles": []string{"member"}})
	r := h.do("PUT", "/v1/workspaces/acme/members/victim", h.token("alice"), body).want(http.StatusCreated)
	if r.str("email") != "victim@example.com" {
		t.Fatalf("email %q", r.str("email"))
	}
	if _, ok := h.member(acme.ID, "victim"); !ok {
		t.Fatal("victim not added to acme")
	}
}
