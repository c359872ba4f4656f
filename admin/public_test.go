package admin_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// GET /v1/jwks.json and GET /v1/openapi.json need no token.
func TestPublicDocuments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	r := h.do("GET", "/v1/jwks.json", "", nil).want(http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("jwks Content-Type %q", ct)
	}
	if string(r.raw) != string(h.jwks) {
		t.Errorf("jwks body %s, want the configured set %s", r.raw, h.jwks)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	r.decode(&set)
	if len(set.Keys) == 0 || set.Keys[0]["kid"] == nil {
		t.Errorf("jwks holds no key with a kid: %s", r.raw)
	}
	if _, private := set.Keys[0]["d"]; private {
		t.Errorf("jwks publishes a private key: %s", r.raw)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "public") {
		t.Errorf("jwks Cache-Control %q", cc)
	}

	r = h.do("GET", "/v1/openapi.json", "", nil).want(http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("openapi Content-Type %q", ct)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	r.decode(&doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/v1/workspaces/{ws}/members/{user}"] == nil {
		t.Errorf("openapi document lacks its version or the members path: openapi=%q, %d paths", doc.OpenAPI, len(doc.Paths))
	}

	// A token, even a bad one, does not matter on public endpoints.
	h.do("GET", "/v1/jwks.json", "garbage", nil).want(http.StatusOK)
}

func TestUnknownPathIs404(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token("alice")
	for _, path := range []string{"/", "/v1", "/v1/nope", "/v2/me", "/v1/workspaces/acme/members/bob/extra", "/v1/admin"} {
		for _, token := range []string{"", tok} {
			r := h.do("GET", path, token, nil).problem(http.StatusNotFound, "not_found")
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("GET %s: 404 with a challenge", path)
			}
		}
	}
	// A trailing slash is ignored for matching, as at the gateway.
	h.do("GET", "/v1/me/", tok, nil).want(http.StatusOK)
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token("alice")
	for _, tc := range []struct {
		method, path string
		allow        []string
	}{
		{"DELETE", "/v1/me", []string{"GET"}},
		{"PUT", "/v1/workspaces", []string{"GET", "POST"}},
		{"POST", "/v1/workspaces/acme", []string{"DELETE", "GET", "PATCH"}},
		{"GET", "/v1/invites/accept", []string{"POST"}},
		{"PATCH", "/v1/workspaces/acme/members/bob", []string{"DELETE", "GET", "PUT"}},
		{"POST", "/v1/jwks.json", []string{"GET"}},
	} {
		for _, token := range []string{"", tok} {
			r := h.do(tc.method, tc.path, token, nil).problem(http.StatusMethodNotAllowed, "method_not_allowed")
			allow := strings.Split(r.header.Get("Allow"), ", ")
			if !slices.Equal(sorted(allow), tc.allow) {
				t.Errorf("%s %s: Allow %q, want %v", tc.method, tc.path, r.header.Get("Allow"), tc.allow)
			}
			var body struct {
				AllowedMethods []string `json:"allowed_methods"`
			}
			r.decode(&body)
			if !slices.Equal(sorted(body.AllowedMethods), tc.allow) {
				t.Errorf("%s %s: allowed_methods %v, want %v", tc.method, tc.path, body.AllowedMethods, tc.allow)
			}
		}
	}
}

