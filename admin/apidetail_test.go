package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-authz/gatehouse/admin"
)

// Every 201 carries a Location with the mount prefix put back, naming the
// created resource's GET URL, and that GET answers it.
func TestCreatedAnswersCarryLocation(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) {
		o.MountPrefix = func(*http.Request) string { return "/gatehouse" }
	})
	h.knownTo("alice", "bob")
	// Serve the API under the prefix, the way Caddy's handle_path does.
	mounted := httptest.NewServer(http.StripPrefix("/gatehouse", h.api))
	t.Cleanup(mounted.Close)
	h.srv = mounted
	alice := h.token("alice")

	follow := func(r *resp, prefix string) map[string]any {
		t.Helper()
		r.want(http.StatusCreated)
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/gatehouse"+prefix) {
			t.Fatalf("%s: Location %q, want %s...", r.req, loc, "/gatehouse"+prefix)
		}
		got := h.do("GET", loc, alice, nil).want(http.StatusOK)
		// What the GET answers is what was created.
		if r.body["id"] != nil && got.body["id"] != r.body["id"] || r.body["slug"] != nil && got.body["slug"] != r.body["slug"] ||
			r.body["user_id"] != nil && got.body["user_id"] != r.body["user_id"] {
			t.Errorf("%s: GET %s answers %s", r.req, loc, got.raw)
		}
		return r.body
	}
	ws := follow(h.do("POST", "/gatehouse/v1/workspaces", alice, map[string]any{"name": "Acme"}), "/v1/workspaces/ws_")
	base := "/v1/workspaces/" + ws["id"].(string)
	if loc := "/gatehouse" + base; h.do("POST", "/gatehouse/v1/workspaces", alice, map[string]any{"name": "Acme"}).header.Get("Location") == loc {
		t.Error("two workspaces share a Location")
	}
	follow(h.do("PUT", "/gatehouse/v1/workspaces/acme/members/bob", alice, map[string]any{"roles": []string{"member"}}), base+"/members/bob")
	follow(h.do("POST", "/gatehouse/v1/workspaces/acme/roles", alice, map[string]any{"slug": "agent", "name": "Agent", "permissions": []string{"message.read"}}), base+"/roles/agent")
	inv := follow(h.do("POST", "/gatehouse/v1/workspaces/acme/invites", alice, map[string]any{"email": "dave@example.com", "roles": []string{"member"}}), base+"/invites/inv_")
	key := follow(h.do("POST", "/gatehouse/v1/workspaces/acme/api-keys", alice, map[string]any{"name": "ci", "permissions": []string{"message.read"}}), base+"/api-keys/key_")

	// The GETs never show the secrets.
	if r := h.do("GET", "/gatehouse"+base+"/invites/"+inv["id"].(string), alice, nil).want(http.StatusOK); r.body["token"] != nil {
		t.Errorf("GET invite shows its token: %s", r.raw)
	}
	if r := h.do("GET", "/gatehouse"+base+"/api-keys/"+key["id"].(string), alice, nil).want(http.StatusOK); r.body["key"] != nil || r.body["secret_hash"] != nil {
		t.Errorf("GET API key shows its secret: %s", r.raw)
	}
	// A replaced member is 200, no Location.
	if r := h.do("PUT", "/gatehouse/v1/workspaces/acme/members/bob", alice, map[string]any{"roles": []string{"operator"}}).want(http.StatusOK); r.header.Get("Location") != "" {
		t.Errorf("200 with Location %q", r.header.Get("Location"))
	}
	// Another workspace's key or invite is not found through this one.
	h.do("POST", "/gatehouse/v1/workspaces", alice, map[string]any{"name": "Other", "slug": "other"}).want(http.StatusCreated)
	h.do("GET", "/gatehouse/v1/workspaces/other/api-keys/"+key["id"].(string), alice, nil).problem(http.StatusNotFound, "api_key_not_found")
	h.do("GET", "/gatehouse/v1/workspaces/other/invites/"+inv["id"].(string), alice, nil).problem(http.StatusNotFound, "invite_not_found")
}

// Without a mount prefix, Locations are absolute paths from the root.
func TestLocationWithoutMountPrefix(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/workspaces", h.token("alice"), map[string]any{"name": "Acme"}).want(http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/v1/workspaces/"+r.str("id") {
		t.Errorf("Location %q", loc)
	}
}

