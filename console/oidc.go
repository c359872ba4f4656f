package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The tokens the console can present to the management API (OIDC.Bearer).
const (
	BearerAccessToken = "access_token"
	BearerIDToken     = "id_token"
)

// OIDC configures the OpenID Connect login: the authorization code flow
// with PKCE (S256), a state and a nonce. The console only carries the
// provider's token to the management API; the API's own jwt config
// decides whether it is valid and who the user is.
type OIDC struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document names it (trailing slash included). https, or http on a
	// loopback host for tests and demos. Discovery runs at the first
	// login, not at start.
	Issuer string
	// ClientID is the console's client id at the provider; ID tokens must
	// name it in aud.
	ClientID string
	// ClientSecret is the client's secret; empty for a public client
	// (PKCE protects the code exchange).
	ClientSecret string
	// Scopes requested; default "openid email". openid is always added.
	Scopes []string
	// RedirectURL is the callback URL registered at the provider (it
	// ends in /oidc/callback under the console's mount). Empty: derived
	// from the request (https, or http for a plain-HTTP loopback
	// request) + the mount prefix. Set it in production: the Host header
	// is the client's to choose.
	RedirectURL string
	// Bearer is the token every API call presents: BearerAccessToken
	// (default) or BearerIDToken (for providers whose access tokens are
	// opaque to the API).
	Bearer string
	// HTTPClient talks to the provider; nil: a client with a 10 s timeout
	// that refuses redirects to anything but https or loopback http.
	HTTPClient *http.Client
	// DiscoveryTimeout bounds discovery and the code exchange; default
	// 10 s.
	DiscoveryTimeout time.Duration
}

// Check reports the first configuration error, naming what to change.
func (o *OIDC) Check() error {
	if o.Issuer == "" {
		return errors.New("oidc: no issuer: write `oidc https://your-idp.example.com/ { client_id ... }`")
	}
	if err := checkProviderURL(o.Issuer); err != nil {
		return fmt.Errorf("oidc issuer %s", err)
	}
	if o.ClientID == "" {
		return errors.New("oidc: no client_id: add `client_id <id>` (the console's client at the identity provider)")
	}
	switch o.Bearer {
	case "", BearerAccessToken, BearerIDToken:
	default:
		return fmt.Errorf("oidc: bearer %q: use access_token (the default) or id_token", o.Bearer)
	}
	if o.RedirectURL != "" {
		u, err := url.Parse(o.RedirectURL)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("oidc: redirect_url %q: give an absolute URL without query or fragment, e.g. https://admin.example.com/console/oidc/callback", o.RedirectURL)
		}
		if !allowedProviderURL(u) {
			return fmt.Errorf("oidc: redirect_url %s: use https (plain http only on a loopback host)", u.Redacted())
		}
		if !strings.HasSuffix(u.Path, "/oidc/callback") {
			return fmt.Errorf("oidc: redirect_url %s: it must end in /oidc/callback under the console's mount", u.Redacted())
		}
	}
	for _, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			return fmt.Errorf("oidc: scope %q is not a scope token", s)
		}
	}
	return nil
}

// secureRedirect reports whether the callback URL is configured to a
// non-loopback host: then every cookie is Secure, whatever the request.
func (o *OIDC) secureRedirect() bool {
	if o.RedirectURL == "" {
		return false
	}
	u, err := url.Parse(o.RedirectURL)
	return err != nil || !isLoopbackHost(u.Hostname())
}

func checkProviderURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if !allowedProviderURL(u) {
		return fmt.Errorf("%s: use https (plain http is accepted only for a loopback host such as 127.0.0.1, for tests and demos)", u.Redacted())
	}
	return nil
}

func allowedProviderURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		return isLoopbackHost(u.Hostname())
	}
	return false
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// oidcLogin is the OIDC login of one console: the provider, discovered at
// the first login, and the sign-ins in progress.
type oidcLogin struct {
	cfg    OIDC
	client *http.Client
	flows  *flowStore

	mu sync.Mutex
	p  *provider // nil until a discovery succeeds
}

// provider is what discovery found.
type provider struct {
	oauth      oauth2.Config // RedirectURL is set per sign-in
	verifier   *oidc.IDTokenVerifier
	endSession string // "" when the provider has no end_session_endpoint
	authHost   string
}

func newOIDCLogin(cfg OIDC) *oidcLogin {
	if cfg.Bearer == "" {
		cfg.Bearer = BearerAccessToken
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email"}
	} else if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.DiscoveryTimeout <= 0 {
		cfg.DiscoveryTimeout = 10 * time.Second
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: cfg.DiscoveryTimeout, CheckRedirect: checkProviderRedirect}
	}
	return &oidcLogin{cfg: cfg, client: client, flows: newFlowStore()}
}

// checkProviderRedirect keeps redirects to https or loopback http, so an
// https provider cannot be downgraded to plain http by a redirect.
func checkProviderRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !allowedProviderURL(req.URL) {
		return errors.New("refusing a redirect to a URL that is neither https nor loopback http")
	}
	return nil
}

// errUnreachable wraps every discovery failure: the login page says the
// identity provider is unreachable, and the next login tries again.
var errUnreachable = errors.New("the identity provider is unreachable")

// discover returns the provider, running discovery when no earlier one
// succeeded. It is bounded by DiscoveryTimeout and never cached on
// failure, so a provider that is down at start (or at any login) costs
// that login only; concurrent logins wait for one discovery.
func (o *oidcLogin) discover(ctx context.Context) (*provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.DiscoveryTimeout)
	defer cancel()
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", errUnreachable, o.cfg.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", errUnreachable, o.cfg.Issuer, err)
	}
	ep := op.Endpoint()
	for name, raw := range map[string]string{"authorization_endpoint": ep.AuthURL, "token_endpoint": ep.TokenURL, "end_session_endpoint": extra.EndSession} {
		if raw == "" && name == "end_session_endpoint" {
			continue
		}
		if err := checkProviderURL(raw); err != nil {
			return nil, fmt.Errorf("%w: discovery at %s: %s %v", errUnreachable, o.cfg.Issuer, name, err)
		}
	}
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if o.cfg.ClientSecret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams // a public client sends only its id
	}
	au, _ := url.Parse(ep.AuthURL)
	o.p = &provider{
		oauth:      oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: ep, Scopes: o.cfg.Scopes},
		verifier:   op.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}),
		endSession: extra.EndSession,
		authHost:   au.Host,
	}
	return o.p, nil
}

// discovered is the provider if a discovery already succeeded.
func (o *oidcLogin) discovered() *provider {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.p
}

// issuerHost names the provider on the login button.
func (o *oidcLogin) issuerHost() string {
	u, err := url.Parse(o.cfg.Issuer)
	if err != nil {
		return o.cfg.Issuer
	}
	return u.Host
}
