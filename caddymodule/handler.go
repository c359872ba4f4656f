package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler is the `gatehouse` HTTP handler: it authenticates each request,
// maps its method and path to a required permission through the rule
// table, checks the caller's membership, and either answers with a
// problem+json error or passes the request on with trusted X-Gatehouse-*
// identity headers. It needs the `gatehouse` app (global option).
type Handler struct {
	// Workspace says where requests name their workspace. Default: the
	// path parameter "workspace".
	Workspace *WorkspaceSource `json:"workspace,omitempty"`

	// Organization says where requests name their organization (id or
	// slug), for rules that require org_member or an organization
	// permission (organization.*). Default: none, and such rules are a
	// config error. Caddyfile: organization param|header|query|placeholder
	// <name>, e.g. `organization param org`.
	Organization *WorkspaceSource `json:"organization,omitempty"`

	// Rules map method and path to a requirement. Their order does not
	// matter: the most specific path pattern wins. A request no rule
	// matches is denied.
	Rules []RuleConfig `json:"rules,omitempty"`

	// Assertion, when true, adds X-Gatehouse-Assertion to allowed
	// authenticated requests: a JWT signed by the gateway key (public half
	// at GET /v1/jwks.json of the API), valid one minute, stating the
	// identity headers' facts (user, email, workspace id and slug, roles,
	// permission, restrictions). It is not bound to the request's method,
	// path or body: one token is reused for the same facts for up to 30 s,
	// so it costs a signature per identity every 30 s, not per request.
	Assertion bool `json:"assertion,omitempty"`

	// KeepOverrideHeaders, when true, passes X-HTTP-Method-Override,
	// X-HTTP-Method, X-Method-Override, X-Original-URL and X-Rewrite-URL
	// on to the upstream. By default they are removed from every request,
	// because an upstream that honours them would serve another method or
	// path than the one the gateway authorized. Caddyfile:
	// keep_override_headers.
	KeepOverrideHeaders bool `json:"keep_override_headers,omitempty"`

	policy *gateway.Policy
	app    *App
	signer *gatewaySigner
	logger *zap.Logger
}

// WorkspaceSource says where a request names its workspace (id or slug),
// or, as Handler.Organization, its organization.
type WorkspaceSource struct {
	// From is "param" (a path parameter), "header", "query" or
	// "placeholder".
	From string `json:"from"`
	// Name is the parameter, header, query key or placeholder (such as
	// "{labels.2}") to read.
	Name string `json:"name"`
}

// RuleConfig is one rule: `rule METHODS PATH REQUIREMENT [restrict TYPE {param}]`.
type RuleConfig struct {
	// Methods the rule applies to; ["*"] for any method.
	Methods []string `json:"methods"`
	// Path is the path pattern: literal segments, {name} for one segment,
	// and a final * for one or more segments.
	Path string `json:"path"`
	// Require is "public", "authenticated", "member", "global_admin", a
	// catalog permission, "org_member" or an organization permission
	// (organization.*; these two need Handler.Organization).
	Require string `json:"require"`
	// Restrict, when set, limits members that carry a restriction of
	// this type to the resource ids it lists.
	Restrict *RestrictConfig `json:"restrict,omitempty"`
	// Source locates the rule ("Caddyfile:12") for error messages.
	Source string `json:"source,omitempty"`
}

