package admin_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// purgeFixture: alice owns acme (bob a plain member there, with a custom
// role, an invite and an API key) and globex, where bob is a member too.
func purgeFixture(t *testing.T) (*harness, wsView, wsView) {
	h := newHarness(t)
	h.knownTo("alice", "bob", "carol")
	acme := h.newWorkspace("alice", "Acme")
	globex := h.newWorkspace("alice", "Globex")
	for _, ws := range []wsView{acme, globex} {
		h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
		h.createRole("alice", ws, "agent", "message.read")
		h.do("POST", "/v1/workspaces/"+ws.Slug+"/invites", h.token("alice"),
			map[string]any{"email": "dave@example.com", "roles": []string{"member"}}).want(http.StatusCreated)
		h.do("POST", "/v1/workspaces/"+ws.Slug+"/api-keys", h.token("alice"),
			map[string]any{"name": "ci", "permissions": []string{"message.read"}}).want(http.StatusCreated)
	}
	return h, acme, globex
}

func (h *harness) purge(actor string, ws wsView, body any) *resp {
	h.t.Helper()
	return h.do("POST", "/v1/workspaces/"+ws.Slug+"/purge", h.token(actor), body)
}

func trash(h *harness, user string) []string {
	h.t.Helper()
	var l page[wsView]
	h.do("GET", "/v1/workspaces?deleted=true", h.token(user), nil).want(http.StatusOK).decode(&l)
	var slugs []string
	for _, ws := range l.Items {
		if ws.DeletedAt == nil {
			h.t.Errorf("trash lists live workspace %s", ws.Slug)
		}
		slugs = append(slugs, ws.Slug)
	}
	return slugs
}

