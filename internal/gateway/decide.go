package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/canonpath"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// Placeholders resolves Caddy placeholders (for the "placeholder" workspace
// source). *caddy.Replacer implements it.
type Placeholders interface {
	GetString(variable string) (string, bool)
}

// Decision is the outcome for one request. It is large (it holds the route
// parameters inline so matching does not allocate): keep one per request
// on the stack and pass a pointer.
type Decision struct {
	// Allowed is true when the request may go upstream.
	Allowed bool
	// Rule is the matched rule, nil when none matched.
	Rule *Rule
	// Principal is the caller when Authenticated.
	Principal     authn.Principal
	Authenticated bool
	// Access is set on allowed member and permission rules.
	Access *Access
	// Org is set on allowed organization rules (org_member, an
	// organization permission).
	Org *OrgAccess
	// Params holds the path parameters the rule captured.
	Params route.Params
	// Problem describes a denial.
	Problem *problem.Problem
	// Err is the internal cause of a 503, for the log only.
	Err error
	// Revision is the store revision (decimal) read before the decision:
	// the data it was decided on is at least that fresh. Forwarded
	// upstream as X-Gatehouse-Revision on allow.
	Revision string
	// ID names the decision in the Gatehouse-Decision-Id answer header,
	// the X-Gatehouse-Decision-Id upstream header and the denial's log line.
	ID DecisionID
}

// Decide runs the decision steps of README "The decision" for r. It never writes to r or
// to a response; the caller applies the result.
func (p *Policy) Decide(r *http.Request, ph Placeholders, d *Decision) {
	d.ID = newDecisionID()
	if err := canonpath.CheckURL(r.URL); err != nil {
		d.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidPath, err.Error()).WithReason(problem.ReasonInvalidPath))
		return
	}
	if !route.ValidRequestMethod(r.Method) {
		d.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidMethod,
			"the method must be an upper-case token (GET, POST, ...): methods are case-sensitive").WithReason(problem.ReasonInvalidMethod))
		return
	}
	res := p.table.Match(r.Method, r.URL.Path, &d.Params)
	if res.Status == route.MethodNotAllowed {
		d.deny(methodNotAllowed(r.Method, res))
		return
	}
	// Read before anything the decision reads: a change committed after
	// this load may or may not be seen, one committed before it is.
	d.Revision = p.engine.revision.get(p.engine.store)
	if !p.engine.authenticate(r.Context(), r.Header, d) {
		return
	}
	// After authentication, so that a caller with a bad credential learns
	// nothing about the store from its token's fate.
	if prob := p.engine.checkConsistency(r.Context(), r.Header, d); prob != nil {
		d.deny(consistencyReason(prob))
		return
	}
	if res.Status != route.Matched {
		d.denyUnmatched(r)
		return
	}
	rule := &p.rules[res.Rule]
	d.Rule = rule
	switch {
	case rule.Kind == RequirePublic:
		d.Allowed = true
	case !d.Authenticated:
		d.deny(Unauthenticated())
	case rule.Kind == RequireAuthenticated:
		d.Allowed = true
	case rule.Kind == RequireGlobalAdmin:
		d.authorizeGlobalAdmin(p.engine)
	case rule.Kind.needsOrganization():
		p.authorizeOrganization(r, ph, rule, d)
	default:
		p.authorizeWorkspace(r, ph, rule, d)
	}
}

// authenticate verifies the bearer token, if any. It returns false when it
// has denied the request (invalid credentials, keys unavailable). A request
// without credentials passes on unauthenticated.
func (e *Engine) authenticate(ctx context.Context, h http.Header, d *Decision) bool {
	principal, present, denial, err := e.Authenticate(ctx, h)
	switch {
	case denial != nil:
		d.Err = err
		d.deny(denial)
		return false
	case present:
		d.Principal, d.Authenticated = principal, true
	}
	return true
}

// Authenticate verifies the bearer token of a request, for the gateway and
// for the management API. present is false when the request carries no
// bearer credentials. A non-nil denial is the 401 (invalid credentials) or
// 503 (keys or store unavailable, with its cause in err) to answer. An API
// key not in the cache is read from the store under ctx, for at most the
// store timeout.
func (e *Engine) Authenticate(ctx context.Context, h http.Header) (p authn.Principal, present bool, denial *problem.Problem, err error) {
	token, present, malformed := bearerToken(h)
	if !present {
		return p, false, nil, nil
	}
	if malformed != "" {
		return p, true, invalidToken(malformed, problem.ReasonInvalidToken), nil
	}
	if apikey.LooksLikeKey(token) {
		p, denial, err = e.authenticateKey(ctx, token)
		return p, true, denial, err
	}
	p, err = e.authn.Verify(token)
	if err != nil {
		var te *authn.TokenError
		if errors.As(err, &te) {
			reason := problem.ReasonInvalidToken
			if te.Expired() {
				reason = problem.ReasonTokenExpired
			}
			return p, true, invalidToken(te.Reason, reason), nil
		}
		// ErrKeysUnavailable or anything unexpected: fail closed.
		return p, true, unavailable("the token cannot be verified right now: signing keys are unavailable"), err
	}
	// Once per verified token, not per request: a cached token was seen
	// (and its user's local workspace made, local.go).
	if !p.Cached {
		e.seen.saw(p)
		e.local.saw(ctx, p)
	} else {
		e.local.sawCached(ctx, p)
	}
	return p, true, nil, nil
}

