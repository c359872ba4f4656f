package console

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-authz/gatehouse/internal/oidctest"
)

const (
	testClient = "gatehouse-console"
	testAPIAud = "gatehouse-api"
)

// stubAPI stands in for the management API: GET /v1/me (and the
// switcher's GET /v1/workspaces, always empty) verifies the
// bearer (signature, issuer, audience, expiry) against the test
// provider's JWK set, as the API's jwt block would, and answers 401 with
// a problem otherwise.
type stubAPI struct {
	verifier *oidc.IDTokenVerifier
	mu       sync.Mutex
	bearers  []string
}

func newStubAPI(op *oidctest.Provider, audience string) *stubAPI {
	ks := oidc.NewRemoteKeySet(context.Background(), op.Issuer+"/jwks")
	return &stubAPI{verifier: oidc.NewVerifier(op.Issuer, ks, &oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{"RS256"}})}
}

func (a *stubAPI) lastBearer() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.bearers) == 0 {
		return ""
	}
	return a.bearers[len(a.bearers)-1]
}

func (a *stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	a.bearers = append(a.bearers, tok)
	a.mu.Unlock()
	t, err := a.verifier.Verify(r.Context(), tok)
	if err != nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"status": 401, "title": "Unauthorized", "code": "invalid_token", "detail": "the token is not valid: " + err.Error()})
		return
	}
	if r.URL.Path == "/v1/workspaces" { // the switcher's list
		json.NewEncoder(w).Encode(map[string]any{"items": []any{}, "next_cursor": ""})
		return
	}
	if r.URL.Path != "/v1/me" {
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"id": t.Subject, "email": "", "workspaces": []any{}})
}

type fixture struct {
	op   *oidctest.Provider
	api  *stubAPI
	c    *Console
	srv  *httptest.Server
	logs *observer.ObservedLogs
	jar  http.CookieJar
	http *http.Client
}

