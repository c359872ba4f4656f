package model

import (
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// WorkspacePlan returns the plan that governs workspace ws: its
// organization's plan when it belongs to one, else its own Plan field;
// either way DefaultPlan when none is set. It is nil when config declares
// no plan (nothing is gated).
//
// A plan slug config no longer declares (a plan removed by a reload) is
// read as the cheapest plan: failing towards less access, never more.
// A workspace whose organization the store lacks is the same; the gateway
// hides such a workspace anyway (OrganizationDeleted).
func (m *Model) WorkspacePlan(tx store.Tx, ws store.Workspace) (*Plan, error) {
	if len(m.planList) == 0 {
		return nil, nil // nothing gated: no organization read needed
	}
	place, err := m.PlaceOf(tx, ws)
	return place.Plan, err
}

// PlanNamed resolves a stored plan slug: "" is DefaultPlan, a slug config
// does not declare is the cheapest plan (see WorkspacePlan). Nil when
// config declares no plan.
func (m *Model) PlanNamed(slug string) *Plan {
	if slug == "" {
		return m.defaultPlan
	}
	if p, ok := m.plans[slug]; ok {
		return p
	}
	return m.cheapestPlan()
}

// cheapestPlan is the first declared plan, nil when config declares none.
func (m *Model) cheapestPlan() *Plan {
	if len(m.planList) == 0 {
		return nil
	}
	return m.planList[0]
}

// PlanRequiredError is a refusal because the plan in force lacks what
// the request needs: a feature (Feature set) or a permission (Permission
// set). RequiredPlan is the cheapest plan that has it, "" when none does.
// The API answers it as 403 plan_required with required_feature or
// required_permission, and required_plan.
type PlanRequiredError struct {
	Plan         string
	Feature      string
	Permission   string
	RequiredPlan string
}

func (e *PlanRequiredError) Error() string {
	what := "feature " + e.Feature
	if e.Feature == "" {
		what = "permission " + e.Permission
	}
	msg := fmt.Sprintf("the %s plan does not include %s", e.Plan, what)
	if e.RequiredPlan != "" {
		msg += fmt.Sprintf(": it needs the %s plan", e.RequiredPlan)
	} else {
		msg += ": no plan includes it"
	}
	return msg
}

// RequireFeature returns nil when plan (nil: nothing is gated) has
// feature, else a *PlanRequiredError naming the cheapest plan with it.
func (m *Model) RequireFeature(plan *Plan, feature string) error {
	if plan == nil || plan.Has(feature) {
		return nil
	}
	return &PlanRequiredError{Plan: plan.Slug, Feature: feature, RequiredPlan: m.CheapestPlanWith(feature)}
}
