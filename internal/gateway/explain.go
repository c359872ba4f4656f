package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/canonpath"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ExplainInput is one request to explain for one principal in one live
// workspace: a user (Subject) or an API key of the workspace (KeyID).
type ExplainInput struct {
	Method, Path string
	Subject      string
	KeyID        string
	Workspace    store.Workspace
}

// Explanation is why a request would be allowed or denied (README "Why
// was I denied?"). It is built by the same steps as Decide, from a
// transaction instead of the caches.
type Explanation struct {
	// Rule is the matched rule, nil when none matched.
	Rule        *ExplainedRule       `json:"rule"`
	Requirement *ExplainedRequirment `json:"requirement,omitempty"`
	// Roles are the member's roles (none for an API key).
	Roles []string `json:"roles"`
	// Permissions are those the requirement needed, with where each
	// comes from or what removed it.
	Permissions []Provenance      `json:"permissions"`
	Decision    ExplainedDecision `json:"decision"`
}

// ExplainedRule is a matched rule and where it was configured.
type ExplainedRule struct {
	Rule string `json:"rule"`
	// Source is "file:line" when known, else the rule text.
	Source string `json:"source"`
}

// ExplainedRequirment is what the matched rule requires.
type ExplainedRequirment struct {
	// Kind is public, authenticated, member, global_admin or permission.
	Kind       string `json:"kind"`
	Permission string `json:"permission,omitempty"`
	// Restrict is the rule's restriction ("instance {instance}") and
	// RestrictValue the value the path captured for it.
	Restrict      string `json:"restrict,omitempty"`
	RestrictValue string `json:"restrict_value,omitempty"`
}