// newFixture runs a console with OIDC login against a test provider whose
// access tokens the stub API trusts.
func newFixture(t *testing.T, edit func(o *Options)) *fixture {
	t.Helper()
	f := &fixture{op: oidctest.New(t, testClient, testAPIAud)}
	f.api = newStubAPI(f.op, testAPIAud)
	core, logs := observer.New(zap.DebugLevel)
	f.logs = logs
	o := Options{API: f.api, Logger: zap.New(core), OIDC: &OIDC{Issuer: f.op.Issuer, ClientID: testClient}}
	if edit != nil {
		edit(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.srv = httptest.NewServer(c)
	t.Cleanup(f.srv.Close)
	f.jar, _ = cookiejar.New(nil)
	f.http = &http.Client{Jar: f.jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

type answer struct {
	status   int
	location string
	body     string
	cookies  []*http.Cookie
}

func (f *fixture) get(t *testing.T, raw string) answer {
	t.Helper()
	if strings.HasPrefix(raw, "/") {
		raw = f.srv.URL + raw
	}
	resp, err := f.http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	return readAnswer(t, resp)
}

func (f *fixture) post(t *testing.T, path string, form url.Values) answer {
	t.Helper()
	resp, err := f.http.PostForm(f.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return readAnswer(t, resp)
}

func readAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Location"), string(b), resp.Cookies()}
}

// authorize starts a sign-in and lets the provider approve it: it returns
// the callback URL the provider sends the browser to.
func (f *fixture) authorize(t *testing.T) string {
	t.Helper()
	start := f.get(t, "/oidc/start")
	if start.status != http.StatusSeeOther || !strings.HasPrefix(start.location, f.op.Issuer+"/authorize?") {
		t.Fatalf("start: %d %q %s", start.status, start.location, start.body)
	}
	auth := f.get(t, start.location)
	if auth.status != http.StatusFound || !strings.HasPrefix(auth.location, f.srv.URL+"/oidc/callback?") {
		t.Fatalf("authorize: %d %q %s", auth.status, auth.location, auth.body)
	}
	return auth.location
}

// login runs a whole sign-in and returns the callback's answer.
func (f *fixture) login(t *testing.T) answer {
	t.Helper()
	return f.get(t, f.authorize(t))
}

func sessionCookieOf(a answer) *http.Cookie {
	for _, c := range a.cookies {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

func (f *fixture) sessionCount() int {
	f.c.sessions.mu.Lock()
	defer f.c.sessions.mu.Unlock()
	return len(f.c.sessions.byID)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (f *fixture) csrf(t *testing.T) string {
	t.Helper()
	home := f.get(t, "/")
	m := csrfField.FindStringSubmatch(home.body)
	if home.status != 200 || m == nil {
		t.Fatalf("home: %d, no csrf field: %s", home.status, home.body)
	}
	return m[1]
}

// A sign-in: PKCE S256 with a verifier the provider checked, a nonce, a
// fresh state; the session holds the access token and every API call
// presents it; the session cookie is HttpOnly and SameSite=Lax.
func TestOIDCLogin(t *testing.T) {
	f := newFixture(t, nil)
	a := f.login(t)
	if a.status != http.StatusSeeOther || a.location != "/" {
		t.Fatalf("callback: %d %q %s", a.status, a.location, a.body)
	}
	q := f.op.LastAuthorization()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Fatalf("PKCE: method %q challenge %q", q.Get("code_challenge_method"), q.Get("code_challenge"))
	}
	if len(q.Get("nonce")) < 32 || len(q.Get("state")) < 32 || q.Get("nonce") == q.Get("state") {
		t.Fatalf("nonce %q state %q", q.Get("nonce"), q.Get("state"))
	}
	if got := q.Get("scope"); got != "openid email" {
		t.Fatalf("scope %q", got)
	}
	if f.op.Exchanges != 1 {
		t.Fatalf("%d code exchanges (the provider refuses a wrong verifier)", f.op.Exchanges)
	}
	ck := sessionCookieOf(a)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
		t.Fatalf("session cookie %+v (plain-HTTP loopback: not Secure)", ck)
	}
	home := f.get(t, "/")
	if home.status != 200 || !strings.Contains(home.body, "alice") {
		t.Fatalf("home: %d %s", home.status, home.body)
	}
	var claims struct {
		Aud string `json:"aud"`
	}
	parts := strings.Split(f.api.lastBearer(), ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(b, &claims) != nil || claims.Aud != testAPIAud {
		t.Fatalf("the API was given a token with aud %q, want the access token (%q)", claims.Aud, testAPIAud)
	}
	s := f.c.sessions.get(ck.Value)
	if s == nil || s.subject != "alice" || s.token != f.api.lastBearer() || s.idToken == "" {
		t.Fatalf("session %+v", s)
	}
}

// The PKCE challenge sent is S256 of the verifier the exchange sends: a
// provider that enforces PKCE accepts the code only with it.
func TestOIDCPKCEChallengeMatchesVerifier(t *testing.T) {
	f := newFixture(t, nil)
	start := f.get(t, "/oidc/start")
	u, _ := url.Parse(start.location)
	var fl *flow
	f.c.oidc.flows.mu.Lock()
	for _, v := range f.c.oidc.flows.byID {
		fl = v
	}
	f.c.oidc.flows.mu.Unlock()
	sum := sha256.Sum256([]byte(fl.verifier))
	if got := u.Query().Get("code_challenge"); got != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("challenge %q is not S256 of the stored verifier", got)
	}
	if u.Query().Get("state") != fl.state || u.Query().Get("nonce") != fl.nonce {
		t.Fatal("state or nonce sent differs from the stored flow")
	}
	if u.Query().Get("redirect_uri") != f.srv.URL+"/oidc/callback" {
		t.Fatalf("redirect_uri %q", u.Query().Get("redirect_uri"))
	}
}

// Every bad callback ends on the login page with a clear message and
// creates no session.
func TestOIDCBadCallbacks(t *testing.T) {
	past := func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }
	for _, tc := range []struct {
		name   string
		op     func(p *oidctest.Provider)
		opts   func(o *Options)
		status int
		want   string
		// callback turns the provider's callback URL into the one the
		// browser sends; nil keeps it.
		callback func(f *fixture, t *testing.T, cb string) string
	}{
		{name: "access denied", op: func(p *oidctest.Provider) { p.Deny = true }, status: 401,
			want: "The identity provider refused the sign-in: access_denied (The user declined.)"},
		{name: "no flow cookie", status: 400, want: "was not started in this browser",
			callback: func(f *fixture, t *testing.T, cb string) string {
				f.jar, _ = cookiejar.New(nil)
				f.http.Jar = f.jar
				return cb
			}},
		{name: "state mismatch", status: 400, want: "state mismatch",
			callback: func(f *fixture, t *testing.T, cb string) string {
				u, _ := url.Parse(cb)
				q := u.Query()
				q.Set("state", q.Get("state")[1:]+"A")
				u.RawQuery = q.Encode()
				return u.String()
			}},
		{name: "state missing", status: 400, want: "state mismatch",
			callback: func(f *fixture, t *testing.T, cb string) string {
				u, _ := url.Parse(cb)
				q := u.Query()
				q.Del("state")
				u.RawQuery = q.Encode()
				return u.String()
			}},
		{name: "no code", status: 400, want: "sent no authorization code",
			callback: func(f *fixture, t *testing.T, cb string) string {
				u, _ := url.Parse(cb)
				q := u.Query()
				q.Del("code")
				u.RawQuery = q.Encode()
				return u.String()
			}},
		{name: "bad nonce", op: func(p *oidctest.Provider) { p.IDClaims = func(c map[string]any) { c["nonce"] = "not-the-nonce" } },
			status: 401, want: "nonce mismatch"},
		{name: "no nonce", op: func(p *oidctest.Provider) { p.IDClaims = func(c map[string]any) { delete(c, "nonce") } },
			status: 401, want: "nonce mismatch"},
		{name: "expired id token", op: func(p *oidctest.Provider) { p.IDClaims = past }, status: 401, want: "ID token has expired"},
		{name: "wrong audience", op: func(p *oidctest.Provider) { p.IDClaims = func(c map[string]any) { c["aud"] = "another-client" } },
			status: 401, want: `ID token is not valid: oidc: expected audience &#34;gatehouse-console&#34; got [&#34;another-client&#34;]`},
		{name: "wrong issuer", op: func(p *oidctest.Provider) { p.IDClaims = func(c map[string]any) { c["iss"] = "https://evil.example/" } },
			status: 401, want: "ID token is not valid: oidc: id token issued by a different provider"},
		{name: "unsigned alg none", op: func(p *oidctest.Provider) { p.UnsignedID = true }, status: 401, want: "ID token is not valid"},
		{name: "API refuses the access token", op: func(p *oidctest.Provider) { p.AccessClaims = func(c map[string]any) { c["aud"] = "other-api" } },
			status: 401, want: "The management API did not accept the identity provider&#39;s token: the token is not valid: oidc: expected audience &#34;gatehouse-api&#34; got [&#34;other-api&#34;]. Configure the gatehouse jwt block to trust issuer "},
		{name: "API refuses an expired access token", op: func(p *oidctest.Provider) { p.AccessClaims = past },
			status: 401, want: "The management API did not accept the identity provider&#39;s token"},
		{name: "wrong client secret", op: func(p *oidctest.Provider) { p.ClientSecret = "the-real-secret" },
			opts: func(o *Options) { o.OIDC.ClientSecret = "a-wrong-secret" }, status: 502,
			want: "The identity provider did not accept the authorization code (invalid_client)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			if tc.op != nil {
				f.op.Set(tc.op)
			}
			cb := f.authorize(t)
			if tc.callback != nil {
				cb = tc.callback(f, t, cb)
			}
			a := f.get(t, cb)
			if a.status != tc.status || !strings.Contains(a.body, tc.want) || !strings.Contains(a.body, `id="page-error"`) {
				t.Fatalf("callback: %d, want %d with %q on the login page:\n%s", a.status, tc.status, tc.want, a.body)
			}
			if ck := sessionCookieOf(a); ck != nil {
				t.Fatalf("a refused callback set a session cookie %+v", ck)
			}
			if n := f.sessionCount(); n != 0 {
				t.Fatalf("%d sessions after a refused callback", n)
			}
			if home := f.get(t, "/"); home.status != http.StatusSeeOther || home.location != "/login" {
				t.Fatalf("after a refused callback / answers %d %q", home.status, home.location)
			}
		})
	}
}

// The API's refusal names what its jwt block must trust: the access
// token's issuer and audience.
func TestOIDCAPIRefusalNamesWhatToTrust(t *testing.T) {
	f := newFixture(t, nil)
	f.op.Set(func(p *oidctest.Provider) { p.AccessClaims = func(c map[string]any) { c["aud"] = "other-api" } })
	a := f.login(t)
	want := "trust issuer " + f.op.Issuer + " and audience other-api"
	if !strings.Contains(a.body, want) {
		t.Fatalf("login page lacks %q:\n%s", want, a.body)
	}
}

// A callback works once: replaying it (same URL, same cookies) is refused
// and creates no second session.
func TestOIDCStateSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	cb := f.authorize(t)
	var flowCk *http.Cookie
	u, _ := url.Parse(f.srv.URL + "/oidc/")
	for _, c := range f.jar.Cookies(u) {
		if c.Name == flowCookie {
			flowCk = c
		}
	}
	if flowCk == nil {
		t.Fatal("no flow cookie after start")
	}
	if a := f.get(t, cb); a.status != http.StatusSeeOther {
		t.Fatalf("first callback: %d %s", a.status, a.body)
	}
	// Replay with the flow cookie put back, as an attacker holding both would.
	f.jar.SetCookies(u, []*http.Cookie{flowCk})
	a := f.get(t, cb)
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "already used") || sessionCookieOf(a) != nil {
		t.Fatalf("replayed callback: %d %s", a.status, a.body)
	}
	if n := f.sessionCount(); n != 1 {
		t.Fatalf("%d sessions after a replay, want 1", n)
	}
}

