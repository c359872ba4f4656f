package caddymodule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Browser tests of the console's people screens: members with invites,
// the member permissions dialog, roles and the role editor, invites and
// "My invites". Each asserts what the page shows and what the API (or the
// gateway) then answers.

// startConsoleWith is startConsole with more members seeded before the
// server holds the store, each a known user (PUT of a member needs one).
func startConsoleWith(t *testing.T, extra ...store.Membership) *server {
	s := newServer(t)
	seedWorkspaces(t, s)
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		for _, m := range append(extra, store.Membership{WorkspaceID: globexID, UserID: "alice", Roles: []string{"operator"}}) {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		for _, id := range []string{"alice", "olga", "bob", "carol", "dave"} {
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
		}
		return nil
	})
	s.load(consoleCaddyfile())
	return s
}

// step runs actions like run, but gives up after 30 s and then shows what
// the page says, so a wait that fails names the page it failed on.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%s: %v; the page:\n%s", what, err, page)
	}
}

// consoleLogin signs in with dev_login as sub (email may be "").
func consoleLogin(t *testing.T, ctx context.Context, base, sub, email string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/login"), chromedp.WaitVisible(chromedp.CSS("#subject")),
		chromedp.SendKeys(chromedp.CSS("#subject"), sub)}
	if email != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS("#email"), email))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitVisible(chromedp.CSS("#to-my-invites")))
	step(t, ctx, "log in as "+sub, actions...)
}

// consoleLogout signs out with the header's button.
func consoleLogout(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(".top .inline button")), chromedp.WaitVisible(chromedp.CSS("#subject")))
}

// apiGet reads path through the API as sub and decodes a 200 answer.
func (s *server) apiGet(t *testing.T, sub, path string, out any) {
	t.Helper()
	r := s.do("GET", "/gatehouse"+path, s.token(sub))
	if r.StatusCode != 200 {
		t.Fatalf("GET %s as %s: %d %s", path, sub, r.StatusCode, r.body)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatal(err)
	}
}

// apiDetail is the detail of the API's refusal of a request, to compare
// with what a page shows.
func (s *server) apiDetail(t *testing.T, sub, method, path string, body any, wantStatus int) string {
	t.Helper()
	r := s.doJSON(method, "/gatehouse"+path, s.token(sub), body)
	if r.StatusCode != wantStatus {
		t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, sub, r.StatusCode, wantStatus, r.body)
	}
	d, _ := r.problem(t)["detail"].(string)
	if d == "" {
		t.Fatalf("%s %s: no detail in %s", method, path, r.body)
	}
	return d
}

type apiMember struct {
	UserID       string              `json:"user_id"`
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
}

type apiInvite struct {
	ID     string   `json:"id"`
	Email  string   `json:"email"`
	Roles  []string `json:"roles"`
	Status string   `json:"status"`
}

