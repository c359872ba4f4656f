package gateway_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
)

// want is the expected outcome of one request.
type want struct {
	status     int    // 0 = allowed
	code       string // problem code on denial
	permission string // required_permission on denial
}

func decide(p *gateway.Policy, r *http.Request) *gateway.Decision {
	d := new(gateway.Decision)
	p.Decide(r, nil, d)
	return d
}

func check(t *testing.T, name string, d *gateway.Decision, w want) {
	t.Helper()
	if w.status == 0 {
		if !d.Allowed {
			t.Errorf("%s: denied %d %s (%s), want allowed", name, d.Problem.Status, d.Problem.Code, d.Problem.Detail)
		}
		return
	}
	if d.Allowed {
		t.Errorf("%s: allowed, want %d %s", name, w.status, w.code)
		return
	}
	if d.Problem.Status != w.status || d.Problem.Code != w.code || d.Problem.RequiredPermission != w.permission {
		t.Errorf("%s: got %d %s required=%q (%s), want %d %s required=%q", name,
			d.Problem.Status, d.Problem.Code, d.Problem.RequiredPermission, d.Problem.Detail, w.status, w.code, w.permission)
	}
}

func TestDecideRequirements(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	tokens := map[string]string{}
	for _, u := range []string{"alice", "olga", "dave", "eve", "bob", "root", "mallory"} {
		tokens[u] = f.token(u)
	}
	cases := []struct {
		method, path, user string
		want
	}{
		// public
		{"GET", "/healthz", "", want{}},
		{"GET", "/healthz", "alice", want{}},
		// authenticated
		{"GET", "/me", "", want{401, "unauthenticated", ""}},
		{"GET", "/me", "mallory", want{}},
		// member
		{"GET", "/w/acme", "eve", want{}},
		{"GET", "/w/acme", "bob", want{404, "workspace_not_found", ""}},
		{"GET", "/w/acme", "", want{401, "unauthenticated", ""}},
		// permission via role, by slug and by id
		{"GET", "/w/acme/messages", "alice", want{}},
		{"GET", "/w/" + f.acme.ID + "/messages", "alice", want{}},
		{"GET", "/w/acme/messages", "olga", want{}},
		{"POST", "/w/acme/messages", "olga", want{}},
		{"POST", "/w/acme/messages", "eve", want{403, "forbidden", "message.send"}},
		// per-member deny beats the role
		{"POST", "/w/acme/messages", "dave", want{403, "forbidden", "message.send"}},
		{"GET", "/w/acme/messages", "dave", want{}},
		// custom role, implication (contact.manage), grant pattern (campaign.*)
		{"GET", "/w/acme/contacts/export", "eve", want{}},
		{"GET", "/w/acme/contacts/export", "olga", want{403, "forbidden", "contact.manage"}},
		{"PATCH", "/w/acme/campaigns/c1/run", "eve", want{}},
		{"POST", "/w/acme/campaigns/c1/run", "olga", want{403, "forbidden", "campaign.run"}},
		// tenant isolation: unknown, other tenant's, deleted workspace
		{"GET", "/w/globex/messages", "alice", want{404, "workspace_not_found", ""}},
		{"GET", "/w/globex/messages", "bob", want{}},
		{"GET", "/w/nope/messages", "alice", want{404, "workspace_not_found", ""}},
		{"GET", "/w/gone/messages", "alice", want{404, "workspace_not_found", ""}},
		{"GET", "/w/" + f.gone.ID + "/messages", "alice", want{404, "workspace_not_found", ""}},
		{"GET", "/w/ACME/messages", "alice", want{404, "workspace_not_found", ""}},
		// restrictions
		{"GET", "/w/acme/instances/i1/chats", "olga", want{}},
		{"GET", "/w/acme/instances/i3/chats", "olga", want{403, "restricted", "message.read"}},
		{"GET", "/w/acme/instances/i3/chats", "alice", want{}},
		// global admin: no workspace permission from it
		{"GET", "/billing-admin/report", "root", want{}},
		{"GET", "/billing-admin/report", "alice", want{403, "forbidden", ""}},
		{"GET", "/w/acme/messages", "root", want{404, "workspace_not_found", ""}},
		// default deny
		{"GET", "/nowhere", "", want{401, "unauthenticated", ""}},
		{"GET", "/nowhere", "alice", want{403, "forbidden", ""}},
		{"GET", "/billing-admin", "root", want{403, "forbidden", ""}},
		// 405 before authentication
		{"DELETE", "/w/acme/messages", "", want{405, "method_not_allowed", ""}},
		{"DELETE", "/w/acme/messages", "alice", want{405, "method_not_allowed", ""}},
		// trailing slash is ignored for matching
		{"GET", "/w/acme/messages/", "alice", want{}},
	}
	for _, c := range cases {
		name := c.method + " " + c.path + " as " + c.user
		check(t, name, decide(p, request(c.method, c.path, tokens[c.user])), c.want)
	}
}

