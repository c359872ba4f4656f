package model_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestPlaceOfAgreesWithItsParts: PlaceOf is OrganizationDeleted and
// WorkspacePlan read at once, and StandingAt under PlaceOf's plan is
// Standing, for a live, a deleted and a missing organization, and a
// workspace outside any.
func TestPlaceOfAgreesWithItsParts(t *testing.T) {
	f := newFixture(t)
	m := newModel(t, planConfig())
	now := time.Now().UTC()
	cases := []store.Workspace{
		{ID: "ws_live0000000000000000000000", Slug: "live", OrganizationID: "org_live"},
		{ID: "ws_gone0000000000000000000000", Slug: "gone", OrganizationID: "org_gone"},
		{ID: "ws_lost0000000000000000000000", Slug: "lost", OrganizationID: "org_lost"},
		{ID: "ws_solo0000000000000000000000", Slug: "solo", Plan: "pro"},
		{ID: "ws_dflt0000000000000000000000", Slug: "dflt"},
	}
	f.update(func(tx store.Tx) error {
		for _, o := range []store.Organization{
			{ID: "org_live", Slug: "live", Name: "Live", Plan: "pro"},
			{ID: "org_gone", Slug: "gone", Name: "Gone", DeletedAt: &now},
		} {
			o.CreatedAt, o.UpdatedAt = now, now
			if err := tx.PutOrganization(o); err != nil {
				return err
			}
		}
		// Members in every workspace the store accepts (not the one
		// whose organization is missing).
		for _, ws := range cases {
			if ws.OrganizationID == "org_lost" {
				continue
			}
			ws.Name, ws.CreatedAt, ws.UpdatedAt = ws.Slug, now, now
			if err := tx.PutWorkspace(ws); err != nil {
				return err
			}
			for _, m := range []store.Membership{
				{WorkspaceID: ws.ID, UserID: "alice", Roles: []string{"owner"}},
				{WorkspaceID: ws.ID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
			} {
				m.JoinedAt, m.UpdatedAt = now, now
				if err := tx.PutMember(m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	f.view(func(tx store.Tx) error {
		for _, ws := range cases {
			place, err := m.PlaceOf(tx, ws)
			if err != nil {
				return err
			}
			gone, err := m.OrganizationDeleted(tx, ws)
			if err != nil {
				return err
			}
			plan, err := m.WorkspacePlan(tx, ws)
			if err != nil {
				return err
			}
			if place.OrgDeleted != gone || place.Plan != plan {
				t.Errorf("%s: PlaceOf = %v/%v, parts say %v/%v", ws.Slug, place.OrgDeleted, place.Plan.Slug, gone, plan.Slug)
			}
			for _, user := range []string{"alice", "dave", "nobody"} {
				want, wantFound, err := m.Standing(tx, ws, user)
				if err != nil {
					return err
				}
				got, found, err := m.StandingAt(tx, ws, user, place.Plan)
				if err != nil {
					return err
				}
				if user != "nobody" && ws.OrganizationID != "org_lost" && !found {
					t.Errorf("%s %s: no standing", ws.Slug, user)
				}
				if found != wantFound || found && !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s: StandingAt = %+v (%v), Standing = %+v (%v)", ws.Slug, user, got, found, want, wantFound)
				}
			}
		}
		return nil
	})
}
