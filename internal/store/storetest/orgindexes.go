package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// orgWorkspaces lists OrgWorkspaces(orgID, projectID) one per page.
func orgWorkspaces(t testing.TB, tx store.Tx, orgID, projectID string) []string {
	t.Helper()
	return pages(t, "OrgWorkspaces "+orgID+" "+projectID, func(c string, l int) ([]store.Workspace, string, error) {
		return tx.OrgWorkspaces(orgID, projectID, c, l)
	}, wsID)
}

// testOrgWorkspaces: the organization → workspaces index PutWorkspace
// keeps: all of an organization's workspaces (deleted ones too, by id),
// a project's only, a project of another organization lists nothing;
// moving a workspace between projects, out of its project and out of its
// organization moves its entries; old-style workspaces read as private.
func testOrgWorkspaces(t *testing.T, b Backend) {
	s := b.Open(t)
	del := orgWS("ws_4", "d", "org_a", "prj_1", store.ScopePrivate)
	del.DeletedAt = tp(t0)
	puts(t, s, putOrg(org("org_a", "a")), putOrg(org("org_b", "b")),
		putProject(project("prj_1", "org_a", "web")), putProject(project("prj_2", "org_a", "api")), putProject(project("prj_3", "org_b", "web")),
		putWS(orgWS("ws_3", "c", "org_a", "prj_1", store.ScopeProject)),
		putWS(orgWS("ws_1", "a", "org_a", "", "")),
		putWS(del),
		putWS(orgWS("ws_2", "b", "org_a", "prj_2", store.ScopeProject)),
		putWS(orgWS("ws_5", "e", "org_b", "prj_3", store.ScopeProject)),
		putWS(ws("ws_0", "plain")),
	)
	view(t, s, func(tx store.Tx) error {
		equal(t, "OrgWorkspaces of org_a", orgWorkspaces(t, tx, "org_a", ""), []string{"ws_1", "ws_2", "ws_3", "ws_4"})
		equal(t, "OrgWorkspaces of prj_1", orgWorkspaces(t, tx, "org_a", "prj_1"), []string{"ws_3", "ws_4"})
		equal(t, "OrgWorkspaces of prj_2", orgWorkspaces(t, tx, "org_a", "prj_2"), []string{"ws_2"})
		equal(t, "OrgWorkspaces of org_b", orgWorkspaces(t, tx, "org_b", ""), []string{"ws_5"})
		equal(t, "OrgWorkspaces of a project of another organization", orgWorkspaces(t, tx, "org_a", "prj_3"), []string(nil))
		equal(t, "OrgWorkspaces of a missing organization", orgWorkspaces(t, tx, "org_missing", ""), []string(nil))
		list, _, err := tx.OrgWorkspaces("org_a", "prj_1", "", 0)
		noErr(t, "OrgWorkspaces", err)
		equal(t, "OrgWorkspaces' records", list, []store.Workspace{orgWS("ws_3", "c", "org_a", "prj_1", store.ScopeProject), del})
		w, err := tx.Workspace("ws_0")
		noErr(t, "Workspace outside any organization", err)
		equal(t, "the scope of a workspace without one", w.EffectiveScope(), store.ScopePrivate)
		return nil
	})

	// ws_3 moves to prj_2, ws_2 leaves its project (staying in org_a),
	// ws_1 leaves the organization.
	puts(t, s, putWS(orgWS("ws_3", "c", "org_a", "prj_2", store.ScopeProject)), putWS(orgWS("ws_2", "b", "org_a", "", store.ScopePrivate)),
		putWS(ws("ws_1", "a")))
	view(t, s, func(tx store.Tx) error {
		equal(t, "OrgWorkspaces of org_a after the moves", orgWorkspaces(t, tx, "org_a", ""), []string{"ws_2", "ws_3", "ws_4"})
		equal(t, "OrgWorkspaces of prj_1 after the moves", orgWorkspaces(t, tx, "org_a", "prj_1"), []string{"ws_4"})
		equal(t, "OrgWorkspaces of prj_2 after the moves", orgWorkspaces(t, tx, "org_a", "prj_2"), []string{"ws_3"})
		return nil
	})
	// prj_1 still has ws_4; once it moves too the project can go.
	puts(t, s, putWS(ws("ws_4", "d")), func(tx store.Tx) error { return tx.DeleteProject("prj_1") })
}

