package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"
)

// Through a real Caddy: a 201's Location carries the handle_path prefix
// and reads the resource back; a purged workspace is 404
// workspace_not_found at the gateway, by slug and by id, its API key is
// refused, and its slug serves the new workspace that takes it.
func TestPurgeReachesTheGatewayAndLocationHasTheMount(t *testing.T) {
	s := startGateway(t)
	alice, bob := s.token("alice"), s.token("bob")

	r := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/api-keys", alice,
		map[string]any{"name": "ci", "permissions": []string{"message.read"}})
	s.mustStatus(r, 201, "create key")
	var key struct{ ID, Key string }
	if err := json.Unmarshal(r.body, &key); err != nil {
		t.Fatal(err)
	}
	if loc, want := r.Header.Get("Location"), "/gatehouse/v1/workspaces/"+acmeID+"/api-keys/"+key.ID; loc != want {
		t.Fatalf("Location %q, want %q", loc, want)
	}
	if !strings.HasPrefix(key.ID, "key_") || !strings.HasPrefix(key.Key, "ghk_"+key.ID+"_") {
		t.Fatalf("key id %q, key %q", key.ID, key.Key)
	}
	s.mustStatus(s.do("GET", r.Header.Get("Location"), alice), 200, "GET the Location")
	s.mustStatus(s.do("GET", "/w/acme/messages", key.Key), 200, "the key before purge")

	s.mustStatus(s.doJSON("DELETE", "/gatehouse/v1/workspaces/acme", alice, nil), 204, "soft delete")
	s.mustStatus(s.doJSON("POST", "/gatehouse/v1/workspaces/acme/purge", alice, map[string]any{"confirm": "acme"}), 204, "purge")

	for _, path := range []string{"/w/acme/messages", "/w/" + acmeID + "/messages"} {
		r := s.do("GET", path, alice)
		if r.StatusCode != 404 || r.problem(t)["code"] != "workspace_not_found" {
			t.Errorf("%s after purge: %d %s", path, r.StatusCode, r.body)
		}
	}
	if r := s.do("GET", "/w/acme/messages", key.Key); r.StatusCode != 401 {
		t.Errorf("the purged workspace's key: %d %s", r.StatusCode, r.body)
	}
	// Globex is untouched.
	s.mustStatus(s.do("GET", "/w/globex/messages", bob), 200, "globex")

	// The slug is free: bob takes it, and the gateway serves his new
	// workspace at once, to him only.
	s.mustStatus(s.doJSON("POST", "/gatehouse/v1/workspaces", bob, map[string]any{"name": "Acme", "slug": "acme"}), 201, "reuse the slug")
	s.mustStatus(s.do("GET", "/w/acme/messages", bob), 200, "bob in the new acme")
	s.mustStatus(s.do("GET", "/w/acme/messages", alice), 404, "alice in the new acme")
}
