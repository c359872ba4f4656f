package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
)

func init() {
	caddy.RegisterModule(APIHandler{})
}

// APIHandler is the `gatehouse_api` HTTP handler: it serves the management
// API (workspaces, members, roles, invites, API keys) wherever it is
// mounted. It authenticates requests by itself, with the same tokens as
// the gateway, and terminates the request.
type APIHandler struct {
	api *admin.API
}

// CaddyModule returns the Caddy module information.
func (APIHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse_api",
		New: func() caddy.Module { return new(APIHandler) },
	}
}

// Provision connects the API to the gatehouse app.
func (h *APIHandler) Provision(ctx caddy.Context) error {
	app, err := gatehouseApp(ctx)
	if err != nil {
		return err
	}
	h.api, err = newAdminAPI(ctx, app, mountPrefix)
	return err
}

// newAdminAPI builds the management API over the app's store and engine;
// gatehouse_api and gatehouse_console each hold one.
func newAdminAPI(ctx caddy.Context, app *App, prefix func(*http.Request) string) (*admin.API, error) {
	signer, err := app.AssertionSigner()
	if err != nil {
		return nil, err
	}
	return admin.New(admin.Options{
		Store:             app.shared.live,
		Engine:            app.Engine(),
		WorkspaceCreation: app.WorkspaceCreation,
		CreatorRole:       app.CreatorRole,
		JWKSSource:        signer.JWKS,
		Logger:            ctx.Logger(),
		MountPrefix:       prefix,
		Authenticated:     identify,
		RuleTables:        app.RuleTables,
	})
}

// mountPrefix is what Caddy stripped from the request path before the API
// saw it (handle_path /gatehouse/* strips /gatehouse): the original
// request's path minus the API's. A rewrite that changed the path
// otherwise gives "" (Location headers are then relative to the root).
func mountPrefix(r *http.Request) string {
	orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request)
	if !ok || orig.URL == nil {
		return ""
	}
	prefix, ok := strings.CutSuffix(orig.URL.EscapedPath(), r.URL.EscapedPath())
	if !ok {
		return ""
	}
	return prefix
}

// ServeHTTP serves the API; it never calls next.
func (h *APIHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	h.api.ServeHTTP(w, r)
	return nil
}

// identify sets {http.auth.user.id} to the caller the API authenticated,
// as the gateway does, so Caddy's access log shows who called the
// management API. A request without a valid credential leaves it unset.
func identify(r *http.Request, p authn.Principal) {
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set(placeholderAuthUser, p.Subject)
	}
}

// UnmarshalCaddyfile sets up the handler: `gatehouse_api` takes no options.
func (h *APIHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() || d.NextBlock(0) {
		return d.Err("gatehouse_api takes no arguments or options")
	}
	return nil
}

func parseAPIHandler(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(APIHandler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*APIHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*APIHandler)(nil)
	_ caddyfile.Unmarshaler       = (*APIHandler)(nil)
)
