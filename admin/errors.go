package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// Codes the management API adds to the gateway's (README "Management API").
const (
	codeNotFound            = "not_found"
	codeSlugTaken           = "slug_taken"
	codeLastAdmin           = "last_admin"
	codeEscalation          = "escalation"
	codeSystemRoleImmutable = "system_role_immutable"
	codeRoleInUse           = "role_in_use"
	codeRoleExists          = "role_exists"
	codeUserNotFound        = "user_not_found"
	codeMemberNotFound      = "member_not_found"
	codeRoleNotFound        = "role_not_found"
	codeInviteNotFound      = "invite_not_found"
	codeInviteExpired       = "invite_expired"
	codeInviteRevoked       = "invite_revoked"
	codeInviteAccepted      = "invite_accepted"
	codeAlreadyMember       = "already_member"
	codeEmailMismatch       = "email_mismatch"
	codeEmailNotVerified    = "email_not_verified"
	codeNotDeleted          = "not_deleted"
	codeAPIKeyNotFound      = "api_key_not_found"
	codeAPIKeyRevoked       = "api_key_revoked"
	codeAPIKeyNotAllowed    = "api_key_not_allowed"
	// codeInviteCreatorLacksAuthority: the invite's creator no longer
	// holds what the invite grants (checked on acceptance).
	codeInviteCreatorLacksAuthority = "invite_creator_lacks_authority"
	// codeRoleSlugInUse: a custom role cannot take a slug that members or
	// pending invites still hold from a role that no longer exists.
	codeRoleSlugInUse = "role_slug_in_use"
	// codeProjectNotFound: no such project in the organization.
	codeProjectNotFound = "project_not_found"
	// codeProjectNotEmpty: a project cannot be deleted while workspaces
	// belong to it.
	codeProjectNotEmpty = "project_not_empty"
)

// invalid is a 400 invalid_request naming the offending field ("" when the
// body as a whole is at fault).
func invalid(field, detail string) *problem.Problem {
	p := problem.New(http.StatusBadRequest, problem.CodeInvalidRequest, detail)
	p.Field = field
	return p
}

func notFound(code, detail string) *problem.Problem {
	return problem.New(http.StatusNotFound, code, detail)
}

func conflict(code, detail string) *problem.Problem {
	return problem.New(http.StatusConflict, code, detail)
}

func forbidden(code, detail string) *problem.Problem {
	return problem.New(http.StatusForbidden, code, detail)
}

func gone(code, detail string) *problem.Problem {
	return problem.New(http.StatusGone, code, detail)
}

// missingPermission is the 403 for a caller without a required permission.
func missingPermission(permission, workspace string) *problem.Problem {
	p := forbidden(problem.CodeForbidden, "you need the "+permission+" permission in workspace "+workspace)
	p.RequiredPermission = permission
	p.Workspace = workspace
	return p
}

// workspaceNotFound is the 404 for an unknown or deleted workspace, or one
// the caller is not a member of: a non-member cannot tell them apart.
func workspaceNotFound(ref string) *problem.Problem {
	p := notFound(problem.CodeWorkspaceNotFound, "no such workspace, or you are not a member of it")
	p.Workspace = ref
	return p
}

func splitAllow(allow string) []string { return strings.Split(allow, ", ") }

// planRequired turns the model's *PlanRequiredError into the 403
// plan_required with required_feature (or required_permission) and
// required_plan; any other error, nil included, is returned as it is. It
// is the one place the API words a plan refusal.
func planRequired(err error, workspace string) error {
	var pr *model.PlanRequiredError
	if !errors.As(err, &pr) {
		return err
	}
	detail := pr.Error()
	if pr.Feature != "" {
		detail += " (existing ones are kept but have no effect on this plan)"
	}
	p := forbidden(problem.CodePlanRequired, detail)
	p.RequiredFeature, p.RequiredPermission, p.RequiredPlan = pr.Feature, pr.Permission, pr.RequiredPlan
	p.Workspace = workspace
	return p
}
