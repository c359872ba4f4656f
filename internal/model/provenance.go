package model

import (
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Provenance says why a member holds, or does not hold, one permission.
type Provenance struct {
	Permission string `json:"permission"`
	Effective  bool   `json:"effective"`
	// From lists what grants it; RemovedBy what takes it away again.
	From      []Source `json:"from"`
	RemovedBy []Source `json:"removed_by"`
}

// Source is one origin of a permission: kind "role" (Name the role),
// "grant" (a member's own grant) or "key" (an API key's permission), and
// the pattern that grants it, directly or through Via, the permission
// matched by the pattern that implies this one. A role the member holds
// through their project membership (a PROJECT workspace) has ProjectRole,
// the project role slug that maps to it; a role held both explicitly and
// through the project is listed once per origin. As a remover: kind
// "deny" with its pattern, or kind "plan" (Name the plan in force): with
// Pattern the permission itself when the plan's ceiling excludes it, or
// with Feature the feature the plan lacks and Pattern the grant or custom
// role pattern that therefore has no effect (PlanProvenance).
type Source struct {
	Kind        string `json:"kind"`
	Name        string `json:"name,omitempty"`
	ProjectRole string `json:"project_role,omitempty"`
	Pattern     string `json:"pattern"`
	Via         string `json:"via,omitempty"`
	Feature     string `json:"feature,omitempty"`
}

// Provenance kinds (README "Why was I denied?").
const (
	SourceRole  = "role"
	SourceGrant = "grant"
	SourceKey   = "key"
	SourceDeny  = "deny"
	// SourcePlan removes what the plan in force does not include.
	SourcePlan = "plan"
)

// PlanProvenance corrects pv, the provenance of permission id computed
// from the member's sources as though no plan applied, for the plan
// access was computed under (Ceiling; access.Plan). The plan removes the
// permission when its ceiling excludes it; without member_overrides the
// member's grants on a gated permission are removed by the plan and
// their denies remove nothing; without custom_roles so are the patterns
// of their custom roles (the roles Ceiling dropped from access.Roles) on
// a gated permission.
// Effective is access's answer. No plan: pv is returned as is.
func (m *Model) PlanProvenance(pv Provenance, id authz.PermID, access *Access) Provenance {
	plan := access.Plan
	if plan == nil {
		return pv
	}
	pv.Effective = access.Permissions.Has(id)
	gated := !m.neverGated.Has(id)
	var removed []Source
	for _, r := range pv.RemovedBy {
		if r.Kind == SourceDeny && gated && !plan.Has(FeatureMemberOverrides) {
			continue // a deny the plan disables takes nothing away
		}
		removed = append(removed, r)
	}
	if !plan.Allows(id) {
		removed = append(removed, Source{Kind: SourcePlan, Name: plan.Slug, Pattern: pv.Permission})
	}
	for _, from := range pv.From {
		feature := ""
		switch {
		case from.Kind == SourceGrant && gated && !plan.Has(FeatureMemberOverrides):
			feature = FeatureMemberOverrides
		case from.Kind == SourceRole && gated && from.ProjectRole == "" && !plan.Has(FeatureCustomRoles) && !slices.Contains(access.Roles, from.Name):
			feature = FeatureCustomRoles
		}
		if feature != "" {
			removed = append(removed, Source{Kind: SourcePlan, Name: plan.Slug, Pattern: from.Pattern, Feature: feature})
		}
	}
	pv.RemovedBy = append([]Source{}, removed...)
	return pv
}

// EffectivePermissions lists every effective permission of membership mem
// with its provenance, sorted by name.
func (m *Model) EffectivePermissions(tx store.Tx, ws store.Workspace, mem store.Membership) ([]Provenance, error) {
	access, err := m.MemberAccess(tx, ws, mem)
	if err != nil {
		return nil, err
	}
	grants, err := m.MemberSources(tx, ws.ID, mem)
	if err != nil {
		return nil, err
	}
	out := []Provenance{}
	for _, name := range access.Permissions.Names(m.catalog) {
		id, _ := m.catalog.ID(name)
		out = append(out, m.Provenance(id, access.Permissions, grants, mem.Denies))
	}
	return out, nil
}

// EffectivePermissionsOf lists every effective permission of userID in
// the live workspace ws, from every source WorkspaceAccess reads (the
// explicit membership and the project roles) under the workspace's plan
// (Standing), with its provenance (PlanProvenance), sorted by name. found is false when the user is a member by neither source.
// The caller checks that ws and its organization are not deleted.
func (m *Model) EffectivePermissionsOf(tx store.Tx, ws store.Workspace, userID string) (out []Provenance, found bool, err error) {
	access, sources, denies, found, err := m.WorkspaceSources(tx, ws, userID)
	if err != nil || !found {
		return nil, found, err
	}
	// Under the workspace's plan, as the gateway decides (Standing).
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return nil, false, err
	}
	access = m.Ceiling(access, plan)
	out = []Provenance{}
	for _, name := range access.Permissions.Names(m.catalog) {
		id, _ := m.catalog.ID(name)
		out = append(out, m.PlanProvenance(m.Provenance(id, access.Permissions, sources, denies), id, access))
	}
	return out, true, nil
}

