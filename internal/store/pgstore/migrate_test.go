package pgstore

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// TestMigrateFromVersion1: a database at schema version 1 (before
// organizations), with data written by that version's store, migrates to
// this build's version on Open and keeps its data: the workspace reads
// back as private and outside any organization, its membership and the
// revision and store id are unchanged, and the new tables and the
// workspace's new columns work at once (an organization, a project, the
// workspace moved into it, a local workspace).
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{pool: pool}
	if err := old.migrateTo(ctx, 1); err != nil {
		pool.Close()
		t.Fatalf("migrating to version 1: %v", err)
	}
	pool.Close()
	// Rows as version 1 wrote them (its records had no organization
	// fields).
	var id string
	query(t, u, `WITH
		w AS (INSERT INTO workspaces (id, slug, data) VALUES ('ws_a', 'acme',
			'{"id":"ws_a","slug":"acme","name":"Acme","created_at":"2025-01-02T03:04:05.000006Z","updated_at":"2025-01-02T03:04:05.000006Z"}') RETURNING 1),
		m AS (INSERT INTO memberships (workspace_id, user_id, data) VALUES ('ws_a', 'alice',
			'{"workspace_id":"ws_a","user_id":"alice","roles":["admin"],"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}') RETURNING 1),
		r AS (UPDATE meta SET revision = 41 RETURNING 1)
		SELECT store_id FROM meta, (SELECT count(*) FROM w) w, (SELECT count(*) FROM m) m, (SELECT count(*) FROM r) r`, &id)
	var version int
	query(t, u, `SELECT max(version) FROM gatehouse_schema`, &version)
	if version != 1 {
		t.Fatalf("the old database is at version %d, want 1", version)
	}
	var before int
	query(t, u, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'organizations'`, &before)
	if before != 0 {
		t.Fatal("version 1 already has the organizations table")
	}

	s := openURL(t, u, Options{})
	query(t, u, `SELECT max(version) FROM gatehouse_schema`, &version)
	if version != SchemaVersion() || version < 2 {
		t.Fatalf("after Open the database is at version %d, want %d (>= 2)", version, SchemaVersion())
	}
	if s.ID() != id || s.Revision() != 41 {
		t.Errorf("after the migration: id %q revision %d, want %q and 41", s.ID(), s.Revision(), id)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		w, err := tx.Workspace("ws_a")
		if err != nil {
			return err
		}
		if w.Name != "Acme" || w.EffectiveScope() != store.ScopePrivate || w.OrganizationID != "" || w.ProjectID != "" {
			t.Errorf("the old workspace after the migration: %+v", w)
		}
		m, err := tx.Member("ws_a", "alice")
		if err != nil {
			return err
		}
		if len(m.Roles) != 1 || m.Roles[0] != "admin" {
			t.Errorf("the old membership after the migration: %+v", m)
		}
		_, err = tx.LocalWorkspace("alice")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LocalWorkspace of an old store: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		w, err := tx.Workspace("ws_a")
		if err != nil {
			return err
		}
		for _, err := range []error{
			tx.PutOrganization(store.Organization{ID: "org_a", Slug: "acme", Name: "Acme"}),
			tx.PutProject(store.Project{ID: "prj_1", OrganizationID: "org_a", Slug: "web", Name: "Web"}),
		} {
			if err != nil {
				return err
			}
		}
		w.OrganizationID, w.ProjectID, w.Scope = "org_a", "prj_1", store.ScopeProject
		if err := tx.PutWorkspace(w); err != nil {
			return err
		}
		return tx.PutWorkspace(store.Workspace{ID: "ws_l", Slug: "alice-home", Name: "Home", Scope: store.ScopeLocal, OwnerID: "alice"})
	})
	if err != nil {
		t.Fatalf("writing organizations into the migrated store: %v", err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		list, _, err := tx.OrgWorkspaces("org_a", "prj_1", "", 0)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != "ws_a" {
			t.Errorf("OrgWorkspaces after the migration: %+v", list)
		}
		w, err := tx.LocalWorkspace("alice")
		if err != nil || w.ID != "ws_l" {
			t.Errorf("LocalWorkspace after the migration: %+v, %v", w, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOrgConstraints: the schema itself refuses what the store checks in
// Go, for a write that bypassed the store (a bug, a manual edit): a
// second local workspace of one user, a workspace whose project is of
// another organization, a project member of another organization than
// its project's, and deleting a project that a workspace names.
func TestOrgConstraints(t *testing.T) {
	ctx := context.Background()
	s, u := openT(t, Options{})
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, err := range []error{
			tx.PutOrganization(store.Organization{ID: "org_a", Slug: "a"}),
			tx.PutOrganization(store.Organization{ID: "org_b", Slug: "b"}),
			tx.PutProject(store.Project{ID: "prj_b", OrganizationID: "org_b", Slug: "web"}),
			tx.PutWorkspace(store.Workspace{ID: "ws_p", Slug: "p", OrganizationID: "org_b", ProjectID: "prj_b", Scope: store.ScopeProject}),
			tx.PutWorkspace(store.Workspace{ID: "ws_l", Slug: "l", Scope: store.ScopeLocal, OwnerID: "alice"}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, sql := range map[string]string{
		"a second local workspace":        `INSERT INTO workspaces (id, slug, data, scope, owner_id) VALUES ('ws_l2', 'l2', '{}', 'local', 'alice')`,
		"a project of another org":        `INSERT INTO workspaces (id, slug, data, organization_id, project_id) VALUES ('ws_x', 'x', '{}', 'org_a', 'prj_b')`,
		"a project without an org":        `INSERT INTO workspaces (id, slug, data, project_id) VALUES ('ws_y', 'y', '{}', 'prj_b')`,
		"a local workspace in an org":     `INSERT INTO workspaces (id, slug, data, organization_id, scope, owner_id) VALUES ('ws_z', 'z', '{}', 'org_a', 'local', 'bob')`,
		"an unknown scope":                `INSERT INTO workspaces (id, slug, data, scope) VALUES ('ws_s', 's', '{}', 'public')`,
		"a member of another org":         `INSERT INTO project_members (project_id, organization_id, user_id, data) VALUES ('prj_b', 'org_a', 'bob', '{}')`,
		"a member of an unknown org":      `INSERT INTO org_members (organization_id, user_id, data) VALUES ('org_missing', 'bob', '{}')`,
		"a taken project slug":            `INSERT INTO projects (id, organization_id, slug, data) VALUES ('prj_c', 'org_b', 'web', '{}')`,
		"a taken organization slug":       `INSERT INTO organizations (id, slug, data) VALUES ('org_c', 'a', '{}')`,
		"deleting a project in use":       `DELETE FROM projects WHERE id = 'prj_b'`,
		"an organization of a missing id": `INSERT INTO workspaces (id, slug, data, organization_id) VALUES ('ws_o', 'o', '{}', 'org_missing')`,
	} {
		if _, err := conn.Exec(ctx, sql); err == nil {
			t.Errorf("%s: the database accepted %s", name, sql)
		}
	}
}