// Unknown, repeated or malformed query parameters are a 400 naming the
// parameter on every endpoint, before anything changes.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	fill := strings.NewReplacer("{ws}", ws.Slug, "{user}", "alice", "{role}", "owner", "{id}", "inv_x")
	for _, route := range h.api.Routes() {
		method, path, _ := strings.Cut(route, " ")
		path = fill.Replace(path)
		h.refused(ws.ID, func() *resp { return h.do(method, path+"?bogus=1", alice, map[string]any{}) }).invalid("bogus")
	}
	// Misspelt known ones, repeats and broken escapes.
	h.do("GET", "/v1/workspaces?limt=5", alice, nil).invalid("limt")
	h.do("GET", "/v1/workspaces?limit=5&limit=6", alice, nil).invalid("limit")
	h.do("GET", "/v1/workspaces?limit=%zz", alice, nil).invalid("")
	h.do("GET", "/v1/workspaces/acme/members?emial=a@b.c", alice, nil).invalid("emial")
	h.do("GET", "/v1/openapi.json?v=2", "", nil).invalid("v")
	// Known ones still work; an unauthenticated caller learns nothing new.
	h.do("GET", "/v1/workspaces?limit=5&cursor=", alice, nil).want(http.StatusOK)
	h.do("GET", "/v1/workspaces?bogus=1", "", nil).problem(http.StatusUnauthorized, "unauthenticated")
}

// The audit log filters by action, actor and time range, with pages, and
// refuses bad filters.
func TestAuditFilters(t *testing.T) {
	h := newHarness(t)
	h.knownTo("alice", "bob", "carol")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"owner"}})
	t1 := h.clock.Now().UTC()
	h.clock.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		h.createRole("bob", ws, fmt.Sprintf("r%d", i))
		h.putMember("alice", ws, "carol", map[string]any{"roles": []string{"member"}})
	}
	t2 := h.clock.Now().UTC()
	h.clock.Advance(time.Hour)
	h.do("PATCH", "/v1/workspaces/acme", h.token("bob"), map[string]any{"name": "Acme 2"}).want(http.StatusOK)

	list := func(query string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for {
			q := query + "&limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			var l page[auditView]
			h.do("GET", "/v1/workspaces/acme/audit?"+q, h.token("alice"), nil).want(http.StatusOK).decode(&l)
			for _, ev := range l.Items {
				out = append(out, ev.Actor+" "+ev.Action)
			}
			if l.NextCursor == nil {
				return out
			}
			cursor = *l.NextCursor
		}
	}
	wantStrings(t, "actor=bob", list("actor=bob"), []string{"bob workspace.update", "bob role.create", "bob role.create", "bob role.create"})
	wantStrings(t, "action=member.put", list("action=member.put"), []string{"alice member.put", "alice member.put", "alice member.put", "alice member.put"})
	wantStrings(t, "actor+action", list("actor=alice&action=workspace.create"), []string{"alice workspace.create"})
	wantStrings(t, "until", list("until="+t1.Add(time.Minute).Format(time.RFC3339Nano)), []string{"alice member.put", "alice workspace.create"})
	wantStrings(t, "since", list("since="+t2.Format(time.RFC3339Nano)), []string{"bob workspace.update"})
	wantStrings(t, "range", list("since="+t1.Add(time.Minute).Format(time.RFC3339)+"&until="+t2.Format(time.RFC3339Nano)+"&actor=bob"),
		[]string{"bob role.create", "bob role.create", "bob role.create"})
	wantStrings(t, "offset", list("since="+strings.ReplaceAll(t2.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano), "+", "%2B")), []string{"bob workspace.update"})
	wantStrings(t, "nobody", list("actor=nobody"), nil)

	for query, field := range map[string]string{
		"since=yesterday":            "since",
		"until=2026-13-01T00:00:00Z": "until",
		"since=2026-12-01":           "since",
		"since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z": "until",
		"action=":                           "action",
		"actor=" + strings.Repeat("x", 513): "actor",
		"acter=bob":                         "acter",
	} {
		h.do("GET", "/v1/workspaces/acme/audit?"+query, h.token("alice"), nil).invalid(field)
	}
}

