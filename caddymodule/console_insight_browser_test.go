package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// startInsightConsole is startConsole with the members the insight
// screens need in acme: dave (operator, denied message.send), eve (custom
// role reader: message.read), frank (grant campaign.*), carol (a second
// owner: "another admin"); olga is restricted to instance i1.
// more runs in the same store transaction, before the server starts.
func startInsightConsole(t *testing.T, more ...func(tx store.Tx) error) *server {
	s := newServer(t)
	seedWorkspaces(t, s)
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		if err := tx.PutRole(store.Role{WorkspaceID: acmeID, Slug: "reader", Name: "Reader", Permissions: []string{"message.read"}}); err != nil {
			return err
		}
		for _, u := range []string{"alice", "bob", "olga", "dave", "eve", "frank", "carol"} {
			if err := tx.PutUser(store.User{ID: u, Email: u + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
		}
		for _, m := range []store.Membership{
			{WorkspaceID: globexID, UserID: "alice", Roles: []string{"operator"}},
			{WorkspaceID: acmeID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
			{WorkspaceID: acmeID, UserID: "eve", Roles: []string{"reader"}},
			{WorkspaceID: acmeID, UserID: "frank", Grants: []string{"campaign.*"}},
			{WorkspaceID: acmeID, UserID: "carol", Roles: []string{"owner"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		for _, fn := range more {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	s.load(consoleCaddyfile())
	return s
}

// login signs sub in through the dev login form.
func login(t *testing.T, ctx context.Context, base, sub string) {
	t.Helper()
	run(t, ctx, "log in as "+sub, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#subject")),
		chromedp.SendKeys(chromedp.CSS("#subject"), sub), chromedp.SendKeys(chromedp.CSS("#subject"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#who")))
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS(".inline button")), chromedp.WaitVisible(chromedp.CSS("#subject")))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// apiJSON sends a request to the API as sub and decodes the 2xx answer.
func (s *server) apiJSON(t *testing.T, method, path, sub string, body, out any) {
	t.Helper()
	r := s.doJSON(method, "/gatehouse"+path, s.token(sub), body)
	if r.StatusCode/100 != 2 {
		t.Fatalf("%s %s as %s: %d %s", method, path, sub, r.StatusCode, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConsoleBrowserSimulatorAgreesWithGateway: for a table of requests
// covering every kind of answer (allowed by permission, membership, public
// and authenticated rules; denied by a missing permission, a member's deny,
// a restriction, not being a member, a global_admin rule; 405; no rule),
// the decision the simulator page shows equals what the real gateway
// answers to the same request sent through the Caddy site with that
// member's token. Then the effective permissions screen lists what the API
// lists, with the provenance.
func TestConsoleBrowserSimulatorAgreesWithGateway(t *testing.T) {
	s := startInsightConsole(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	login(t, ctx, base, "alice")
	run(t, ctx, "open the simulator", chromedp.Navigate(base+"/w/acme/settings"), chromedp.WaitVisible(chromedp.CSS("#to-simulator")),
		chromedp.Click(chromedp.CSS("#to-simulator")), chromedp.WaitVisible(chromedp.CSS("#simulate-form")))
	shoot(t, ctx, dir, "insight-00-simulator")

	// The first request by keyboard: fill the form, Enter submits.
	run(t, ctx, "simulate by keyboard",
		chromedp.SetValue(chromedp.CSS("#method"), "POST"), chromedp.SetValue(chromedp.CSS("#path"), "/w/acme/messages"),
		chromedp.SendKeys(chromedp.CSS("#sim-user"), "dave"), chromedp.SendKeys(chromedp.CSS("#sim-user"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#result")))
	if got := text(t, ctx, "#required-permission"); got != "message.send" {
		t.Fatalf("required permission shown %q", got)
	}
	if got := text(t, ctx, "#rule"); !strings.Contains(got, "POST /w/{workspace}/messages") || !strings.Contains(got, "Caddyfile:") {
		t.Fatalf("matched rule shown %q, want the rule and its Caddyfile line", got)
	}
	if got := text(t, ctx, `#sim-permissions tr[data-permission="message.send"]`); !strings.Contains(got, "removed by deny message.send") || !strings.Contains(got, "role operator") {
		t.Fatalf("provenance shown %q", got)
	}
	shoot(t, ctx, dir, "insight-01-simulator-denied")

	cases := []struct{ method, path, user, want string }{
		{"POST", "/w/acme/messages", "dave", "denied_by_member_deny"},
		{"GET", "/w/acme/messages", "olga", ""},
		{"POST", "/w/acme/messages", "eve", "missing_permission"},
		{"PUT", "/w/acme/campaigns/c1/run", "olga", "missing_permission"},
		{"POST", "/w/acme/campaigns/c1/run", "frank", ""},
		{"GET", "/w/acme/messages", "mallory", "not_member"},
		{"GET", "/w/acme/instances/i2/chats", "olga", "restricted"},
		{"GET", "/w/acme/instances/i1/chats", "olga", ""},
		{"DELETE", "/w/acme/messages", "alice", "method_not_allowed"},
		{"GET", "/w/acme/nowhere", "alice", "no_rule"},
		{"GET", "/healthz", "mallory", ""},
		{"GET", "/me", "eve", ""},
		{"GET", "/w/acme", "eve", ""},
		{"GET", "/billing-admin/x", "alice", "global_admin_required"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		q := url.Values{"method": {tc.method}, "path": {tc.path}, "user": {tc.user}}
		run(t, ctx, "simulate "+tc.method+" "+tc.path, chromedp.Navigate(base+"/w/acme/simulator?"+q.Encode()), chromedp.WaitVisible(chromedp.CSS("#result")))
		page := eval[string](t, ctx, `(() => { const r = document.querySelector("#result"); return [r.dataset.status, r.dataset.code, r.dataset.reason].join("|") })()`)
		g := s.do(tc.method, tc.path, s.token(tc.user))
		gateway := fmt.Sprint(g.StatusCode) + "||"
		if g.StatusCode != 200 {
			p := g.problem(t)
			gateway = fmt.Sprintf("%d|%v|%v", g.StatusCode, p["code"], p["reason"])
		}
		if page != gateway {
			t.Errorf("%s %s as %s: the simulator shows %q, the gateway answered %q", tc.method, tc.path, tc.user, page, gateway)
		}
		if reason := strings.Split(gateway, "|")[2]; reason != tc.want {
			t.Errorf("%s %s as %s: reason %q, the table expects %q", tc.method, tc.path, tc.user, reason, tc.want)
		}
		seen[tc.want] = true
		if tc.want == "no_rule" {
			if got := text(t, ctx, "#rule"); got != "none" {
				t.Errorf("no rule matched, the page shows %q", got)
			}
		}
	}
	if len(cases) < 12 || len(seen) < 8 {
		t.Fatalf("the table has %d requests with %d outcomes", len(cases), len(seen))
	}
	// A path the API refuses to explain: its detail by the path field.
	run(t, ctx, "other workspace", chromedp.Navigate(base+"/w/acme/simulator?method=GET&path=/w/globex/messages&user=olga"), chromedp.WaitVisible(chromedp.CSS("#path-error")))
	bad := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/explain", s.token("alice"), map[string]string{"method": "GET", "path": "/w/globex/messages", "user": "olga"}).problem(t)
	if got := text(t, ctx, "#path-error"); bad["field"] != "path" || got != bad["detail"] {
		t.Fatalf("path error %q, API problem %v", got, bad)
	}

	// Effective permissions, reached from a simulation.
	run(t, ctx, "simulate as dave", chromedp.Navigate(base+"/w/acme/simulator?method=GET&path=/w/acme/messages&user=dave"), chromedp.WaitVisible(chromedp.CSS("#to-effective")),
		chromedp.Click(chromedp.CSS("#to-effective")), chromedp.WaitVisible(chromedp.CSS("#effective")))
	checkEffective(t, s, ctx, "dave")
	if got := text(t, ctx, "#denies"); got != "message.send" {
		t.Fatalf("dave's denies shown %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#effective tr[data-permission="message.send"]').length`); n != 0 {
		t.Fatal("a denied permission is listed as effective")
	}
	shoot(t, ctx, dir, "insight-02-effective")
	run(t, ctx, "alice's effective", chromedp.Navigate(base+"/w/acme/members/alice/effective"), chromedp.WaitVisible(chromedp.CSS("#effective")))
	checkEffective(t, s, ctx, "alice")
	if got := text(t, ctx, `#effective tr[data-permission="message.read"]`); !strings.Contains(got, "role owner: workspace.admin, implied by workspace.admin") {
		t.Fatalf("alice's message.read provenance %q", got)
	}
	run(t, ctx, "olga by the picker", chromedp.SetValue(chromedp.CSS("#user"), "olga"), chromedp.Click(chromedp.CSS("#show-member")),
		chromedp.WaitVisible(chromedp.CSS("#restrictions")))
	checkEffective(t, s, ctx, "olga")
	if got := text(t, ctx, `#restrictions li[data-type="instance"]`); got != "instance: i1" {
		t.Fatalf("olga's restriction shown %q", got)
	}
	run(t, ctx, "frank", chromedp.Navigate(base+"/w/acme/members/frank/effective"), chromedp.WaitVisible(chromedp.CSS("#effective")))
	checkEffective(t, s, ctx, "frank")
	if got := text(t, ctx, `#effective tr[data-permission="campaign.run"]`); !strings.Contains(got, "grant campaign.*") {
		t.Fatalf("frank's campaign.run provenance %q", got)
	}
	// Not a member: the API's 404 detail.
	run(t, ctx, "mallory", chromedp.Navigate(base+"/w/acme/members/mallory/effective"), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	if got, want := text(t, ctx, "#page-error"), s.do("GET", "/gatehouse/v1/workspaces/acme/members/mallory", s.token("alice")).problem(t)["detail"]; got != want {
		t.Fatalf("page shows %q, the API's detail is %q", got, want)
	}
}

// checkEffective: the permissions on the effective page are the API's, in order.
func checkEffective(t *testing.T, s *server, ctx context.Context, user string) {
	t.Helper()
	var list struct {
		Items []struct{ Permission string } `json:"items"`
	}
	s.apiJSON(t, "GET", "/v1/workspaces/acme/members/"+user+"/effective?limit=500", "alice", nil, &list)
	var want []string
	for _, it := range list.Items {
		want = append(want, it.Permission)
	}
	got := eval[[]string](t, ctx, `[...document.querySelectorAll("#effective tbody tr")].map(r => r.dataset.permission)`)
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("%s: the page lists %v, the API %v", user, got, want)
	}
}

// TestConsoleBrowserAuditLog: the audit log shows the API's events newest
// first with before/after, filters by actor and action as the API does,
// pages by the API's cursor, shows a bad filter's detail by its field, a
// change made elsewhere after the page was opened shows on reload, and a
// member without workspace.admin gets the API's refusal.
func TestConsoleBrowserAuditLog(t *testing.T) {
	// 30 changes by alice (written to the store as the API records them:
	// quicker than 30 requests on a loaded machine), then three by carol
	// through the API (a creation, a change with its before and after).
	start := time.Now().UTC().Add(-time.Hour)
	s := startInsightConsole(t, func(tx store.Tx) error {
		for i := range 30 {
			summary := fmt.Sprintf(`{"before":{"name":"Acme","slug":"acme","description":"v%d"},"after":{"name":"Acme","slug":"acme","description":"v%d"}}`, i-1, i)
			if _, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: acmeID, Actor: "alice", Action: "workspace.update",
				Target: "workspace:" + acmeID, Time: start.Add(time.Duration(i) * time.Second), Summary: json.RawMessage(summary)}); err != nil {
				return err
			}
		}
		return nil
	})
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	s.apiJSON(t, "POST", "/v1/workspaces/acme/roles", "carol", map[string]any{"slug": "sender", "name": "Sender", "permissions": []string{"message.send"}}, nil)
	s.apiJSON(t, "PATCH", "/v1/workspaces/acme", "carol", map[string]any{"name": "Acme Inc"}, nil)
	s.apiJSON(t, "PUT", "/v1/workspaces/acme/members/olga", "carol", map[string]any{"roles": []string{"reader"}, "restrictions": map[string]any{"instance": []string{"i1"}}}, nil)

	login(t, ctx, base, "alice")
	run(t, ctx, "open the audit log", chromedp.Navigate(base+"/w/acme/settings"), chromedp.WaitVisible(chromedp.CSS("#to-audit")),
		chromedp.Click(chromedp.CSS("#to-audit")), chromedp.WaitVisible(chromedp.CSS("#events")))
	ids := func() []string {
		t.Helper()
		// The pager follows the list: once it is there the list is whole
		// (a loaded machine can show a page still streaming in).
		run(t, ctx, "page complete", chromedp.WaitReady(chromedp.CSS("p.pager")))
		return eval[[]string](t, ctx, `[...document.querySelectorAll("#events li.event")].map(e => e.dataset.id)`)
	}
	apiIDs := func(query string) ([]string, string) {
		t.Helper()
		var list struct {
			Items      []struct{ ID string } `json:"items"`
			NextCursor string                `json:"next_cursor"`
		}
		s.apiJSON(t, "GET", "/v1/workspaces/acme/audit?limit=25"+query, "alice", nil, &list)
		var out []string
		for _, e := range list.Items {
			out = append(out, e.ID)
		}
		return out, list.NextCursor
	}
	first, cursor := apiIDs("")
	if got := ids(); !slices.Equal(got, first) || len(got) != 25 {
		t.Fatalf("first page %v, the API's %v", got, first)
	}
	// Newest first: carol's change on top, with its before and after.
	top := `#events li.event:first-child`
	if got := eval[string](t, ctx, `document.querySelector("`+top+`").dataset.actor + " " + document.querySelector("`+top+`").dataset.action`); got != "carol member.put" {
		t.Fatalf("newest event %q", got)
	}
	if b, a := text(t, ctx, top+` tr[data-field="roles"] .before`), text(t, ctx, top+` tr[data-field="roles"] .after`); b != "operator" || a != "reader" {
		t.Fatalf("roles before %q after %q", b, a)
	}
	// Each wait names an element only the next page has: the one shown can still be the old page.
	run(t, ctx, "older events", chromedp.Click(chromedp.CSS("#next-page")), chromedp.WaitVisible(chromedp.CSS("#newest")))
	second, _ := apiIDs("&cursor=" + cursor)
	if got := ids(); !slices.Equal(got, second) || len(got) == 0 {
		t.Fatalf("second page %v, the API's %v", got, second)
	}

	// Filters, by keyboard: the page lists what the API's filter lists.
	run(t, ctx, "filter by actor", chromedp.Click(chromedp.CSS("#newest")), chromedp.WaitNotPresent(chromedp.CSS("#newest")),
		chromedp.SendKeys(chromedp.CSS("#actor"), "carol"), chromedp.SendKeys(chromedp.CSS("#actor"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#clear-filter")))
	byCarol, _ := apiIDs("&actor=carol")
	if got := ids(); !slices.Equal(got, byCarol) || len(got) != 3 {
		t.Fatalf("actor=carol: page %v, API %v", got, byCarol)
	}
	// A creation shows its after only; a change only what changed.
	if got := text(t, ctx, `#events li[data-action="role.create"] tr[data-field="permissions"] .after`); got != "message.send" {
		t.Fatalf("role creation shows permissions %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#events li[data-action="workspace.update"] tbody tr').length`); n != 1 {
		t.Fatalf("a name change shows %d changed fields, want 1", n)
	}
	// Shot here: three events, a short page (a full page of 25 is slow to shoot under -race).
	shoot(t, ctx, dir, "insight-03-audit")
	run(t, ctx, "filter by action", chromedp.Clear(chromedp.CSS("#actor")), chromedp.SetValue(chromedp.CSS("#action"), "workspace.update"),
		// The carol page holds a workspace.update too: wait for its
		// role.create to go, so the page read is the new one.
		chromedp.Click(chromedp.CSS("#filter")), chromedp.WaitNotPresent(chromedp.CSS(`#events li[data-action="role.create"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#events li[data-action="workspace.update"]`)))
	updates, _ := apiIDs("&action=workspace.update")
	if got := ids(); !slices.Equal(got, updates) || len(got) != 25 {
		t.Fatalf("action=workspace.update: page %v, API %v", got, updates)
	}
	if got := text(t, ctx, `#events li.event[data-actor="alice"] tr[data-field="description"] .after`); got != "v29" {
		t.Fatalf("newest description change shows %q", got)
	}
	// A filter the API refuses: its detail next to the field.
	long := strings.Repeat("a", 600)
	run(t, ctx, "bad filter", chromedp.SetValue(chromedp.CSS("#action"), long), chromedp.Click(chromedp.CSS("#filter")), chromedp.WaitVisible(chromedp.CSS("#action-error")))
	bad := s.do("GET", "/gatehouse/v1/workspaces/acme/audit?action="+long, s.token("alice")).problem(t)
	if got := text(t, ctx, "#action-error"); bad["field"] != "action" || got != bad["detail"] {
		t.Fatalf("action error %q, API problem %v", got, bad)
	}

	// Stale page: opened, changed elsewhere (carol, straight to the API), reloaded.
	run(t, ctx, "open", chromedp.Navigate(base+"/w/acme/audit"), chromedp.WaitVisible(chromedp.CSS("#events")))
	s.apiJSON(t, "DELETE", "/v1/workspaces/acme/members/frank", "carol", nil, nil)
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#events")))
	if got := eval[string](t, ctx, `document.querySelector("`+top+`").dataset.action + " " + document.querySelector("`+top+`").dataset.target`); got != "member.delete user:frank" {
		t.Fatalf("after a change elsewhere the newest event shown is %q", got)
	}
	// A deletion's before: the removed member as they were, linked to nothing stale.
	if got := text(t, ctx, top+` tr[data-field="grants"] .before`); got != "campaign.*" {
		t.Fatalf("deleted member's grants before %q", got)
	}
	signOut(t, ctx)

	// An operator may not read the audit log: the API's refusal.
	login(t, ctx, base, "olga")
	run(t, ctx, "audit as olga", chromedp.Navigate(base+"/w/acme/audit"), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	refusal := s.do("GET", "/gatehouse/v1/workspaces/acme/audit", s.token("olga"))
	if refusal.StatusCode != 403 {
		t.Fatalf("API audit as olga: %d", refusal.StatusCode)
	}
	if got, want := text(t, ctx, "#page-error"), refusal.problem(t)["detail"]; got != want {
		t.Fatalf("page shows %q, the API's detail is %q", got, want)
	}
	shoot(t, ctx, dir, "insight-04-audit-refused")
}

// TestConsoleBrowserRestoreDeletedWorkspace: a workspace deleted in the
// settings danger zone is listed for a global admin, who restores it; the
// gateway serves it again at once. A non-global-admin opening the screen
// gets the API's refusal.
func TestConsoleBrowserRestoreDeletedWorkspace(t *testing.T) {
	s := startInsightConsole(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	login(t, ctx, base, "alice")
	run(t, ctx, "delete acme", chromedp.Navigate(base+"/w/acme/settings"), chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "acme"), chromedp.Click(chromedp.CSS("#delete")), chromedp.WaitVisible(chromedp.CSS("#workspace-list")))
	if r := s.do("GET", "/w/acme/messages", s.token("alice")); r.StatusCode != 404 {
		t.Fatalf("gateway after the soft delete: %d", r.StatusCode)
	}
	// alice is no global admin: the API refuses, the page says so.
	run(t, ctx, "deleted workspaces as alice", chromedp.Navigate(base+"/admin/workspaces"), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	refusal := s.do("GET", "/gatehouse/v1/admin/workspaces", s.token("alice"))
	if refusal.StatusCode != 403 {
		t.Fatalf("API all-workspaces as alice: %d", refusal.StatusCode)
	}
	if got, want := text(t, ctx, "#page-error"), refusal.problem(t)["detail"]; got != want {
		t.Fatalf("page shows %q, the API's detail is %q", got, want)
	}
	signOut(t, ctx)

	login(t, ctx, base, "root")
	run(t, ctx, "deleted workspaces as root", chromedp.Navigate(base+"/admin/workspaces"), chromedp.WaitVisible(chromedp.CSS(`#deleted tr[data-slug="acme"]`)))
	if n := eval[int](t, ctx, `document.querySelectorAll("#deleted tbody tr").length`); n != 1 {
		t.Fatalf("%d deleted workspaces listed, want acme only", n)
	}
	shoot(t, ctx, dir, "insight-05-deleted-workspaces")
	// Restore by keyboard: focus the button, Enter.
	run(t, ctx, "restore", chromedp.Focus(chromedp.CSS(`#deleted tr[data-slug="acme"] button`)),
		chromedp.SendKeys(chromedp.CSS(`#deleted tr[data-slug="acme"] button`), kb.Enter), chromedp.WaitVisible(chromedp.CSS("#restored")))
	if got := text(t, ctx, "#restored"); !strings.Contains(got, "acme") {
		t.Fatalf("restored message %q", got)
	}
	// The screen after the write is current: acme is no longer listed.
	if n := eval[int](t, ctx, `document.querySelectorAll('#deleted tr[data-slug="acme"]').length`); n != 0 {
		t.Fatal("the restored workspace is still listed as deleted")
	}
	shoot(t, ctx, dir, "insight-06-deleted-restored")
	if r := s.do("GET", "/w/acme/messages", s.token("alice")); r.StatusCode != 200 {
		t.Fatalf("gateway after the restore: %d %s", r.StatusCode, r.body)
	}
	if ws := s.apiWorkspace(t, "acme"); ws["deleted_at"] != nil {
		t.Fatalf("API after the restore: %v", ws)
	}
	var audit struct {
		Items []struct{ Actor, Action string } `json:"items"`
	}
	s.apiJSON(t, "GET", "/v1/workspaces/acme/audit?limit=1", "alice", nil, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Actor != "root" || audit.Items[0].Action != "workspace.restore" {
		t.Fatalf("the restore is not audited as root's: %+v", audit.Items)
	}
}
