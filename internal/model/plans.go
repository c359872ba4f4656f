package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
)

// Plan features: what a plan must have for the API to create the objects
// that need them, and for existing ones to take effect.
const (
	// FeatureMemberOverrides gates per-member grants and denies.
	FeatureMemberOverrides = "member_overrides"
	// FeatureResourceRestrictions gates per-member restrictions.
	FeatureResourceRestrictions = "resource_restrictions"
	// FeatureCustomRoles gates workspace custom roles.
	FeatureCustomRoles = "custom_roles"
	// FeatureAPIKeys gates API keys.
	FeatureAPIKeys = "api_keys"
)

// Features lists every plan feature, in the order the README documents.
func Features() []string {
	return []string{FeatureMemberOverrides, FeatureResourceRestrictions, FeatureCustomRoles, FeatureAPIKeys}
}

// PlanConfig declares one plan:
//
//	plan pro "Pro" {
//		permissions *
//		features member_overrides resource_restrictions custom_roles api_keys
//	}
type PlanConfig struct {
	Slug string
	Name string
	// Permissions are catalog patterns: the plan's permission ceiling.
	// The built-in workspace.* and organization.* permissions are in
	// every ceiling whatever this says.
	Permissions []string
	// Features are from Features().
	Features []string
	// Source locates the declaration for error messages.
	Source string
}

// Plan is a compiled plan. It is immutable.
type Plan struct {
	Slug string
	Name string
	// rank is the declaration index: lower is cheaper.
	rank int
	// ceiling is what members may use under the plan, in the workspace
	// catalog; it always holds every workspace.* built-in.
	ceiling  authz.Set
	features map[string]bool
	// cheapest is shared by every plan of a model: by permission id, the
	// slug of the cheapest plan whose ceiling includes it ("" when none
	// does). Precomputed so a plan_required denial names its plan
	// without walking the plans.
	cheapest []string
}

// RequiredPlan returns the slug of the cheapest plan whose ceiling
// includes permission id, "" when no plan does.
func (p *Plan) RequiredPlan(id authz.PermID) string {
	if int(id) >= len(p.cheapest) {
		return ""
	}
	return p.cheapest[id]
}

// Allows reports whether permission id (of the workspace catalog) is
// inside the plan's ceiling. The built-in workspace.* permissions always
// are.
func (p *Plan) Allows(id authz.PermID) bool { return p.ceiling.Has(id) }

// Has reports whether the plan has a feature.
func (p *Plan) Has(feature string) bool { return p.features[feature] }

// Ceiling returns the plan's permission ceiling (workspace catalog).
func (p *Plan) Ceiling() authz.Set { return p.ceiling }

// Features returns the plan's features, in Features() order.
func (p *Plan) Features() []string {
	var out []string
	for _, f := range Features() {
		if p.features[f] {
			out = append(out, f)
		}
	}
	return out
}