// A pending sign-in expires after 10 minutes.
func TestOIDCFlowExpires(t *testing.T) {
	st := newFlowStore()
	id := st.add(&flow{state: "s"})
	if fl := st.byID[id]; fl.expires.Sub(fl.created) != 10*time.Minute {
		t.Fatalf("flow lives %s", fl.expires.Sub(fl.created))
	}
	st.byID[id].expires = time.Now().Add(-time.Second)
	if st.take(id) != nil {
		t.Fatal("an expired flow was accepted")
	}
	st.max = 2
	a, b, c := st.add(&flow{}), st.add(&flow{}), st.add(&flow{})
	if st.len() != 2 || st.take(a) != nil || st.take(b) == nil || st.take(c) == nil {
		t.Fatal("the flow store does not evict its oldest entry when full")
	}
}

// Discovery waits for the first login; a provider that is down (or
// hangs) gives that login a clear page within the timeout, and the next
// login tries again.
func TestOIDCLazyDiscovery(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OIDC.DiscoveryTimeout = 300 * time.Millisecond })
	f.op.Set(func(p *oidctest.Provider) { p.Down = true })
	a := f.get(t, "/oidc/start")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "The identity provider is unreachable") {
		t.Fatalf("start with the provider down: %d %s", a.status, a.body)
	}
	f.op.Set(func(p *oidctest.Provider) { p.Down, p.Hang = false, true })
	began := time.Now()
	a = f.get(t, "/oidc/start")
	if a.status != http.StatusServiceUnavailable || time.Since(began) > 3*time.Second {
		t.Fatalf("start with the provider hanging: %d after %s", a.status, time.Since(began))
	}
	f.op.Set(func(p *oidctest.Provider) { p.Hang = false })
	if a := f.login(t); a.status != http.StatusSeeOther || sessionCookieOf(a) == nil {
		t.Fatalf("login once the provider is back: %d %s", a.status, a.body)
	}
}

