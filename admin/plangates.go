package admin

import (
	"errors"
	"maps"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Plan features at the API (README "Organizations, projects and plans"):
// a workspace whose plan lacks a feature gets none of the objects that
// need it. Each check runs inside the write transaction, with the plan
// read there (standing.plan), before anything is written, so a refusal
// changes nothing.

// requireFeature is the 403 plan_required (required_feature,
// required_plan) unless the workspace's plan has feature.
func (a *API) requireFeature(st *standing, feature string) error {
	return planRequired(a.model.RequireFeature(st.plan, feature), st.ws.Slug)
}

// memberFeatures gates a member PUT: non-empty grants or denies need
// member_overrides, non-empty restrictions need resource_restrictions.
//
// A PUT that sends exactly what is stored (same grants, same denies, same
// restrictions, in any order) is let through on any plan: after a
// downgrade an admin can still change the member's roles without first
// erasing overrides that have no effect anyway and would come back on an
// upgrade. Nothing new that the plan lacks is created that way.
func (a *API) memberFeatures(tx store.Tx, st *standing, user string, req *putMemberRequest) error {
	before, err := tx.Member(st.ws.ID, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if len(req.Grants)+len(req.Denies) > 0 &&
		!(sameStrings(req.Grants, before.Grants) && sameStrings(req.Denies, before.Denies)) {
		if err := a.requireFeature(st, model.FeatureMemberOverrides); err != nil {
			return err
		}
	}
	if len(req.Restrictions) > 0 && !sameRestrictions(req.Restrictions, before.Restrictions) {
		return a.requireFeature(st, model.FeatureResourceRestrictions)
	}
	return nil
}

// sameStrings reports whether a and b hold the same strings, in any order.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// sameRestrictions reports whether a and b restrict the same types to the
// same ids.
func sameRestrictions(a, b map[string][]string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(slices.Collect(maps.Keys(a)), func(typ string) bool {
		ids, ok := b[typ]
		return !ok || !sameStrings(a[typ], ids)
	})
}