func (s *server) apiInvites(t *testing.T, ws string) map[string]apiInvite {
	t.Helper()
	var list struct {
		Items []apiInvite `json:"items"`
	}
	s.apiGet(t, "alice", "/v1/workspaces/"+ws+"/invites", &list)
	out := map[string]apiInvite{}
	for _, inv := range list.Items {
		out[inv.Email] = inv
	}
	return out
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

func checked(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`).checked`))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return v
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestConsoleBrowserInvites: invite by email with a role on the members
// screen (the token shown once), the invites screen lists it and revokes
// another, the invitee signs in, sees it under My invites, accepts it with
// the token, and the API then lists them as a member with that role.
func TestConsoleBrowserInvites(t *testing.T) {
	s := startConsoleWith(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	consoleLogin(t, ctx, base, "alice", "alice@example.com")
	step(t, ctx, "members", chromedp.Navigate(base+"/w/acme/members"), chromedp.WaitVisible(chromedp.CSS("#invite-form")))
	// The role checkboxes are the workspace's roles (system + custom), from the API.
	if n := count(t, ctx, `#invite-form input[name="role"]`); n != 2 {
		t.Fatalf("invite form offers %d roles, want owner and operator", n)
	}
	shoot(t, ctx, dir, "12-members-invite")

	// No role: the API refuses (roles is required); its detail is by the roles field.
	step(t, ctx, "invite without a role", chromedp.SendKeys(chromedp.CSS("#invite-email"), "dana@example.com"),
		chromedp.Click(chromedp.CSS("#send-invite")), chromedp.WaitVisible(chromedp.CSS("#roles-error")))
	want := s.apiDetail(t, "alice", "POST", "/v1/workspaces/acme/invites", map[string]any{"email": "dana@example.com", "roles": []string{}}, 400)
	if got := text(t, ctx, "#roles-error"); got != want {
		t.Fatalf("roles error %q, API detail %q", got, want)
	}
	if len(s.apiInvites(t, "acme")) != 0 {
		t.Fatal("a refused invite was created")
	}

	step(t, ctx, "invite dana", chromedp.Click(chromedp.CSS(`#invite-form input[value="operator"]`)),
		chromedp.Click(chromedp.CSS("#send-invite")), chromedp.WaitVisible(chromedp.CSS("#invite-token")))
	token := text(t, ctx, "#invite-token")
	if !strings.HasPrefix(token, "ghi_") {
		t.Fatalf("token shown: %q", token)
	}
	if got := text(t, ctx, `tr[data-invite="dana@example.com"] .status`); got != "invited" {
		t.Fatalf("members table shows dana as %q", got)
	}
	shoot(t, ctx, dir, "13-invite-created")
	inv := s.apiInvites(t, "acme")["dana@example.com"]
	if inv.Status != "pending" || !slices.Equal(inv.Roles, []string{"operator"}) {
		t.Fatalf("API invite %+v", inv)
	}

	// The invites screen lists it; an invite made elsewhere is revoked there.
	if r := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/invites", s.token("alice"), map[string]any{"email": "erin@example.com", "roles": []string{"operator"}}); r.StatusCode != 201 {
		t.Fatalf("invite erin: %d %s", r.StatusCode, r.body)
	}
	step(t, ctx, "invites", chromedp.Click(chromedp.CSS("#to-invites")), chromedp.WaitVisible(chromedp.CSS("#invites")))
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, token) {
		t.Fatal("the invite token is on the invites page")
	}
	if got := text(t, ctx, `tr[data-email="dana@example.com"] .status`); got != "pending" {
		t.Fatalf("invites screen shows dana %q", got)
	}
	shoot(t, ctx, dir, "14-invites")
	step(t, ctx, "revoke erin", chromedp.Click(chromedp.CSS(`tr[data-email="erin@example.com"] button`)), chromedp.WaitVisible(chromedp.CSS("#revoked")))
	if got := text(t, ctx, `tr[data-email="erin@example.com"] .status`); got != "revoked" {
		t.Fatalf("after revoking the page shows %q", got)
	}
	if st := s.apiInvites(t, "acme")["erin@example.com"].Status; st != "revoked" {
		t.Fatalf("API says erin's invite is %q", st)
	}

	// dana signs in, sees the invite under My invites and accepts it.
	consoleLogout(t, ctx)
	consoleLogin(t, ctx, base, "dana", "dana@example.com")
	step(t, ctx, "my invites", chromedp.Click(chromedp.CSS("#to-my-invites")), chromedp.WaitVisible(chromedp.CSS("#my-invites")))
	if got := text(t, ctx, `#my-invites li[data-workspace="acme"]`); !strings.Contains(got, "Acme") || !strings.Contains(got, "operator") {
		t.Fatalf("my invites shows %q", got)
	}
	shoot(t, ctx, dir, "15-my-invites")
	step(t, ctx, "accept a wrong token", chromedp.SendKeys(chromedp.CSS("#invite-token-input"), "ghi_notthetoken"),
		chromedp.Click(chromedp.CSS("#accept")), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	if got, want := text(t, ctx, "#page-error"), s.apiDetail(t, "dana", "POST", "/v1/invites/accept", map[string]string{"token": "ghi_notthetoken"}, 404); got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}
	step(t, ctx, "accept", chromedp.SetValue(chromedp.CSS("#invite-token-input"), token),
		chromedp.Click(chromedp.CSS("#accept")), chromedp.WaitVisible(chromedp.CSS("#joined")))
	if n := count(t, ctx, "#my-invites li"); n != 0 {
		t.Fatalf("after accepting, %d invites are still listed", n)
	}
	var dana apiMember
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/dana", &dana)
	if !slices.Equal(dana.Roles, []string{"operator"}) {
		t.Fatalf("API member dana: %+v", dana)
	}
	if st := s.apiInvites(t, "acme")["dana@example.com"].Status; st != "accepted" {
		t.Fatalf("API says dana's invite is %q", st)
	}
	step(t, ctx, "joined link", chromedp.Click(chromedp.CSS("#joined a")), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
}

