// Package oidctest is a small OpenID provider for tests: discovery, a JWK
// set, an authorization endpoint that approves one configured user at
// once, a token endpoint that enforces PKCE (S256), and an end-session
// endpoint. It listens on a free 127.0.0.1 port; the console's unit tests
// and the Caddy end-to-end tests both log in against it.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Provider is a running test OP. Set its knobs before a login starts;
// they are read under its lock.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:port).
	Issuer string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu sync.Mutex
	// ClientID and ClientSecret are the one registered client; an empty
	// secret makes it a public client (PKCE only).
	ClientID, ClientSecret string
	// APIAudience is the aud of the access tokens it issues.
	APIAudience string
	// Subject and Email are the user /authorize approves.
	Subject, Email string
	// Deny makes /authorize answer error=access_denied.
	Deny bool
	// Down makes discovery answer 503; Hang makes it wait until the
	// request is cancelled.
	Down, Hang bool
	// EndSession advertises end_session_endpoint in discovery.
	EndSession bool
	// AccessTTL is the access token's lifetime (default 1h); IDTTL the ID
	// token's (default 1h).
	AccessTTL, IDTTL time.Duration
	// IDClaims, when set, edits the ID token's claims before signing;
	// AccessClaims the access token's.
	IDClaims, AccessClaims func(map[string]any)
	// UnsignedID issues the ID token with alg "none" and no signature.
	UnsignedID bool

	grants map[string]*grant // by code
	issued []string          // every token, code and verifier it saw or made
	// Authorizations records the query of every /authorize request.
	Authorizations []url.Values
	// Exchanges counts successful code exchanges.
	Exchanges int
	// Logouts records the query of every end-session request.
	Logouts []url.Values
}

type grant struct {
	clientID, redirectURI, challenge, nonce string
	used                                    bool
}

// New starts a provider for client clientID whose access tokens carry
// audience apiAudience; it stops when the test ends.
func New(t testing.TB, clientID, apiAudience string) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key, kid: "test-" + randomString(6), ClientID: clientID, APIAudience: apiAudience,
		Subject: "alice", Email: "alice@example.com", grants: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", p.logout)
	p.srv = httptest.NewServer(mux) // binds 127.0.0.1 on a free port
	p.Issuer = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Set runs fn under the provider's lock, to change knobs safely.
func (p *Provider) Set(fn func(p *Provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

// Secrets is every token, code and verifier the provider issued or
// received, and the client secret: what must never reach a log.
func (p *Provider) Secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]string(nil), p.issued...)
	if p.ClientSecret != "" {
		out = append(out, p.ClientSecret)
	}
	return out
}

// LastAuthorization is the query of the latest /authorize request.
func (p *Provider) LastAuthorization() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.Authorizations) == 0 {
		return nil
	}
	return p.Authorizations[len(p.Authorizations)-1]
}

// AccessToken signs an access token for sub as the provider would issue
// it (for tests that call the API directly).
func (p *Provider) AccessToken(sub string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sign(p.accessClaims(sub, time.Now()), false)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	down, hang, end := p.Down, p.Hang, p.EndSession
	p.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	doc := map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if end {
		doc["end_session_endpoint"] = p.Issuer + "/logout"
	}
	writeJSON(w, http.StatusOK, doc)
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize approves the configured user at once: it redirects back with
// a code (or error=access_denied when Deny is set). PKCE S256 and a
// nonce are required.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Authorizations = append(p.Authorizations, q)
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "unknown client, response type or redirect uri", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {q.Get("state")}}
	switch {
	case p.Deny:
		v.Set("error", "access_denied")
		v.Set("error_description", "The user declined.")
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		v.Set("error", "invalid_request")
		v.Set("error_description", "PKCE with S256 is required")
	default:
		code := randomString(24)
		p.grants[code] = &grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		p.issued = append(p.issued, code)
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code: the client, the redirect uri and the PKCE
// verifier must match what /authorize saw; a code works once.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	verifier := r.PostForm.Get("code_verifier")
	if verifier != "" {
		p.issued = append(p.issued, verifier)
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", "Basic")
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	g := p.grants[r.PostForm.Get("code")]
	if r.PostForm.Get("grant_type") != "authorization_code" || g == nil || g.used || g.clientID != id || g.redirectURI != r.PostForm.Get("redirect_uri") {
		tokenError(w, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if verifier == "" || b64(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant")
		return
	}
	g.used = true
	p.Exchanges++
	now := time.Now()
	access := p.sign(p.accessClaims(p.Subject, now), false)
	idc := map[string]any{"iss": p.Issuer, "aud": p.ClientID, "sub": p.Subject, "email": p.Email,
		"iat": now.Unix(), "exp": now.Add(ttl(p.IDTTL)).Unix(), "nonce": g.nonce}
	if p.IDClaims != nil {
		p.IDClaims(idc)
	}
	idt := p.sign(idc, p.UnsignedID)
	p.issued = append(p.issued, access, idt)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "id_token": idt, "token_type": "Bearer",
		"expires_in": int(ttl(p.AccessTTL) / time.Second)})
}

func (p *Provider) accessClaims(sub string, now time.Time) map[string]any {
	c := map[string]any{"iss": p.Issuer, "aud": p.APIAudience, "sub": sub, "email": p.Email,
		"iat": now.Unix(), "exp": now.Add(ttl(p.AccessTTL)).Unix()}
	if p.AccessClaims != nil {
		p.AccessClaims(c)
	}
	return c
}

// logout records the request and sends the browser back to
// post_logout_redirect_uri.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.Logouts = append(p.Logouts, q)
	p.mu.Unlock()
	if back := q.Get("post_logout_redirect_uri"); back != "" {
		http.Redirect(w, r, back, http.StatusFound)
		return
	}
	w.Write([]byte("signed out"))
}

// sign makes a compact JWS (RS256), or an unsigned alg "none" token.
func (p *Provider) sign(claims map[string]any, unsigned bool) string {
	hdr := map[string]string{"alg": "RS256", "typ": "JWT", "kid": p.kid}
	if unsigned {
		hdr = map[string]string{"alg": "none", "typ": "JWT"}
	}
	h, _ := json.Marshal(hdr)
	c, _ := json.Marshal(claims)
	input := b64(h) + "." + b64(c)
	if unsigned {
		return input + "."
	}
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

func ttl(d time.Duration) time.Duration {
	if d == 0 {
		return time.Hour
	}
	return d
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b64(b)
}