// Audit event ids count one workspace's events only: a tenant learns
// nothing about other workspaces' activity from them.
func TestAuditIDsRevealNothingAboutOtherWorkspaces(t *testing.T) {
	ids := func(busyNeighbour bool) []string {
		h := newHarness(t)
		ws := h.newWorkspace("alice", "Acme")
		if busyNeighbour {
			other := h.newWorkspace("mallory", "Other")
			for i := 0; i < 5; i++ {
				h.createRole("mallory", other, fmt.Sprintf("r%d", i))
			}
		}
		h.createRole("alice", ws, "agent")
		var l page[auditView]
		h.do("GET", "/v1/workspaces/acme/audit", h.token("alice"), nil).want(http.StatusOK).decode(&l)
		var out []string
		for _, ev := range l.Items {
			out = append(out, ev.ID)
		}
		return out
	}
	quiet, busy := ids(false), ids(true)
	wantStrings(t, "ids with a busy neighbour", busy, quiet)
}

// Members are found by email among the workspace's own members only.
func TestFindMembersByEmail(t *testing.T) {
	h := newHarness(t)
	bob := "bob"
	h.do("GET", "/v1/me", h.tokenEmail(bob, "Bob.Smith@Example.COM", nil), nil).want(http.StatusOK)
	h.do("GET", "/v1/me", h.tokenEmail("bob2", "bob.smith@example.com", nil), nil).want(http.StatusOK)
	h.do("GET", "/v1/me", h.tokenEmail("carol", "carol@example.com", nil), nil).want(http.StatusOK)
	h.known("alice", "olga")
	h.shareWith("alice", "bob", "bob2", "olga")
	ws := h.newWorkspace("alice", "Acme")
	other := h.newWorkspace("carol", "Other")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	h.putMember("alice", ws, "bob2", map[string]any{"roles": []string{"member"}})
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"member"}})
	_ = other

	find := func(query string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for {
			q := query
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			var l page[memberView]
			h.do("GET", "/v1/workspaces/acme/members?"+q, h.token("alice"), nil).want(http.StatusOK).decode(&l)
			for _, m := range l.Items {
				out = append(out, m.UserID+" "+m.Email)
			}
			if l.NextCursor == nil {
				return out
			}
			cursor = *l.NextCursor
		}
	}
	both := []string{"bob Bob.Smith@Example.COM", "bob2 bob.smith@example.com"}
	wantStrings(t, "bob's email", find("email=BOB.smith@example.com"), both)
	wantStrings(t, "paged", find("email=bob.smith@example.com&limit=1"), both)
	wantStrings(t, "olga", find("email=olga@example.com"), []string{"olga olga@example.com"})
	// Carol is a known user, but not a member here: not found, and not
	// told apart from an email nobody has.
	wantStrings(t, "non-member", find("email=carol@example.com"), nil)
	wantStrings(t, "nobody", find("email=nobody@example.com"), nil)
	// Exact: no prefix or substring match.
	wantStrings(t, "prefix", find("email=olga@example.co"), nil)

	h.do("GET", "/v1/workspaces/acme/members?email=not-an-email", h.token("alice"), nil).invalid("email")
	h.do("GET", "/v1/workspaces/acme/members?email=olga@example.com", h.token("olga"), nil).forbidden("workspace.members")
	h.do("GET", "/v1/workspaces/acme/members?email=olga@example.com", h.token("carol"), nil).problem(http.StatusNotFound, "workspace_not_found")
}

