package model

import "github.com/gatehouse-authz/gatehouse/internal/store"

// Detail is a Standing with the parts it is made of, for the management
// API, whose invariants need more than the result: what a PUT replaces
// (the explicit membership), and the access before the plan (so that
// what is handed out on a small plan never exceeds its giver after an
// upgrade).
type Detail struct {
	// Access is Standing's answer: Raw under Plan (Ceiling).
	Access *Access
	// Raw is WorkspaceAccess: explicit and project roles, no plan.
	Raw *Access
	// Plan governs the workspace (WorkspacePlan; nil when config
	// declares none).
	Plan *Plan
	// Member is the explicit membership, zero when Explicit is false
	// (a member through the project only).
	Member   store.Membership
	Explicit bool
}

// StandingDetail is Standing with its parts, read with the same store
// calls Standing makes (Standing is built on it, so the two cannot
// differ).
func (m *Model) StandingDetail(tx store.Tx, ws store.Workspace, userID string) (*Detail, bool, error) {
	d, found, err := m.standingDetail(tx, ws, userID)
	if err != nil || !found {
		return nil, found, err
	}
	return &d, true, nil
}

// standingDetail is StandingDetail by value, so that Standing (the
// gateway's cache fill) allocates nothing more than it did.
func (m *Model) standingDetail(tx store.Tx, ws store.Workspace, userID string) (Detail, bool, error) {
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return Detail{}, false, err
	}
	return m.standingDetailAt(tx, ws, userID, plan)
}

// standingDetailAt is standingDetail under plan, already read.
func (m *Model) standingDetailAt(tx store.Tx, ws store.Workspace, userID string, plan *Plan) (Detail, bool, error) {
	mem, explicit, err := readMember(tx, ws.ID, userID)
	if err != nil {
		return Detail{}, false, err
	}
	raw, found, err := m.workspaceAccessOf(tx, ws, userID, mem, explicit)
	if err != nil || !found {
		return Detail{}, found, err
	}
	return Detail{Access: m.Ceiling(raw, plan), Raw: raw, Plan: plan, Member: mem, Explicit: explicit}, true, nil
}

// StandingOf is Standing for an explicit membership mem already read (a
// listing of the user's memberships), without reading it again.
func (m *Model) StandingOf(tx store.Tx, ws store.Workspace, mem store.Membership) (*Access, error) {
	raw, _, err := m.workspaceAccessOf(tx, ws, mem.UserID, mem, true)
	if err != nil {
		return nil, err
	}
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return nil, err
	}
	return m.Ceiling(raw, plan), nil
}
