// Package admin is Gatehouse's management REST API (README "Management API") as plain
// net/http handlers. It knows nothing of Caddy: caddymodule mounts it with
// the gatehouse_api directive.
//
// Every mutation runs in one store transaction that also checks the
// invariants (no escalation, last admin) against the data it changes and
// appends the audit event, so a 2xx answer means the change, its audit
// record and the gateway's cache invalidation are all committed.
package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/canonpath"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Workspace creation policies (Options.WorkspaceCreation).
const (
	CreationAnyone       = "anyone"
	CreationGlobalAdmins = "global_admins"
)

// Options configure the API.
type Options struct {
	// Store is the source of truth; Engine shares it and caches from it.
	Store store.Store
	// Engine authenticates callers, answers freshness and consistency,
	// and explains; its model (Engine.Model) is the API's for every rule.
	Engine *gateway.Engine
	// WorkspaceCreation is CreationAnyone or CreationGlobalAdmins.
	WorkspaceCreation string
	// CreatorRole is the system role a workspace's creator gets; "" =
	// the model's.
	CreatorRole string
	// JWKS is the public JWK set of the gateway's assertion keys (JSON).
	JWKS []byte
	// JWKSSource, when set, is asked for the set at every request instead
	// of JWKS: a front-end whose store opens after the API is built
	// learns the keys only then. An error answers 503 unavailable.
	JWKSSource func() ([]byte, error)
	// Logger receives internal errors (never tokens or secrets).
	Logger *zap.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MountPrefix returns the path prefix a front-end stripped from r
	// before handing it to the API (e.g. "/gatehouse" under Caddy's
	// handle_path /gatehouse/*), so that Location headers name absolute
	// paths. nil: the API is mounted at the root.
	MountPrefix func(r *http.Request) string
	// Authenticated, when set, is told the principal of every request whose
	// credential verified, before any permission check: a front-end uses
	// it to name the caller in its access log (Caddy's {http.auth.user.id})
	// without authenticating the request a second time.
	Authenticated func(r *http.Request, p authn.Principal)
	// RuleTables returns the live rule tables of the gateway's gatehouse
	// directives, for explain; nil = none (explain answers 503).
	RuleTables func() []*gateway.Policy
}

// API serves the management API.
type API struct {
	store      store.Store
	engine     *gateway.Engine
	model      *model.Model
	catalog    *authz.Catalog
	creation   string
	creator    string
	jwks       []byte
	jwksSource func() ([]byte, error)
	logger     *zap.Logger
	now        func() time.Time
	prefix     func(*http.Request) string
	onAuth     func(*http.Request, authn.Principal)
	ruleTables func() []*gateway.Policy
	table      *route.Table
	endpoints  []endpoint
	builtinIDs builtinPerms
}

// builtinPerms are the catalog ids of the permissions the API checks.
type builtinPerms struct {
	admin, settings, members, roles, apiKeys authz.PermID
}

// New returns the management API.
func New(opts Options) (*API, error) {
	if opts.Store == nil || opts.Engine == nil {
		return nil, errors.New("admin: Store and Engine are required")
	}
	a := &API{
		store:    opts.Store,
		engine:   opts.Engine,
		model:    opts.Engine.Model(),
		catalog:  opts.Engine.Model().Catalog(),
		creation: opts.WorkspaceCreation,
		creator:  opts.CreatorRole,
		jwks:     opts.JWKS,
		logger:   opts.Logger,
		now:      opts.Now,
		prefix:   opts.MountPrefix,
		onAuth:   opts.Authenticated,
	}
	a.ruleTables = opts.RuleTables
	a.jwksSource = opts.JWKSSource
	if a.creator == "" {
		a.creator = a.model.CreatorRole()
	}
	if a.creation == "" {
		a.creation = CreationAnyone
	}
	if a.logger == nil {
		a.logger = zap.NewNop()
	}
	if a.now == nil {
		a.now = time.Now
	}
	for name, dst := range map[string]*authz.PermID{
		authz.PermAdmin: &a.builtinIDs.admin, authz.PermSettings: &a.builtinIDs.settings,
		authz.PermMembers: &a.builtinIDs.members, authz.PermRoles: &a.builtinIDs.roles,
		authz.PermAPIKeys: &a.builtinIDs.apiKeys,
	} {
		id, ok := a.catalog.ID(name)
		if !ok {
			return nil, fmt.Errorf("admin: built-in permission %s missing from the catalog", name)
		}
		*dst = id
	}
	if err := a.buildRoutes(); err != nil {
		return nil, err
	}
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{api: a, w: w, r: r}
	if err := a.serve(c); err != nil {
		c.fail(err)
	}
}

func (a *API) serve(c *call) error {
	if err := canonpath.CheckURL(c.r.URL); err != nil {
		return problem.New(http.StatusBadRequest, problem.CodeInvalidPath, err.Error())
	}
	res := a.table.Match(c.r.Method, c.r.URL.Path, &c.params)
	switch res.Status {
	case route.NotFound:
		return problem.New(http.StatusNotFound, codeNotFound, "no such API endpoint: "+c.r.URL.Path)
	case route.MethodNotAllowed:
		p := problem.New(http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed, c.r.Method+" is not allowed here; allowed: "+res.Allow)
		p.AllowedMethods = splitAllow(res.Allow)
		return p
	}
	ep := &a.endpoints[res.Rule]
	if !ep.public {
		// Every non-public endpoint reads the store: a replica that
		// cannot vouch for its data answers 503 (spec §10).
		if prob := a.engine.Fresh(); prob != nil {
			return prob
		}
		if err := c.authenticate(); err != nil {
			return err
		}
	}
	// After authentication (a caller with a bad credential learns nothing
	// about the store from its token's fate), before the handler reads.
	if prob := a.engine.CheckConsistency(c.r.Context(), c.r.Header, c.principal.Subject); prob != nil {
		return prob
	}
	if err := c.checkQuery(ep.query); err != nil {
		return err
	}
	return ep.handle(c)
}

// mountPrefix is the path the API is mounted under for r ("" at the root).
func (a *API) mountPrefix(r *http.Request) string {
	if a.prefix == nil {
		return ""
	}
	return strings.TrimSuffix(a.prefix(r), "/")
}

// internalError hides an unexpected error from the client and logs it.
// Such errors come from the store: like the gateway, the API fails closed
// with 503 unavailable (README "What fails closed"), as its OpenAPI document says.
func (a *API) internalError(c *call, err error) *problem.Problem {
	a.logger.Error("management API request failed",
		zap.String("method", c.r.Method), zap.String("path", c.r.URL.Path), zap.Error(err))
	return problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "the request failed (the store is unavailable); the error has been logged")
}
