package admin

import (
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// planView is a plan in an organization's view.
type planView struct {
	Slug     string   `json:"slug"`
	Name     string   `json:"name"`
	Features []string `json:"features"`
}

// newPlanView is nil for a nil plan (config declares none).
func newPlanView(p *model.Plan) *planView {
	if p == nil {
		return nil
	}
	return &planView{Slug: p.Slug, Name: p.Name, Features: nonNil(p.Features())}
}

// catalogPlanView is a plan in GET /v1/permissions: with its permission
// ceiling.
type catalogPlanView struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Features    []string `json:"features"`
}

type putPlanRequest struct {
	Plan string `json:"plan"`
}

// validate checks the plan against config: no plan declared, or one it
// does not declare, is a 400 naming field plan and the declared plans.
func (a *API) validatePlan(slug string) (*model.Plan, error) {
	plans := a.model.Plans()
	if len(plans) == 0 {
		return nil, invalid("plan", "this gateway declares no plans: nothing is gated, so there is no plan to choose")
	}
	if p, ok := a.model.Plan(slug); ok {
		return p, nil
	}
	slugs := make([]string, len(plans))
	for i, p := range plans {
		slugs[i] = p.Slug
	}
	msg := "unknown plan " + quote(slug) + " (declared: " + strings.Join(slugs, ", ") + ")"
	if hint := authz.DidYouMean(slug, slugs); hint != "" {
		msg += "; " + hint
	}
	return nil, invalid("plan", msg)
}

// PUT /v1/orgs/{org}/plan: a global admin or organization.billing. The
// change reaches the gateway's next decision: an organization change
// flushes the decision cache (permcache), so a permission outside the new
// plan is refused from the next request on.
func (a *API) putOrgPlan(c *call) error {
	var req putPlanRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	plan, err := a.validatePlan(req.Plan)
	if err != nil {
		return err
	}
	var view orgView
	err = c.update(func(tx store.Tx) error {
		st, err := c.orgStandingWith(tx, model.PermOrgBilling)
		if err != nil {
			return err
		}
		org := st.org
		before := a.model.PlanNamed(org.Plan)
		org.Plan, org.UpdatedAt = plan.Slug, a.now().UTC()
		if err := tx.PutOrganization(org); err != nil {
			return err
		}
		view = a.newOrgView(org, st)
		return c.audit(tx, org.ID, "organization.plan", "organization:"+org.ID, map[string]any{
			"before": map[string]string{"plan": before.Slug},
			"after":  map[string]string{"plan": plan.Slug},
		})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// catalogPlans lists the plans for GET /v1/permissions, cheapest first.
func (a *API) catalogPlans() []catalogPlanView {
	out := []catalogPlanView{}
	for _, p := range a.model.Plans() {
		out = append(out, catalogPlanView{Slug: p.Slug, Name: p.Name,
			Permissions: a.permissionNames(p.Ceiling()), Features: nonNil(p.Features())})
	}
	return out
}

// defaultPlanSlug is default_plan's slug, nil when config declares no plan.
func (a *API) defaultPlanSlug() *string {
	if p := a.model.DefaultPlan(); p != nil {
		return &p.Slug
	}
	return nil
}
