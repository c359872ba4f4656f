package caddymodule

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/console"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

func init() {
	caddy.RegisterModule(ConsoleHandler{})
	httpcaddyfile.RegisterHandlerDirective("gatehouse_console", parseConsoleHandler)
	httpcaddyfile.RegisterDirectiveOrder("gatehouse_console", httpcaddyfile.Before, "reverse_proxy")
}

// devLoginTTL is the lifetime of a token dev_login mints.
const devLoginTTL = time.Hour

// ConsoleHandler is the `gatehouse_console` HTTP handler: the admin console
// (spec §12). It is glue only: the console package renders the pages and
// sends every read and write to the management API, in process, as the
// signed-in user.
type ConsoleHandler struct {
	// API is the path prefix where gatehouse_api is mounted on the same
	// origin (e.g. "/gatehouse"); the console's API calls are answered in
	// process, and links the API returns carry this prefix.
	API string `json:"api,omitempty"`
	// DevLogin enables dev_login: a form that signs a short-lived token
	// for any subject with the dev signing key. Demo only; served on
	// loopback connections only.
	DevLogin bool `json:"dev_login,omitempty"`
	// DevLoginKey is the private JWK dev_login signs with. Empty: the
	// signing.jwk beside the gatehouse app's jwt jwks_file (where
	// `gatehouse keygen` writes both, e.g. dev/signing.jwk).
	DevLoginKey string `json:"dev_login_key,omitempty"`
	// OIDC enables the OpenID Connect login (authorization code flow
	// with PKCE) against the deployment's identity provider.
	OIDC *ConsoleOIDC `json:"oidc,omitempty"`

	console *console.Console
	logger  *zap.Logger
}

