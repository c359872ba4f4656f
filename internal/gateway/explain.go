package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/canonpath"
	"github.com/gatehouse-authz/gatehouse/internal/model"
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
	Permissions []Provenance `json:"permissions"`
	// Plan is the plan step: the plan in force in the workspace, absent
	// when config declares no plan.
	Plan     *ExplainedPlan    `json:"plan,omitempty"`
	Decision ExplainedDecision `json:"decision"`
}

// ExplainedPlan is the plan in force and what it means for the request.
type ExplainedPlan struct {
	Slug     string   `json:"slug"`
	Name     string   `json:"name"`
	Features []string `json:"features"`
	// IncludesPermission says whether the plan's ceiling includes the
	// rule's permission (permission rules only).
	IncludesPermission *bool `json:"includes_permission,omitempty"`
	// RequiredPlan is the cheapest plan including the rule's permission
	// when this one does not ("" when no plan does).
	RequiredPlan string `json:"required_plan,omitempty"`
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
	// As the gateway's problem: the permission a 403 names; on
	// plan_required the permission or feature the plan lacks and the
	// cheapest plan that has it.
	RequiredPermission string `json:"required_permission,omitempty"`
	RequiredFeature    string `json:"required_feature,omitempty"`
	RequiredPlan       string `json:"required_plan,omitempty"`
}

// Provenance says why a member holds, or does not hold, one permission
// (the model's).
type Provenance = model.Provenance

// Source is one origin of a permission (the model's).
type Source = model.Source

// Provenance kinds (README "Why was I denied?").
const (
	SourceRole  = model.SourceRole
	SourceGrant = model.SourceGrant
	SourceKey   = model.SourceKey
	SourceDeny  = model.SourceDeny
	// SourcePlan removes what the plan in force does not include.
	SourcePlan = model.SourcePlan
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
	// A workspace of a deleted organization is hidden as a deleted one
	// is (accessIn; readKeyCredential refuses its keys).
	orgGone, err := p.engine.model.OrganizationDeleted(tx, in.Workspace)
	if err != nil {
		return nil, err
	}
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
		case orgGone:
			ex.deny(invalidToken(reasonKeyWorkspace, problem.ReasonWorkspaceDeleted))
			return ex, nil
		}
		// A plan without api_keys refuses the key, as authenticateKey.
		refusal, err := keyPlanRefusal(tx, p.engine.model, in.Workspace)
		if err != nil {
			return nil, err
		}
		if refusal != nil {
			if ex.Plan, err = p.explainPlan(tx, in.Workspace, nil); err != nil {
				return nil, err
			}
			ex.deny(refusal)
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
	case RequireOrgMember, RequireOrgPermission:
		// explain_org.go: decided in the organization, not the workspace.
		if err := p.explainOrg(tx, ex, rule, in, u, &params); err != nil {
			return nil, err
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
	switch {
	case orgGone:
		// As accessIn: the workspace of a deleted organization answers
		// as a deleted workspace (its explicit members are told).
		access, err = p.engine.deletedAccess(tx, ws.ID, in.Subject, in.KeyID)
	case in.KeyID != "":
		access, err = p.engine.readKeyAccess(tx, ws, in.KeyID)
		grants = model.KeySources(key)
	default:
		// The gateway's own function (accessIn): explicit membership
		// and, in a PROJECT workspace, the project roles, under the plan
		// (model.Standing).
		access, grants, denies, err = p.memberStanding(tx, ws, in.Subject)
		if err == nil && access.Member {
			ex.Roles = slices.Clone(access.Roles)
		}
	}
	if err != nil {
		return nil, err
	}
	if access.Member {
		if ex.Plan, err = p.explainPlan(tx, ws, rule); err != nil {
			return nil, err
		}
	}
	if rule.Kind == RequirePermission && access.Member {
		pv := p.engine.model.Provenance(rule.permID, access.Permissions, grants, denies)
		ex.Permissions = append(ex.Permissions, p.engine.model.PlanProvenance(pv, rule.permID, &access.Access))
	}
	if pr := Authorize(rule, access, ref, &params); pr != nil {
		ex.deny(pr)
		return ex, nil
	}
	ex.allow()
	return ex, nil
}

// memberStanding is what accessIn caches for user in live workspace ws
// (model.Standing), with the sources behind it for provenance.
func (p *Policy) memberStanding(tx store.Tx, ws store.Workspace, user string) (*Access, []Source, []string, error) {
	m := p.engine.model
	ma, grants, denies, found, err := m.WorkspaceSources(tx, ws, user)
	if err != nil || !found {
		return notMember, nil, nil, err
	}
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return nil, nil, nil, err
	}
	return newAccess(m.Ceiling(ma, plan)), grants, denies, nil
}

// explainPlan is the plan step for rule (nil: no permission asked) in
// ws, nil when config declares no plan.
func (p *Policy) explainPlan(tx store.Tx, ws store.Workspace, rule *Rule) (*ExplainedPlan, error) {
	plan, err := p.engine.model.WorkspacePlan(tx, ws)
	if err != nil || plan == nil {
		return nil, err
	}
	ep := &ExplainedPlan{Slug: plan.Slug, Name: plan.Name, Features: plan.Features()}
	if ep.Features == nil {
		ep.Features = []string{}
	}
	if rule != nil && rule.Kind == RequirePermission {
		includes := plan.Allows(rule.permID)
		ep.IncludesPermission = &includes
		if !includes {
			ep.RequiredPlan = plan.RequiredPlan(rule.permID)
		}
	}
	return ep, nil
}

func (ex *Explanation) deny(p *problem.Problem) {
	ex.Decision = ExplainedDecision{Status: p.Status, Code: p.Code, Reason: p.Reason, Detail: p.Detail,
		RequiredPermission: p.RequiredPermission, RequiredFeature: p.RequiredFeature, RequiredPlan: p.RequiredPlan}
}

func (ex *Explanation) allow() {
	ex.Decision = ExplainedDecision{Allowed: true, Status: http.StatusOK}
}