func TestDecideInvalidCredentials(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice := f.token("alice")
	cases := []struct {
		name   string
		path   string
		header []string // Authorization values
		want
	}{
		{"garbage token on public rule", "/healthz", []string{"Bearer garbage"}, want{401, "invalid_token", ""}},
		{"garbage token on default deny", "/nowhere", []string{"Bearer garbage"}, want{401, "invalid_token", ""}},
		{"tampered signature", "/me", []string{"Bearer " + alice[:len(alice)-4] + "AAAA"}, want{401, "invalid_token", ""}},
		{"empty bearer", "/me", []string{"Bearer "}, want{401, "invalid_token", ""}},
		{"two Authorization headers", "/me", []string{"Bearer " + alice, "Bearer " + alice}, want{401, "invalid_token", ""}},
		{"other scheme is no credentials", "/me", []string{"Basic YWxpY2U6eA=="}, want{401, "unauthenticated", ""}},
		{"scheme is case-insensitive", "/me", []string{"bearer " + alice}, want{}},
	}
	for _, c := range cases {
		r := request("GET", c.path, "")
		r.Header["Authorization"] = c.header
		check(t, c.name, decide(p, r), c.want)
	}
}

func TestDecideRejectsNonCanonicalPaths(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice := f.token("alice")
	for _, target := range []string{
		"/w/acme/../globex/messages",
		"/w/acme/./messages",
		"/w/acme//messages",
		"/w/acme/%2e%2e/messages",
		"/w/acme%2Fmessages",
		"/w/acme/messages%00",
		"/w/%61cme/messages",
		"/w/acme/messages;x=1",
		"/w/acme\\messages",
	} {
		// Parse the target as net/http's server does (no resolution of
		// dot segments, unlike URL.Parse).
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		r := request("GET", "/", alice)
		r.URL, r.RequestURI = u, target
		check(t, target, decide(p, r), want{400, "invalid_path", ""})
	}
}

func TestDecideForwardsIdentity(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	r := request("GET", "/w/acme/instances/i2/chats", f.token("olga"))
	d := decide(p, r)
	if !d.Allowed {
		t.Fatalf("denied: %+v", d.Problem)
	}
	h := http.Header{}
	d.SetIdentityHeaders(h)
	for name, value := range map[string]string{
		"X-Gatehouse-User":              "olga",
		"X-Gatehouse-Email":             "olga@example.com",
		"X-Gatehouse-Workspace":         f.acme.ID,
		"X-Gatehouse-Workspace-Slug":    "acme",
		"X-Gatehouse-Roles":             "operator",
		"X-Gatehouse-Permission":        "message.read",
		"X-Gatehouse-Restrict-Instance": "i1,i2",
		"X-Gatehouse-Restrict-Chat":     "assigned_only",
	} {
		if got := h.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}

	// A member rule names no permission; an authenticated rule no workspace.
	d = decide(p, request("GET", "/me", f.token("eve")))
	h = http.Header{}
	d.SetIdentityHeaders(h)
	if h.Get("X-Gatehouse-User") != "eve" || h.Get("X-Gatehouse-Workspace") != "" || h.Get("X-Gatehouse-Permission") != "" {
		t.Errorf("authenticated rule headers: %v", h)
	}
	d = decide(p, request("GET", "/w/acme", f.token("eve")))
	h = http.Header{}
	d.SetIdentityHeaders(h)
	if h.Get("X-Gatehouse-Roles") != "member,exporter" || h.Get("X-Gatehouse-Permission") != "" {
		t.Errorf("member rule headers: %v", h)
	}
}

func TestScrubStripsIdentityHeaders(t *testing.T) {
	p := newFixture(t).policy(gateway.DefaultWorkspaceSource)
	h := http.Header{}
	for _, name := range []string{"X-Gatehouse-User", "x-gatehouse-workspace", "X_Gatehouse_User", "X-GATEHOUSE-ROLES", "X-Gatehouse_Permission", "x_gatehouse-restrict-instance"} {
		h[name] = []string{"spoofed"}
	}
	h.Set("X-Gatehousekeeper", "kept") // not the prefix
	h.Set("X-Request-Id", "kept")
	r := request("GET", "/w/acme", "")
	r.Header = h
	p.Scrub(r, false)
	for name := range h {
		if name != "X-Gatehousekeeper" && name != "X-Request-Id" {
			t.Errorf("header %q survived stripping", name)
		}
	}
	if len(h) != 2 {
		t.Errorf("stripped too much: %v", h)
	}
}

