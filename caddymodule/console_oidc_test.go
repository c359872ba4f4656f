package caddymodule

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/console"
	"github.com/gatehouse-authz/gatehouse/internal/oidctest"
)

const (
	oidcClient = "gatehouse-console"
	oidcAPIAud = "gatehouse-api"
)

// oidcConsoleCaddyfile is testCaddyfile whose API trusts the test
// provider's tokens (jwks_url, issuer, audience) and whose console logs
// in with it.
func oidcConsoleCaddyfile(op *oidctest.Provider) string {
	cf := strings.Replace(testCaddyfile, "\t\tjwt {\n\t\t\tjwks_file {{dir}}/jwks.json\n\t\t}", `		jwt {
			jwks_url `+op.Issuer+`/jwks
			issuer `+op.Issuer+`
			audience `+oidcAPIAud+`
		}`, 1)
	return strings.Replace(cf, "\thandle_path /gatehouse/* {", `	handle_path /console/* {
		gatehouse_console {
			api /gatehouse
			oidc `+op.Issuer+` {
				client_id `+oidcClient+`
				scopes openid email profile
			}
		}
	}
	handle_path /gatehouse/* {`, 1)
}

// startOIDCConsole runs the gateway, the API and an OIDC console; alice
// owns acme and is an operator of globex. apiAud is the audience of the
// provider's access tokens (the API trusts oidcAPIAud).
func startOIDCConsole(t *testing.T, apiAud string) (*server, *oidctest.Provider) {
	op := oidctest.New(t, oidcClient, apiAud)
	op.Set(func(p *oidctest.Provider) { p.EndSession = true })
	s := newServer(t)
	seedWorkspaces(t, s)
	s.load(oidcConsoleCaddyfile(op))
	if !strings.Contains(oidcConsoleCaddyfile(op), "jwks_url") {
		t.Fatal("the test Caddyfile's jwt block was not replaced")
	}
	return s, op
}

