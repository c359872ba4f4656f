package gateway

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// Requirement kinds a rule can name (README "Site directives").
type Requirement uint8

const (
	RequirePublic Requirement = iota
	RequireAuthenticated
	RequireMember
	RequireGlobalAdmin
	RequirePermission
	// RequireOrgMember: any member of the organization the request names
	// (rule requirement org_member).
	RequireOrgMember
	// RequireOrgPermission: an organization permission (organization.*)
	// in the organization the request names.
	RequireOrgPermission
)

// NumRequirements is how many requirement kinds there are, for tables
// indexed by kind (metrics).
const NumRequirements = int(RequireOrgPermission) + 1

// Requirement keywords as written in rules.
const (
	KeywordPublic        = "public"
	KeywordAuthenticated = "authenticated"
	KeywordMember        = "member"
	KeywordGlobalAdmin   = "global_admin"
	KeywordOrgMember     = "org_member"
)

// String returns the requirement kind as a metrics label.
func (r Requirement) String() string {
	switch r {
	case RequirePublic:
		return KeywordPublic
	case RequireAuthenticated:
		return KeywordAuthenticated
	case RequireMember:
		return KeywordMember
	case RequireGlobalAdmin:
		return KeywordGlobalAdmin
	case RequireOrgMember:
		return KeywordOrgMember
	case RequireOrgPermission:
		return "organization_permission"
	default:
		return "permission"
	}
}

func (r Requirement) needsWorkspace() bool {
	return r == RequireMember || r == RequirePermission
}

// needsOrganization reports whether the rule is decided in an
// organization (README "Organization rules").
func (r Requirement) needsOrganization() bool {
	return r == RequireOrgMember || r == RequireOrgPermission
}

// RuleSpec is one configured rule.
type RuleSpec struct {
	Methods       []string
	Path          string
	Require       string
	RestrictType  string
	RestrictParam string
	// Source locates the rule in the config for error messages
	// ("Caddyfile:12"); may be empty.
	Source string
}

// WorkspaceSource says where a request names its workspace.
type WorkspaceSource struct {
	// From is "param", "header", "query" or "placeholder".
	From string
	// Name is the path parameter, header name, query key, or placeholder
	// (with or without braces).
	Name string
}

// Workspace source kinds.
const (
	FromParam       = "param"
	FromHeader      = "header"
	FromQuery       = "query"
	FromPlaceholder = "placeholder"
)

// DefaultWorkspaceSource is used when a handler names none.
var DefaultWorkspaceSource = WorkspaceSource{From: FromParam, Name: "workspace"}

// Rule is a compiled rule.
type Rule struct {
	Kind Requirement
	// Permission is the required catalog permission (RequirePermission).
	Permission   string
	permID       authz.PermID
	restrictType string
	restrictVar  string
	// Label identifies the rule in logs: "GET /w/{workspace}/messages".
	Label string
	// Text is the rule as configured ("GET /w/{workspace}/messages
	// message.read"), Source where ("Caddyfile:12", "" when unknown): explain
	// shows them.
	Text   string
	Source string
}

// Policy is the compiled rule table of one gatehouse handler.
type Policy struct {
	engine *Engine
	table  *route.Table
	rules  []Rule
	// ws reads the workspace reference; org the organization's, nil
	// when the handler names no organization source.
	ws  refReader
	org *refReader
}

// Sources say where a handler's requests name their workspace and their
// organization.
type Sources struct {
	// Workspace is the workspace source; zero = DefaultWorkspaceSource.
	Workspace WorkspaceSource
	// Organization is the organization source (`organization param
	// org`); zero = none, and then no rule may require org_member or an
	// organization permission.
	Organization WorkspaceSource
}

// NewPolicy compiles rules against the engine's catalog, with no
// organization source. Errors name the rule's source and say what to
// change.
func (e *Engine) NewPolicy(specs []RuleSpec, source WorkspaceSource) (*Policy, error) {
	return e.NewPolicyWith(specs, Sources{Workspace: source})
}

// NewPolicyWith is NewPolicy with an organization source as well.
func (e *Engine) NewPolicyWith(specs []RuleSpec, sources Sources) (*Policy, error) {
	source, err := normalizeSource(sources.Workspace)
	if err != nil {
		return nil, err
	}
	var org *refReader
	if sources.Organization != (WorkspaceSource{}) {
		orgSource, err := normalizeSource(sources.Organization)
		if err != nil {
			return nil, fmt.Errorf("organization source: %w", err)
		}
		rr := newRefReader(orgSource)
		org = &rr
	}
	routes := make([]route.Rule, len(specs))
	rules := make([]Rule, len(specs))
	for i, spec := range specs {
		routes[i] = route.Rule{Methods: spec.Methods, Path: spec.Path}
		rules[i], err = e.compileRule(spec, source, org)
		if err != nil {
			return nil, ruleError(spec, err)
		}
	}
	table, err := route.Compile(routes)
	if err != nil {
		var ce *route.CompileError
		if !errors.As(err, &ce) {
			return nil, err
		}
		var conflict *route.ConflictError
		if errors.As(ce.Err, &conflict) {
			other := specs[conflict.Other]
			return nil, ruleError(specs[ce.Index], fmt.Errorf("same path pattern and method as the rule %s %s%s: remove one",
				strings.Join(other.Methods, ","), other.Path, at(other.Source)))
		}
		return nil, ruleError(specs[ce.Index], ce.Err)
	}
	p := &Policy{engine: e, table: table, rules: rules, ws: newRefReader(source), org: org}
	return p, nil
}

