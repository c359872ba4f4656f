package caddymodule

import (
	"errors"
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

	console *console.Console
	logger  *zap.Logger
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
	if !h.DevLogin && h.DevLoginKey == "" {
		return errors.New("gatehouse_console: no login configured: add `dev_login` (demo only)")
	}
	keyPath, err := h.devLoginKeyPath(app)
	if err != nil {
		return err
	}
	apiPrefix := strings.TrimSuffix(h.API, "/")
	api, err := newAdminAPI(ctx, app, func(*http.Request) string { return apiPrefix })
	if err != nil {
		return err
	}
	key, err := signing.LoadSigningKey(keyPath)
	if err != nil {
		return err
	}
	var iss string
	var aud []string
	if app.JWT != nil {
		iss = app.JWT.Issuer
		if app.JWT.Audience != "" {
			aud = []string{app.JWT.Audience}
		}
	}
	h.logger.Warn("gatehouse_console: dev_login is enabled: anyone who reaches the console can sign in as anyone; it is served on loopback connections only, never use it in production")
	h.console, err = console.New(console.Options{
		API: api,
		DevLogin: func(sub, email string) (string, time.Time, error) {
			now := time.Now()
			tok, err := signing.Sign(key, signing.TokenSpec{Subject: sub, Email: email, Issuer: iss, Audience: aud, TTL: devLoginTTL, Now: now})
			return tok, now.Add(devLoginTTL), err
		},
		// dev_login is plain-HTTP loopback only, so the cookie cannot be Secure there.
		Secure:      false,
		MountPrefix: mountPrefix,
		Logger:      h.logger,
	})
	return err
}

// ServeHTTP serves the console; it never calls next. dev_login refuses a
// connection that did not arrive on a loopback address: fail closed when
// the site listens beyond loopback.
func (h *ConsoleHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if h.DevLoginKey != "" && !loopbackConn(r) {
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
			return d.Err("gatehouse_console: oidc login is not implemented yet; use dev_login on loopback for the demo")
		default:
			return d.Errf("gatehouse_console: unknown option %q", d.Val())
		}
	}
	return nil
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
