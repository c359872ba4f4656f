package caddymodule

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testCaddyfile is a complete config: the README "Site directives" rules behind a real
// reverse_proxy, JSON logs in a file the tests read.
const testCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	log default {
		output file {{dir}}/caddy.log
		format json
		level INFO
	}
	gatehouse {
		store {{dir}}/gatehouse.db
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		global_admins root
		permission message.read
		permission message.send implies message.read
		permission contact.manage implies contact.read
		permission contact.read
		permission campaign.read
		permission campaign.run implies campaign.read
		role owner    "Owner"    workspace.admin
		role operator "Operator" message.read message.send contact.read campaign.read
		creator_role owner
	}
}

http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	log {
		output file {{dir}}/access.log
		format json
	}
	handle_path /gatehouse/* {
		gatehouse_api
	}
	handle {
		gatehouse {
			workspace param workspace
			rule GET  /healthz                                   public
			rule GET  /me                                        authenticated
			rule GET  /w/{workspace}                             member
			rule GET  /w/{workspace}/messages                    message.read
			rule POST /w/{workspace}/messages                    message.send
			rule GET  /w/{workspace}/instances/{instance}/chats  message.read restrict instance {instance}
			rule *    /w/{workspace}/campaigns/{id}/run          campaign.run
			rule GET  /billing-admin/*                           global_admin
		}
		request_header X-Seen-Slug "{gatehouse.workspace.slug}"
		reverse_proxy {{upstream}}
	}
}
`

const (
	acmeID   = "ws_acme0000000000000000000000"
	globexID = "ws_globex000000000000000000000"
)

func seedWorkspaces(t *testing.T, s *server) {
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		for _, ws := range []store.Workspace{
			{ID: acmeID, Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now},
			{ID: globexID, Slug: "globex", Name: "Globex", CreatedAt: now, UpdatedAt: now},
		} {
			if err := tx.PutWorkspace(ws); err != nil {
				return err
			}
		}
		for _, m := range []store.Membership{
			{WorkspaceID: acmeID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: acmeID, UserID: "olga", Roles: []string{"operator"}, Restrictions: map[string][]string{"instance": {"i1"}}},
			{WorkspaceID: globexID, UserID: "bob", Roles: []string{"owner"}},
		} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
}

func startGateway(t *testing.T) *server {
	s := newServer(t)
	seedWorkspaces(t, s)
	s.load(testCaddyfile)
	return s
}

func TestGatewayAllowsAndForwardsIdentity(t *testing.T) {
	s := startGateway(t)
	// Spoofed identity in every spelling a framework might fold together.
	r := s.do("GET", "/w/acme/instances/i1/chats", s.token("olga"),
		"X-Gatehouse-User", "alice",
		"X_Gatehouse_Workspace", globexID,
		"x-gatehouse-roles", "owner",
		"X-Gatehouse-Restrict-Instance", "i1,i2,i3",
		"X-Gatehouse-Decision-Id", "spoofed")
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	got, _ := s.upstream.received()
	want := map[string]string{
		"X-Gatehouse-User":              "olga",
		"X-Gatehouse-Email":             "olga@example.com",
		"X-Gatehouse-Workspace":         acmeID,
		"X-Gatehouse-Workspace-Slug":    "acme",
		"X-Gatehouse-Roles":             "operator",
		"X-Gatehouse-Permission":        "message.read",
		"X-Gatehouse-Restrict-Instance": "i1",
		"X-Seen-Slug":                   "acme", // {gatehouse.workspace.slug}
	}
	for name, value := range want {
		if v := got.Values(name); len(v) != 1 || v[0] != value {
			t.Errorf("upstream got %s = %q, want exactly %q", name, v, value)
		}
	}
	// Nothing else that reads as X-Gatehouse-* got through.
	for name := range got {
		folded := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		// X-Gatehouse-Revision is ours (its value: TestUpstreamGetsRevision).
		// X-Gatehouse-Decision-Id too (TestDecisionIDInLogAndUpstream).
		if _, expected := want[name]; strings.HasPrefix(folded, "x-gatehouse-") && !expected &&
			name != "X-Gatehouse-Revision" && name != "X-Gatehouse-Decision-Id" {
			t.Errorf("spoofed header %s reached the upstream", name)
		}
	}

	// A public request with spoofed headers reaches the upstream without them.
	r = s.do("GET", "/healthz", "", "X-Gatehouse-User", "root")
	if r.StatusCode != 200 {
		t.Fatalf("healthz: %d %s", r.StatusCode, r.body)
	}
	got, _ = s.upstream.received()
	if v := got.Get("X-Gatehouse-User"); v != "" {
		t.Errorf("spoofed X-Gatehouse-User %q reached the upstream on a public route", v)
	}
}

func TestGatewayDenials(t *testing.T) {
	s := startGateway(t)
	_, hitsBefore := s.upstream.received()
	alice, bob := s.token("alice"), s.token("bob")
	cases := []struct {
		name, method, path, token string
		status                    int
		code, permission          string
	}{
		{"no credentials", "GET", "/me", "", 401, "unauthenticated", ""},
		{"bad token", "GET", "/me", "not.a.jwt", 401, "invalid_token", ""},
		{"bad token on public rule", "GET", "/healthz", "not.a.jwt", 401, "invalid_token", ""},
		{"not a member", "GET", "/w/acme/messages", bob, 404, "workspace_not_found", ""},
		{"unknown workspace", "GET", "/w/initech/messages", alice, 404, "workspace_not_found", ""},
		{"missing permission", "POST", "/w/acme/campaigns/c1/run", s.token("olga"), 403, "forbidden", "campaign.run"},
		{"restricted", "GET", "/w/acme/instances/i9/chats", s.token("olga"), 403, "restricted", "message.read"},
		{"not a global admin", "GET", "/billing-admin/x", alice, 403, "forbidden", ""},
		{"default deny", "GET", "/elsewhere", alice, 403, "forbidden", ""},
		{"default deny without credentials", "GET", "/elsewhere", "", 401, "unauthenticated", ""},
		{"method not allowed", "DELETE", "/w/acme/messages", alice, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		r := s.do(c.method, c.path, c.token)
		if r.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.StatusCode, c.status, r.body)
			continue
		}
		p := r.problem(t)
		if p["code"] != c.code || p["status"] != float64(c.status) || p["type"] != "urn:gatehouse:problem:"+c.code || p["title"] == "" || p["detail"] == "" {
			t.Errorf("%s: problem %v", c.name, p)
		}
		if got, _ := p["required_permission"].(string); got != c.permission {
			t.Errorf("%s: required_permission %q, want %q", c.name, got, c.permission)
		}
		switch c.status {
		case 401:
			wa := r.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, `Bearer realm="gatehouse"`) {
				t.Errorf("%s: WWW-Authenticate %q", c.name, wa)
			}
			if hasError := strings.Contains(wa, `error="invalid_token"`); hasError != (c.token != "") {
				t.Errorf("%s: WWW-Authenticate %q: error attribute iff credentials were sent", c.name, wa)
			}
		case 405:
			if r.Header.Get("Allow") != "GET, POST" {
				t.Errorf("%s: Allow %q", c.name, r.Header.Get("Allow"))
			}
			if m, _ := p["allowed_methods"].([]any); len(m) != 2 {
				t.Errorf("%s: allowed_methods %v", c.name, p["allowed_methods"])
			}
		}
	}
	if _, hits := s.upstream.received(); hits != hitsBefore {
		t.Errorf("denied requests reached the upstream (%d hits)", hits-hitsBefore)
	}
}

func TestGatewayRejectsNonCanonicalPaths(t *testing.T) {
	s := startGateway(t)
	alice := s.token("alice")
	for _, path := range []string{
		"/w/acme/../globex/messages",
		"/w/acme/%2e%2e/globex/messages",
		"/w/acme//messages",
		"/w/acme%2fmessages",
		"/w/%61cme/messages",
		"/w/acme/messages;jsessionid=x",
		"/w/acme/messages%5c",
	} {
		r := s.raw("GET " + path + " HTTP/1.1\r\nHost: " + s.addr() + "\r\nAuthorization: Bearer " + alice + "\r\nConnection: close\r\n\r\n")
		if r.StatusCode != 400 || r.problem(t)["code"] != "invalid_path" {
			t.Errorf("%s: %d %s, want 400 invalid_path", path, r.StatusCode, r.body)
		}
	}
	// An allowed path reaches the upstream exactly as it was matched.
	r := s.raw("GET /w/acme/instances/i1/chats HTTP/1.1\r\nHost: " + s.addr() + "\r\nAuthorization: Bearer " + s.token("olga") + "\r\nConnection: close\r\n\r\n")
	var echoed struct{ Path string }
	if r.StatusCode != 200 || json.Unmarshal(r.body, &echoed) != nil || echoed.Path != "/w/acme/instances/i1/chats" {
		t.Errorf("canonical path: %d %s", r.StatusCode, r.body)
	}
}

func TestGatewayLogsDenialsAndAccessUser(t *testing.T) {
	s := startGateway(t)
	bob := s.token("bob")
	s.do("GET", "/w/acme/messages", bob)
	s.do("GET", "/w/acme/messages", s.token("alice"))

	logs := readFile(t, filepath.Join(s.dir, "caddy.log"))
	if strings.Contains(logs, bob) || strings.Contains(readFile(t, filepath.Join(s.dir, "access.log")), bob) {
		t.Fatal("a token appears in the logs")
	}
	var denial map[string]any
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"request denied"`) {
			_ = json.Unmarshal([]byte(line), &denial)
		}
	}
	if denial == nil || denial["user"] != "bob" || denial["code"] != "workspace_not_found" ||
		denial["workspace"] != "acme" || denial["rule"] != "GET /w/{workspace}/messages" {
		t.Errorf("denial log line: %v", denial)
	}
	// The access log names the user ({http.auth.user.id}).
	users := map[any]bool{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, filepath.Join(s.dir, "access.log"))))
	for sc.Scan() {
		var entry map[string]any
		if json.Unmarshal(sc.Bytes(), &entry) == nil {
			users[entry["user_id"]] = true
		}
	}
	if !users["alice"] {
		t.Errorf("access log has no user_id alice: %v", users)
	}
}

// With `assertion on`, the upstream receives a JWT it can verify with the
// keys the API publishes, stating the identity facts; a client cannot
// supply one. It is not bound to the request: the same facts get the same
// token (signed once, not per request), other facts another one.
func TestAssertionReachesTheUpstreamAndVerifies(t *testing.T) {
	s := newServer(t)
	seedWorkspaces(t, s)
	s.load(strings.Replace(testCaddyfile, "workspace param workspace", "workspace param workspace\n\t\t\tassertion on", 1))

	r := s.do("GET", "/gatehouse/v1/jwks.json", "")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %s", r.StatusCode, r.body)
	}
	set, err := jwk.Parse(r.body)
	if err != nil {
		t.Fatal(err)
	}
	assertionOf := func(method, path string) (string, jwt.Token) {
		t.Helper()
		if r := s.do(method, path, s.token("olga"), "X-Gatehouse-Assertion", "forged"); r.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.StatusCode, r.body)
		}
		got, _ := s.upstream.received()
		if v := got.Values("X-Gatehouse-Assertion"); len(v) != 1 || v[0] == "forged" {
			t.Fatalf("upstream assertion headers %q", v)
		}
		tok, err := jwt.Parse([]byte(got.Get("X-Gatehouse-Assertion")), jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer("gatehouse"))
		if err != nil {
			t.Fatalf("assertion does not verify with the published keys: %v", err)
		}
		return got.Get("X-Gatehouse-Assertion"), tok
	}
	raw, tok := assertionOf("GET", "/w/acme/messages")
	for name, want := range map[string]any{"sub": "olga", "workspace": acmeID, "workspace_slug": "acme", "permission": "message.read"} {
		if v, _ := tok.Get(name); v != want {
			t.Errorf("assertion claim %s = %v, want %v", name, v, want)
		}
	}
	roles, _ := tok.Get("roles")
	restrictions, _ := tok.Get("restrictions")
	if fmt.Sprint(roles) != "[operator]" || fmt.Sprint(restrictions) != "map[instance:[i1]]" {
		t.Errorf("assertion roles %v, restrictions %v", roles, restrictions)
	}
	for _, name := range []string{"htm", "htu"} {
		if v, ok := tok.Get(name); ok {
			t.Errorf("assertion claim %s = %v: the assertion is not bound to the request", name, v)
		}
	}
	if again, _ := assertionOf("GET", "/w/acme/instances/i1/chats"); again != raw {
		t.Errorf("the same facts got another assertion")
	}
	other, tok := assertionOf("POST", "/w/acme/messages")
	if v, _ := tok.Get("permission"); other == raw || v != "message.send" {
		t.Errorf("another permission: same token %v, permission claim %v", other == raw, v)
	}
	// A reload keeps the same key: assertions stay verifiable.
	s.load(strings.Replace(testCaddyfile, "workspace param workspace", "workspace param workspace\n\t\t\tassertion on", 1))
	if r := s.do("GET", "/gatehouse/v1/jwks.json", ""); string(r.body) != string(mustJSON(t, set)) {
		t.Errorf("the key changed across a reload")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	// Log writers may lag a little behind the response.
	var b []byte
	for range 50 {
		var err error
		b, err = os.ReadFile(path)
		if err == nil && len(b) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return string(b)
}
