package gateway

import (
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// planPermissionDenial is the 403 plan_required of a permission the plan
// in force in the workspace of access does not include (spec §11):
// whatever the member's roles, so it is checked before whether they hold
// it. Nil when no plan is configured or the plan includes it. Only the
// denial path calls it: an allowed request never looks at the plan.
func planPermissionDenial(rule *Rule, access *Access) *problem.Problem {
	plan := access.Plan
	if plan == nil || plan.Allows(rule.permID) {
		return nil
	}
	err := &model.PlanRequiredError{Plan: plan.Slug, Permission: rule.Permission, RequiredPlan: plan.RequiredPlan(rule.permID)}
	pr := problem.New(http.StatusForbidden, problem.CodePlanRequired,
		"in workspace "+access.Slug+", "+err.Error())
	pr.RequiredPermission = rule.Permission
	pr.RequiredPlan = err.RequiredPlan
	pr.Workspace = access.Slug
	return pr.WithReason(problem.ReasonPlanRequired)
}

// planFeatureDenial is the 403 plan_required of a request that needs a
// feature the plan in force lacks (an API key without api_keys).
func planFeatureDenial(err *model.PlanRequiredError) *problem.Problem {
	pr := problem.New(http.StatusForbidden, problem.CodePlanRequired, err.Error())
	pr.RequiredFeature = err.Feature
	pr.RequiredPlan = err.RequiredPlan
	return pr.WithReason(problem.ReasonPlanRequired)
}