// ConsoleOIDC is the console's OpenID Connect client. Discovery runs at
// the first login, never at start: an identity provider that is down
// when Caddy starts costs logins, not the server.
type ConsoleOIDC struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document names it: https, or http on a loopback host (tests and
	// demos).
	Issuer string `json:"issuer,omitempty"`
	// ClientID is the console's client id at the provider.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is the client's secret; omit it for a public client
	// (PKCE). Placeholders such as {env.CONSOLE_SECRET} are resolved at
	// provision, so the secret need not be written in the config.
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes requested. Default: openid email.
	Scopes []string `json:"scopes,omitempty"`
	// RedirectURL is the callback registered at the provider
	// (…/console/oidc/callback). Default: the request's origin + the
	// console's mount + /oidc/callback.
	RedirectURL string `json:"redirect_url,omitempty"`
	// Bearer names the token the console presents to the management API:
	// access_token (default) or id_token. The gatehouse app's jwt config
	// must trust it.
	Bearer string `json:"bearer,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (ConsoleHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse_console",
		New: func() caddy.Module { return new(ConsoleHandler) },
	}
}

// Provision builds the console over a management API of the gatehouse app.
func (h *ConsoleHandler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	app, err := gatehouseApp(ctx)
	if err != nil {
		return err
	}
	if h.API == "" || !strings.HasPrefix(h.API, "/") {
		return errors.New("gatehouse_console: `api <prefix>` is required: the path where gatehouse_api is mounted, e.g. /gatehouse")
	}
	if !h.devLoginOn() && h.OIDC == nil {
		return errors.New("gatehouse_console: no login configured: add `oidc <issuer> { client_id ... }`, or `dev_login` for a loopback demo")
	}
	opts := console.Options{MountPrefix: mountPrefix, Logger: h.logger}
	if h.OIDC != nil {
		o, err := h.OIDC.options()
		if err != nil {
			return err
		}
		opts.OIDC = o
		h.warnUntrusted(app)
	}
	if h.devLoginOn() {
		if opts.DevLogin, err = h.devLoginFunc(app); err != nil {
			return err
		}
		h.logger.Warn("gatehouse_console: dev_login is enabled: anyone who reaches the console can sign in as anyone; the whole console is served on loopback connections only, never use it in production")
	}
	apiPrefix := strings.TrimSuffix(h.API, "/")
	if opts.API, err = newAdminAPI(ctx, app, func(*http.Request) string { return apiPrefix }); err != nil {
		return err
	}
	h.console, err = console.New(opts)
	return err
}

// warnUntrusted warns at start when the API's jwt block plainly cannot
// trust the provider's tokens (every sign-in would be refused with the
// same advice on the login page).
func (h *ConsoleHandler) warnUntrusted(app *App) {
	switch {
	case app.JWT == nil:
		h.logger.Warn("gatehouse_console: oidc is configured but the gatehouse app has no jwt block: the management API will refuse the provider's tokens; add jwt { jwks_url ... issuer ... audience ... }",
			zap.String("issuer", h.OIDC.Issuer))
	case app.JWT.Issuer != "" && app.JWT.Issuer != h.OIDC.Issuer:
		h.logger.Warn("gatehouse_console: the gatehouse jwt issuer differs from the console's oidc issuer: the management API will refuse the provider's tokens unless they name the jwt issuer",
			zap.String("jwt_issuer", app.JWT.Issuer), zap.String("oidc_issuer", h.OIDC.Issuer))
	}
}

// devLoginOn reports whether dev_login is configured (the Caddyfile sets
// DevLogin; JSON may give only the key).
func (h *ConsoleHandler) devLoginOn() bool { return h.DevLogin || h.DevLoginKey != "" }

// devLoginFunc signs dev_login's tokens with the dev private key, for the
// gatehouse app's jwt issuer and audience.
func (h *ConsoleHandler) devLoginFunc(app *App) (func(sub, email string) (string, time.Time, error), error) {
	keyPath, err := h.devLoginKeyPath(app)
	if err != nil {
		return nil, err
	}
	key, err := signing.LoadSigningKey(keyPath)
	if err != nil {
		return nil, err
	}
	var iss string
	var aud []string
	if app.JWT != nil {
		iss = app.JWT.Issuer
		if app.JWT.Audience != "" {
			aud = []string{app.JWT.Audience}
		}
	}
	return func(sub, email string) (string, time.Time, error) {
		now := time.Now()
		tok, err := signing.Sign(key, signing.TokenSpec{Subject: sub, Email: email, Issuer: iss, Audience: aud, TTL: devLoginTTL, Now: now})
		return tok, now.Add(devLoginTTL), err
	}, nil
}

// options resolves placeholders and checks the block, naming what to
// change.
func (o *ConsoleOIDC) options() (*console.OIDC, error) {
	secret := ""
	if o.ClientSecret != "" {
		secret = caddy.NewReplacer().ReplaceKnown(o.ClientSecret, "")
		if secret == "" {
			return nil, errors.New("gatehouse_console: oidc client_secret is empty after resolving placeholders: is the environment variable set? (omit client_secret for a public client)")
		}
	}
	c := &console.OIDC{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret, Scopes: o.Scopes,
		RedirectURL: o.RedirectURL, Bearer: o.Bearer}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("gatehouse_console: %w", err)
	}
	return c, nil
}

// ServeHTTP serves the console; it never calls next. With dev_login on,
// the whole console refuses a connection that did not arrive on a
// loopback address: fail closed when the site listens beyond loopback
// (with oidc too: a console that offers dev_login is a demo).
func (h *ConsoleHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if h.devLoginOn() && !loopbackConn(r) {
		h.logger.Error("gatehouse_console: dev_login refused a non-loopback connection", zap.String("remote", r.RemoteAddr))
		http.Error(w, "the console's dev_login is served on loopback only", http.StatusForbidden)
		return nil
	}
	h.console.ServeHTTP(w, r)
	return nil
}

// loopbackConn reports whether the request arrived on a loopback address
// from a loopback peer.
func loopbackConn(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	for _, a := range []string{local.String(), r.RemoteAddr} {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// devLoginKeyPath is DevLoginKey, or the signing.jwk beside the app's
// jwks_file.
func (h *ConsoleHandler) devLoginKeyPath(app *App) (string, error) {
	if h.DevLoginKey != "" {
		return h.DevLoginKey, nil
	}
	if app.JWT == nil || app.JWT.JWKSFile == "" {
		return "", errors.New("gatehouse_console: dev_login needs the dev private key: write `dev_login <signing.jwk>`, or give the gatehouse app a `jwt { jwks_file ... }` whose directory holds " + signing.SigningKeyFile)
	}
	return filepath.Join(filepath.Dir(app.JWT.JWKSFile), signing.SigningKeyFile), nil
}

// UnmarshalCaddyfile parses
//
//	gatehouse_console {
//		api <prefix>
//		oidc <issuer> {
//			client_id <id>
//			client_secret <secret>       # optional (public client with PKCE)
//			scopes <scope...>            # optional, default openid email
//			redirect_url <url>           # optional, default from the request
//			bearer access_token|id_token # optional, default access_token
//		}
//		dev_login [<signing.jwk>]
//	}
func (h *ConsoleHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "api":
			if !d.Args(&h.API) || d.NextArg() {
				return d.ArgErr()
			}
		case "dev_login":
			h.DevLogin = true
			args := d.RemainingArgs()
			if len(args) > 1 {
				return d.Err("dev_login takes at most one argument: the private signing JWK (default: the signing.jwk beside the jwt jwks_file)")
			}
			if len(args) == 1 {
				h.DevLoginKey = args[0]
			}
		case "oidc":
			if h.OIDC != nil {
				return d.Err("gatehouse_console: oidc is given twice")
			}
			o, err := parseConsoleOIDC(d)
			if err != nil {
				return err
			}
			h.OIDC = o
		default:
			return d.Errf("gatehouse_console: unknown option %q", d.Val())
		}
	}
	return nil
}

// parseConsoleOIDC parses `oidc <issuer> { ... }`; the dispenser is on
// "oidc".
func parseConsoleOIDC(d *caddyfile.Dispenser) (*ConsoleOIDC, error) {
	o := &ConsoleOIDC{}
	if !d.NextArg() {
		return nil, d.Err("gatehouse_console: oidc needs the issuer URL: `oidc https://idp.example.com/ { client_id ... }`")
	}
	o.Issuer = d.Val()
	if d.NextArg() {
		return nil, d.Err("gatehouse_console: oidc takes one argument (the issuer URL), then a block")
	}
	one := func(dst *string) error {
		if !d.Args(dst) || d.NextArg() {
			return d.Errf("gatehouse_console: oidc %s takes one value", d.Val())
		}
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch sub := d.Val(); sub {
		case "client_id":
			err = one(&o.ClientID)
		case "client_secret":
			err = one(&o.ClientSecret)
		case "redirect_url":
			err = one(&o.RedirectURL)
		case "bearer":
			err = one(&o.Bearer)
			if err == nil && o.Bearer != console.BearerAccessToken && o.Bearer != console.BearerIDToken {
				err = d.Errf("gatehouse_console: oidc bearer %q: use access_token (the default) or id_token", o.Bearer)
			}
		case "scopes":
			o.Scopes = d.RemainingArgs()
			if len(o.Scopes) == 0 {
				err = d.Err("gatehouse_console: oidc scopes needs at least one scope, e.g. `scopes openid email profile`")
			}
		default:
			err = d.Errf("gatehouse_console: unknown oidc option %q (client_id, client_secret, scopes, redirect_url, bearer)", sub)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.ClientID == "" {
		return nil, d.Err("gatehouse_console: oidc needs `client_id <id>` in its block (the console's client at the identity provider)")
	}
	c := &console.OIDC{Issuer: o.Issuer, ClientID: o.ClientID, RedirectURL: o.RedirectURL, Bearer: o.Bearer, Scopes: o.Scopes}
	if err := c.Check(); err != nil {
		return nil, d.Errf("gatehouse_console: %v", err)
	}
	return o, nil
}

func parseConsoleHandler(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(ConsoleHandler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*ConsoleHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*ConsoleHandler)(nil)
	_ caddyfile.Unmarshaler       = (*ConsoleHandler)(nil)
)
