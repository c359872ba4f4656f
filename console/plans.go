package console

import (
	"net/http"
	"slices"
)

// Plans as the API declares them (GET /v1/permissions "plans",
// "default_plan"), for showing what a plan unlocks. The console decides
// nothing with them: a control the workspace's plan lacks is shown
// disabled with the plan that unlocks it, and the API refuses a forged
// form anyway (403 plan_required), shown by the field.

// Plan features, as the API names them (model.Features).
const (
	featureMemberOverrides      = "member_overrides"
	featureResourceRestrictions = "resource_restrictions"
	featureCustomRoles          = "custom_roles"
	featureAPIKeys              = "api_keys"
)

// planView is one declared plan.
type planView struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Features    []string `json:"features"`
}

// planList is the declared plans, cheapest first (declaration order, as
// the API lists them), and the default plan's slug.
type planList struct {
	Plans   []planView `json:"plans"`
	Default string     `json:"default_plan"`
}

// plans reads the declared plans.
func (c *Console) plans(r *http.Request, s *session) (planList, error) {
	var pl planList
	err := c.call(r, s, "GET", "/v1/permissions", nil, &pl)
	return pl, err
}

// named is the plan with slug, or a plan of that slug and no name when
// the API no longer declares it.
func (pl planList) named(slug string) planView {
	for _, p := range pl.Plans {
		if p.Slug == slug {
			return p
		}
	}
	return planView{Slug: slug, Name: slug}
}

// cheapestWith is the first (cheapest) plan with feature, ok false when
// none has it.
func (pl planList) cheapestWith(feature string) (planView, bool) {
	for _, p := range pl.Plans {
		if slices.Contains(p.Features, feature) {
			return p, true
		}
	}
	return planView{}, false
}

// gate is what a screen shows for a control that needs a plan feature.
type gate struct {
	Disabled bool
	// Note says which plan unlocks the control ("Requires the Pro plan").
	Note string
}

// gates is the gate of every feature for a workspace, by feature name.
// A workspace without a plan (no plans configured) gates nothing.
type gates map[string]gate

func (pl planList) gatesFor(ws workspaceView) gates {
	g := gates{}
	if ws.Plan == "" {
		return g
	}
	for _, f := range []string{featureMemberOverrides, featureResourceRestrictions, featureCustomRoles, featureAPIKeys} {
		if slices.Contains(ws.PlanFeatures, f) {
			continue
		}
		note := "Not available on any plan"
		if p, ok := pl.cheapestWith(f); ok {
			note = "Requires the " + p.Name + " plan"
		}
		g[f] = gate{Disabled: true, Note: note}
	}
	return g
}

// workspaceGates reads the plans and gates ws's controls.
func (c *Console) workspaceGates(r *http.Request, s *session, ws workspaceView) (gates, error) {
	if ws.Plan == "" {
		return gates{}, nil
	}
	pl, err := c.plans(r, s)
	if err != nil {
		return nil, err
	}
	return pl.gatesFor(ws), nil
}

// planRefusal reports a 403 plan_required refusal (the API's answer to a
// forged form) with the feature it names, so a screen shows its detail
// by the control that needs it.
func planRefusal(err error) (feature, detail string, ok bool) {
	p, isProblem := err.(*apiProblem)
	if !isProblem || p.Code != "plan_required" {
		return "", "", false
	}
	return p.RequiredFeature, p.Error(), true
}