// TestConsoleBrowserOIDC signs in through the test provider in chromium:
// the sign-in button, the provider, the workspace switcher showing the
// workspaces the API gives the provider's user; sign out ends at the
// provider's logout and back on the login page, and the old session
// cookie no longer works.
func TestConsoleBrowserOIDC(t *testing.T) {
	s, op := startOIDCConsole(t, oidcAPIAud)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")

	run(t, ctx, "open console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#oidc-sign-in")))
	host := strings.TrimPrefix(op.Issuer, "http://")
	if got := text(t, ctx, "#oidc-sign-in"); got != "Sign in with "+host {
		t.Fatalf("sign-in button %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#subject").length`)); err != nil || n != 0 {
		t.Fatalf("the dev login form is shown without dev_login (%d, %v)", n, err)
	}
	shoot(t, ctx, dir, "oidc-01-login")

	run(t, ctx, "sign in", chromedp.Click(chromedp.CSS("#oidc-sign-in")), chromedp.WaitVisible(chromedp.CSS("#workspace-list")))
	if got := text(t, ctx, "#who"); got != "alice" {
		t.Fatalf("signed in as %q", got)
	}
	if list := text(t, ctx, "#workspace-list"); !strings.Contains(list, "Acme") || strings.Contains(list, "Globex") {
		t.Fatalf("switcher shows %q, want alice's Acme only", list)
	}
	if q := op.LastAuthorization(); q.Get("code_challenge_method") != "S256" || q.Get("scope") != "openid email profile" ||
		q.Get("redirect_uri") != base+"/oidc/callback" {
		t.Fatalf("authorization request %v", q)
	}
	shoot(t, ctx, dir, "oidc-02-workspaces")

	// The API agrees: the provider's token for alice lists the same workspace.
	if r := s.do("GET", "/gatehouse/v1/me", op.AccessToken("alice")); r.StatusCode != 200 || !strings.Contains(string(r.body), `"slug":"acme"`) {
		t.Fatalf("API /v1/me with the provider's token: %d %s", r.StatusCode, r.body)
	}
	run(t, ctx, "open acme", chromedp.Click(chromedp.CSS(`a[data-slug="acme"]`)), chromedp.WaitVisible(chromedp.CSS("#settings-form")))

	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "gatehouse_console" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.Path != "/console/" {
		t.Fatalf("session cookie %+v", session)
	}
	if r := consoleGet(t, s, "/console/", session.Value); r.StatusCode != 200 {
		t.Fatalf("the session cookie does not work before sign out: %d", r.StatusCode)
	}

	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS(".inline button")), chromedp.WaitVisible(chromedp.CSS("#oidc-sign-in")))
	var loc string
	if loc, err = chromedp.Run(ctx, chromedp.Location()); err != nil || loc != base+"/login" {
		t.Fatalf("after sign out the browser is at %q (%v)", loc, err)
	}
	op.Set(func(p *oidctest.Provider) {
		if len(p.Logouts) != 1 || p.Logouts[0].Get("id_token_hint") == "" || p.Logouts[0].Get("post_logout_redirect_uri") != base+"/login" {
			t.Errorf("provider logouts %v", p.Logouts)
		}
	})
	if r := consoleGet(t, s, "/console/", session.Value); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/login" {
		t.Fatalf("the old session cookie still works after sign out: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	run(t, ctx, "console after sign out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#oidc-sign-in")))
}

// TestConsoleBrowserOIDCUntrustedToken: a provider whose access tokens the
// API does not trust (another audience): the login page shows the API's
// own detail and what to configure, and no session is made.
func TestConsoleBrowserOIDCUntrustedToken(t *testing.T) {
	s, op := startOIDCConsole(t, "another-api")
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := s.url("/console")
	run(t, ctx, "sign in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#oidc-sign-in")),
		chromedp.Click(chromedp.CSS("#oidc-sign-in")), chromedp.WaitVisible(chromedp.CSS("#page-error")))
	refusal := s.do("GET", "/gatehouse/v1/me", op.AccessToken("alice"))
	if refusal.StatusCode != 401 {
		t.Fatalf("the API accepts the provider's token: %d", refusal.StatusCode)
	}
	detail, _ := refusal.problem(t)["detail"].(string)
	msg := text(t, ctx, "#page-error")
	want := "The management API did not accept the identity provider's token: " + detail + ". Configure the gatehouse jwt block to trust issuer " + op.Issuer + " and audience another-api"
	if detail == "" || !strings.HasPrefix(msg, want) {
		t.Fatalf("login page says %q\nwant it to start with %q", msg, want)
	}
	shoot(t, ctx, dir, "oidc-03-untrusted-token")
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies.Cookies {
		if c.Name == "gatehouse_console" {
			t.Fatalf("a session cookie was set: %+v", c)
		}
	}
	run(t, ctx, "console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#oidc-sign-in")))
}

// TestConsoleOIDCNoTokensInLogs: a sign-in through Caddy leaves no token,
// code or verifier in Caddy's log.
func TestConsoleOIDCNoTokensInLogs(t *testing.T) {
	s, op := startOIDCConsole(t, oidcAPIAud)
	c := &http.Client{Timeout: 10 * time.Second, Jar: &cookieJar{}}
	resp, err := c.Get(s.url("/console/oidc/start")) // follows the provider's redirects back to the switcher
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="workspace-list"`) {
		t.Fatalf("sign-in through Caddy: %d %s", resp.StatusCode, body)
	}
	logged, err := os.ReadFile(s.dir + "/caddy.log")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logged), "signed in (oidc)") {
		t.Fatalf("no sign-in line in the log: the check would prove nothing\n%s", logged)
	}
	secrets := op.Secrets()
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets", len(secrets))
	}
	for _, sec := range secrets {
		if strings.Contains(string(logged), sec) {
			t.Fatalf("Caddy's log holds a token, code or verifier")
		}
	}
}