// testWorkspaceOrgRules: PutWorkspace refuses a bad organization field
// with the contract's error, before writing anything.
func testWorkspaceOrgRules(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putOrg(org("org_b", "b")), putProject(project("prj_b", "org_b", "web")))
	for _, c := range []struct {
		name string
		w    store.Workspace
		want error
	}{
		{"an unknown scope", orgWS("ws_x", "x", "", "", "public"), store.ErrInvalid},
		{"a project without an organization", orgWS("ws_x", "x", "", "prj_b", ""), store.ErrInvalid},
		{"scope project without a project", orgWS("ws_x", "x", "org_a", "", store.ScopeProject), store.ErrInvalid},
		{"a missing organization", orgWS("ws_x", "x", "org_missing", "", ""), store.ErrNotFound},
		{"a missing project", orgWS("ws_x", "x", "org_a", "prj_missing", store.ScopeProject), store.ErrNotFound},
		{"a project of another organization", orgWS("ws_x", "x", "org_a", "prj_b", store.ScopeProject), store.ErrInvalid},
		{"a local workspace without an owner", orgWS("ws_x", "x", "", "", store.ScopeLocal), store.ErrInvalid},
		{"a local workspace in an organization", func() store.Workspace {
			w := localWS("ws_x", "x", "alice")
			w.OrganizationID = "org_a"
			return w
		}(), store.ErrInvalid},
	} {
		err := s.Update(t.Context(), putWS(c.w))
		wantErr(t, "PutWorkspace with "+c.name, err, c.want)
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Workspace("ws_x")
		wantErr(t, "a refused workspace", err, store.ErrNotFound)
		_, err = tx.WorkspaceBySlug("x")
		wantErr(t, "the slug of a refused workspace", err, store.ErrNotFound)
		_, err = tx.LocalWorkspace("alice")
		wantErr(t, "the local workspace of a refused write", err, store.ErrNotFound)
		equal(t, "OrgWorkspaces after refused writes", orgWorkspaces(t, tx, "org_a", ""), []string(nil))
		return nil
	})
	// Every valid combination is accepted, including an explicit
	// "private" and a plan outside any organization.
	priv := orgWS("ws_1", "one", "org_b", "prj_b", store.ScopePrivate)
	free := ws("ws_2", "two")
	free.Plan = "pro"
	puts(t, s, putWS(priv), putWS(free))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Workspace("ws_2")
		noErr(t, "Workspace with a plan", err)
		equal(t, "Workspace with a plan", got, free)
		got, err = tx.Workspace("ws_1")
		noErr(t, "Workspace private in a project", err)
		equal(t, "Workspace private in a project", got, priv)
		return nil
	})
}

// testLocalWorkspace: the owner → local workspace index: found by
// LocalWorkspace, a second local workspace for one user refused, replaced
// in place, dropped when the scope changes, and not an organization's.
func testLocalWorkspace(t *testing.T, b Backend) {
	s := b.Open(t)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.LocalWorkspace("alice")
		wantErr(t, "LocalWorkspace of a user without one", err, store.ErrNotFound)
		_, err = tx.LocalWorkspace("")
		wantErr(t, "LocalWorkspace of an empty id", err, store.ErrNotFound)
		return nil
	})
	mine := localWS("ws_la", "alice-home", "alice")
	puts(t, s, putWS(mine), putWS(localWS("ws_lb", "bob-home", "bob")))
	err := s.Update(t.Context(), putWS(localWS("ws_la2", "alice-2", "alice")))
	wantErr(t, "a second local workspace for one user", err, store.ErrInvalid)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace", err)
		equal(t, "LocalWorkspace", got, mine)
		got, err = tx.LocalWorkspace("bob")
		noErr(t, "LocalWorkspace of bob", err)
		equal(t, "LocalWorkspace of bob", got.ID, "ws_lb")
		_, err = tx.Workspace("ws_la2")
		wantErr(t, "the refused second local workspace", err, store.ErrNotFound)
		return nil
	})
	// Replacing it (a rename) keeps it; a deleted one is still found.
	mine.Name, mine.DeletedAt = "Home", tp(t0)
	puts(t, s, putWS(mine))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace after a replace", err)
		equal(t, "LocalWorkspace after a replace", got, mine)
		return nil
	})
	// No longer local: the index entry goes, and another may take its
	// place.
	mine.Scope, mine.OwnerID = store.ScopePrivate, ""
	puts(t, s, putWS(mine))
	view(t, s, func(tx store.Tx) error {
		_, err := tx.LocalWorkspace("alice")
		wantErr(t, "LocalWorkspace after the scope changed", err, store.ErrNotFound)
		return nil
	})
	puts(t, s, putWS(localWS("ws_la2", "alice-2", "alice")))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace of the new one", err)
		equal(t, "LocalWorkspace of the new one", got.ID, "ws_la2")
		return nil
	})
}

// testOrgPurge: PurgeWorkspace clears the workspace's organization,
// project and local index entries: the lists forget it, its project can
// be deleted, its owner may have a new local workspace.
func testOrgPurge(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putProject(project("prj_1", "org_a", "web")),
		putWS(orgWS("ws_p", "p", "org_a", "prj_1", store.ScopeProject)), putWS(orgWS("ws_q", "q", "org_a", "", "")),
		putWS(localWS("ws_l", "l", "alice")))
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"ws_p", "ws_l"} {
			if _, err := tx.PurgeWorkspace(id); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		equal(t, "OrgWorkspaces after purge", orgWorkspaces(t, tx, "org_a", ""), []string{"ws_q"})
		equal(t, "OrgWorkspaces of the project after purge", orgWorkspaces(t, tx, "org_a", "prj_1"), []string(nil))
		_, err := tx.LocalWorkspace("alice")
		wantErr(t, "LocalWorkspace after purge", err, store.ErrNotFound)
		return nil
	})
	puts(t, s, func(tx store.Tx) error { return tx.DeleteProject("prj_1") }, putWS(localWS("ws_l2", "l", "alice")))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace after purge and a new one", err)
		equal(t, "LocalWorkspace after purge and a new one", got.ID, "ws_l2")
		return nil
	})
}
