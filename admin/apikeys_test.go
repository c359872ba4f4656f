package admin_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

type apiKeyView struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Status      string     `json:"status"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	Key         string     `json:"key"`
}

type apiKeyList struct {
	Items      []apiKeyView `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// createKey creates an API key as actor and returns it with its key.
func (h *harness) createKey(actor string, ws wsView, name string, perms ...string) apiKeyView {
	h.t.Helper()
	var k apiKeyView
	h.do("POST", "/v1/workspaces/"+ws.Slug+"/api-keys", h.token(actor),
		map[string]any{"name": name, "permissions": perms}).want(http.StatusCreated).decode(&k)
	return k
}

func (h *harness) storedKey(id string) store.APIKey {
	h.t.Helper()
	var k store.APIKey
	h.view(func(tx store.Tx) error {
		var err error
		k, err = tx.APIKey(id)
		return err
	})
	return k
}

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")

	before := h.clock.Now()
	var k apiKeyView
	h.do("POST", "/v1/workspaces/acme/api-keys", alice, map[string]any{
		"name": "CRM sync", "permissions": []string{"contact.*", "message.read"}, "expires_in": 3600,
	}).want(http.StatusCreated).decode(&k)

	prefix := "ghk_" + k.ID + "_"
	if !strings.HasPrefix(k.Key, prefix) || len(k.Key) != len(prefix)+52 {
		t.Fatalf("key %q does not have the form ghk_<id>_<52 base32 characters>", k.Key)
	}
	if k.WorkspaceID != ws.ID || k.Name != "CRM sync" || k.CreatedBy != "alice" || k.Status != "active" ||
		k.LastUsedAt != nil || k.RevokedAt != nil {
		t.Fatalf("created key %+v", k)
	}
	wantStrings(t, "permissions", k.Permissions, []string{"contact.*", "message.read"})
	if k.ExpiresAt == nil || k.ExpiresAt.Sub(before) < time.Hour-time.Second || k.ExpiresAt.Sub(before) > time.Hour+time.Minute {
		t.Fatalf("expires_at %v, want an hour after %v", k.ExpiresAt, before)
	}

	// Only the hash of the secret is stored.
	stored := h.storedKey(k.ID)
	secret := strings.TrimPrefix(k.Key, prefix)
	sum := sha256.Sum256([]byte(secret))
	if stored.SecretHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored hash %q is not the SHA-256 of the secret", stored.SecretHash)
	}
	if stored.CreatedBy != "alice" || stored.WorkspaceID != ws.ID {
		t.Fatalf("stored %+v", stored)
	}

	// The list shows the key without its secret or hash; so does the audit log.
	r := h.do("GET", "/v1/workspaces/acme/api-keys", alice, nil).want(http.StatusOK)
	for _, leak := range []string{secret, stored.SecretHash, k.Key} {
		if bytes.Contains(r.raw, []byte(leak)) {
			t.Fatalf("the list leaks %q: %s", leak, r.raw)
		}
	}
	var list apiKeyList
	r.decode(&list)
	if len(list.Items) != 1 || list.Items[0].ID != k.ID || list.Items[0].Key != "" || list.NextCursor != nil {
		t.Fatalf("list %s", r.raw)
	}
	audit := h.do("GET", "/v1/workspaces/acme/audit", alice, nil).want(http.StatusOK)
	if bytes.Contains(audit.raw, []byte(secret)) || bytes.Contains(audit.raw, []byte(stored.SecretHash)) {
		t.Fatalf("the audit log leaks the key: %s", audit.raw)
	}
	if got := h.auditActions(ws.ID); got[0] != "api_key.create" {
		t.Fatalf("audit %q", got)
	}

	// Without expires_in the key does not expire.
	var forever apiKeyView
	h.do("POST", "/v1/workspaces/"+ws.ID+"/api-keys", alice, map[string]any{"name": "forever", "permissions": []string{"message.read"}}).
		want(http.StatusCreated).decode(&forever)
	if forever.ExpiresAt != nil || h.storedKey(forever.ID).ExpiresAt != nil {
		t.Fatalf("key without expires_in expires at %v", forever.ExpiresAt)
	}
}

func TestCreateAPIKeyValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"name missing", map[string]any{"permissions": []string{"message.read"}}, "name"},
		{"name blank", map[string]any{"name": "  ", "permissions": []string{"message.read"}}, "name"},
		{"name too long", map[string]any{"name": strings.Repeat("n", 101), "permissions": []string{"message.read"}}, "name"},
		{"name not a string", map[string]any{"name": 7, "permissions": []string{"message.read"}}, "name"},
		{"permissions missing", map[string]any{"name": "k"}, "permissions"},
		{"permissions empty", map[string]any{"name": "k", "permissions": []string{}}, "permissions"},
		{"permissions not a list", map[string]any{"name": "k", "permissions": "message.read"}, "permissions"},
		{"unknown permission", map[string]any{"name": "k", "permissions": []string{"message.read", "message.burn"}}, "permissions[1]"},
		{"bad pattern", map[string]any{"name": "k", "permissions": []string{"mess*"}}, "permissions[0]"},
		{"expires_in too short", map[string]any{"name": "k", "permissions": []string{"message.read"}, "expires_in": 59}, "expires_in"},
		{"expires_in too long", map[string]any{"name": "k", "permissions": []string{"message.read"}, "expires_in": 315360001}, "expires_in"},
		{"expires_in overflowing a Duration", map[string]any{"name": "k", "permissions": []string{"message.read"}, "expires_in": int64(1) << 62}, "expires_in"},
		{"expires_in negative", map[string]any{"name": "k", "permissions": []string{"message.read"}, "expires_in": -1}, "expires_in"},
		{"expires_in a string", map[string]any{"name": "k", "permissions": []string{"message.read"}, "expires_in": "1h"}, "expires_in"},
		{"unknown field", map[string]any{"name": "k", "permissions": []string{"message.read"}, "secret": "mine"}, "secret"},
		{"not JSON", "{", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := h.in(t)
			h.refused(ws.ID, func() *resp {
				return h.do("POST", "/v1/workspaces/acme/api-keys", alice, c.body)
			}).invalid(c.field)
		})
	}
}

func TestAPIKeyEscalationAndPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "keymaster", "workspace.api_keys", "message.read", "contact.*")
	h.knownTo("alice", "bob", "carol", "mallory")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"keymaster"}})
	h.putMember("alice", ws, "carol", map[string]any{"roles": []string{"operator"}})
	bob, carol := h.token("bob"), h.token("carol")

	// bob may hand out only what he holds: message.send and a wildcard
	// wider than his own are escalations, named in the answer.
	for _, perms := range [][]string{{"message.send"}, {"message.*"}, {"*"}, {"contact.read", "workspace.members"}} {
		r := h.refused(ws.ID, func() *resp {
			return h.do("POST", "/v1/workspaces/acme/api-keys", bob, map[string]any{"name": "k", "permissions": perms})
		}).problem(http.StatusForbidden, "escalation")
		if r.body["required_permission"] == "" {
			t.Fatalf("%v: escalation names nothing: %s", perms, r.raw)
		}
	}
	k := h.createKey("bob", ws, "mine", "contact.*", "message.read")
	if k.CreatedBy != "bob" {
		t.Fatalf("created by %q", k.CreatedBy)
	}

	// Without workspace.api_keys: 403 naming it, on every api-keys route.
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/workspaces/acme/api-keys"},
		{"POST", "/v1/workspaces/acme/api-keys"},
		{"DELETE", "/v1/workspaces/acme/api-keys/" + k.ID},
	} {
		h.refused(ws.ID, func() *resp {
			return h.do(req.method, req.path, carol, map[string]any{"name": "k", "permissions": []string{"message.read"}})
		}).forbidden("workspace.api_keys")
	}
	// A stranger cannot tell the workspace exists.
	h.do("GET", "/v1/workspaces/acme/api-keys", h.token("mallory"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/acme/api-keys", "", nil).problem(http.StatusUnauthorized, "unauthenticated")
}

func TestRevokeAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	other := h.newWorkspace("alice", "Other")
	alice := h.token("alice")
	k := h.createKey("alice", ws, "to revoke", "message.read")
	foreign := h.createKey("alice", other, "elsewhere", "message.read")

	h.do("DELETE", "/v1/workspaces/acme/api-keys/"+k.ID, alice, nil).want(http.StatusNoContent)
	stored := h.storedKey(k.ID)
	if stored.RevokedAt == nil {
		t.Fatal("revocation not stored")
	}
	if got := h.auditActions(ws.ID); got[0] != "api_key.revoke" {
		t.Fatalf("audit %q", got)
	}
	var list apiKeyList
	h.do("GET", "/v1/workspaces/acme/api-keys", alice, nil).want(http.StatusOK).decode(&list)
	if len(list.Items) != 1 || list.Items[0].Status != "revoked" || list.Items[0].RevokedAt == nil {
		t.Fatalf("list after revoke %+v", list)
	}

	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/api-keys/"+k.ID, alice, nil)
	}).problem(http.StatusGone, "api_key_revoked")
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/api-keys/nosuchkey", alice, nil)
	}).problem(http.StatusNotFound, "api_key_not_found")
	// A key of another workspace is not found through this one.
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/api-keys/"+foreign.ID, alice, nil)
	}).problem(http.StatusNotFound, "api_key_not_found")
	if h.storedKey(foreign.ID).RevokedAt != nil {
		t.Fatal("the other workspace's key was revoked")
	}
}

func TestListAPIKeysPagesAndShowsExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	ids := map[string]bool{}
	for i := range 3 {
		k := h.createKey("alice", ws, "k"+string(rune('a'+i)), "message.read")
		ids[k.ID] = true
	}
	var short apiKeyView
	h.do("POST", "/v1/workspaces/acme/api-keys", alice, map[string]any{"name": "short", "permissions": []string{"message.read"}, "expires_in": 60}).
		want(http.StatusCreated).decode(&short)
	ids[short.ID] = true

	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatal("pagination does not end")
		}
		path := "/v1/workspaces/acme/api-keys?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page apiKeyList
		h.do("GET", path, alice, nil).want(http.StatusOK).decode(&page)
		for _, k := range page.Items {
			if seen[k.ID] {
				t.Fatalf("key %s listed twice", k.ID)
			}
			seen[k.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %d keys, want %d", len(seen), len(ids))
	}
	h.do("GET", "/v1/workspaces/acme/api-keys?limit=0", alice, nil).invalid("limit")

	h.clock.Advance(61 * time.Second)
	var list apiKeyList
	h.do("GET", "/v1/workspaces/acme/api-keys", alice, nil).want(http.StatusOK).decode(&list)
	for _, k := range list.Items {
		want := "active"
		if k.ID == short.ID {
			want = "expired"
		}
		if k.Status != want {
			t.Fatalf("key %s status %q, want %q", k.Name, k.Status, want)
		}
	}
}

func TestAPIKeysCannotCallTheManagementAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	k := h.createKey("alice", ws, "admin-ish", "*")
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/me"},
		{"GET", "/v1/workspaces/acme/api-keys"},
		{"POST", "/v1/workspaces/acme/api-keys"},
		{"GET", "/v1/workspaces/acme/members"},
	} {
		h.refused(ws.ID, func() *resp {
			return h.do(req.method, req.path, k.Key, map[string]any{"name": "child", "permissions": []string{"*"}})
		}).problem(http.StatusForbidden, "api_key_not_allowed")
	}
	// A mangled key is an invalid token, not a forbidden caller.
	h.do("GET", "/v1/me", flipLast(k.Key), nil).problem(http.StatusUnauthorized, "invalid_token")
	h.do("GET", "/v1/me", "ghk_short", nil).problem(http.StatusUnauthorized, "invalid_token")
}

// flipLast changes the last character of a key (to another valid one).
func flipLast(key string) string {
	last := byte('a')
	if key[len(key)-1] == 'a' {
		last = 'b'
	}
	return key[:len(key)-1] + string(last)
}