// TestConsoleBrowserRoles: a system role is shown without edit controls
// and a forged POST editing it is refused with the API's message; a
// custom role is created and edited with checkboxes and assigned to a
// member (the API shows both); deleting a role in use and acting without
// the permission (alice is an operator of globex) show the API's detail.
func TestConsoleBrowserRoles(t *testing.T) {
	s := startConsoleWith(t, store.Membership{WorkspaceID: acmeID, UserID: "dave", Roles: []string{"operator"}})
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	consoleLogin(t, ctx, base, "alice", "")
	step(t, ctx, "roles", chromedp.Navigate(base+"/w/acme/settings"), chromedp.WaitVisible(chromedp.CSS("#to-roles")),
		chromedp.Click(chromedp.CSS("#to-roles")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	if got := text(t, ctx, `tr[data-role="owner"] .kind`); got != "system" {
		t.Fatalf("owner listed as %q", got)
	}
	shoot(t, ctx, dir, "17-roles")

	// A system role: no edit controls, a note why.
	step(t, ctx, "view owner", chromedp.Click(chromedp.CSS(`tr[data-role="owner"] a`)), chromedp.WaitVisible(chromedp.CSS("#read-only-note")))
	if n := count(t, ctx, `main input:not([type="hidden"]), main textarea, main button, main form`); n != 0 {
		t.Fatalf("the system role page has %d controls", n)
	}
	if got := text(t, ctx, "#role-grants"); !strings.Contains(got, "message.send") {
		t.Fatalf("owner grants shown: %q", got)
	}
	shoot(t, ctx, dir, "18-role-system")
	// A forged form (the session's CSRF token, from the page) editing it:
	// the API refuses and the page shows its detail.
	forge := `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = location.pathname;
		for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['name', 'Hijacked'], ['permission', 'message.read']]) {
			const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
		document.body.appendChild(f); f.submit(); return true; })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](forge)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "forged edit", chromedp.WaitVisible(chromedp.CSS("#page-error")))
	want := s.apiDetail(t, "alice", "PATCH", "/v1/workspaces/acme/roles/owner", map[string]any{"name": "Hijacked", "permissions": []string{"message.read"}}, 403)
	if got := text(t, ctx, "#page-error"); got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}
	var owner struct {
		Name        string   `json:"name"`
		Permissions []string `json:"permissions"`
	}
	s.apiGet(t, "alice", "/v1/workspaces/acme/roles/owner", &owner)
	if owner.Name != "Owner" || !slices.Equal(owner.Permissions, []string{"workspace.admin"}) {
		t.Fatalf("owner after a forged edit: %+v", owner)
	}

	// A bad slug: the API's detail by the slug field.
	step(t, ctx, "bad slug", chromedp.Navigate(base+"/w/acme/roles"), chromedp.WaitVisible(chromedp.CSS("#new-role")),
		chromedp.SendKeys(chromedp.CSS("#role-slug"), "Bad Slug"), chromedp.SendKeys(chromedp.CSS("#role-name"), "Support"),
		chromedp.Click(chromedp.CSS(`#new-role input[value="message.read"]`)),
		chromedp.Click(chromedp.CSS("#create-role")), chromedp.WaitVisible(chromedp.CSS("#slug-error")))
	want = s.apiDetail(t, "alice", "POST", "/v1/workspaces/acme/roles", map[string]any{"slug": "Bad Slug", "name": "Support", "permissions": []string{"message.read"}}, 400)
	if got := text(t, ctx, "#slug-error"); got != want {
		t.Fatalf("slug error %q, API detail %q", got, want)
	}
	if !checked(t, ctx, `#new-role input[value="message.read"]`) {
		t.Fatal("a refusal lost the checked permission")
	}

	// Create a custom role with checkboxes.
	step(t, ctx, "create support", chromedp.SetValue(chromedp.CSS("#role-slug"), "support"),
		chromedp.Click(chromedp.CSS(`#new-role input[value="contact.read"]`)),
		chromedp.Click(chromedp.CSS("#create-role")), chromedp.WaitVisible(chromedp.CSS("#created")))
	var support struct {
		Name        string   `json:"name"`
		Permissions []string `json:"permissions"`
		System      bool     `json:"system"`
	}
	s.apiGet(t, "alice", "/v1/workspaces/acme/roles/support", &support)
	slices.Sort(support.Permissions)
	if support.Name != "Support" || support.System || !slices.Equal(support.Permissions, []string{"contact.read", "message.read"}) {
		t.Fatalf("API role support: %+v", support)
	}
	shoot(t, ctx, dir, "19-role-custom")
	// Edit it: untick contact.read.
	step(t, ctx, "edit support", chromedp.Click(chromedp.CSS(`#role-form input[value="contact.read"]`)),
		chromedp.SetValue(chromedp.CSS("#role-description"), "Reads messages"),
		chromedp.Click(chromedp.CSS("#save-role")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	s.apiGet(t, "alice", "/v1/workspaces/acme/roles/support", &support)
	if !slices.Equal(support.Permissions, []string{"message.read"}) {
		t.Fatalf("API role support after the edit: %+v", support)
	}
	if checked(t, ctx, `#role-form input[value="contact.read"]`) || !checked(t, ctx, `#role-form input[value="message.read"]`) {
		t.Fatal("the saved role's checkboxes do not show the API's role")
	}

	// Assign it to dave in his dialog, instead of operator.
	step(t, ctx, "edit dave", chromedp.Click(chromedp.CSS("#to-members")), chromedp.WaitVisible(chromedp.CSS("#members")),
		chromedp.Click(chromedp.CSS(`tr[data-user="dave"] a`)), chromedp.WaitVisible(chromedp.CSS("#member-form")),
		chromedp.Click(chromedp.CSS(`#member-roles input[value="operator"]`)),
		chromedp.Click(chromedp.CSS(`#member-roles input[value="support"]`)),
		chromedp.Click(chromedp.CSS("#save-member")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	var dave apiMember
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/dave", &dave)
	if !slices.Equal(dave.Roles, []string{"support"}) {
		t.Fatalf("API member dave: %+v", dave)
	}
	if got := text(t, ctx, `tr[data-permission="message.send"] .role-gives`); got != "no" {
		t.Fatalf("dave's roles give message.send: page says %q", got)
	}
	step(t, ctx, "members", chromedp.Click(chromedp.CSS("#to-members")), chromedp.WaitVisible(chromedp.CSS("#members")))
	if got := text(t, ctx, `tr[data-user="dave"] .roles`); got != "support" {
		t.Fatalf("members page shows dave's roles %q", got)
	}

	// Deleting a role still held: refused, with the API's detail.
	step(t, ctx, "delete support", chromedp.Navigate(base+"/w/acme/roles/support"), chromedp.WaitVisible(chromedp.CSS("#delete-role")),
		chromedp.Click(chromedp.CSS("#delete-role")), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	want = s.apiDetail(t, "alice", "DELETE", "/v1/workspaces/acme/roles/support", nil, 409)
	if got := text(t, ctx, "#page-error"); got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}

	// Once nobody holds it, it is deleted.
	if r := s.doJSON("PUT", "/gatehouse/v1/workspaces/acme/members/dave", s.token("alice"), map[string]any{"roles": []string{"operator"}}); r.StatusCode != 200 {
		t.Fatalf("PUT dave: %d %s", r.StatusCode, r.body)
	}
	step(t, ctx, "delete support", chromedp.Click(chromedp.CSS("#delete-role")), chromedp.WaitVisible(chromedp.CSS("#deleted")))
	if n := count(t, ctx, `tr[data-role="support"]`); n != 0 {
		t.Fatal("the deleted role is still listed")
	}
	if r := s.do("GET", "/gatehouse/v1/workspaces/acme/roles/support", s.token("alice")); r.StatusCode != 404 {
		t.Fatalf("API role support after deleting: %d", r.StatusCode)
	}

	// alice is an operator of globex: creating a role there is refused
	// with the API's detail, and so is the members screen.
	step(t, ctx, "globex roles", chromedp.Navigate(base+"/w/globex/roles"), chromedp.WaitVisible(chromedp.CSS("#new-role")),
		chromedp.SendKeys(chromedp.CSS("#role-slug"), "spy"), chromedp.SendKeys(chromedp.CSS("#role-name"), "Spy"),
		chromedp.Click(chromedp.CSS(`#new-role input[value="message.read"]`)),
		chromedp.Click(chromedp.CSS("#create-role")), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	want = s.apiDetail(t, "alice", "POST", "/v1/workspaces/globex/roles", map[string]any{"slug": "spy", "name": "Spy", "permissions": []string{"message.read"}}, 403)
	if got := text(t, ctx, "#page-error"); got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}
	if r := s.do("GET", "/gatehouse/v1/workspaces/globex/roles/spy", s.token("bob")); r.StatusCode != 404 {
		t.Fatalf("a refused role exists: %d %s", r.StatusCode, r.body)
	}
	shoot(t, ctx, dir, "21-roles-refused")
	step(t, ctx, "globex members", chromedp.Navigate(base+"/w/globex/members"), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	want = s.apiDetail(t, "alice", "GET", "/v1/workspaces/globex/members", nil, 403)
	if got := text(t, ctx, "#page-error"); got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}
	// Editing bob's roles there (a forged form; the page offers none) is refused too.
	step(t, ctx, "globex dialog", chromedp.Navigate(base+"/w/globex/members/bob"), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	if n := count(t, ctx, "#member-form"); n != 0 {
		t.Fatal("the dialog shows a form to a caller the API refuses")
	}
}

// TestConsoleBrowserMemberPermissions: in the permissions dialog, a
// per-permission deny and a specific-instance restriction, then the
// gateway (the real Caddy site and its rules) refuses the denied
// permission (403 denied_by_member_deny) and an instance outside the list
// (403 restricted) and allows a listed one; an empty list shows the API's
// detail by the type; "all" lifts the restriction.
func TestConsoleBrowserMemberPermissions(t *testing.T) {
	s := startConsoleWith(t, store.Membership{WorkspaceID: acmeID, UserID: "carol", Roles: []string{"operator"}})
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	consoleLogin(t, ctx, base, "alice", "")
	step(t, ctx, "carol's dialog", chromedp.Navigate(base+"/w/acme/members"), chromedp.WaitVisible(chromedp.CSS("#members")),
		chromedp.Click(chromedp.CSS(`tr[data-user="carol"] a`)), chromedp.WaitVisible(chromedp.CSS("#member-form")))
	row := `tr[data-permission="message.send"]`
	if got := text(t, ctx, row+" .role-gives"); got != "yes" {
		t.Fatalf("operator gives message.send: page says %q", got)
	}
	if got := text(t, ctx, row+" .now"); got != "allowed" {
		t.Fatalf("carol holds message.send: page says %q", got)
	}
	if n := count(t, ctx, `table[data-resource="contact"] tr[data-permission]`); n != 2 {
		t.Fatalf("the contact group lists %d permissions, want contact.manage and contact.read", n)
	}
	shoot(t, ctx, dir, "22-member-permissions")

	step(t, ctx, "deny and restrict", chromedp.Click(chromedp.CSS(row+` input[value="deny"]`)),
		chromedp.SendKeys(chromedp.CSS("#new-type"), "instance"), chromedp.SendKeys(chromedp.CSS("#new-ids"), "i2"),
		chromedp.Click(chromedp.CSS("#save-member")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	var carol apiMember
	carol = apiMember{} // Unmarshal merges into a map it is given
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/carol", &carol)
	if !slices.Equal(carol.Denies, []string{"message.send"}) || len(carol.Grants) != 0 ||
		len(carol.Restrictions) != 1 || !slices.Equal(carol.Restrictions["instance"], []string{"i2"}) {
		t.Fatalf("API member carol: %+v", carol)
	}
	if got := text(t, ctx, row+" .now"); got != "not allowed" {
		t.Fatalf("after the deny the page says carol's message.send is %q", got)
	}
	if !checked(t, ctx, row+` input[value="deny"]`) || !checked(t, ctx, `input[name="ra.instance"][value="specific"]`) {
		t.Fatal("the saved dialog does not show the deny and the specific restriction")
	}

	// The gateway, through the real Caddy site's rules.
	tok := s.token("carol")
	gw := func(method, path string, status int, code, reason string) {
		t.Helper()
		r := s.do(method, path, tok)
		if r.StatusCode != status {
			t.Fatalf("%s %s as carol: %d, want %d: %s", method, path, r.StatusCode, status, r.body)
		}
		if code == "" {
			return
		}
		p := r.problem(t)
		if p["code"] != code || p["reason"] != reason {
			t.Fatalf("%s %s: code %v reason %v, want %s %s", method, path, p["code"], p["reason"], code, reason)
		}
	}
	gw("POST", "/w/acme/messages", 403, "forbidden", "denied_by_member_deny")
	gw("GET", "/w/acme/instances/i3/chats", 403, "restricted", "restricted")
	gw("GET", "/w/acme/instances/i2/chats", 200, "", "")
	gw("GET", "/w/acme/messages", 200, "", "")
	if h, _ := s.upstream.received(); h.Get("X-Gatehouse-Restrict-Instance") != "i2" {
		t.Fatalf("upstream got X-Gatehouse-Restrict-Instance %q", h.Get("X-Gatehouse-Restrict-Instance"))
	}

	// "Specific" with no id: the API refuses an empty list; its detail is by the type.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#ri-instance").value = ""`)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "empty list", chromedp.Click(chromedp.CSS("#save-member")), chromedp.WaitVisible(chromedp.CSS("#restriction-error-instance")))
	want := s.apiDetail(t, "alice", "PUT", "/v1/workspaces/acme/members/carol",
		map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}, "restrictions": map[string][]string{"instance": {}}}, 400)
	if got := text(t, ctx, "#restriction-error-instance"); got != want {
		t.Fatalf("restriction error %q, API detail %q", got, want)
	}
	shoot(t, ctx, dir, "24-member-permissions-field-error")

	// A change made elsewhere since the page was loaded is not undone.
	if r := s.doJSON("PUT", "/gatehouse/v1/workspaces/acme/members/carol", s.token("alice"),
		map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send", "contact.read"}, "restrictions": map[string][]string{"instance": {"i2"}}}); r.StatusCode != 200 {
		t.Fatalf("PUT elsewhere: %d %s", r.StatusCode, r.body)
	}
	step(t, ctx, "stale save", chromedp.SetValue(chromedp.CSS("#ri-instance"), "i2"), chromedp.Click(chromedp.CSS("#save-member")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	carol = apiMember{} // Unmarshal merges into a map it is given
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/carol", &carol)
	if !slices.Contains(carol.Denies, "contact.read") {
		t.Fatalf("a stale dialog undid a change made elsewhere: %+v", carol)
	}
	if !checked(t, ctx, `tr[data-permission="contact.read"] input[value="deny"]`) {
		t.Fatal("after a stale save the dialog does not show the current member")
	}

	// "All" lifts the restriction; the gateway then lets i3 through.
	step(t, ctx, "all instances", chromedp.Click(chromedp.CSS(`input[name="ra.instance"][value="all"]`)),
		chromedp.Click(chromedp.CSS("#save-member")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	carol = apiMember{} // Unmarshal merges into a map it is given
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/carol", &carol)
	if len(carol.Restrictions) != 0 {
		t.Fatalf("API member carol after \"all\": %+v", carol)
	}
	gw("GET", "/w/acme/instances/i3/chats", 200, "", "")
}

// TestConsolePeopleWritesNeedCSRF: every write of the people screens
// without a session is 401 and without the session's CSRF token 403, and
// changes nothing; an unknown
// member or role shows the API's 404.
func TestConsolePeopleWritesNeedCSRF(t *testing.T) {
	s := startConsoleWith(t)
	c := &http.Client{Timeout: 10 * time.Second, Jar: &cookieJar{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(s.url("/console"+path), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	writes := map[string]url.Values{
		"/w/acme/members/invite":    {"email": {"x@example.com"}, "role": {"operator"}},
		"/w/acme/members/olga/save": {"role": {"owner"}},
		"/w/acme/roles":             {"slug": {"x"}, "name": {"X"}, "permission": {"message.read"}},
		"/w/acme/roles/x":           {"name": {"Y"}},
		"/w/acme/roles/x/delete":    {},
		"/w/acme/invites/revoke":    {"id": {"inv_x"}},
		"/invites/accept":           {"token": {"ghi_x"}},
	}
	for path, form := range writes {
		if r := post(path, form); r.StatusCode != 401 {
			t.Errorf("POST %s without a session: %d, want 401", path, r.StatusCode)
		}
	}
	if r := post("/login", url.Values{"subject": {"alice"}}); r.StatusCode != 303 {
		t.Fatalf("dev login: %d", r.StatusCode)
	}
	if r := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/invites", s.token("alice"), map[string]any{"email": "erin@example.com", "roles": []string{"operator"}}); r.StatusCode != 201 {
		t.Fatalf("invite erin: %d", r.StatusCode)
	}
	erin := s.apiInvites(t, "acme")["erin@example.com"].ID
	writes["/w/acme/invites/revoke"] = url.Values{"id": {erin}}
	for path, form := range writes {
		for _, csrf := range []string{"", "forged"} {
			f := url.Values{"csrf": {csrf}}
			for k, v := range form {
				f[k] = v
			}
			if r := post(path, f); r.StatusCode != 403 {
				t.Errorf("POST %s with csrf %q: %d, want 403", path, csrf, r.StatusCode)
			}
		}
	}
	invs := s.apiInvites(t, "acme")
	if len(invs) != 1 || invs["erin@example.com"].Status != "pending" {
		t.Fatalf("invites after forged writes: %+v", invs)
	}
	var olga apiMember
	s.apiGet(t, "alice", "/v1/workspaces/acme/members/olga", &olga)
	if !slices.Equal(olga.Roles, []string{"operator"}) {
		t.Fatalf("olga after a forged write: %+v", olga)
	}
	if r := s.do("GET", "/gatehouse/v1/workspaces/acme/roles/x", s.token("alice")); r.StatusCode != 404 {
		t.Fatalf("role x after a forged write: %d", r.StatusCode)
	}

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(s.url("/console" + path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for path, api := range map[string]string{
		"/w/acme/members/nobody": "/v1/workspaces/acme/members/nobody",
		"/w/acme/roles/nobody":   "/v1/workspaces/acme/roles/nobody",
	} {
		status, body := get(path)
		want := s.apiDetail(t, "alice", "GET", api, nil, 404)
		if status != 404 || !strings.Contains(body, htmlEscape(want)) {
			t.Errorf("GET %s: %d, want 404 showing %q", path, status, want)
		}
		if strings.Contains(body, `id="member-form"`) || strings.Contains(body, `id="role-form"`) {
			t.Errorf("GET %s shows a form for something that does not exist", path)
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;").Replace(s)
}