// denyUnmatched applies default deny: 401 without credentials, else 403.
func (d *Decision) denyUnmatched(r *http.Request) {
	if !d.Authenticated {
		d.deny(Unauthenticated())
		return
	}
	d.deny(problem.New(http.StatusForbidden, problem.CodeForbidden,
		"no rule allows "+r.Method+" on this path (default deny)").WithReason(problem.ReasonNoRule))
}

func (d *Decision) authorizeGlobalAdmin(e *Engine) {
	if e.IsGlobalAdmin(d.Principal.Subject) {
		d.Allowed = true
		return
	}
	d.deny(problem.New(http.StatusForbidden, problem.CodeForbidden, "this route is reserved to global admins").WithReason(problem.ReasonGlobalAdminRequired))
}

func (p *Policy) authorizeWorkspace(r *http.Request, ph Placeholders, rule *Rule, d *Decision) {
	ref, ok := p.workspaceRef(r, ph, &d.Params)
	if !ok {
		d.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidRequest,
			"the workspace is named more than once ("+p.ws.source.From+" "+p.ws.source.Name+")").WithReason(problem.ReasonInvalidRequest))
		return
	}
	access, err := p.engine.Access(r.Context(), d.Principal, ref)
	if err != nil {
		d.Err = err
		d.deny(unavailable("the membership store is unavailable"))
		return
	}
	d.Access = access
	if pr := Authorize(rule, access, ref, &d.Params); pr != nil {
		d.deny(pr)
		return
	}
	d.Allowed = true
}

// Authorize is the workspace half of the decision, shared by the gateway,
// explain and "gatehouse test" (README "Why was I denied?"): what rule
// requires of access, the caller's compiled standing in the workspace ref
// named. It returns nil to allow, else the denial. It allocates only to
// deny.
func Authorize(rule *Rule, access *Access, ref string, params *route.Params) *problem.Problem {
	if !access.Member {
		return workspaceDenial(access, ref)
	}
	if rule.Kind == RequirePermission && !access.Permissions.Has(rule.permID) {
		if pr := planPermissionDenial(rule, access); pr != nil {
			return pr
		}
		pr := problem.New(http.StatusForbidden, problem.CodeForbidden,
			"you need the "+rule.Permission+" permission in workspace "+access.Slug)
		pr.RequiredPermission = rule.Permission
		pr.Workspace = access.Slug
		pr.Reason = problem.ReasonMissingPermission
		if access.Granted.Has(rule.permID) {
			pr.Reason = problem.ReasonDeniedByMemberDeny
		}
		return pr
	}
	if access.RestrictedToNothing != "" {
		pr := problem.New(http.StatusForbidden, problem.CodeRestricted,
			"your membership is restricted to no "+access.RestrictedToNothing+" resources in workspace "+access.Slug)
		pr.Workspace = access.Slug
		pr.RequiredPermission = rule.Permission
		return pr.WithReason(problem.ReasonRestricted)
	}
	if rule.restrictType != "" {
		id, _ := params.Get(rule.restrictVar)
		if !access.Allows(rule.restrictType, id) {
			pr := problem.New(http.StatusForbidden, problem.CodeRestricted,
				"your membership is restricted to other "+rule.restrictType+" resources")
			pr.Workspace = access.Slug
			pr.RequiredPermission = rule.Permission
			return pr.WithReason(problem.ReasonRestricted)
		}
	}
	return nil
}

// workspaceDenial is the 404 of a caller without standing in workspace
// ref. Unknown, deleted and not-a-member answer alike, byte for byte; only
// a member of a deleted workspace learns that it was deleted.
func workspaceDenial(access *Access, ref string) *problem.Problem {
	if access.deletedMember {
		pr := problem.New(http.StatusNotFound, problem.CodeWorkspaceNotFound,
			"this workspace has been deleted")
		pr.Workspace = ref
		return pr.WithReason(problem.ReasonWorkspaceDeleted)
	}
	pr := problem.New(http.StatusNotFound, problem.CodeWorkspaceNotFound,
		"no such workspace, or you are not a member of it")
	if plausibleRef(ref) {
		pr.Workspace = ref
	}
	return pr.WithReason(problem.ReasonNotMember)
}

func (d *Decision) deny(p *problem.Problem) {
	d.Allowed = false
	d.Problem = p
}

// bearerToken extracts the bearer token. present is false when there is no
// Authorization header or it uses another scheme (not our credentials);
// malformed explains a Bearer header we refuse.
func bearerToken(h http.Header) (token string, present bool, malformed string) {
	values := h["Authorization"]
	if len(values) == 0 {
		return "", false, ""
	}
	if len(values) > 1 {
		return "", true, "more than one Authorization header"
	}
	const scheme = "Bearer "
	v := values[0]
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		if strings.EqualFold(strings.TrimSpace(v), "Bearer") {
			return "", true, "empty bearer token"
		}
		return "", false, ""
	}
	token = strings.TrimLeft(v[len(scheme):], " ")
	if token == "" {
		return "", true, "empty bearer token"
	}
	return token, true, ""
}