// Every mutation logs exactly one line naming actor, action, target and
// workspace; a refused one logs nothing; no secret is ever logged.
func TestMutationsLogOneLineEach(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	h := newHarness(t, func(o *admin.Options) { o.Logger = zap.New(core) })
	h.knownTo("alice", "bob", "root")
	alice := h.token("alice")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	h.createRole("alice", ws, "agent", "message.read")
	h.do("PATCH", "/v1/workspaces/acme/roles/agent", alice, map[string]any{"name": "Agent"}).want(http.StatusOK)
	h.do("DELETE", "/v1/workspaces/acme/roles/agent", alice, nil).want(http.StatusNoContent)
	inv := h.do("POST", "/v1/workspaces/acme/invites", alice, map[string]any{"email": "dave@example.com", "roles": []string{"member"}}).want(http.StatusCreated)
	h.do("DELETE", "/v1/workspaces/acme/invites/"+inv.str("id"), alice, nil).want(http.StatusNoContent)
	key := h.do("POST", "/v1/workspaces/acme/api-keys", alice, map[string]any{"name": "ci", "permissions": []string{"message.read"}}).want(http.StatusCreated)
	h.do("DELETE", "/v1/workspaces/acme/api-keys/"+key.str("id"), alice, nil).want(http.StatusNoContent)
	h.do("PATCH", "/v1/workspaces/acme", alice, map[string]any{"description": "d"}).want(http.StatusOK)
	h.do("DELETE", "/v1/workspaces/acme/members/bob", alice, nil).want(http.StatusNoContent)
	// Refused: no line.
	h.do("DELETE", "/v1/workspaces/acme/members/alice", alice, nil).problem(http.StatusConflict, "last_admin")
	h.do("DELETE", "/v1/workspaces/acme", alice, nil).want(http.StatusNoContent)
	h.do("POST", "/v1/workspaces/acme/restore", h.token("root"), nil).want(http.StatusOK)
	h.do("DELETE", "/v1/workspaces/acme", alice, nil).want(http.StatusNoContent)
	h.do("POST", "/v1/workspaces/acme/purge", alice, map[string]any{"confirm": "acme"}).want(http.StatusNoContent)

	want := []string{
		"alice workspace.create", "alice member.put", "alice role.create", "alice role.update", "alice role.delete",
		"alice invite.create", "alice invite.revoke", "alice api_key.create", "alice api_key.revoke",
		"alice workspace.update", "alice member.delete", "alice workspace.delete", "root workspace.restore",
		"alice workspace.delete", "alice workspace.purge",
	}
	var got []string
	for _, e := range logs.FilterMessage("management API change").All() {
		f := e.ContextMap()
		got = append(got, fmt.Sprint(f["actor"], " ", f["action"]))
		if f["workspace"] != ws.ID || f["target"] == "" || f["event"] == "" {
			t.Errorf("log line %v", f)
		}
	}
	wantStrings(t, "logged changes", got, want)
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, key.str("key")) || strings.Contains(line, inv.str("token")) || strings.Contains(line, alice) {
			t.Errorf("a secret was logged: %s", line)
		}
	}
}

// An API caller naming an unknown permission is sent to GET
// /v1/permissions, never told to edit a Caddyfile they cannot see.
func TestUnknownPermissionPointsToTheCatalog(t *testing.T) {
	h := newHarness(t)
	h.knownTo("alice", "bob")
	ws := h.newWorkspace("alice", "Acme")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	alice := h.token("alice")
	cases := []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{"POST", "/v1/workspaces/acme/roles", map[string]any{"slug": "x", "name": "X", "permissions": []string{"message.reed"}}, "permissions[0]"},
		{"POST", "/v1/workspaces/acme/roles", map[string]any{"slug": "x", "name": "X", "permissions": []string{"nope.*"}}, "permissions[0]"},
		{"PATCH", "/v1/workspaces/acme/roles/x", map[string]any{"permissions": []string{"message.reed"}}, "permissions[0]"},
		{"PUT", "/v1/workspaces/acme/members/bob", map[string]any{"roles": []string{"member"}, "grants": []string{"contact.rd"}}, "grants[0]"},
		{"PUT", "/v1/workspaces/acme/members/bob", map[string]any{"roles": []string{"member"}, "denies": []string{"contact.rd"}}, "denies[0]"},
		{"POST", "/v1/workspaces/acme/api-keys", map[string]any{"name": "ci", "permissions": []string{"message.reed"}}, "permissions[0]"},
		{"POST", "/v1/workspaces/acme/check", map[string]any{"permission": "message.reed"}, "permission"},
	}
	for _, c := range cases {
		r := h.refused(ws.ID, func() *resp { return h.do(c.method, c.path, alice, c.body) }).invalid(c.field)
		detail, _ := r.body["detail"].(string)
		if !strings.Contains(detail, "GET /v1/permissions") || strings.Contains(detail, "global option") || strings.Contains(strings.ToLower(detail), "caddyfile") {
			t.Errorf("%s %s: detail %q", c.method, c.path, detail)
		}
	}
	// A malformed pattern keeps its own, precise message.
	r := h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": "x", "name": "X", "permissions": []string{"message..read"}}).invalid("permissions[0]")
	if d, _ := r.body["detail"].(string); strings.Contains(d, "GET /v1/permissions") {
		t.Errorf("malformed pattern: %q", d)
	}
}