// New never contacts the provider: a console over an unreachable issuer
// starts.
func TestOIDCNewDoesNotDiscover(t *testing.T) {
	if _, err := New(Options{API: http.NotFoundHandler(), OIDC: &OIDC{Issuer: "http://127.0.0.1:1/", ClientID: "x"}}); err != nil {
		t.Fatal(err)
	}
}

// The session ends at the access token's expiry.
func TestOIDCSessionEndsWithToken(t *testing.T) {
	f := newFixture(t, nil)
	f.op.Set(func(p *oidctest.Provider) { p.AccessTTL = 2 * time.Second })
	a := f.login(t)
	s := f.c.sessions.get(sessionCookieOf(a).Value)
	if s == nil || time.Until(s.expires) > 2*time.Second {
		t.Fatalf("session %v outlives the token", s)
	}
	if home := f.get(t, "/"); home.status != 200 {
		t.Fatalf("home: %d", home.status)
	}
	time.Sleep(time.Until(s.expires) + 100*time.Millisecond)
	if home := f.get(t, "/"); home.status != http.StatusSeeOther || home.location != "/login" {
		t.Fatalf("after the token expired / answers %d %q", home.status, home.location)
	}
	// SessionTTL caps a longer token.
	f = newFixture(t, func(o *Options) { o.SessionTTL = time.Minute })
	s = f.c.sessions.get(sessionCookieOf(f.login(t)).Value)
	if s == nil || time.Until(s.expires) > time.Minute {
		t.Fatalf("session %v outlives SessionTTL", s)
	}
}

// bearer id_token: the API is given the ID token.
func TestOIDCBearerIDToken(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OIDC.Bearer = BearerIDToken })
	f.api = newStubAPI(f.op, testClient) // an API that trusts ID tokens (aud = the client)
	f.c.opts.API = f.api
	a := f.login(t)
	if a.status != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", a.status, a.body)
	}
	s := f.c.sessions.get(sessionCookieOf(a).Value)
	if s == nil || s.token != s.idToken || f.api.lastBearer() != s.idToken {
		t.Fatal("the session does not present the ID token")
	}
}

