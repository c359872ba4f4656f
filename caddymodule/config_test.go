package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// A reload keeps the database open (no wait on bbolt's file lock) and
// applies the new rules at once.
func TestReloadSharesTheStoreAndChangesRules(t *testing.T) {
	s := startGateway(t)
	olga := s.token("olga")
	if r := s.do("POST", "/w/acme/campaigns/c1/run", olga); r.StatusCode != 403 {
		t.Fatalf("before reload: %d %s", r.StatusCode, r.body)
	}
	reloaded := strings.Replace(testCaddyfile, "rule *    /w/{workspace}/campaigns/{id}/run          campaign.run",
		"rule *    /w/{workspace}/campaigns/{id}/run          campaign.read", 1)
	if reloaded == testCaddyfile {
		t.Fatal("test setup: the rule to change was not found")
	}
	// Not a wall-clock check (a loaded machine makes any reload slow): the
	// new config must be served by the very database the old one opened.
	// Reopening the file would have met bbolt's lock and failed the load.
	before := pooledStore(t, s.storePath())
	s.load(reloaded)
	if after := pooledStore(t, s.storePath()); after != before {
		t.Errorf("the reload opened the store again (%p, was %p)", after, before)
	}
	if r := s.do("POST", "/w/acme/campaigns/c1/run", olga); r.StatusCode != 200 {
		t.Fatalf("after reload: %d %s", r.StatusCode, r.body)
	}
	// The store is still the same open database, shared by one pool entry.
	if refs, ok := storePool.References(mustAbs(t, s.storePath())); !ok || refs != 1 {
		t.Errorf("store pool references after reload: %d, %v", refs, ok)
	}
}

// A write through the store is visible to the very next request, even
// when the previous answer came from the cache.
func TestWriteThroughTheStoreIsSeenByTheNextRequest(t *testing.T) {
	s := startGateway(t)
	olga := s.token("olga")
	for range 3 { // warm the cache
		if r := s.do("POST", "/w/acme/messages", olga); r.StatusCode != 200 {
			t.Fatalf("before revoke: %d %s", r.StatusCode, r.body)
		}
	}
	db := pooledStore(t, s.storePath())
	err := db.Update(context.Background(), func(tx store.Tx) error {
		m, err := tx.Member(acmeID, "olga")
		if err != nil {
			return err
		}
		m.Denies = []string{"message.send"}
		return tx.PutMember(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do("POST", "/w/acme/messages", olga); r.StatusCode != 403 {
		t.Fatalf("after revoke: %d %s", r.StatusCode, r.body)
	}
}

// A store failure fails closed.
func TestStoreFailureFailsClosed(t *testing.T) {
	s := startGateway(t)
	if err := pooledStore(t, s.storePath()).Close(); err != nil {
		t.Fatal(err)
	}
	r := s.do("GET", "/w/acme/messages", s.token("alice"))
	if r.StatusCode != 503 || r.problem(t)["code"] != "unavailable" {
		t.Fatalf("with the store closed: %d %s", r.StatusCode, r.body)
	}
}

// Keys that cannot be had fail closed.
func TestUnreachableJWKSFailsClosed(t *testing.T) {
	s := newServer(t)
	seedWorkspaces(t, s)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer idp.Close()
	cfg := strings.Replace(testCaddyfile, "jwks_file {{dir}}/jwks.json", "jwks_url "+idp.URL+"/jwks.json", 1)
	s.load(cfg)
	r := s.do("GET", "/me", s.token("alice"))
	if r.StatusCode != 503 || r.problem(t)["code"] != "unavailable" {
		t.Fatalf("with the JWKS unreachable: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", "/healthz", ""); r.StatusCode != 200 {
		t.Fatalf("public route without credentials: %d", r.StatusCode)
	}
}

// A store file held by another process (here: another open handle) is a
// clear error, not a hang.
func TestLockedStoreIsAClearError(t *testing.T) {
	s := newServer(t)
	held, err := boltstore.Open(s.storePath(), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	start := time.Now()
	err = s.tryLoad(testCaddyfile)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("load with a held store: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to fail", d)
	}
}

// Config errors stop the load and name the Caddyfile line.
func TestConfigErrorsNameTheLine(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown permission in a rule", "rule POST /w/{workspace}/messages                    message.send",
			"rule POST /w/{workspace}/messages                    message.sned", `Caddyfile:{{line}}: rule POST /w/{workspace}/messages message.sned: unknown permission "message.sned"`},
		{"role with an unknown permission", `role operator "Operator" message.read`, `role operator "Operator" message.raed`, "Caddyfile:{{line}}: role operator"},
		{"implication of nothing", "permission contact.manage implies contact.read", "permission contact.manage implies contact.rd", "Caddyfile:{{line}}: permission contact.manage implies contact.rd"},
		{"duplicate rule", "rule GET  /me                                        authenticated",
			"rule GET /me public\n\t\t\trule GET  /me                                        authenticated", "Caddyfile:{{next}}"},
		{"creator role lacks admin", "creator_role owner", "creator_role operator", "creator_role \"operator\" must grant workspace.admin"},
		{"bad method", "rule GET  /healthz", "rule get  /healthz", "Caddyfile:{{line}}"},
		{"global admin no token can name", "global_admins root", `global_admins root "alice "`, `global_admins "alice ": a subject has surrounding white space`},
	}
	for _, c := range cases {
		cfg := strings.Replace(testCaddyfile, c.from, c.to, 1)
		if cfg == testCaddyfile {
			t.Fatalf("%s: setup: %q not found", c.name, c.from)
		}
		line := strings.Count(cfg[:strings.Index(cfg, c.to)], "\n") + 1
		want := strings.NewReplacer("{{line}}", fmt.Sprint(line), "{{next}}", fmt.Sprint(line+1)).Replace(c.want)
		err := validate(t, s.expand(cfg))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v\nwant it to contain %q", c.name, err, want)
		}
	}
}

// validate adapts and provisions a config like `caddy validate`; an adapt
// error is returned too.
func validate(t *testing.T, caddyfile string) error {
	t.Helper()
	raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return err
	}
	var cfg caddy.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return caddy.Validate(&cfg)
}