// rawRequest writes a request line as is (no client-side cleaning) and
// reads the answer.
func (h *harness) rawRequest(method, target, token string) *resp {
	h.t.Helper()
	conn, err := net.DialTimeout("tcp", h.srv.Listener.Addr().String(), 5*time.Second)
	must(h.t, err)
	defer conn.Close()
	must(h.t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n", method, target)
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	_, err = conn.Write([]byte(req + "\r\n"))
	must(h.t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	must(h.t, err)
	r, err := readResp(h.t, method+" "+target, res)
	must(h.t, err)
	return r
}

func TestNonCanonicalPathIs400(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	tok := h.token("alice")
	// The canonical form works over the same raw connection.
	h.rawRequest("GET", "/v1/workspaces/"+ws.Slug, tok).want(http.StatusOK)
	for _, target := range []string{
		"/v1/workspaces/a/../" + ws.Slug,
		"/v1/workspaces/./" + ws.Slug,
		"/v1/workspaces/" + ws.Slug + "/.",
		"/v1//me",
		"/v1/workspaces/" + ws.Slug + "%2Fmembers",
		"/v1/workspaces/%2e%2e/" + ws.Slug,
		"/v1/me%00",
		"/v1/workspaces/a%5Cb",
		// (An invalid escape such as %zz never reaches the API: net/http's
		// server refuses the request line itself.)
	} {
		for _, token := range []string{"", tok} {
			h.rawRequest("GET", target, token).problem(http.StatusBadRequest, "invalid_path")
		}
	}
	// The same through net/http's client with an opaque request target.
	req, err := http.NewRequest("GET", h.srv.URL, nil)
	must(t, err)
	req.URL.Opaque = "/v1/workspaces/x/../" + ws.Slug
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := h.srv.Client().Do(req)
	must(t, err)
	r, err := readResp(t, "GET "+req.URL.Opaque, res)
	must(t, err)
	r.problem(http.StatusBadRequest, "invalid_path")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// No credentials: 401 with a bare challenge, on every non-public endpoint.
	for _, ep := range []struct{ method, path string }{
		{"GET", "/v1/me"}, {"GET", "/v1/permissions"}, {"GET", "/v1/workspaces"}, {"POST", "/v1/workspaces"},
		{"GET", "/v1/workspaces/acme"}, {"PUT", "/v1/workspaces/acme/members/bob"}, {"GET", "/v1/invites"},
		{"POST", "/v1/invites/accept"}, {"GET", "/v1/admin/workspaces"}, {"GET", "/v1/workspaces/acme/audit"},
	} {
		r := h.do(ep.method, ep.path, "", nil).problem(http.StatusUnauthorized, "unauthenticated")
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="gatehouse"` {
			t.Errorf("%s %s: WWW-Authenticate %q", ep.method, ep.path, got)
		}
	}

	// Another key pair, unknown to the verifier.
	other := t.TempDir()
	must(t, signing.Generate(other, false))
	otherKey, err := signing.LoadSigningKey(filepath.Join(other, signing.SigningKeyFile))
	must(t, err)
	foreign, err := signing.Sign(otherKey, signing.TokenSpec{Subject: "alice", Email: "alice@example.com"})
	must(t, err)

	for name, tok := range map[string]string{
		"garbage": "not-a-jwt",
		"expired": h.tokenSpec(signing.TokenSpec{Subject: "alice", TTL: -time.Hour, Now: time.Now().Add(-2 * time.Hour)}),
		"foreign": foreign,
		"tampered": func() string {
			tok := h.token("alice")
			parts := strings.Split(tok, ".")
			evil, _ := json.Marshal(map[string]any{"sub": "root", "exp": time.Now().Add(time.Hour).Unix()})
			parts[1] = base64.RawURLEncoding.EncodeToString(evil)
			return strings.Join(parts, ".")
		}(),
	} {
		r := h.do("GET", "/v1/me", tok, nil).problem(http.StatusUnauthorized, "invalid_token")
		ch := r.header.Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, `Bearer realm="gatehouse", error="invalid_token", error_description="`) {
			t.Errorf("%s token: WWW-Authenticate %q", name, ch)
		}
	}
	// Another scheme is no bearer token; an empty bearer token is an invalid one.
	h.doWith("GET", "/v1/me", "", nil, map[string]string{"Authorization": "Basic YWxpY2U6cHc="}).problem(http.StatusUnauthorized, "unauthenticated")
	h.doWith("GET", "/v1/me", "", nil, map[string]string{"Authorization": "Bearer"}).problem(http.StatusUnauthorized, "invalid_token")
	// Refused callers were not recorded as users.
	h.view(func(tx store.Tx) error {
		if _, err := tx.User("root"); err == nil {
			t.Errorf("the subject of a tampered token was recorded")
		}
		return nil
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.newWorkspace("alice", "Acme")
	gone := h.newWorkspace("alice", "Gone")
	h.knownTo("alice", "bob")
	h.putMember("alice", acme, "bob", map[string]any{"roles": []string{"operator"}, "grants": []string{"campaign.run"}, "denies": []string{"message.send"}})
	h.putMember("alice", gone, "bob", map[string]any{"roles": []string{"member"}})
	h.forgetDirectory("alice")
	h.do("DELETE", "/v1/workspaces/"+gone.Slug, h.token("alice"), nil).want(http.StatusNoContent)

	type meWS struct {
		ID, Slug, Name     string
		Roles, Permissions []string
	}
	var me struct {
		ID          string     `json:"id"`
		Email       string     `json:"email"`
		GlobalAdmin bool       `json:"global_admin"`
		FirstSeen   *time.Time `json:"first_seen"`
		Workspaces  []meWS     `json:"workspaces"`
	}
	h.do("GET", "/v1/me", h.token("bob"), nil).want(http.StatusOK).decode(&me)
	if me.ID != "bob" || me.Email != "bob@example.com" || me.GlobalAdmin || me.FirstSeen == nil {
		t.Errorf("bob's /v1/me: %+v", me)
	}
	if len(me.Workspaces) != 1 {
		t.Fatalf("bob's workspaces: %+v, want acme only (gone is deleted)", me.Workspaces)
	}
	w := me.Workspaces[0]
	if w.ID != acme.ID || w.Slug != acme.Slug || w.Name != "Acme" {
		t.Errorf("bob's workspace: %+v", w)
	}
	wantStrings(t, "bob's roles", w.Roles, []string{"operator"})
	// operator + campaign.run (and what it implies) - message.send.
	wantStrings(t, "bob's permissions", w.Permissions, []string{"campaign.read", "campaign.run", "contact.read", "message.read"})

	h.do("GET", "/v1/me", h.token("alice"), nil).want(http.StatusOK).decode(&me)
	if len(me.Workspaces) != 1 || me.Workspaces[0].ID != acme.ID {
		t.Fatalf("alice's workspaces: %+v", me.Workspaces)
	}
	wantStrings(t, "alice's permissions", me.Workspaces[0].Permissions, allPermissions)

	r := h.do("GET", "/v1/me", h.token("root"), nil).want(http.StatusOK)
	r.decode(&me)
	if !me.GlobalAdmin || me.ID != "root" {
		t.Errorf("root's /v1/me: %s", r.raw)
	}
	if !strings.Contains(string(r.raw), `"workspaces":[]`) {
		t.Errorf("a user without workspaces must get an empty list: %s", r.raw)
	}
	// Being a global admin gives no workspace permissions.
	h.do("GET", "/v1/workspaces/"+acme.Slug, h.token("root"), nil).problem(http.StatusNotFound, "workspace_not_found")
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var got struct {
		Permissions []struct {
			Name    string   `json:"name"`
			Implies []string `json:"implies"`
			Grants  []string `json:"grants"`
		} `json:"permissions"`
		Roles []roleView `json:"roles"`
	}
	r := h.do("GET", "/v1/permissions", h.token("carol"), nil).want(http.StatusOK)
	r.decode(&got)
	var names []string
	byName := map[string]int{}
	for i, p := range got.Permissions {
		names = append(names, p.Name)
		byName[p.Name] = i
		if p.Implies == nil || p.Grants == nil {
			t.Errorf("%s: implies and grants must be lists, even empty: %s", p.Name, r.raw)
		}
	}
	wantStrings(t, "catalog", names, allPermissions)
	for _, tc := range []struct {
		name            string
		implies, grants []string
	}{
		{"message.read", []string{}, []string{}},
		{"message.send", []string{"message.read"}, []string{"message.read"}},
		{"contact.manage", []string{"contact.read"}, []string{"contact.read"}},
		{"campaign.admin", []string{"campaign.run"}, []string{"campaign.read", "campaign.run"}}, // transitive
		{"workspace.admin", []string{"*"}, slices.DeleteFunc(slices.Clone(allPermissions), func(s string) bool { return s == "workspace.admin" })},
		{"workspace.members", []string{}, []string{}},
	} {
		p := got.Permissions[byName[tc.name]]
		wantStrings(t, tc.name+" implies", p.Implies, tc.implies)
		wantStrings(t, tc.name+" grants", p.Grants, tc.grants)
	}
	if len(got.Roles) != len(testRoles) {
		t.Fatalf("system roles: %+v", got.Roles)
	}
	for i, want := range testRoles {
		role := got.Roles[i]
		if role.Slug != want.Slug || role.Name != want.Name || !role.System || role.Description != want.Description {
			t.Errorf("system role %d: %+v, want %+v", i, role, want)
		}
		wantStrings(t, role.Slug+" permissions", role.Permissions, want.Permissions)
	}
}

// A store failure fails closed with 503 unavailable, as at the gateway and
// as the OpenAPI document says; the cause is logged, not shown.
func TestStoreFailureIs503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	must(t, h.store.Close())
	r := h.do("GET", "/v1/workspaces/acme", alice, nil).problem(http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(string(r.raw), "database") || strings.Contains(string(r.raw), "bolt") {
		t.Fatalf("the cause leaks: %s", r.raw)
	}
}
