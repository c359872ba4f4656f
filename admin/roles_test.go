package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestListAndGetRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "contact.*", "message.read")
	h.createRole("alice", ws, "auditor")
	h.knownTo("alice", "bob")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	other := h.newWorkspace("carol", "Other")
	h.createRole("carol", other, "secret", "campaign.run")

	// Any member may list and read roles.
	var p page[roleView]
	r := h.do("GET", "/v1/workspaces/acme/roles", h.token("bob"), nil).want(http.StatusOK)
	r.decode(&p)
	var slugs []string
	for _, role := range p.Items {
		slugs = append(slugs, role.Slug)
		wantSystem := role.Slug == "owner" || role.Slug == "operator" || role.Slug == "member"
		if role.System != wantSystem {
			t.Errorf("role %s: system=%v", role.Slug, role.System)
		}
		if !role.System && role.CreatedAt == nil {
			t.Errorf("custom role %s lacks created_at", role.Slug)
		}
	}
	wantStrings(t, "roles", slugs, []string{"owner", "operator", "member", "auditor", "support"})
	if !strings.Contains(string(r.raw), `"slug":"auditor","name":"Role auditor","permissions":[]`) {
		t.Errorf("a role without permissions must list []: %s", r.raw)
	}

	var role roleView
	h.do("GET", "/v1/workspaces/acme/roles/owner", h.token("bob"), nil).want(http.StatusOK).decode(&role)
	if !role.System || role.Name != "Owner" {
		t.Errorf("owner: %+v", role)
	}
	wantStrings(t, "owner permissions", role.Permissions, []string{"workspace.admin"})
	h.do("GET", "/v1/workspaces/"+ws.ID+"/roles/support", h.token("bob"), nil).want(http.StatusOK).decode(&role)
	if role.System || role.Name != "Role support" {
		t.Errorf("support: %+v", role)
	}
	wantStrings(t, "support permissions", role.Permissions, []string{"contact.*", "message.read"})

	h.do("GET", "/v1/workspaces/acme/roles/nope", h.token("bob"), nil).problem(http.StatusNotFound, "role_not_found")
	// Custom roles are per workspace.
	h.do("GET", "/v1/workspaces/acme/roles/secret", h.token("alice"), nil).problem(http.StatusNotFound, "role_not_found")
	h.do("GET", "/v1/workspaces/acme/roles", h.token("carol"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/acme/roles/owner", h.token("carol"), nil).problem(http.StatusNotFound, "workspace_not_found")
}

func TestCreateRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob", "rita")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"operator"}})
	h.putMember("alice", ws, "rita", map[string]any{"roles": []string{"operator"}, "grants": []string{"workspace.roles"}})
	alice := h.token("alice")

	var role roleView
	h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{
		"slug": "support", "name": "Support", "description": "Answers customers", "permissions": []string{"contact.*", "message.read"},
	}).want(http.StatusCreated).decode(&role)
	if role.Slug != "support" || role.Name != "Support" || role.Description != "Answers customers" || role.System || role.CreatedAt == nil {
		t.Errorf("created %+v", role)
	}
	var stored store.Role
	h.view(func(tx store.Tx) error {
		var err error
		stored, err = tx.Role(ws.ID, "support")
		return err
	})
	wantStrings(t, "stored permissions", stored.Permissions, []string{"contact.*", "message.read"})
	// workspace.roles is enough, within what the caller holds.
	h.do("POST", "/v1/workspaces/"+ws.ID+"/roles", h.token("rita"), map[string]any{"slug": "reader", "name": "Reader", "permissions": []string{"message.read"}}).want(http.StatusCreated)
	// The new role can be assigned at once.
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"support"}})
	if a := h.access("bob", "acme"); !h.engine.Catalog().HasName(a.Permissions, "contact.manage") {
		t.Error("the gateway does not apply the new role")
	}

	for _, slug := range []string{"support", "owner", "member"} {
		h.refused(ws.ID, func() *resp {
			return h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": slug, "name": "X", "permissions": []string{}}).problem(http.StatusConflict, "role_exists")
		})
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"missing slug", map[string]any{"name": "X", "permissions": []string{}}, "slug"},
		{"bad slug", map[string]any{"slug": "Bad", "name": "X", "permissions": []string{}}, "slug"},
		{"slug with a digit first", map[string]any{"slug": "1x", "name": "X", "permissions": []string{}}, "slug"},
		{"slug too long", map[string]any{"slug": strings.Repeat("a", 64), "name": "X", "permissions": []string{}}, "slug"},
		{"missing name", map[string]any{"slug": "x", "permissions": []string{}}, "name"},
		{"name too long", map[string]any{"slug": "x", "name": strings.Repeat("n", 101), "permissions": []string{}}, "name"},
		{"missing permissions", map[string]any{"slug": "x", "name": "X"}, "permissions"},
		{"null permissions", map[string]any{"slug": "x", "name": "X", "permissions": nil}, "permissions"},
		{"unknown permission", map[string]any{"slug": "x", "name": "X", "permissions": []string{"message.read", "nope.nope"}}, "permissions[1]"},
		{"bad pattern", map[string]any{"slug": "x", "name": "X", "permissions": []string{"message.**"}}, "permissions[0]"},
		{"permissions not a list", map[string]any{"slug": "x", "name": "X", "permissions": "message.read"}, "permissions"},
		{"unknown field", map[string]any{"slug": "x", "name": "X", "permissions": []string{}, "system": true}, "system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			h.refused(ws.ID, func() *resp {
				return h.do("POST", "/v1/workspaces/acme/roles", alice, tc.body).invalid(tc.field)
			})
		})
	}
	h.refused(ws.ID, func() *resp {
		return h.do("POST", "/v1/workspaces/acme/roles", h.token("bob"), map[string]any{"slug": "x", "name": "X", "permissions": []string{}}).forbidden("workspace.roles")
	})
}

func TestUpdateRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "message.read")
	h.knownTo("alice", "bob")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"support"}})
	alice := h.token("alice")
	if h.engine.Catalog().HasName(h.access("bob", "acme").Permissions, "contact.read") {
		t.Fatal("bob holds contact.read already")
	}

	h.clock.Advance(time.Second)
	var role roleView
	h.do("PATCH", "/v1/workspaces/acme/roles/support", alice, map[string]any{"name": "Customer support", "permissions": []string{"message.read", "contact.read"}}).want(http.StatusOK).decode(&role)
	if role.Name != "Customer support" || role.System {
		t.Errorf("patched %+v", role)
	}
	wantStrings(t, "patched permissions", role.Permissions, []string{"message.read", "contact.read"})
	// Members holding the role get the change at once.
	if !h.engine.Catalog().HasName(h.access("bob", "acme").Permissions, "contact.read") {
		t.Error("the gateway does not apply the edited role")
	}
	h.do("PATCH", "/v1/workspaces/acme/roles/support", alice, map[string]any{"description": "d"}).want(http.StatusOK).decode(&role)
	if role.Name != "Customer support" || role.Description != "d" || len(role.Permissions) != 2 {
		t.Errorf("a partial patch changed other fields: %+v", role)
	}
	// An empty list is allowed.
	h.do("PATCH", "/v1/workspaces/acme/roles/support", alice, map[string]any{"permissions": []string{}}).want(http.StatusOK)

	for _, slug := range []string{"owner", "operator", "member"} {
		h.refused(ws.ID, func() *resp {
			return h.do("PATCH", "/v1/workspaces/acme/roles/"+slug, alice, map[string]any{"name": "Mine"}).problem(http.StatusForbidden, "system_role_immutable")
		})
	}
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme/roles/nope", alice, map[string]any{"name": "X"}).problem(http.StatusNotFound, "role_not_found")
	})
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, ""},
		{map[string]any{"permissions": nil}, ""},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"permissions": []string{"nope"}}, "permissions[0]"},
		{map[string]any{"slug": "renamed"}, "slug"},
	} {
		h.refused(ws.ID, func() *resp {
			return h.do("PATCH", "/v1/workspaces/acme/roles/support", alice, tc.body).invalid(tc.field)
		})
	}
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme/roles/support", h.token("bob"), map[string]any{"name": "X"}).forbidden("workspace.roles")
	})
}

func TestDeleteRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "unused", "message.read")
	h.createRole("alice", ws, "held", "message.read")
	h.createRole("alice", ws, "invited", "message.read")
	h.knownTo("alice", "bob")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member", "held"}})
	alice := h.token("alice")
	var inv inviteView
	h.do("POST", "/v1/workspaces/acme/invites", alice, map[string]any{"email": "carol@example.com", "roles": []string{"invited"}}).want(http.StatusCreated).decode(&inv)

	h.do("DELETE", "/v1/workspaces/acme/roles/unused", alice, nil).want(http.StatusNoContent)
	h.do("GET", "/v1/workspaces/acme/roles/unused", alice, nil).problem(http.StatusNotFound, "role_not_found")
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/unused", alice, nil).problem(http.StatusNotFound, "role_not_found")
	})
	for _, slug := range []string{"owner", "member"} {
		h.refused(ws.ID, func() *resp {
			return h.do("DELETE", "/v1/workspaces/acme/roles/"+slug, alice, nil).problem(http.StatusForbidden, "system_role_immutable")
		})
	}
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/held", alice, nil).problem(http.StatusConflict, "role_in_use")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/invited", alice, nil).problem(http.StatusConflict, "role_in_use")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/held", h.token("bob"), nil).forbidden("workspace.roles")
	})

	// Once nobody holds them, they can go.
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	h.do("DELETE", "/v1/workspaces/acme/roles/held", alice, nil).want(http.StatusNoContent)
	h.do("DELETE", "/v1/workspaces/acme/invites/"+inv.ID, alice, nil).want(http.StatusNoContent)
	h.do("DELETE", "/v1/workspaces/acme/roles/invited", alice, nil).want(http.StatusNoContent)
	if roles := h.state(ws.ID).Roles; len(roles) != 0 {
		t.Errorf("roles left: %+v", roles)
	}
	wantStrings(t, "audit", h.auditActions(ws.ID)[:3], []string{"role.delete", "invite.revoke", "role.delete"})
}

// An invite that expired no longer holds its role.
func TestDeleteRoleHeldOnlyByAnExpiredInvite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "temp", "message.read")
	h.do("POST", "/v1/workspaces/acme/invites", h.token("alice"), map[string]any{"email": "carol@example.com", "roles": []string{"temp"}, "expires_in": 60}).want(http.StatusCreated)
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/temp", h.token("alice"), nil).problem(http.StatusConflict, "role_in_use")
	})
	h.clock.Advance(61 * time.Second)
	h.do("DELETE", "/v1/workspaces/acme/roles/temp", h.token("alice"), nil).want(http.StatusNoContent)
}

