package problem

// Reasons of gateway denials (README "Why was I denied?"). A reason is
// finer than its code but never finer than what the caller may know: a
// caller who is not a member of a workspace gets ReasonNotMember whether
// the workspace exists, was deleted or never existed.
const (
	ReasonNoRule              = "no_rule"
	ReasonMethodNotAllowed    = "method_not_allowed"
	ReasonInvalidPath         = "invalid_path"
	ReasonInvalidMethod       = "invalid_method"
	ReasonInvalidRequest      = "invalid_request"
	ReasonInvalidConsistency  = "invalid_consistency_token"
	ReasonUnauthenticated     = "unauthenticated"
	ReasonTokenExpired        = "token_expired"
	ReasonInvalidToken        = "invalid_token"
	ReasonKeyRevoked          = "key_revoked"
	ReasonKeyExpired          = "key_expired"
	ReasonNotMember           = "not_member"
	ReasonWorkspaceDeleted    = "workspace_deleted"
	ReasonMissingPermission   = "missing_permission"
	ReasonDeniedByMemberDeny  = "denied_by_member_deny"
	ReasonRestricted          = "restricted"
	ReasonGlobalAdminRequired = "global_admin_required"
	// ReasonPlanRequired is a permission the plan in force excludes
	// (whatever the member's roles), or an API key whose workspace's plan
	// lacks the api_keys feature.
	ReasonPlanRequired = "plan_required"
	ReasonUnavailable  = "unavailable"
	// ReasonNotOrgMember: the organization a rule is decided in is
	// unknown, deleted, or the caller is not a member (404
	// organization_not_found; the three are one answer).
	ReasonNotOrgMember = "not_org_member"
)

// Reasons lists every reason, in README order.
var Reasons = []string{
	ReasonNoRule, ReasonMethodNotAllowed, ReasonInvalidPath, ReasonInvalidMethod,
	ReasonInvalidRequest, ReasonInvalidConsistency, ReasonUnauthenticated,
	ReasonTokenExpired, ReasonInvalidToken, ReasonKeyRevoked, ReasonKeyExpired,
	ReasonNotMember, ReasonNotOrgMember, ReasonWorkspaceDeleted, ReasonMissingPermission,
	ReasonDeniedByMemberDeny, ReasonRestricted, ReasonGlobalAdminRequired,
	ReasonPlanRequired, ReasonUnavailable,
}

// WithReason sets p's reason and returns p.
func (p *Problem) WithReason(reason string) *Problem {
	p.Reason = reason
	return p
}