func (e *Engine) compileRule(spec RuleSpec, source WorkspaceSource, org *refReader) (Rule, error) {
	r := Rule{Label: strings.Join(spec.Methods, ",") + " " + spec.Path, Source: spec.Source}
	r.Text = r.Label + " " + spec.Require
	if spec.RestrictType != "" {
		r.Text += " restrict " + spec.RestrictType + " {" + spec.RestrictParam + "}"
	}
	switch spec.Require {
	case "":
		return r, fmt.Errorf("missing requirement: use public, authenticated, member, global_admin, org_member or a permission")
	case KeywordPublic:
		r.Kind = RequirePublic
	case KeywordAuthenticated:
		r.Kind = RequireAuthenticated
	case KeywordMember:
		r.Kind = RequireMember
	case KeywordGlobalAdmin:
		r.Kind = RequireGlobalAdmin
	case KeywordOrgMember:
		r.Kind = RequireOrgMember
	default:
		if model.IsOrgPermission(spec.Require) {
			if err := e.compileOrgPermission(&r, spec.Require); err != nil {
				return r, err
			}
			break
		}
		id, ok := e.catalog.ID(spec.Require)
		if !ok {
			// A misspelt keyword or permission gets the word it was
			// probably meant to be, before any advice to declare it.
			// A word without a dot reads as a keyword, not a permission.
			hint := authz.DidYouMean(spec.Require, e.requirementWords())
			nameErr := authz.ValidateName(spec.Require)
			if hint != "" && (nameErr != nil || !strings.Contains(spec.Require, ".")) {
				return r, fmt.Errorf("unknown requirement %q: %s", spec.Require, hint)
			}
			if nameErr != nil {
				return r, nameErr
			}
			if hint != "" {
				return r, fmt.Errorf("unknown permission %q: %s (or declare it with \"permission %s\" in the gatehouse global option)", spec.Require, hint, spec.Require)
			}
			return r, fmt.Errorf("unknown permission %q: declare it with \"permission %s\" in the gatehouse global option", spec.Require, spec.Require)
		}
		r.Kind, r.Permission, r.permID = RequirePermission, spec.Require, id
	}
	if r.Kind.needsOrganization() {
		return r, checkOrgRule(spec, org)
	}
	if r.Kind.needsWorkspace() && source.From == FromParam && !hasParam(spec.Path, source.Name) {
		return r, fmt.Errorf("requirement %q needs a workspace, but the path has no {%s} segment (the handler reads the workspace from param %s)", spec.Require, source.Name, source.Name)
	}
	if spec.RestrictType != "" || spec.RestrictParam != "" {
		if !r.Kind.needsWorkspace() {
			return r, fmt.Errorf("restrict only applies to member or permission rules")
		}
		if spec.RestrictType == "" || spec.RestrictParam == "" {
			return r, fmt.Errorf("restrict needs a type and a {param}, e.g. restrict instance {instance}")
		}
		if !hasParam(spec.Path, spec.RestrictParam) {
			return r, fmt.Errorf("restrict names {%s}, which is not a segment of the path", spec.RestrictParam)
		}
		r.restrictType, r.restrictVar = spec.RestrictType, spec.RestrictParam
	}
	return r, nil
}

func normalizeSource(s WorkspaceSource) (WorkspaceSource, error) {
	if s.From == "" && s.Name == "" {
		return DefaultWorkspaceSource, nil
	}
	if s.Name == "" {
		return s, fmt.Errorf("workspace %s: missing name", s.From)
	}
	switch s.From {
	case FromParam, FromQuery:
	case FromHeader:
		s.Name = textproto.CanonicalMIMEHeaderKey(s.Name)
	case FromPlaceholder:
		s.Name = strings.TrimSuffix(strings.TrimPrefix(s.Name, "{"), "}")
	default:
		return s, fmt.Errorf("unknown workspace source %q: use param, header, query or placeholder", s.From)
	}
	return s, nil
}

// hasParam reports whether the path pattern has a {name} segment.
func hasParam(path, name string) bool {
	for _, seg := range strings.Split(path, "/") {
		if seg == "{"+name+"}" {
			return true
		}
	}
	return false
}

func ruleError(spec RuleSpec, err error) error {
	where := ""
	if spec.Source != "" {
		where = spec.Source + ": "
	}
	return fmt.Errorf("%srule %s %s %s: %w", where, strings.Join(spec.Methods, ","), spec.Path, spec.Require, err)
}

// at returns " at <source>" when the source is known.
func at(source string) string {
	if source == "" {
		return ""
	}
	return " at " + source
}

// requirementWords are what a rule's requirement may be: the keywords and
// the catalog's permissions (for "did you mean" hints).
func (e *Engine) requirementWords() []string {
	words := []string{KeywordPublic, KeywordAuthenticated, KeywordMember, KeywordGlobalAdmin, KeywordOrgMember}
	for _, d := range e.catalog.Declarations() {
		words = append(words, d.Name)
	}
	return words
}