// RestrictConfig ties a rule to a resource restriction.
type RestrictConfig struct {
	// Type is the restriction type, e.g. "instance".
	Type string `json:"type"`
	// Param is the path parameter holding the resource id.
	Param string `json:"param"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision compiles the rule table against the app's catalog.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	app, err := gatehouseApp(ctx)
	if err != nil {
		return err
	}
	h.policy, err = app.Engine().NewPolicyWith(h.ruleSpecs(), h.sources())
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	h.app = app
	app.tables.add(h.policy)
	if h.Assertion {
		h.signer, err = app.AssertionSigner()
	}
	return err
}

// Cleanup removes the handler's rule table from the app's live tables.
func (h *Handler) Cleanup() error {
	if h.app != nil && h.policy != nil {
		h.app.tables.remove(h.policy)
	}
	return nil
}

// gatehouseApp returns the configured app, or an error telling the user to
// add the global option (or why the app failed to provision).
func gatehouseApp(ctx caddy.Context) (*App, error) {
	v, err := ctx.AppIfConfigured("gatehouse")
	if errors.Is(err, caddy.ErrNotConfigured) {
		return nil, errors.New("gatehouse: the gatehouse global option is missing: add a `gatehouse { store ... jwt { ... } }` block to the global options")
	}
	if err != nil {
		return nil, err
	}
	return v.(*App), nil
}

func (h *Handler) ruleSpecs() []gateway.RuleSpec {
	specs := make([]gateway.RuleSpec, len(h.Rules))
	for i, r := range h.Rules {
		specs[i] = gateway.RuleSpec{Methods: r.Methods, Path: r.Path, Require: r.Require, Source: r.Source}
		if r.Restrict != nil {
			specs[i].RestrictType, specs[i].RestrictParam = r.Restrict.Type, r.Restrict.Param
		}
	}
	return specs
}

func (h *Handler) sources() gateway.Sources {
	var s gateway.Sources
	if h.Workspace != nil {
		s.Workspace = gateway.WorkspaceSource{From: h.Workspace.From, Name: h.Workspace.Name}
	}
	if h.Organization != nil {
		s.Organization = gateway.WorkspaceSource{From: h.Organization.From, Name: h.Organization.Name}
	}
	return s
}

// ServeHTTP decides the request and either denies it or passes it on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	start := time.Now()
	// Before anything else, allowed or not: no client-supplied identity,
	// no override headers, no way to delete or add to ours.
	h.policy.Scrub(r, h.KeepOverrideHeaders)
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)

	var d gateway.Decision
	h.policy.Decide(r, repl, &d)
	observeDecision(&d, time.Since(start))
	if !d.Allowed {
		h.logDenial(r, &d)
		gateway.WriteDecisionDenial(w, &d)
		return nil
	}
	d.SetIdentityHeaders(r.Header)
	if h.signer != nil && d.Authenticated {
		if err := h.assert(r, &d); err != nil {
			d.Allowed, d.Err = false, err
			h.logDenial(r, &d)
			gateway.WriteDecisionDenial(w, &d)
			return nil
		}
	}
	setPlaceholders(repl, &d)
	return next.ServeHTTP(w, r)
}

// assert puts the signed facts of the request into X-Gatehouse-Assertion
// (a token signed for the same facts less than 30 s ago is reused). An
// upstream that requires the assertion would refuse the request without
// one, so a signing failure fails the request closed here, with a clearer
// answer.
func (h *Handler) assert(r *http.Request, d *gateway.Decision) error {
	token, err := h.signer.Sign(d.Facts(), time.Now())
	if err != nil {
		d.Problem = problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "the gateway could not sign the request assertion").WithReason(problem.ReasonUnavailable)
		return err
	}
	r.Header.Set(gateway.HeaderAssertion, token)
	return nil
}

// logDenial writes the one log line of a denied request. It names the
// user, workspace, rule and code; never a token.
func (h *Handler) logDenial(r *http.Request, d *gateway.Decision) {
	level := zapcore.InfoLevel
	if d.Err != nil {
		level = zapcore.ErrorLevel
	}
	ce := h.logger.Check(level, "request denied")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("decision_id", d.ID.String()),
		zap.String("code", d.Problem.Code),
		zap.String("reason", d.Problem.Reason),
		zap.Int("status", d.Problem.Status),
		zap.String("method", r.Method),
		// The path only: a query string may carry secrets.
		zap.String("path", r.URL.Path),
	}
	if d.Authenticated {
		fields = append(fields, zap.String("user", d.Principal.Subject))
	}
	if d.Problem.Workspace != "" {
		fields = append(fields, zap.String("workspace", d.Problem.Workspace))
	}
	if d.Rule != nil {
		fields = append(fields, zap.String("rule", d.Rule.Label))
	}
	if d.Problem.RequiredPermission != "" {
		fields = append(fields, zap.String("required_permission", d.Problem.RequiredPermission))
	}
	if d.Problem.Code == problem.CodeInvalidToken {
		// Why the credential was refused (expired, issuer mismatch,
		// signature invalid, unknown key id, malformed token, ...): the
		// reason the client was told, a fixed text that never quotes the
		// token.
		fields = append(fields, zap.String("token_error", strings.TrimPrefix(d.Problem.Detail, "invalid token: ")))
	}
	if d.Err != nil {
		fields = append(fields, zap.Error(d.Err))
	}
	ce.Write(fields...)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
