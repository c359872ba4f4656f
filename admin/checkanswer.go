package admin

import (
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// reasonPlanRequired is check's reason for a permission the plan in force
// excludes: the gateway's reason.
const reasonPlanRequired = problem.ReasonPlanRequired

// checkResponse is the answer of check. On plan_required it names the
// permission the plan in force lacks and the cheapest plan including it
// (required_plan absent when no plan does), as the gateway's 403 does.
type checkResponse struct {
	Allowed            bool   `json:"allowed"`
	Reason             string `json:"reason"`
	RequiredPermission string `json:"required_permission,omitempty"`
	RequiredPlan       string `json:"required_plan,omitempty"`
	Plan               string `json:"plan,omitempty"`
}

// checkAnswer decides req for access, in the gateway's order (Authorize):
// a permission the plan excludes is plan_required whatever the roles,
// then the permission, then the resource.
func checkAnswer(access *model.Access, id authz.PermID, req checkRequest) checkResponse {
	switch {
	case access.Plan != nil && !access.Plan.Allows(id):
		return checkResponse{Reason: reasonPlanRequired, RequiredPermission: req.Permission,
			RequiredPlan: access.Plan.RequiredPlan(id), Plan: access.Plan.Slug}
	case !access.Permissions.Has(id):
		return checkResponse{Reason: reasonMissingPermission}
	case req.Resource != nil && !access.Allows(req.Resource.Type, req.Resource.ID):
		return checkResponse{Reason: reasonRestricted}
	}
	return checkResponse{Allowed: true, Reason: reasonGranted}
}
