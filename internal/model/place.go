package model

import (
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Place is what a workspace's organization decides for it, read once:
// whether the organization is gone (OrganizationDeleted) and the plan
// in force (WorkspacePlan). The gateway's cache fill reads it with one
// organization read instead of two.
type Place struct {
	// OrgDeleted is OrganizationDeleted's answer.
	OrgDeleted bool
	// Plan is WorkspacePlan's answer (nil: no plan is configured).
	Plan *Plan
}

// PlaceOf reads ws's Place with one organization read: OrganizationDeleted
// and WorkspacePlan are its two halves.
func (m *Model) PlaceOf(tx store.Tx, ws store.Workspace) (Place, error) {
	if ws.OrganizationID == "" {
		return Place{Plan: m.PlanNamed(ws.Plan)}, nil
	}
	org, err := tx.Organization(ws.OrganizationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// As OrganizationDeleted and WorkspacePlan: gone, and the
		// cheapest plan should anything read it.
		return Place{OrgDeleted: true, Plan: m.cheapestPlan()}, nil
	case err != nil:
		return Place{}, err
	}
	return Place{OrgDeleted: org.Deleted(), Plan: m.PlanNamed(org.Plan)}, nil
}

// StandingAt is Standing with ws's plan already read (PlaceOf).
func (m *Model) StandingAt(tx store.Tx, ws store.Workspace, userID string, plan *Plan) (access *Access, found bool, err error) {
	d, found, err := m.standingDetailAt(tx, ws, userID, plan)
	return d.Access, found, err
}
