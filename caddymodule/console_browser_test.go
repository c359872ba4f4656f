package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// consoleCaddyfile is testCaddyfile with the console mounted at /console.
func consoleCaddyfile() string {
	return strings.Replace(testCaddyfile, "\thandle_path /gatehouse/* {", `	handle_path /console/* {
		gatehouse_console {
			api /gatehouse
			dev_login
		}
	}
	handle_path /gatehouse/* {`, 1)
}

// startConsole runs the gateway, the API and the console; alice owns acme
// and is an operator (no workspace.settings) of globex.
func startConsole(t *testing.T) *server {
	s := newServer(t)
	seedWorkspaces(t, s)
	seed(t, s.storePath(), func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: globexID, UserID: "alice", Roles: []string{"operator"}})
	})
	s.load(consoleCaddyfile())
	return s
}

// screenshotDir is where the browser tests save a PNG of every screen:
// $GATEHOUSE_SCREENSHOTS, or gatehouse-console-screenshots in the temp dir.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gatehouse-console-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("console screenshots: %s", dir)
	return dir
}

// newBrowser starts Debian's chromium (make chromium-bin installs it). A
// browser that cannot start fails the test: the console is never untested.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// A whole flow's budget: generous, because a loaded CI machine (or the
	// race detector) slows every step; each step has its own shorter limit.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium did not start (run `make chromium-bin`): %v", err)
	}
	return ctx
}

