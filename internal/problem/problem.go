// Package problem writes RFC 9457 problem details (application/problem+json),
// the one error format of both the gateway and the management API.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Codes used at the gateway (README "Errors"). The management API adds its own.
const (
	CodeInvalidPath       = "invalid_path"
	CodeInvalidRequest    = "invalid_request"
	CodeUnauthenticated   = "unauthenticated"
	CodeInvalidToken      = "invalid_token"
	CodeForbidden         = "forbidden"
	CodeRestricted        = "restricted"
	CodeWorkspaceNotFound = "workspace_not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeUnavailable       = "unavailable"
	CodeNotImplemented    = "not_implemented"
	// CodePlanRequired is the 403 of a permission or feature the plan in
	// force does not include (spec §11).
	CodePlanRequired = "plan_required"
	codeInternal     = "internal_error"
)

// CodeInvalidMethod is the gateway's 400 for a method that is not an
// upper-case token (README "Errors").
const CodeInvalidMethod = "invalid_method"

// CodeInvalidConsistencyToken is the 400 of the gateway and the API for a
// Gatehouse-Consistency header that is malformed, from another database,
// or names a revision the store has not reached (README "Consistency tokens").
const CodeInvalidConsistencyToken = "invalid_consistency_token"

// TypeBase prefixes every problem type URI; the code completes it, so the
// type is as stable as the code.
const TypeBase = "urn:gatehouse:problem:"

// ContentType is the media type of every error body.
const ContentType = "application/problem+json"

// Problem is one RFC 9457 problem detail with Gatehouse's extension members.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// Reason is finer than Code and as stable (README "Why was I
	// denied?"); the gateway sets it on every denial.
	Reason             string   `json:"reason,omitempty"`
	RequiredPermission string   `json:"required_permission,omitempty"`
	Workspace          string   `json:"workspace,omitempty"`
	AllowedMethods     []string `json:"allowed_methods,omitempty"`
	Field              string   `json:"field,omitempty"`
	// RequiredPlan and RequiredFeature accompany 403 plan_required: the
	// cheapest plan that includes the permission (RequiredPermission) or
	// the feature the request needs (spec §11).
	RequiredPlan    string `json:"required_plan,omitempty"`
	RequiredFeature string `json:"required_feature,omitempty"`
}

// New returns a problem with type and title derived from code and status.
func New(status int, code, detail string) *Problem {
	return &Problem{
		Type:   TypeBase + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// Error makes a Problem usable as an error inside handlers.
func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// Write sends p. Headers already set on w (WWW-Authenticate, Allow) are kept.
func Write(w http.ResponseWriter, p *Problem) {
	body, err := json.Marshal(p)
	if err != nil {
		// Marshal of this struct cannot fail; keep a valid body regardless.
		body = []byte(`{"type":"` + TypeBase + codeInternal + `","title":"Internal Server Error","status":500,"code":"` + codeInternal + `"}`)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}