// WorkspaceSources is WorkspaceAccess (the same answer, found included)
// with the patterns behind it: the explicit membership's (MemberSources)
// and, for each project role, those of the workspace roles it maps to,
// marked with ProjectRole. An inherited role resolves as WorkspaceAccess
// resolves it: the explicit membership's resolution when the role is also
// held explicitly, else the system role's. denies are the explicit
// membership's (project membership carries none).
func (m *Model) WorkspaceSources(tx store.Tx, ws store.Workspace, userID string) (access *Access, sources []Source, denies []string, found bool, err error) {
	access, found, err = m.WorkspaceAccess(tx, ws, userID)
	if err != nil || !found {
		return nil, nil, nil, false, err
	}
	mem, _, err := readMember(tx, ws.ID, userID)
	if err != nil {
		return nil, nil, nil, false, err
	}
	sources, err = m.MemberSources(tx, ws.ID, mem)
	if err != nil {
		return nil, nil, nil, false, err
	}
	projectRoles, err := m.userProjectRoles(tx, ws, userID)
	if err != nil {
		return nil, nil, nil, false, err
	}
	for _, pr := range projectRoles {
		for _, role := range m.projectRoles[pr].WorkspaceRoles {
			patterns := m.roles[role].Permissions
			if slices.Contains(mem.Roles, role) {
				if patterns, _, err = m.RolePatterns(tx, ws.ID, role); err != nil {
					return nil, nil, nil, false, err
				}
			}
			for _, pat := range patterns {
				sources = append(sources, Source{Kind: SourceRole, Name: role, ProjectRole: pr, Pattern: pat})
			}
		}
	}
	return access, sources, mem.Denies, true, nil
}

// MemberSources lists the patterns membership mem holds, with their origin.
func (m *Model) MemberSources(tx store.Tx, workspaceID string, mem store.Membership) ([]Source, error) {
	var out []Source
	for _, role := range mem.Roles {
		patterns, _, err := m.RolePatterns(tx, workspaceID, role)
		if err != nil {
			return nil, err
		}
		for _, pat := range patterns {
			out = append(out, Source{Kind: SourceRole, Name: role, Pattern: pat})
		}
	}
	for _, pat := range mem.Grants {
		out = append(out, Source{Kind: SourceGrant, Pattern: pat})
	}
	return out, nil
}

// KeySources lists an API key's patterns as sources.
func KeySources(key store.APIKey) []Source {
	var out []Source
	for _, pat := range key.Permissions {
		out = append(out, Source{Kind: SourceKey, Name: key.ID, Pattern: pat})
	}
	return out
}

// Provenance says where permission id comes from among grants and which
// denies remove it; effective is the holder's effective set. A pattern
// grants id when it matches it, or matches a permission implying it (Via).
func (m *Model) Provenance(id authz.PermID, effective authz.Set, grants []Source, denies []string) Provenance {
	name := m.catalog.Name(id)
	pv := Provenance{Permission: name, Effective: effective.Has(id), From: []Source{}, RemovedBy: []Source{}}
	for _, g := range grants {
		if !m.catalog.Expand([]string{g.Pattern}).Has(id) {
			continue
		}
		if !authz.Match(g.Pattern, name) {
			g.Via = m.implier(g.Pattern, name)
		}
		pv.From = append(pv.From, g)
	}
	for _, d := range denies {
		if authz.Match(d, name) {
			pv.RemovedBy = append(pv.RemovedBy, Source{Kind: SourceDeny, Pattern: d})
		}
	}
	return pv
}

// implier returns the first catalog permission pattern matches whose
// implications include name.
func (m *Model) implier(pattern, name string) string {
	for _, d := range m.catalog.Declarations() {
		if authz.Match(pattern, d.Name) && slices.Contains(m.catalog.Implied(d.Name), name) {
			return d.Name
		}
	}
	return ""
}