// shoot saves a full-page screenshot at both widths the console supports
// and fails when a shot is blank (a single colour).
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, w := range []int64{1280, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 800)); err != nil {
			t.Fatalf("viewport %d: %v", w, err)
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (less is JPEG)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		b := img.Bounds()
		first := img.At(b.Min.X, b.Min.Y)
		blank := true
		for y := b.Min.Y; y < b.Max.Y && blank; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				if img.At(x, y) != first {
					blank = false
					break
				}
			}
		}
		if blank {
			t.Fatalf("screenshot %s at %d px is a single colour", name, w)
		}
		if b.Dx() > int(w)+1 {
			t.Errorf("screen %s is %d px wide in a %d px viewport: it scrolls sideways", name, b.Dx(), w)
		}
		path := filepath.Join(dir, name+"-"+map[int64]string{1280: "1280", 390: "390"}[w]+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// apiWorkspace reads a workspace through the API as alice.
func (s *server) apiWorkspace(t *testing.T, ref string) map[string]any {
	t.Helper()
	r := s.do("GET", "/gatehouse/v1/workspaces/"+ref, s.token("alice"))
	if r.StatusCode != 200 {
		t.Fatalf("GET workspace %s: %d %s", ref, r.StatusCode, r.body)
	}
	var ws map[string]any
	if err := json.Unmarshal(r.body, &ws); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestConsoleBrowserWorkspaceFlows drives the console in chromium: dev
// login (by keyboard), the workspace switcher, editing settings (checked
// through the API), a field error and a refusal showing the API's detail,
// a change made elsewhere showing on reload, the danger zone, sign out.
func TestConsoleBrowserWorkspaceFlows(t *testing.T) {
	s := startConsole(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")

	// Signed out, the console sends the browser to the login page.
	run(t, ctx, "open console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#subject")))
	shoot(t, ctx, dir, "01-login")

	// Log in with the keyboard only: type, then Enter submits the form.
	run(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#subject"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS("#email"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#workspace-list")))
	if got := text(t, ctx, "#who"); got != "alice" {
		t.Fatalf("signed in as %q", got)
	}
	list := text(t, ctx, "#workspace-list")
	if !strings.Contains(list, "Acme") || !strings.Contains(list, "Globex") {
		t.Fatalf("switcher shows %q, want Acme and Globex", list)
	}
	shoot(t, ctx, dir, "02-workspaces")

	// Switch to globex, then back to acme.
	run(t, ctx, "switch to globex", chromedp.Click(chromedp.CSS(`a[data-slug="globex"]`)), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
	if got := text(t, ctx, "#ws-name"); got != "Globex" {
		t.Fatalf("switched to %q, want Globex", got)
	}
	// alice is only an operator in globex: the API refuses, the page shows its detail.
	run(t, ctx, "edit globex", chromedp.SetValue(chromedp.CSS("#name"), "Hijacked"), chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	refusal := s.doJSON("PATCH", "/gatehouse/v1/workspaces/globex", s.token("alice"), map[string]any{"name": "Hijacked"})
	if refusal.StatusCode != 403 {
		t.Fatalf("API PATCH by an operator: %d", refusal.StatusCode)
	}
	if got, want := text(t, ctx, "#page-error"), refusal.problem(t)["detail"].(string); got != want || want == "" {
		t.Fatalf("page shows %q, the API's detail is %q", got, want)
	}
	if got := text(t, ctx, "#ws-name"); got != "Globex" {
		t.Fatalf("after a refusal the heading shows %q, want the stored name", got)
	}
	if ws := s.apiWorkspace(t, "globex"); ws["name"] != "Globex" {
		t.Fatalf("refused edit changed globex: %v", ws)
	}
	shoot(t, ctx, dir, "03-settings-refused")

	run(t, ctx, "back to the switcher", chromedp.Click(chromedp.CSS(".crumbs a")), chromedp.WaitVisible(chromedp.CSS("#workspace-list")),
		chromedp.Click(chromedp.CSS(`a[data-slug="acme"]`)), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
	shoot(t, ctx, dir, "04-settings")

	// Edit settings; the page and the API agree.
	run(t, ctx, "save acme",
		chromedp.SetValue(chromedp.CSS("#name"), "Acme Corp"),
		chromedp.SetValue(chromedp.CSS("#description"), "Rockets and anvils"),
		chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS("#saved")))
	if got := text(t, ctx, "#ws-name"); got != "Acme Corp" {
		t.Fatalf("after saving the page shows %q", got)
	}
	if ws := s.apiWorkspace(t, "acme"); ws["name"] != "Acme Corp" || ws["description"] != "Rockets and anvils" {
		t.Fatalf("API after save: %v", ws)
	}

	// A bad slug: the API's detail is shown next to the slug field.
	run(t, ctx, "bad slug", chromedp.SetValue(chromedp.CSS("#slug"), "Not A Slug!"), chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#slug-error")))
	bad := s.doJSON("PATCH", "/gatehouse/v1/workspaces/acme", s.token("alice"), map[string]any{"slug": "Not A Slug!"}).problem(t)
	if bad["field"] != "slug" || text(t, ctx, "#slug-error") != bad["detail"] {
		t.Fatalf("slug error %q, API problem %v", text(t, ctx, "#slug-error"), bad)
	}
	if ws := s.apiWorkspace(t, "acme"); ws["slug"] != "acme" {
		t.Fatalf("a refused slug changed the workspace: %v", ws)
	}
	action, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#settings-form"), "action"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(action.Value, "/console/w/acme/settings") {
		t.Fatalf("after a refused slug the form posts to %q", action.Value)
	}
	shoot(t, ctx, dir, "05-settings-field-error")

	// A change made elsewhere (the API, another admin) shows on the next load.
	if r := s.doJSON("PATCH", "/gatehouse/v1/workspaces/acme", s.token("alice"), map[string]any{"name": "Acme Elsewhere"}); r.StatusCode != 200 {
		t.Fatalf("PATCH elsewhere: %d %s", r.StatusCode, r.body)
	}
	run(t, ctx, "reload", chromedp.Navigate(base+"/w/acme/settings"), chromedp.WaitVisible(chromedp.CSS("#settings-form")))
	if got := text(t, ctx, "#ws-name"); got != "Acme Elsewhere" {
		t.Fatalf("stale page: %q", got)
	}

	// Danger zone: a wrong confirmation changes nothing; the slug deletes.
	run(t, ctx, "delete unconfirmed", chromedp.SetValue(chromedp.CSS("#confirm"), "nope"), chromedp.Click(chromedp.CSS("#delete")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	s.apiWorkspace(t, "acme")
	run(t, ctx, "delete", chromedp.SetValue(chromedp.CSS("#confirm"), "acme"), chromedp.Click(chromedp.CSS("#delete")),
		chromedp.WaitVisible(chromedp.CSS("#workspace-list")))
	if list := text(t, ctx, "#workspace-list"); strings.Contains(list, "Acme") {
		t.Fatalf("deleted workspace still listed: %q", list)
	}
	if r := s.do("GET", "/w/acme/messages", s.token("alice")); r.StatusCode != 404 {
		t.Fatalf("gateway after soft delete: %d", r.StatusCode)
	}

	// Sign out: the session is gone; the console asks for a login again.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS(".inline button")), chromedp.WaitVisible(chromedp.CSS("#subject")),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#subject")))
}

// TestConsoleWritesNeedCSRFAndSession: a cross-site form post (no CSRF
// token, or no session) changes nothing.
func TestConsoleWritesNeedCSRFAndSession(t *testing.T) {
	s := startConsole(t)
	jar := &cookieJar{}
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(s.url("/console"+path), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/w/acme/settings", url.Values{"name": {"X"}}); r.StatusCode != 401 {
		t.Fatalf("write without a session: %d", r.StatusCode)
	}
	r := post("/login", url.Values{"subject": {"alice"}})
	if r.StatusCode != 303 {
		t.Fatalf("dev login: %d", r.StatusCode)
	}
	ck := r.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode || ck[0].Path != "/console/" {
		t.Fatalf("session cookie %+v", ck)
	}
	for _, csrf := range []string{"", "forged"} {
		if r := post("/w/acme/settings", url.Values{"name": {"X"}, "csrf": {csrf}}); r.StatusCode != 403 {
			t.Fatalf("write with csrf %q: %d", csrf, r.StatusCode)
		}
	}
	if ws := s.apiWorkspace(t, "acme"); ws["name"] != "Acme" {
		t.Fatalf("a forged write changed acme: %v", ws)
	}
	resp, err := c.Get(s.url("/console/login"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

// cookieJar keeps every cookie for the one test origin.
type cookieJar struct{ cookies []*http.Cookie }

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) { j.cookies = append(j.cookies, cs...) }
func (j *cookieJar) Cookies(*url.URL) []*http.Cookie          { return j.cookies }

func TestConsoleCaddyfileRefusesBadOptions(t *testing.T) {
	for _, bad := range []string{"oidc https://idp.example.com/", "dev_login a.jwk b.jwk", "api", "colour blue"} {
		d := caddyfile.NewTestDispenser("gatehouse_console {\n" + bad + "\n}")
		if err := new(ConsoleHandler).UnmarshalCaddyfile(d); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestConsoleBrowserMembers: the members screen pages through the API's
// list, removes a member (the API then has no such member), and shows the
// API's refusal when removing the last admin.
func TestConsoleBrowserMembers(t *testing.T) {
	s := newServer(t)
	seedWorkspaces(t, s)
	seed(t, s.storePath(), func(tx store.Tx) error {
		for i := range 30 {
			if err := tx.PutMember(store.Membership{WorkspaceID: acmeID, UserID: fmt.Sprintf("user%02d", i), Roles: []string{"operator"}}); err != nil {
				return err
			}
		}
		return nil
	})
	s.load(consoleCaddyfile())
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	run(t, ctx, "log in", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#subject"), "alice"), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#workspace-list")),
		chromedp.Click(chromedp.CSS(`a[data-slug="acme"]`)), chromedp.WaitVisible(chromedp.CSS("#to-members")),
		chromedp.Click(chromedp.CSS("#to-members")), chromedp.WaitVisible(chromedp.CSS("#members")))
	rows := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#members tbody tr").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 25 {
		t.Fatalf("first page shows %d members, want 25 (32 in all)", n)
	}
	shoot(t, ctx, dir, "06-members")
	run(t, ctx, "next page", chromedp.Click(chromedp.CSS("#next-page")), chromedp.WaitVisible(chromedp.CSS("#members")))
	if n := rows(); n != 7 {
		t.Fatalf("second page shows %d members, want 7", n)
	}

	// Remove olga: the page says so and the API no longer has her.
	run(t, ctx, "remove olga", chromedp.Navigate(base+"/w/acme/members"), chromedp.WaitVisible(chromedp.CSS("#members")))
	if !strings.Contains(text(t, ctx, "#members"), "olga") {
		t.Fatal("olga is not on the members page")
	}
	run(t, ctx, "remove olga", chromedp.Click(chromedp.CSS(`tr[data-user="olga"] button`)), chromedp.WaitVisible(chromedp.CSS("#removed")))
	if r := s.do("GET", "/gatehouse/v1/workspaces/acme/members/olga", s.token("alice")); r.StatusCode != 404 {
		t.Fatalf("API after removing olga: %d %s", r.StatusCode, r.body)
	}

	// Removing the last admin is refused with the API's message; nothing changes.
	run(t, ctx, "remove alice", chromedp.Navigate(base+"/w/acme/members"), chromedp.WaitVisible(chromedp.CSS("#members")),
		chromedp.Click(chromedp.CSS(`tr[data-user="alice"] button`)), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	refusal := s.doJSON("DELETE", "/gatehouse/v1/workspaces/acme/members/alice", s.token("alice"), nil)
	if refusal.StatusCode != 409 {
		t.Fatalf("API remove last admin: %d", refusal.StatusCode)
	}
	if got, want := text(t, ctx, "#page-error"), refusal.problem(t)["detail"]; got != want {
		t.Fatalf("page shows %q, API detail %q", got, want)
	}
	if n := rows(); n != 25 {
		t.Fatalf("after a refusal the page lists %d members, want the current 25", n)
	}
	shoot(t, ctx, dir, "07-members-refused")
}

// TestConsoleBrowserAPIKeys: create an API key with permission checkboxes
// (the secret is shown once and works at the gateway), a bad request shows
// the API's detail by its field, and revoking stops the key at once.
func TestConsoleBrowserAPIKeys(t *testing.T) {
	s := startConsole(t)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	run(t, ctx, "log in", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#subject"), "alice"), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#workspace-list")),
		chromedp.Click(chromedp.CSS(`a[data-slug="acme"]`)), chromedp.WaitVisible(chromedp.CSS("#to-api-keys")),
		chromedp.Click(chromedp.CSS("#to-api-keys")), chromedp.WaitVisible(chromedp.CSS("#new-key")))
	shoot(t, ctx, dir, "08-api-keys")

	// No name: the API refuses; its detail is shown by the name field.
	run(t, ctx, "create without a name", chromedp.Click(chromedp.CSS(`input[value="message.read"]`)),
		chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#name-error")))
	bad := s.doJSON("POST", "/gatehouse/v1/workspaces/acme/api-keys", s.token("alice"), map[string]any{"name": "", "permissions": []string{"message.read"}}).problem(t)
	if got := text(t, ctx, "#name-error"); bad["field"] != "name" || got != bad["detail"] {
		t.Fatalf("name error %q, API problem %v", got, bad)
	}
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[value="message.read"]').checked`))
	if err != nil || !checked {
		t.Fatalf("the checked permission was lost after a refusal (%v)", err)
	}
	shoot(t, ctx, dir, "09-api-keys-field-error")

	run(t, ctx, "create", chromedp.SendKeys(chromedp.CSS("#key-name"), "ci"),
		chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	secret := text(t, ctx, "#new-secret")
	if !strings.HasPrefix(secret, "ghk_") {
		t.Fatalf("secret shown: %q", secret)
	}
	shoot(t, ctx, dir, "10-api-key-created")
	if r := s.do("GET", "/w/acme/messages", secret); r.StatusCode != 200 {
		t.Fatalf("gateway with the new key: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("POST", "/w/acme/messages", secret); r.StatusCode != 403 {
		t.Fatalf("the key has message.read only, POST got %d", r.StatusCode)
	}

	// Shown once: the list page never has it again.
	run(t, ctx, "reload", chromedp.Navigate(base+"/w/acme/api-keys"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="ci"]`)))
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, secret) {
		t.Fatal("the secret is on the list page")
	}

	run(t, ctx, "revoke", chromedp.Click(chromedp.CSS(`tr[data-name="ci"] button`)), chromedp.WaitVisible(chromedp.CSS("#revoked")))
	if got := text(t, ctx, `tr[data-name="ci"] .status`); got != "revoked" {
		t.Fatalf("after revoking the page shows status %q", got)
	}
	if r := s.do("GET", "/w/acme/messages", secret); r.StatusCode != 401 {
		t.Fatalf("gateway with the revoked key: %d", r.StatusCode)
	}
	shoot(t, ctx, dir, "11-api-key-revoked")
}
