package model

import "github.com/gatehouse-authz/gatehouse/internal/authz"

// Ceiling applies plan to a compiled member (or API key) access and
// returns the access the member has under it (README "Organizations,
// projects and plans"). The gateway flattens it into the cached entry, so
// a cached decision costs what it costs without plans. It is a pure
// function: access is not changed; a nil plan (config declares none) or a
// non-member access is returned as is.
//
//   - Permissions outside the plan's ceiling are removed. The built-in
//     workspace.* permissions are in every ceiling: no plan removes them.
//   - Without member_overrides, the member's grants and denies have no
//     effect on gated permissions: the member gets their roles' defaults.
//     On the never-gated workspace.* permissions they keep their effect,
//     so no downgrade locks out an admin who holds workspace.admin by a
//     grant, nor lets back in a member denied workspace.members.
//   - Without resource_restrictions, restrictions have no effect.
//   - Without custom_roles, the member's custom workspace roles grant no
//     gated permission and are not listed in Roles (so they are not
//     forwarded upstream either); their system roles still grant what
//     they grant. On the never-gated workspace.* permissions a custom
//     role keeps its effect, as overrides do, so no downgrade locks out
//     an admin by custom role. A custom role shadowing a system role of
//     the same slug grants no gated permission then, rather than falling
//     back to the system role.
//
// The result records plan (Access.Plan), so a denial can tell a
// permission the plan excludes from one the member lacks.
//
// Nothing stored is changed: an upgrade brings the overrides and
// restrictions back.
func (m *Model) Ceiling(access *Access, plan *Plan) *Access {
	if plan == nil || access == nil || !access.Member {
		return access
	}
	if access.withoutCustom != nil && !plan.Has(FeatureCustomRoles) {
		access = m.withoutCustomRoles(access)
	}
	out := *access
	out.Plan = plan
	out.withoutCustom = nil // applied or kept: never applied twice
	ceiling := plan.ceiling
	if !plan.Has(FeatureMemberOverrides) {
		out.Permissions = m.withoutOverrides(access.Defaults, access.Permissions)
		out.Granted = m.withoutOverrides(access.Defaults, access.Granted)
	}
	out.Permissions = out.Permissions.Intersect(ceiling)
	out.Granted = out.Granted.Intersect(ceiling)
	if !plan.Has(FeatureResourceRestrictions) {
		out.Restrictions = nil
		out.RestrictedToNothing = ""
	}
	return &out
}

// withoutOverrides is defaults on the gated permissions and overridden
// (the set with the member's grants and denies applied) on the
// never-gated ones.
func (m *Model) withoutOverrides(defaults, overridden authz.Set) authz.Set {
	return defaults.Minus(m.neverGated).Union(overridden.Intersect(m.neverGated))
}

// withoutCustomRoles is access without its custom roles' effect on gated
// permissions: the compiled access without them (withoutCustom) on the
// gated permissions, access itself on the never-gated ones.
func (m *Model) withoutCustomRoles(access *Access) *Access {
	out := *access.withoutCustom
	out.Permissions = m.withoutOverrides(out.Permissions, access.Permissions)
	out.Granted = m.withoutOverrides(out.Granted, access.Granted)
	out.Defaults = m.withoutOverrides(out.Defaults, access.Defaults)
	return &out
}