// Logout needs the CSRF token, drops the session, and continues at the
// provider's end_session_endpoint with id_token_hint and a way back.
func TestOIDCLogout(t *testing.T) {
	f := newFixture(t, nil)
	f.op.Set(func(p *oidctest.Provider) { p.EndSession = true })
	ck := sessionCookieOf(f.login(t))
	s := f.c.sessions.get(ck.Value)
	if a := f.post(t, "/logout", url.Values{"csrf": {"forged"}}); a.status != http.StatusForbidden {
		t.Fatalf("logout without the CSRF token: %d", a.status)
	}
	a := f.post(t, "/logout", url.Values{"csrf": {f.csrf(t)}})
	if a.status != 200 || !strings.Contains(a.body, `http-equiv="refresh"`) {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	m := regexp.MustCompile(`id="continue-signout" href="([^"]+)"`).FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("no link to the provider's logout: %s", a.body)
	}
	end, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	if end.Scheme+"://"+end.Host+end.Path != f.op.Issuer+"/logout" || end.Query().Get("id_token_hint") != s.idToken ||
		end.Query().Get("post_logout_redirect_uri") != f.srv.URL+"/login" || end.Query().Get("client_id") != testClient {
		t.Fatalf("end-session URL %s", end)
	}
	if f.c.sessions.get(ck.Value) != nil {
		t.Fatal("the session survived logout")
	}
	// The old cookie, sent again, is worth nothing.
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.AddCookie(ck)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("old cookie after logout: %d", resp.StatusCode)
	}

	// Without end_session_endpoint, logout lands on the login page.
	f = newFixture(t, nil)
	f.login(t)
	if a := f.post(t, "/logout", url.Values{"csrf": {f.csrf(t)}}); a.status != http.StatusSeeOther || a.location != "/login" {
		t.Fatalf("logout without end_session: %d %q", a.status, a.location)
	}
	if n := f.sessionCount(); n != 0 {
		t.Fatalf("%d sessions after logout", n)
	}
}

// No token, code, verifier, client secret or session id reaches the log,
// whether the login succeeds, fails or ends with logout.
func TestOIDCNeverLogsSecrets(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OIDC.ClientSecret = "s3cret-client-value" })
	f.op.Set(func(p *oidctest.Provider) { p.ClientSecret = "s3cret-client-value"; p.EndSession = true })
	ok := f.login(t)
	f.post(t, "/logout", url.Values{"csrf": {f.csrf(t)}})
	f.op.Set(func(p *oidctest.Provider) { p.IDClaims = func(c map[string]any) { c["aud"] = "x" } })
	f.login(t)
	f.op.Set(func(p *oidctest.Provider) {
		p.IDClaims = nil
		p.AccessClaims = func(c map[string]any) { c["aud"] = "x" }
	})
	f.login(t)
	f.op.Set(func(p *oidctest.Provider) { p.ClientSecret = "other" })
	f.login(t)
	secrets := append(f.op.Secrets(), sessionCookieOf(ok).Value)
	f.c.oidc.flows.mu.Lock()
	for id, fl := range f.c.oidc.flows.byID {
		secrets = append(secrets, id, fl.verifier, fl.nonce, fl.state)
	}
	f.c.oidc.flows.mu.Unlock()
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	entries := f.logs.All()
	if len(entries) < 4 {
		t.Fatalf("only %d log lines: the test would prove nothing", len(entries))
	}
	for _, e := range entries {
		line := e.Message + " " + fmt.Sprint(e.ContextMap())
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Fatalf("log line %q contains a secret %q", line, s)
			}
		}
	}
}

// The login page offers the provider's button, and the dev form only when
// dev_login is on.
func TestOIDCLoginPage(t *testing.T) {
	f := newFixture(t, nil)
	a := f.get(t, "/login")
	host := strings.TrimPrefix(f.op.Issuer, "http://")
	if !strings.Contains(a.body, `href="/oidc/start">Sign in with `+host) || strings.Contains(a.body, `id="subject"`) {
		t.Fatalf("login page: %s", a.body)
	}
	if a := f.post(t, "/login", url.Values{"subject": {"root"}}); a.status != http.StatusNotFound || sessionCookieOf(a) != nil {
		t.Fatalf("dev login without dev_login: %d", a.status)
	}
	// Both methods: both are offered.
	f = newFixture(t, func(o *Options) {
		o.DevLogin = func(string, string) (string, time.Time, error) { return "t", time.Now().Add(time.Hour), nil }
	})
	if a := f.get(t, "/login"); !strings.Contains(a.body, `id="oidc-sign-in"`) || !strings.Contains(a.body, `id="subject"`) {
		t.Fatalf("login page with both methods: %s", a.body)
	}
}