func consoleGet(t *testing.T, s *server, path, session string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url(path), nil)
	req.AddCookie(&http.Cookie{Name: "gatehouse_console", Value: session})
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestConsoleOIDCCaddyfile(t *testing.T) {
	d := caddyfile.NewTestDispenser(`gatehouse_console {
		api /gatehouse
		oidc https://idp.example.com/ {
			client_id gatehouse-console
			client_secret {env.CONSOLE_SECRET}
			scopes openid email profile
			redirect_url https://admin.example.com/console/oidc/callback
			bearer id_token
		}
		dev_login
	}`)
	h := new(ConsoleHandler)
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := ConsoleOIDC{Issuer: "https://idp.example.com/", ClientID: "gatehouse-console", ClientSecret: "{env.CONSOLE_SECRET}",
		Scopes: []string{"openid", "email", "profile"}, RedirectURL: "https://admin.example.com/console/oidc/callback", Bearer: "id_token"}
	if h.OIDC == nil || h.OIDC.Issuer != want.Issuer || h.OIDC.ClientID != want.ClientID || h.OIDC.ClientSecret != want.ClientSecret ||
		strings.Join(h.OIDC.Scopes, " ") != "openid email profile" || h.OIDC.RedirectURL != want.RedirectURL || h.OIDC.Bearer != want.Bearer || !h.DevLogin || h.API != "/gatehouse" {
		t.Fatalf("parsed %+v %+v", h, h.OIDC)
	}

	for bad, want := range map[string]string{
		"oidc":                               "needs the issuer URL",
		"oidc https://idp.example.com/":      "needs `client_id <id>`",
		"oidc https://idp.example.com/ {\n}": "needs `client_id <id>`",
		"oidc http://idp.example.com/ {\nclient_id c\n}":                                                       "use https",
		"oidc https://idp.example.com/ extra {\nclient_id c\n}":                                                "takes one argument",
		"oidc https://idp.example.com/ {\nclient_id c\ncolour x\n}":                                            `unknown oidc option "colour"`,
		"oidc https://idp.example.com/ {\nclient_id\n}":                                                        "client_id takes one value",
		"oidc https://idp.example.com/ {\nclient_id c\nbearer refresh_token\n}":                                "use access_token",
		"oidc https://idp.example.com/ {\nclient_id c\nscopes\n}":                                              "at least one scope",
		"oidc https://idp.example.com/ {\nclient_id c\nredirect_url http://a.example/console/oidc/callback\n}": "use https",
		"oidc https://idp.example.com/ {\nclient_id c\n}\noidc https://idp.example.com/ {\nclient_id c\n}":     "given twice",
	} {
		err := new(ConsoleHandler).UnmarshalCaddyfile(caddyfile.NewTestDispenser("gatehouse_console {\n" + bad + "\n}"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
	// A loopback http issuer is accepted (tests and demos).
	if err := new(ConsoleHandler).UnmarshalCaddyfile(caddyfile.NewTestDispenser("gatehouse_console {\noidc http://127.0.0.1:5556/dex {\nclient_id c\n}\n}")); err != nil {
		t.Fatal(err)
	}
}

// Provision: an unset client_secret variable is an error naming it; the
// console does not contact the provider at start (an unreachable issuer
// still starts).
func TestConsoleOIDCProvision(t *testing.T) {
	s := newServer(t)
	op := oidctest.New(t, oidcClient, oidcAPIAud)
	cf := oidcConsoleCaddyfile(op)
	os.Unsetenv("GATEHOUSE_TEST_UNSET_SECRET")
	bad := strings.Replace(cf, "client_id "+oidcClient, "client_id "+oidcClient+"\n\t\t\t\tclient_secret {env.GATEHOUSE_TEST_UNSET_SECRET}", 1)
	if err := s.tryLoad(bad); err == nil || !strings.Contains(err.Error(), "client_secret is empty") {
		t.Fatalf("an empty client_secret: %v", err)
	}
	down := strings.Replace(cf, "oidc "+op.Issuer, "oidc http://127.0.0.1:1", 1)
	s.load(down)
	r := consoleGet(t, s, "/console/oidc/start", "")
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("start with an unreachable provider: %d", r.StatusCode)
	}
	if r := s.do("GET", "/healthz", ""); r.StatusCode != 200 {
		t.Fatalf("the gateway is down with the provider: %d", r.StatusCode)
	}
}

// With dev_login on, the console refuses any connection that is not
// loopback to loopback, also when dev_login names no key file (the
// Caddyfile's plain `dev_login`).
func TestConsoleDevLoginRefusesNonLoopback(t *testing.T) {
	c, err := console.New(console.Options{API: http.NotFoundHandler(),
		DevLogin: func(string, string) (string, time.Time, error) { return "", time.Time{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*ConsoleHandler{{DevLogin: true}, {DevLoginKey: "dev/signing.jwk"}} {
		h.console, h.logger = c, zap.NewNop()
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = "198.51.100.1:50000"
		addr, _ := net.ResolveTCPAddr("tcp", "192.0.2.10:443")
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, r, nil); err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusForbidden {
			t.Errorf("dev_login %v key %q: a remote connection got %d", h.DevLogin, h.DevLoginKey, w.Code)
		}
	}
}