// The gatehouse directive needs the global option.
func TestHandlerWithoutAppIsAConfigError(t *testing.T) {
	err := validate(t, `{
	admin off
}
http://127.0.0.1:1 {
	gatehouse {
		rule GET /x public
	}
}`)
	if err == nil || !strings.Contains(err.Error(), "the gatehouse global option is missing") {
		t.Fatalf("error %v", err)
	}
}

// Caddyfile.example is the first thing users read: it must load.
func TestCaddyfileExampleValidates(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.Generate(filepath.Join(dir, "dev"), false); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the example uses paths relative to the working directory
	if err := validate(t, string(example)); err != nil {
		t.Fatalf("Caddyfile.example: %v", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// A misspelt requirement gets the word it was probably meant to be, not
// advice to declare the typo as a permission.
func TestMisspeltRequirementSuggestsTheKeyword(t *testing.T) {
	s := newServer(t)
	const rule = "rule GET  /me                                        authenticated"
	for typo, want := range map[string]string{
		"authenticatd":  `unknown requirement "authenticatd": did you mean authenticated?`,
		"Authenticated": `unknown requirement "Authenticated": did you mean authenticated?`,
		"admin":         `unknown requirement "admin": did you mean global_admin or workspace.admin?`,
		"message.sned":  `unknown permission "message.sned": did you mean message.send?`,
	} {
		cfg := strings.Replace(testCaddyfile, rule, strings.Replace(rule, "authenticated", typo, 1), 1)
		err := validate(t, s.expand(cfg))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v\nwant it to contain %q", typo, err, want)
			continue
		}
		if typo != "message.sned" && strings.Contains(err.Error(), "declare it") {
			t.Errorf("%s: error %v tells to declare the typo", typo, err)
		}
	}
}