// ExplainedDecision is the outcome, as the gateway would answer.
type ExplainedDecision struct {
	Allowed bool   `json:"allowed"`
	Status  int    `json:"status"`
	Code    string `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Provenance says why a member holds, or does not hold, one permission.
type Provenance struct {
	Permission string `json:"permission"`
	Effective  bool   `json:"effective"`
	// From lists what grants it; RemovedBy what takes it away again.
	From      []Source `json:"from"`
	RemovedBy []Source `json:"removed_by"`
}

// Source is one origin of a permission: kind "role" (Name the role),
// "grant" (a member's own grant) or "key" (an API key's permission), and
// the pattern that grants it, directly or through Via, the permission
// matched by the pattern that implies this one. As a remover: kind "deny"
// with its pattern, later "plan".
type Source struct {
	Kind    string `json:"kind"`
	Name    string `json:"name,omitempty"`
	Pattern string `json:"pattern"`
	Via     string `json:"via,omitempty"`
}

// Provenance kinds (README "Why was I denied?").
const (
	SourceRole  = "role"
	SourceGrant = "grant"
	SourceKey   = "key"
	SourceDeny  = "deny"
	// SourcePlan is reserved for plan-gated permissions.
	SourcePlan = "plan"
)

// ErrOtherWorkspace is Explain's error for a path that names a workspace
// other than the one explained in.
var ErrOtherWorkspace = errors.New("the path names another workspace")

// Matches reports whether the rule table has a rule for path (any method).
func (p *Policy) Matches(path string) bool {
	var params route.Params
	return p.table.Match(http.MethodGet, path, &params).Status != route.NotFound
}

// Explain decides in.Method on in.Path for the principal as Decide would,
// with the same evaluator (Authorize), reading everything from tx. The
// method must be valid (the API answers 400 otherwise); a path that is not
// canonical is explained as the invalid_path denial.
func (p *Policy) Explain(tx store.Tx, in ExplainInput) (*Explanation, error) {
	ex := &Explanation{Roles: []string{}, Permissions: []Provenance{}}
	u, err := url.ParseRequestURI(in.Path)
	if err == nil {
		err = canonpath.CheckURL(u)
	}
	if err != nil {
		ex.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidPath, err.Error()).WithReason(problem.ReasonInvalidPath))
		return ex, nil
	}
	if !route.ValidRequestMethod(in.Method) {
		ex.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidMethod, "the method must be an upper-case token").WithReason(problem.ReasonInvalidMethod))
		return ex, nil
	}
	var params route.Params
	res := p.table.Match(in.Method, u.Path, &params)
	if res.Status == route.MethodNotAllowed {
		ex.deny(methodNotAllowed(in.Method, res))
		return ex, nil
	}
	subject := in.Subject
	var key store.APIKey
	if in.KeyID != "" {
		key, err = tx.APIKey(in.KeyID)
		if err != nil {
			return nil, err // ErrNotFound included: the API answers 404
		}
		if key.WorkspaceID != in.Workspace.ID {
			return nil, store.ErrNotFound
		}
		subject = apikey.Subject(in.KeyID)
		// Authentication, as authenticateKey after the right secret.
		switch {
		case key.RevokedAt != nil:
			ex.deny(invalidToken(reasonRevokedKey, problem.ReasonKeyRevoked))
			return ex, nil
		case key.ExpiresAt != nil && !p.engine.now().Before(*key.ExpiresAt):
			ex.deny(invalidToken(reasonExpiredKey, problem.ReasonKeyExpired))
			return ex, nil
		}
	}
	if res.Status != route.Matched {
		ex.deny(problem.New(http.StatusForbidden, problem.CodeForbidden,
			"no rule allows "+in.Method+" on this path (default deny)").WithReason(problem.ReasonNoRule))
		return ex, nil
	}
	rule := &p.rules[res.Rule]
	ex.Rule = &ExplainedRule{Rule: rule.Text, Source: rule.Source}
	if ex.Rule.Source == "" {
		ex.Rule.Source = rule.Text
	}
	req := &ExplainedRequirment{Kind: rule.Kind.String(), Permission: rule.Permission}
	if rule.restrictType != "" {
		req.Restrict = rule.restrictType + " {" + rule.restrictVar + "}"
		req.RestrictValue, _ = params.Get(rule.restrictVar)
	}
	ex.Requirement = req
	switch rule.Kind {
	case RequirePublic, RequireAuthenticated:
		ex.allow()
		return ex, nil
	case RequireGlobalAdmin:
		if p.engine.IsGlobalAdmin(subject) {
			ex.allow()
		} else {
			ex.deny(problem.New(http.StatusForbidden, problem.CodeForbidden, "this route is reserved to global admins").WithReason(problem.ReasonGlobalAdminRequired))
		}
		return ex, nil
	}
	r := &http.Request{Method: in.Method, URL: u, Header: http.Header{}}
	ref, ok := p.workspaceRef(r, nil, &params)
	if !ok {
		ex.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidRequest, "the workspace is named more than once").WithReason(problem.ReasonInvalidRequest))
		return ex, nil
	}
	ws := in.Workspace
	switch ref {
	case "":
		// A header, query or placeholder source the path does not
		// carry: the request is explained as naming this workspace.
		ref = ws.Slug
	case ws.ID, ws.Slug:
	default:
		return nil, ErrOtherWorkspace
	}
	var grants []Source
	var denies []string
	var access *Access
	if in.KeyID != "" {
		access, err = p.engine.readKeyAccess(tx, ws, in.KeyID)
		for _, pat := range key.Permissions {
			grants = append(grants, Source{Kind: SourceKey, Name: in.KeyID, Pattern: pat})
		}
	} else {
		var m store.Membership
		m, err = tx.Member(ws.ID, in.Subject)
		switch {
		case errors.Is(err, store.ErrNotFound):
			access, err = notMember, nil
		case err == nil:
			access, err = p.engine.MemberAccess(tx, ws, m)
			ex.Roles = slices.Clone(m.Roles)
			grants, err = p.engine.memberSources(tx, ws.ID, m, err)
			denies = m.Denies
		}
	}
	if err != nil {
		return nil, err
	}
	if rule.Kind == RequirePermission && access.Member {
		ex.Permissions = append(ex.Permissions, p.engine.provenance(rule.permID, access, grants, denies))
	}
	if pr := Authorize(rule, access, ref, &params); pr != nil {
		ex.deny(pr)
		return ex, nil
	}
	ex.allow()
	return ex, nil
}

// EffectivePermissions lists every effective permission of membership m
// with its provenance, sorted by name.
func (e *Engine) EffectivePermissions(tx store.Tx, ws store.Workspace, m store.Membership) ([]Provenance, error) {
	access, err := e.MemberAccess(tx, ws, m)
	if err != nil {
		return nil, err
	}
	grants, err := e.memberSources(tx, ws.ID, m, nil)
	if err != nil {
		return nil, err
	}
	out := []Provenance{}
	for _, name := range access.Permissions.Names(e.catalog) {
		id, _ := e.catalog.ID(name)
		out = append(out, e.provenance(id, access, grants, m.Denies))
	}
	return out, nil
}

// memberSources lists the patterns membership m holds, with their origin.
// prev is passed through so a caller can chain it after another read.
func (e *Engine) memberSources(tx store.Tx, workspaceID string, m store.Membership, prev error) ([]Source, error) {
	if prev != nil {
		return nil, prev
	}
	var out []Source
	for _, role := range m.Roles {
		patterns, _, err := e.RolePatterns(tx, workspaceID, role)
		if err != nil {
			return nil, err
		}
		for _, pat := range patterns {
			out = append(out, Source{Kind: SourceRole, Name: role, Pattern: pat})
		}
	}
	for _, pat := range m.Grants {
		out = append(out, Source{Kind: SourceGrant, Pattern: pat})
	}
	return out, nil
}

// provenance says where permission id comes from among grants and which
// denies remove it. A pattern grants id when it matches it, or matches a
// permission implying it (Via).
func (e *Engine) provenance(id authz.PermID, access *Access, grants []Source, denies []string) Provenance {
	name := e.catalog.Name(id)
	pv := Provenance{Permission: name, Effective: access.Permissions.Has(id), From: []Source{}, RemovedBy: []Source{}}
	for _, g := range grants {
		if !e.catalog.Expand([]string{g.Pattern}).Has(id) {
			continue
		}
		if !authz.Match(g.Pattern, name) {
			g.Via = e.implier(g.Pattern, name)
		}
		pv.From = append(pv.From, g)
	}
	for _, d := range denies {
		if authz.Match(d, name) {
			pv.RemovedBy = append(pv.RemovedBy, Source{Kind: SourceDeny, Pattern: d})
		}
	}
	return pv
}

// implier returns the first catalog permission pattern matches whose
// implications include name.
func (e *Engine) implier(pattern, name string) string {
	for _, d := range e.catalog.Declarations() {
		if authz.Match(pattern, d.Name) && slices.Contains(e.catalog.Implied(d.Name), name) {
			return d.Name
		}
	}
	return ""
}

func (ex *Explanation) deny(p *problem.Problem) {
	ex.Decision = ExplainedDecision{Status: p.Status, Code: p.Code, Reason: p.Reason, Detail: p.Detail}
}

func (ex *Explanation) allow() {
	ex.Decision = ExplainedDecision{Allowed: true, Status: http.StatusOK}
}