// A custom role cannot take a slug that members or pending invites still
// hold from a role that no longer exists, here a system role removed from
// the configuration (issue 10 item 9): a slug keeps meaning what it meant
// when it was granted.
func TestCustomRoleCannotReuseAHeldSlug(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	// What a removed system role "legacy" leaves behind: a member and a
	// pending invite holding its slug.
	now := time.Now().UTC()
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "old-timer", Roles: []string{"member", "legacy"}, JoinedAt: now, UpdatedAt: now})
	}))
	inv := h.invite("alice", ws, "newbie@example.com", []string{"member"}, 0)
	must(t, h.store.Update(context.Background(), func(tx store.Tx) error {
		stored, err := tx.Invite(inv.ID)
		if err != nil {
			return err
		}
		stored.Roles = append(stored.Roles, "gone")
		return tx.PutInvite(stored)
	}))
	for _, slug := range []string{"legacy", "gone"} {
		h.refused(ws.ID, func() *resp {
			return h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": slug, "name": "Reused", "permissions": []string{"workspace.admin"}}).
				problem(http.StatusConflict, "role_slug_in_use")
		})
	}
	// Accepting the invite drops the dead slug; afterwards it is free.
	h.do("POST", "/v1/invites/accept", h.token("newbie"), map[string]any{"token": inv.Token}).want(http.StatusOK)
	if m, _ := h.member(ws.ID, "newbie"); !slices.Equal(m.Roles, []string{"member"}) {
		t.Fatalf("newbie's roles %q", m.Roles)
	}
	h.createRole("alice", ws, "gone", "contact.read")
	if a := h.access("old-timer", "acme"); h.engine.Catalog().HasName(a.Permissions, "workspace.admin") {
		t.Fatal("old-timer gained workspace.admin")
	}
}

// The roles list is paginated like every list (spec §6): system roles in
// configuration order, then custom roles by slug.
func TestListRolesIsPaginated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	for _, slug := range []string{"zeta", "alpha", "mid"} {
		h.createRole("alice", ws, slug)
	}
	want := []string{"owner", "operator", "member", "alpha", "mid", "zeta"}
	for _, limit := range []int{1, 2, 3, 4, 6, 50} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatalf("limit %d: no end", limit)
			}
			path := fmt.Sprintf("/v1/workspaces/acme/roles?limit=%d", limit)
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var p page[roleView]
			h.do("GET", path, h.token("alice"), nil).want(http.StatusOK).decode(&p)
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			for _, r := range p.Items {
				got = append(got, r.Slug)
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		wantStrings(t, fmt.Sprintf("limit %d", limit), got, want)
	}
	h.do("GET", "/v1/workspaces/acme/roles?limit=0", h.token("alice"), nil).invalid("limit")
	h.do("GET", "/v1/workspaces/acme/roles?cursor=eA", h.token("alice"), nil).invalid("cursor")
}

// failingRoles is a store whose Tx.Role fails while fail is set: a store
// failure in the middle of a request.
type failingRoles struct {
	store.Store
	fail *atomic.Bool
}

func (s failingRoles) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(failingRolesTx{tx, s.fail}) })
}

func (s failingRoles) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(failingRolesTx{tx, s.fail}) })
}

func (s failingRoles) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	return s.Store.UpdateRev(ctx, func(tx store.Tx) error { return fn(failingRolesTx{tx, s.fail}) })
}

type failingRolesTx struct {
	store.Tx
	fail *atomic.Bool
}

func (tx failingRolesTx) Role(workspaceID, slug string) (store.Role, error) {
	if tx.fail.Load() {
		return store.Role{}, errors.New("disk on fire")
	}
	return tx.Tx.Role(workspaceID, slug)
}

// A store failure while an invite's roles are looked up is 503, not "the
// role does not exist" (which would make the invitee a member without the
// role, silently).
func TestAcceptInviteStoreFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	fail := new(atomic.Bool)
	h := newHarness(t, func(o *admin.Options) { o.Store = failingRoles{o.Store, fail} })
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "contact.read")
	inv := h.invite("alice", ws, "carol@example.com", []string{"support"}, 0)
	fail.Store(true)
	h.refused(ws.ID, func() *resp {
		return h.do("POST", "/v1/invites/accept", h.token("carol"), map[string]any{"token": inv.Token}).problem(http.StatusServiceUnavailable, "unavailable")
	})
	fail.Store(false)
	h.do("POST", "/v1/invites/accept", h.token("carol"), map[string]any{"token": inv.Token}).want(http.StatusOK)
	if m, _ := h.member(ws.ID, "carol"); !slices.Equal(m.Roles, []string{"support"}) {
		t.Fatalf("carol's roles %q", m.Roles)
	}
}