// compilePlans validates plans and default_plan and compiles each plan's
// ceiling. Plans are ranked by declaration order: the first declared is
// the cheapest.
func (m *Model) compilePlans(plans []PlanConfig, defaultPlan, defaultSource string) error {
	m.plans = make(map[string]*Plan, len(plans))
	seen := make(map[string]string, len(plans))
	for i, pc := range plans {
		if err := ident.ValidateRoleSlug(pc.Slug); err != nil {
			return configError(pc.Source, "plan %q: %v", pc.Slug, strings.Replace(err.Error(), "role slug", "plan slug", 1))
		}
		if first, dup := seen[pc.Slug]; dup {
			return configError(pc.Source, "plan %s is declared twice (first at %s)", pc.Slug, orUnknown(first))
		}
		seen[pc.Slug] = pc.Source
		p := &Plan{Slug: pc.Slug, Name: pc.Name, rank: i, features: map[string]bool{}}
		if p.Name == "" {
			p.Name = p.Slug
		}
		var workspacePatterns []string
		for _, pat := range pc.Permissions {
			if IsOrgPermission(pat) {
				// Never gated: naming them is allowed and changes nothing.
				if err := m.orgCatalog.CheckPattern(pat); err != nil {
					return configError(pc.Source, "plan %s: permissions: %v", pc.Slug, err)
				}
				continue
			}
			if err := m.catalog.CheckPattern(pat); err != nil {
				return configError(pc.Source, "plan %s: permissions: %v", pc.Slug, err)
			}
			workspacePatterns = append(workspacePatterns, pat)
		}
		for _, f := range pc.Features {
			if !slices.Contains(Features(), f) {
				msg := fmt.Sprintf("plan %s: unknown feature %q (features: %s)", pc.Slug, f, strings.Join(Features(), ", "))
				if hint := authz.DidYouMean(f, Features()); hint != "" {
					msg += "; " + hint
				}
				return configError(pc.Source, "%s", msg)
			}
			if p.features[f] {
				return configError(pc.Source, "plan %s: feature %s is listed twice", pc.Slug, f)
			}
			p.features[f] = true
		}
		p.ceiling = m.planCeiling(workspacePatterns)
		if !p.features[FeatureCustomRoles] {
			m.customRolesGated = true
		}
		m.plans[p.Slug] = p
		m.planList = append(m.planList, p)
	}
	m.linkCheapest()
	switch {
	case defaultPlan != "":
		p, ok := m.plans[defaultPlan]
		if !ok {
			msg := fmt.Sprintf("default_plan %s: no such plan", defaultPlan)
			if len(m.planList) == 0 {
				msg += ": declare it with `plan " + defaultPlan + ` "Name" { permissions ... }` + "`"
			} else {
				msg += " (declared: " + strings.Join(m.planSlugs(), ", ") + ")"
				if hint := authz.DidYouMean(defaultPlan, m.planSlugs()); hint != "" {
					msg += "; " + hint
				}
			}
			return configError(defaultSource, "%s", msg)
		}
		m.defaultPlan = p
	case len(m.planList) > 0:
		m.defaultPlan = m.planList[0] // the cheapest (README)
	}
	return nil
}

// planCeiling is what a plan listing patterns lets members use: the
// permissions the patterns name, with what those imply, plus the
// never-gated workspace.* built-ins. The built-ins' own implications are
// not followed: workspace.admin implies "*", and every ceiling holds it.
func (m *Model) planCeiling(patterns []string) authz.Set {
	named := m.catalog.Matching(patterns)
	var gated []string
	for _, name := range named.Names(m.catalog) {
		if !m.neverGated.Has(mustID(m.catalog, name)) {
			gated = append(gated, name)
		}
	}
	return m.catalog.Expand(gated).Union(m.neverGated)
}

// linkCheapest computes, once per model, the cheapest plan of every
// workspace permission and shares the table with every plan.
func (m *Model) linkCheapest() {
	if len(m.planList) == 0 {
		return
	}
	cheapest := make([]string, m.catalog.Len())
	for id := range cheapest {
		for _, p := range m.planList {
			if p.Allows(authz.PermID(id)) {
				cheapest[id] = p.Slug
				break
			}
		}
	}
	for _, p := range m.planList {
		p.cheapest = cheapest
	}
}

func mustID(c *authz.Catalog, name string) authz.PermID {
	id, _ := c.ID(name)
	return id
}

func (m *Model) planSlugs() []string {
	out := make([]string, len(m.planList))
	for i, p := range m.planList {
		out[i] = p.Slug
	}
	return out
}

// Plans returns the plans, cheapest (first declared) first; none when
// config declares no plan.
func (m *Model) Plans() []*Plan { return m.planList }

// Plan returns a plan by slug.
func (m *Model) Plan(slug string) (*Plan, bool) {
	p, ok := m.plans[slug]
	return p, ok
}

// DefaultPlan returns the plan of an organization (or workspace) that has
// none set: default_plan, else the cheapest plan; nil when config
// declares no plan (nothing is gated).
func (m *Model) DefaultPlan() *Plan { return m.defaultPlan }

// CheapestPlanFor returns the cheapest plan whose ceiling includes
// permission perm (a workspace or organization permission name), "" when
// no plan does or config declares none. Organization permissions are in
// every plan.
func (m *Model) CheapestPlanFor(perm string) string {
	if IsOrgPermission(perm) {
		if _, ok := m.orgCatalog.ID(perm); ok && len(m.planList) > 0 {
			return m.planList[0].Slug
		}
		return ""
	}
	id, ok := m.catalog.ID(perm)
	if !ok {
		return ""
	}
	for _, p := range m.planList {
		if p.Allows(id) {
			return p.Slug
		}
	}
	return ""
}

// CheapestPlanWith returns the cheapest plan with feature, "" when none
// has it.
func (m *Model) CheapestPlanWith(feature string) string {
	for _, p := range m.planList {
		if p.Has(feature) {
			return p.Slug
		}
	}
	return ""
}