func TestDecideWorkspaceSources(t *testing.T) {
	f := newFixture(t)
	rules := []gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/messages", Require: "message.read"}}
	alice := f.token("alice")

	byHeader := f.policy(gateway.WorkspaceSource{From: "header", Name: "x-workspace-id"}, rules...)
	r := request("GET", "/messages", alice)
	r.Header.Set("X-Workspace-ID", f.acme.ID)
	check(t, "header by id", decide(byHeader, r), want{})
	r.Header.Set("X-Workspace-ID", "globex")
	check(t, "header other tenant", decide(byHeader, r), want{404, "workspace_not_found", ""})
	r.Header["X-Workspace-Id"] = []string{"acme", "globex"}
	check(t, "header twice", decide(byHeader, r), want{400, "invalid_request", ""})
	r.Header.Del("X-Workspace-Id")
	check(t, "header missing", decide(byHeader, r), want{404, "workspace_not_found", ""})

	byQuery := f.policy(gateway.WorkspaceSource{From: "query", Name: "ws"}, rules...)
	check(t, "query", decide(byQuery, request("GET", "/messages?ws=acme&x=1", alice)), want{})
	check(t, "query encoded key", decide(byQuery, request("GET", "/messages?w%73=acme", alice)), want{})
	check(t, "query twice", decide(byQuery, request("GET", "/messages?ws=acme&ws=globex", alice)), want{400, "invalid_request", ""})
	check(t, "query twice, once encoded", decide(byQuery, request("GET", "/messages?ws=acme&w%73=globex", alice)), want{400, "invalid_request", ""})
	check(t, "query missing", decide(byQuery, request("GET", "/messages", alice)), want{404, "workspace_not_found", ""})

	byPlaceholder := f.policy(gateway.WorkspaceSource{From: "placeholder", Name: "{labels.2}"}, rules...)
	d := new(gateway.Decision)
	byPlaceholder.Decide(request("GET", "/messages", alice), placeholders{"labels.2": "acme"}, d)
	check(t, "placeholder", d, want{})
	d = new(gateway.Decision)
	byPlaceholder.Decide(request("GET", "/messages", alice), placeholders{"labels.2": "globex"}, d)
	check(t, "placeholder other tenant", d, want{404, "workspace_not_found", ""})
}

type placeholders map[string]string

func (p placeholders) GetString(name string) (string, bool) {
	v, ok := p[name]
	return v, ok
}

func TestNewPolicyErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		rule gateway.RuleSpec
		want string
	}{
		{gateway.RuleSpec{Methods: []string{"GET"}, Path: "/w/{workspace}/x", Require: "nope.read", Source: "Caddyfile:7"}, `Caddyfile:7: rule GET /w/{workspace}/x nope.read: unknown permission "nope.read"`},
		{gateway.RuleSpec{Methods: []string{"GET"}, Path: "/x", Require: "message.read"}, "has no {workspace} segment"},
		{gateway.RuleSpec{Methods: []string{"GET"}, Path: "/w/{workspace}/i/{id}", Require: "member", RestrictType: "instance", RestrictParam: "instance"}, "not a segment of the path"},
		{gateway.RuleSpec{Methods: []string{"GET"}, Path: "/x", Require: "public", RestrictType: "instance", RestrictParam: "x"}, "only applies to member or permission rules"},
		{gateway.RuleSpec{Methods: []string{"GET"}, Path: "/x", Require: ""}, "missing requirement"},
	}
	for _, c := range cases {
		_, err := f.engine.NewPolicy([]gateway.RuleSpec{c.rule}, gateway.DefaultWorkspaceSource)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rule %+v: error %v, want it to contain %q", c.rule, err, c.want)
		}
	}
	dup := []gateway.RuleSpec{
		{Methods: []string{"GET"}, Path: "/w/{workspace}", Require: "member", Source: "Caddyfile:3"},
		{Methods: []string{"GET"}, Path: "/w/{ws}", Require: "public", Source: "Caddyfile:4"},
	}
	if _, err := f.engine.NewPolicy(dup, gateway.DefaultWorkspaceSource); err == nil ||
		!strings.HasPrefix(err.Error(), "Caddyfile:4: ") || !strings.Contains(err.Error(), "as the rule GET /w/{workspace} at Caddyfile:3") {
		t.Errorf("duplicate pattern and method: error %v, want it to name Caddyfile:4 and Caddyfile:3", err)
	}
	if _, err := f.engine.NewPolicy(nil, gateway.WorkspaceSource{From: "cookie", Name: "ws"}); err == nil {
		t.Error("unknown workspace source accepted")
	}
}

// A configuration that adds a system role whose slug a workspace already
// uses for a custom role changes nothing for that workspace (issue 10
// item 9): the slug keeps meaning the custom role its holders were given.
func TestCustomRoleShadowsALaterSystemRole(t *testing.T) {
	f := newFixture(t)
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		cfg := testConfig()
		cfg.Roles = append(slices.Clone(testRoles), model.SystemRole{Slug: "exporter", Name: "Exporter", Permissions: []string{"workspace.admin"}})
		o.Model = newModel(t, cfg)
	})
	p := f.policy(gateway.DefaultWorkspaceSource)
	// eve holds member + the custom exporter (contact.manage).
	check(t, "custom exporter", decide(p, request("GET", "/w/acme/contacts/export", f.token("eve"))), want{})
	a, err := f.engine.Access(t0(), authn.Principal{Subject: "eve"}, "acme")
	must(t, err)
	if f.engine.Catalog().HasName(a.Permissions, "workspace.admin") {
		t.Fatal("the new system role exporter (workspace.admin) reached the holders of the custom role exporter")
	}
}
