package admin_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// A restricted member cannot create, assign or grant access wider than
// their own, restrictions included (issue 10 item 4): not by lifting their
// own or others' restrictions, not through an invite, not through an API
// key.
func TestRestrictionsAreWithinNoEscalation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "olga", "dave")
	i1 := map[string][]string{"instance": {"i1"}}
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"},
		"grants": []string{"workspace.members", "workspace.api_keys"}, "restrictions": i1})
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"member"}})
	h.knownTo("olga", "bob")
	olga := h.token("olga")
	escalation := func(r *resp) *resp {
		t.Helper()
		r.problem(http.StatusForbidden, "escalation")
		if !strings.Contains(r.str("detail"), "instance i1") {
			t.Fatalf("detail does not name the restriction: %s", r.raw)
		}
		return r
	}

	// Lifting or widening her own restriction.
	for _, r := range []any{nil, map[string][]string{}, map[string][]string{"instance": {"i1", "i2"}}, map[string][]string{"chat": {"all"}}} {
		h.refused(ws.ID, func() *resp {
			return escalation(h.do("PUT", "/v1/workspaces/acme/members/olga", olga,
				map[string]any{"roles": []string{"operator"}, "grants": []string{"workspace.members", "workspace.api_keys"}, "restrictions": r}))
		})
	}
	// Adding someone wider than herself.
	for _, r := range []any{nil, map[string][]string{"instance": {"i2"}}} {
		h.refused(ws.ID, func() *resp {
			return escalation(h.do("PUT", "/v1/workspaces/acme/members/bob", olga,
				map[string]any{"roles": []string{"member"}, "restrictions": r}))
		})
	}
	// Changing or removing a member whose access is wider (unrestricted).
	h.refused(ws.ID, func() *resp {
		return escalation(h.do("PUT", "/v1/workspaces/acme/members/dave", olga,
			map[string]any{"roles": []string{"member"}, "restrictions": i1}))
	})
	h.refused(ws.ID, func() *resp {
		return escalation(h.do("DELETE", "/v1/workspaces/acme/members/dave", olga, nil))
	})
	// Within her restriction (narrower too) is fine.
	m := h.putMember("olga", ws, "bob", map[string]any{"roles": []string{"member"},
		"restrictions": map[string][]string{"instance": {"i1"}, "chat": {"assigned_only"}}})
	if len(m.Restrictions) != 2 {
		t.Fatalf("bob: %+v", m)
	}
	h.do("DELETE", "/v1/workspaces/acme/members/bob", olga, nil).want(http.StatusNoContent)

	// An invite she makes carries her restriction to whoever accepts it.
	var inv inviteView
	h.do("POST", "/v1/workspaces/acme/invites", olga, map[string]any{"email": "carol@example.com", "roles": []string{"member"}}).
		want(http.StatusCreated).decode(&inv)
	var accepted struct {
		Member memberView `json:"member"`
	}
	h.do("POST", "/v1/invites/accept", h.token("carol"), map[string]any{"token": inv.Token}).want(http.StatusOK).decode(&accepted)
	if stored, _ := h.member(ws.ID, "carol"); !reflect.DeepEqual(stored.Restrictions, i1) || !reflect.DeepEqual(accepted.Member.Restrictions, i1) {
		t.Fatalf("carol joined with restrictions %v (answer %v), want %v", stored.Restrictions, accepted.Member.Restrictions, i1)
	}
	if h.access("carol", "acme").Allows("instance", "i2") {
		t.Fatal("carol reaches instance i2 at the gateway")
	}

	// An API key she makes carries her restriction, and the gateway applies it.
	var key struct {
		ID           string              `json:"id"`
		Restrictions map[string][]string `json:"restrictions"`
	}
	h.do("POST", "/v1/workspaces/acme/api-keys", olga, map[string]any{"name": "bot", "permissions": []string{"message.read"}}).
		want(http.StatusCreated).decode(&key)
	if !reflect.DeepEqual(key.Restrictions, i1) {
		t.Fatalf("key restrictions %v, want %v", key.Restrictions, i1)
	}
	a := h.access("apikey:"+key.ID, "acme")
	if !a.Member || a.Allows("instance", "i2") || !a.Allows("instance", "i1") {
		t.Fatalf("key access at the gateway: %+v", a)
	}
}

// A restricted member with workspace.roles cannot widen a role held by a
// member restricted less than they are: that would grant the holder, on
// every resource, what the editor holds on their own only.
func TestRestrictedEditorCannotWidenARoleOfWiderHolders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "message.read")
	h.knownTo("alice", "rita", "dave")
	h.putMember("alice", ws, "rita", map[string]any{"roles": []string{"operator"}, "grants": []string{"workspace.roles"},
		"restrictions": map[string][]string{"instance": {"i1"}}})
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"support"}})
	rita := h.token("rita")
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme/roles/support", rita, map[string]any{"permissions": []string{"message.read", "contact.read"}}).
			problem(http.StatusForbidden, "escalation")
	})
	// Renaming, or narrowing, widens nothing.
	h.do("PATCH", "/v1/workspaces/acme/roles/support", rita, map[string]any{"name": "Support desk"}).want(http.StatusOK)
	// Once every holder is within her restriction, she may widen it.
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"support"}, "restrictions": map[string][]string{"instance": {"i1"}}})
	h.do("PATCH", "/v1/workspaces/acme/roles/support", rita, map[string]any{"permissions": []string{"message.read", "contact.read"}}).want(http.StatusOK)
}