func TestPurgeByTheWorkspaceAdmin(t *testing.T) {
	h, acme, globex := purgeFixture(t)
	keyOf := func(ws wsView) store.APIKey { return h.state(ws.ID).APIKeys[0] }
	acmeKey := keyOf(acme)
	globexBefore := h.state(globex.ID)

	// Only a soft-deleted workspace can be purged.
	h.refused(acme.ID, func() *resp { return h.purge("alice", acme, map[string]any{"confirm": "acme"}) }).problem(http.StatusConflict, "not_deleted")
	h.do("DELETE", "/v1/workspaces/acme", h.token("alice"), nil).want(http.StatusNoContent)

	// The trash: the deleted workspace's admins see it, nobody else does;
	// the live list no longer has it.
	wantStrings(t, "alice's trash", trash(h, "alice"), []string{"acme"})
	wantStrings(t, "bob's trash", trash(h, "bob"), nil)
	wantStrings(t, "carol's trash", trash(h, "carol"), nil)
	var live page[wsView]
	h.forgetDirectory("alice")
	h.do("GET", "/v1/workspaces", h.token("alice"), nil).want(http.StatusOK).decode(&live)
	if len(live.Items) != 1 || live.Items[0].Slug != "globex" {
		t.Errorf("live list %+v", live.Items)
	}
	h.do("GET", "/v1/workspaces?deleted=yes", h.token("alice"), nil).invalid("deleted")

	// Refusals change nothing: a non-member (404, as for a missing
	// workspace), a member without workspace.admin, a missing or wrong
	// confirmation, an unknown field.
	h.refused(acme.ID, func() *resp { return h.purge("carol", acme, map[string]any{"confirm": "acme"}) }).problem(http.StatusNotFound, "workspace_not_found")
	h.refused(acme.ID, func() *resp { return h.purge("bob", acme, map[string]any{"confirm": "acme"}) }).forbidden("workspace.admin")
	h.refused(acme.ID, func() *resp { return h.purge("alice", acme, map[string]any{}) }).invalid("confirm")
	h.refused(acme.ID, func() *resp { return h.purge("alice", acme, map[string]any{"confirm": "globex"}) }).invalid("confirm")
	h.refused(acme.ID, func() *resp { return h.purge("alice", acme, map[string]any{"confirm": "ACME"}) }).invalid("confirm")
	h.refused(acme.ID, func() *resp { return h.purge("alice", acme, map[string]any{"confirm": "acme", "force": true}) }).invalid("force")

	h.purge("alice", acme, map[string]any{"confirm": "acme"}).want(http.StatusNoContent)

	// Everything of acme is gone but one tombstone in its audit log.
	var got wsState
	h.view(func(tx store.Tx) error {
		if _, err := tx.Workspace(acme.ID); err == nil {
			t.Error("the workspace record survived")
		}
		got.Members, _, _ = tx.Members(acme.ID, "", 0)
		got.Roles, _ = tx.Roles(acme.ID)
		got.Invites, _, _ = tx.Invites(acme.ID, "", 0)
		got.APIKeys, _, _ = tx.APIKeys(acme.ID, "", 0)
		got.Audit, _, _ = tx.Audit(acme.ID, "", 0)
		if _, err := tx.APIKey(acmeKey.ID); err == nil {
			t.Error("the API key survived")
		}
		if u, err := tx.User("bob"); err != nil || u.ID != "bob" {
			t.Errorf("user bob: %+v %v", u, err)
		}
		return nil
	})
	if len(got.Members)+len(got.Roles)+len(got.Invites)+len(got.APIKeys) != 0 || len(got.Audit) != 1 {
		t.Fatalf("left after purge: %+v", got)
	}
	if ev := got.Audit[0]; ev.Action != "workspace.purge" || ev.Actor != "alice" || ev.Target != "workspace:"+acme.ID {
		t.Errorf("tombstone %+v", ev)
	}

	// Nothing else is touched: globex keeps every record, bob keeps his
	// membership there.
	if after := h.state(globex.ID); !reflect.DeepEqual(after, globexBefore) {
		t.Errorf("globex changed:\nbefore %+v\nafter  %+v", globexBefore, after)
	}

	// The gateway: acme is unknown, by slug and by id; its key is refused.
	for _, ref := range []string{"acme", acme.ID} {
		if a := h.access("alice", ref); a.Member {
			t.Errorf("alice still a member of %s after purge", ref)
		}
	}
	if a := h.access("bob", "globex"); !a.Member {
		t.Error("bob lost globex")
	}

	// The slug is free again, for anyone; the old members have no part in
	// the new workspace; the trash is empty; a second purge finds nothing.
	h.do("POST", "/v1/workspaces", h.token("carol"), map[string]any{"name": "Acme again", "slug": "acme"}).want(http.StatusCreated)
	if a := h.access("alice", "acme"); a.Member {
		t.Error("alice is a member of the new acme")
	}
	wantStrings(t, "alice's trash after purge", trash(h, "alice"), nil)
	h.do("POST", "/v1/workspaces/"+acme.ID+"/purge", h.token("alice"), map[string]any{"confirm": "acme"}).problem(http.StatusNotFound, "workspace_not_found")
}

func TestPurgeByAGlobalAdmin(t *testing.T) {
	h, acme, _ := purgeFixture(t)
	h.known("root")
	h.do("DELETE", "/v1/workspaces/acme", h.token("alice"), nil).want(http.StatusNoContent)
	// A global admin need not type the slug, but a wrong one is refused.
	h.refused(acme.ID, func() *resp { return h.purge("root", acme, map[string]any{"confirm": "nope"}) }).invalid("confirm")
	h.purge("root", acme, map[string]any{}).want(http.StatusNoContent)
	var ev []store.AuditEvent
	h.view(func(tx store.Tx) (err error) { ev, _, err = tx.Audit(acme.ID, "", 0); return err })
	if len(ev) != 1 || ev[0].Actor != "root" || ev[0].Action != "workspace.purge" {
		t.Errorf("tombstone %+v", ev)
	}
	// Not deleted: refused for a global admin too.
	globex := wsView{Slug: "globex"}
	h.purge("root", globex, map[string]any{}).problem(http.StatusConflict, "not_deleted")
}
