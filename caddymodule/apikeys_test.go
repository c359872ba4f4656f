package caddymodule

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// An API key made through the API works at the gateway at once, within its
// permissions and workspace only, stops at once when revoked, and never
// appears in a log line.
func TestAPIKeyThroughCaddy(t *testing.T) {
	s := startGateway(t)
	alice := s.token("alice")
	r := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/api-keys", alice,
		map[string]any{"name": "CRM sync", "permissions": []string{"message.read"}})
	s.mustStatus(r, http.StatusCreated, "create key")
	var created struct{ ID, Key string }
	if err := json.Unmarshal(r.body, &created); err != nil || !strings.HasPrefix(created.Key, "ghk_"+created.ID+"_") {
		t.Fatalf("created %s (%v)", r.body, err)
	}
	secret := strings.TrimPrefix(created.Key, "ghk_"+created.ID+"_")

	r = s.do("GET", "/w/acme/messages", created.Key)
	s.mustStatus(r, http.StatusOK, "key within its permissions")
	got, _ := s.upstream.received()
	if got.Get("X-Gatehouse-User") != "apikey:"+created.ID || got.Get("X-Gatehouse-Workspace") != acmeID ||
		got.Get("X-Gatehouse-Email") != "" || got.Get("X-Gatehouse-Roles") != "" {
		t.Fatalf("upstream identity: %v", got)
	}

	r = s.do("POST", "/w/acme/messages", created.Key)
	if r.StatusCode != 403 || r.problem(t)["required_permission"] != "message.send" {
		t.Fatalf("beyond its permissions: %d %s", r.StatusCode, r.body)
	}
	r = s.do("GET", "/w/globex/messages", created.Key)
	if r.StatusCode != 404 || r.problem(t)["code"] != "workspace_not_found" {
		t.Fatalf("another workspace: %d %s", r.StatusCode, r.body)
	}
	r = s.do("GET", "/w/acme/messages", "ghk_"+created.ID+"_"+strings.Repeat("a", len(secret)))
	if r.StatusCode != 401 || r.problem(t)["code"] != "invalid_token" {
		t.Fatalf("wrong secret: %d %s", r.StatusCode, r.body)
	}

	r = s.do("DELETE", "/gatehouse/v1/workspaces/acme/api-keys/"+created.ID, alice)
	s.mustStatus(r, http.StatusNoContent, "revoke")
	r = s.do("GET", "/w/acme/messages", created.Key)
	if r.StatusCode != 401 || r.problem(t)["code"] != "invalid_token" ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("the request after revoke: %d %s", r.StatusCode, r.body)
	}

	for _, name := range []string{"caddy.log", "access.log"} {
		logs := readFile(t, filepath.Join(s.dir, name))
		if logs == "" {
			t.Fatalf("%s is empty: the check below would prove nothing", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("%s contains the API key's secret", name)
		}
	}
	// The access log names the key as the user.
	if !strings.Contains(readFile(t, filepath.Join(s.dir, "access.log")), `"user_id":"apikey:`+created.ID+`"`) {
		t.Error("access log has no user_id apikey:<id>")
	}
}
