package pgstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Organizations, projects and their memberships (store.OrgTx), and the
// workspace side of them (the organization columns of workspaces). The
// tables and constraints are in migrations/0002_organizations.sql; every
// rule is checked here first, with a read, so that a refused write fails
// with the contract's error (not a constraint violation) and ErrNotFound
// leaves the transaction usable. The constraints are the backstop.

func notFoundIn(what, id, parent, parentID string) error {
	return fmt.Errorf("pgstore: %s %s in %s %s: %w", what, quote(id), parent, quote(parentID), store.ErrNotFound)
}

// invalidKeys returns ErrNotFound (nf) for a read whose keys cannot name a
// record, or nil when they can.
func (t *tx) invalidKeys(nf func() error, keys ...string) error {
	for _, k := range keys {
		if !validKey(k) {
			if err := t.readable(); err != nil {
				return err
			}
			return nf()
		}
	}
	return nil
}

// emptyList is the page of a list whose key cannot name a record.
func emptyList[T any](t *tx) ([]T, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	return []T{}, "", nil
}

// ---- organizations

func (t *tx) Organization(id string) (store.Organization, error) {
	nf := func() error { return notFound("organization", id) }
	if err := t.invalidKeys(nf, id); err != nil {
		return store.Organization{}, err
	}
	return getOne[store.Organization](t, nf, "organization", `SELECT data FROM organizations WHERE id = $1`, id)
}

func (t *tx) OrganizationBySlug(slug string) (store.Organization, error) {
	nf := func() error { return notFound("organization slug", slug) }
	if err := t.invalidKeys(nf, slug); err != nil {
		return store.Organization{}, err
	}
	return getOne[store.Organization](t, nf, "organization", `SELECT data FROM organizations WHERE slug = $1`, slug)
}

func (t *tx) PutOrganization(o store.Organization) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("organization id", o.ID, "organization slug", o.Slug); err != nil {
		return t.fail(err)
	}
	data, err := t.encode("organization", o)
	if err != nil {
		return err
	}
	var owner string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT id FROM organizations WHERE slug = $1`, o.Slug).Scan(&owner); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return t.dbErr("checking the organization slug", err)
	case owner != o.ID:
		return t.fail(fmt.Errorf("pgstore: organization slug %s: %w", quote(o.Slug), store.ErrSlugTaken))
	}
	t.ch.orgs().Organization(o.ID)
	return t.exec("writing organization", `INSERT INTO organizations (id, slug, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, data = EXCLUDED.data`, o.ID, o.Slug, data)
}

func (t *tx) Organizations(cursor string, limit int) ([]store.Organization, string, error) {
	return page[store.Organization](t, "organizations", limit, `SELECT id, data FROM organizations WHERE id > $1 ORDER BY id LIMIT $2`, cursor)
}

func (t *tx) OrganizationsByID(ids []string) (map[string]store.Organization, error) {
	return byID[store.Organization](t, "organizations", `SELECT id, data FROM organizations WHERE id = ANY($1)`, ids)
}

// orgExists reports ErrNotFound (not dooming) when organization id is
// missing.
func (t *tx) orgExists(id string) error {
	ok, err := t.exists("the organization", `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)`, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("organization", id)
	}
	return nil
}

// ---- organization members

func (t *tx) OrgMember(orgID, userID string) (store.OrgMember, error) {
	nf := func() error { return notFoundIn("member", userID, "organization", orgID) }
	if err := t.invalidKeys(nf, orgID, userID); err != nil {
		return store.OrgMember{}, err
	}
	return getOne[store.OrgMember](t, nf, "organization member",
		`SELECT data FROM org_members WHERE organization_id = $1 AND user_id = $2`, orgID, userID)
}

func (t *tx) PutOrgMember(m store.OrgMember) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("organization member organization id", m.OrganizationID, "organization member user id", m.UserID); err != nil {
		return t.fail(err)
	}
	if err := t.orgExists(m.OrganizationID); err != nil {
		return err
	}
	data, err := t.encode("organization member", m)
	if err != nil {
		return err
	}
	t.ch.orgs().OrgMember(m.OrganizationID, m.UserID)
	return t.exec("writing organization member", `INSERT INTO org_members (organization_id, user_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (organization_id, user_id) DO UPDATE SET data = EXCLUDED.data`, m.OrganizationID, m.UserID, data)
}

func (t *tx) DeleteOrgMember(orgID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("organization member organization id", orgID, "organization member user id", userID); err != nil {
		return t.fail(err)
	}
	tag, err := t.ptx.Exec(t.ctx, `DELETE FROM org_members WHERE organization_id = $1 AND user_id = $2`, orgID, userID)
	if err != nil {
		return t.dbErr("deleting organization member", err)
	}
	if tag.RowsAffected() == 0 {
		return notFoundIn("member", userID, "organization", orgID)
	}
	t.ch.orgs().OrgMember(orgID, userID)
	return nil
}

func (t *tx) OrgMembers(orgID, cursor string, limit int) ([]store.OrgMember, string, error) {
	if !validKey(orgID) {
		return emptyList[store.OrgMember](t)
	}
	return page[store.OrgMember](t, "organization members", limit, `SELECT user_id, data FROM org_members
		WHERE organization_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`, orgID, cursor)
}

func (t *tx) UserOrgMemberships(userID, cursor string, limit int) ([]store.OrgMember, string, error) {
	if !validKey(userID) {
		return emptyList[store.OrgMember](t)
	}
	return page[store.OrgMember](t, "organization memberships", limit, `SELECT organization_id, data FROM org_members
		WHERE user_id = $1 AND organization_id > $2 ORDER BY organization_id LIMIT $3`, userID, cursor)
}

// ---- projects

func (t *tx) Project(id string) (store.Project, error) {
	nf := func() error { return notFound("project", id) }
	if err := t.invalidKeys(nf, id); err != nil {
		return store.Project{}, err
	}
	return getOne[store.Project](t, nf, "project", `SELECT data FROM projects WHERE id = $1`, id)
}

func (t *tx) ProjectBySlug(orgID, slug string) (store.Project, error) {
	nf := func() error { return notFoundIn("project slug", slug, "organization", orgID) }
	if err := t.invalidKeys(nf, orgID, slug); err != nil {
		return store.Project{}, err
	}
	return getOne[store.Project](t, nf, "project", `SELECT data FROM projects WHERE organization_id = $1 AND slug = $2`, orgID, slug)
}

// projectOrg returns the organization of project id, ErrNotFound (not
// dooming) when there is no such project.
func (t *tx) projectOrg(id string) (string, error) {
	var org string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT organization_id FROM projects WHERE id = $1`, id).Scan(&org); {
	case errors.Is(err, pgx.ErrNoRows):
		return "", notFound("project", id)
	case err != nil:
		return "", t.dbErr("reading the project", err)
	}
	return org, nil
}

func (t *tx) PutProject(p store.Project) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("project id", p.ID, "project organization id", p.OrganizationID, "project slug", p.Slug); err != nil {
		return t.fail(err)
	}
	data, err := t.encode("project", p)
	if err != nil {
		return err
	}
	if err := t.orgExists(p.OrganizationID); err != nil {
		return err
	}
	switch org, err := t.projectOrg(p.ID); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case org != p.OrganizationID:
		return t.fail(fmt.Errorf("pgstore: project %s cannot move from organization %s to %s: %w",
			quote(p.ID), quote(org), quote(p.OrganizationID), store.ErrInvalid))
	}
	var owner string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT id FROM projects WHERE organization_id = $1 AND slug = $2`, p.OrganizationID, p.Slug).Scan(&owner); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return t.dbErr("checking the project slug", err)
	case owner != p.ID:
		return t.fail(fmt.Errorf("pgstore: project slug %s in organization %s: %w", quote(p.Slug), quote(p.OrganizationID), store.ErrSlugTaken))
	}
	t.ch.orgs().Project(p.OrganizationID, p.ID)
	return t.exec("writing project", `INSERT INTO projects (id, organization_id, slug, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, data = EXCLUDED.data`, p.ID, p.OrganizationID, p.Slug, data)
}

func (t *tx) DeleteProject(id string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("project id", id); err != nil {
		return t.fail(err)
	}
	org, err := t.projectOrg(id)
	if err != nil {
		return err
	}
	var ws string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT id FROM workspaces WHERE organization_id = $1 AND project_id = $2 ORDER BY id LIMIT 1`, org, id).Scan(&ws); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return t.dbErr("checking the project's workspaces", err)
	default:
		return t.fail(fmt.Errorf("pgstore: project %s still has workspaces (%s): %w", quote(id), quote(ws), store.ErrInvalid))
	}
	// The members go with the project (ON DELETE CASCADE); read them
	// first, for their Changes.
	var users []string
	err = t.ptx.QueryRow(t.ctx, `WITH
		m AS (DELETE FROM project_members WHERE project_id = $1 RETURNING user_id),
		p AS (DELETE FROM projects WHERE id = $1 RETURNING 1)
		SELECT coalesce((SELECT array_agg(user_id ORDER BY user_id) FROM m), '{}'), (SELECT count(*) FROM p)`, id).Scan(&users, nil)
	if err != nil {
		return t.dbErr("deleting project", err)
	}
	t.ch.orgs().Project(org, id)
	for _, u := range users {
		t.ch.orgs().ProjectMember(org, id, u)
	}
	return nil
}

func (t *tx) Projects(orgID, cursor string, limit int) ([]store.Project, string, error) {
	if !validKey(orgID) {
		return emptyList[store.Project](t)
	}
	return page[store.Project](t, "projects", limit, `SELECT id, data FROM projects
		WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT $3`, orgID, cursor)
}

// ---- project members

func (t *tx) ProjectMember(projectID, userID string) (store.ProjectMember, error) {
	nf := func() error { return notFoundIn("member", userID, "project", projectID) }
	if err := t.invalidKeys(nf, projectID, userID); err != nil {
		return store.ProjectMember{}, err
	}
	return getOne[store.ProjectMember](t, nf, "project member",
		`SELECT data FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
}

func (t *tx) PutProjectMember(m store.ProjectMember) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("project member project id", m.ProjectID, "project member user id", m.UserID); err != nil {
		return t.fail(err)
	}
	org, err := t.projectOrg(m.ProjectID)
	if err != nil {
		return err
	}
	if m.OrganizationID != org {
		return t.fail(fmt.Errorf("pgstore: project member of project %s names organization %s, the project's is %s: %w",
			quote(m.ProjectID), quote(m.OrganizationID), quote(org), store.ErrInvalid))
	}
	data, err := t.encode("project member", m)
	if err != nil {
		return err
	}
	t.ch.orgs().ProjectMember(m.OrganizationID, m.ProjectID, m.UserID)
	return t.exec("writing project member", `INSERT INTO project_members (project_id, organization_id, user_id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, user_id) DO UPDATE SET data = EXCLUDED.data`, m.ProjectID, m.OrganizationID, m.UserID, data)
}

func (t *tx) DeleteProjectMember(projectID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("project member project id", projectID, "project member user id", userID); err != nil {
		return t.fail(err)
	}
	var org string
	err := t.ptx.QueryRow(t.ctx, `DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 RETURNING organization_id`, projectID, userID).Scan(&org)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFoundIn("member", userID, "project", projectID)
	case err != nil:
		return t.dbErr("deleting project member", err)
	}
	t.ch.orgs().ProjectMember(org, projectID, userID)
	return nil
}

func (t *tx) ProjectMembers(projectID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	if !validKey(projectID) {
		return emptyList[store.ProjectMember](t)
	}
	return page[store.ProjectMember](t, "project members", limit, `SELECT user_id, data FROM project_members
		WHERE project_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`, projectID, cursor)
}

func (t *tx) UserProjectMemberships(userID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	if !validKey(userID) {
		return emptyList[store.ProjectMember](t)
	}
	return page[store.ProjectMember](t, "project memberships", limit, `SELECT project_id, data FROM project_members
		WHERE user_id = $1 AND project_id > $2 ORDER BY project_id LIMIT $3`, userID, cursor)
}

// ---- workspaces of organizations, local workspaces

// checkWorkspaceOrg checks w's organization fields against the other
// records (store.OrgTx doc) before PutWorkspace writes. A workspace
// outside any organization and not local costs no query.
func (t *tx) checkWorkspaceOrg(w store.Workspace) error {
	if err := store.CheckWorkspaceScope(w); err != nil {
		return t.fail(fmt.Errorf("pgstore: %w", err))
	}
	if w.OrganizationID != "" {
		if err := checkKey("workspace organization id", w.OrganizationID); err != nil {
			return t.fail(err)
		}
		if err := t.orgExists(w.OrganizationID); err != nil {
			return err
		}
	}
	if w.ProjectID != "" {
		if err := checkKey("workspace project id", w.ProjectID); err != nil {
			return t.fail(err)
		}
		org, err := t.projectOrg(w.ProjectID)
		if err != nil {
			return err
		}
		if org != w.OrganizationID {
			return t.fail(fmt.Errorf("pgstore: workspace %s: project %s belongs to organization %s, not %s: %w",
				quote(w.ID), quote(w.ProjectID), quote(org), quote(w.OrganizationID), store.ErrInvalid))
		}
	}
	if w.Scope == store.ScopeLocal {
		if err := checkKey("local workspace owner id", w.OwnerID); err != nil {
			return t.fail(err)
		}
		var other string
		switch err := t.ptx.QueryRow(t.ctx, `SELECT id FROM workspaces WHERE owner_id = $1 AND scope = 'local'`, w.OwnerID).Scan(&other); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return t.dbErr("checking the owner's local workspace", err)
		case other != w.ID:
			return t.fail(fmt.Errorf("pgstore: user %s already has local workspace %s: %w", quote(w.OwnerID), quote(other), store.ErrInvalid))
		}
	}
	return nil
}

// workspaceColumns are the values of w's organization columns: NULL (nil)
// for none, scope NULL for private, owner_id only for a local workspace.
func workspaceColumns(w store.Workspace) (org, project, scope, owner any) {
	if w.OrganizationID != "" {
		org = w.OrganizationID
	}
	if w.ProjectID != "" {
		project = w.ProjectID
	}
	switch w.Scope {
	case store.ScopeProject:
		scope = string(w.Scope)
	case store.ScopeLocal:
		scope, owner = string(w.Scope), w.OwnerID
	}
	return org, project, scope, owner
}

func (t *tx) OrgWorkspaces(orgID, projectID, cursor string, limit int) ([]store.Workspace, string, error) {
	if !validKey(orgID) || (projectID != "" && !validKey(projectID)) {
		return emptyList[store.Workspace](t)
	}
	if projectID == "" {
		return page[store.Workspace](t, "organization workspaces", limit, `SELECT id, data FROM workspaces
			WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT $3`, orgID, cursor)
	}
	return page[store.Workspace](t, "project workspaces", limit, `SELECT id, data FROM workspaces
		WHERE organization_id = $1 AND project_id = $2 AND id > $3 ORDER BY id LIMIT $4`, orgID, projectID, cursor)
}

func (t *tx) LocalWorkspace(userID string) (store.Workspace, error) {
	nf := func() error { return notFound("local workspace of user", userID) }
	if err := t.invalidKeys(nf, userID); err != nil {
		return store.Workspace{}, err
	}
	return getOne[store.Workspace](t, nf, "workspace", `SELECT data FROM workspaces WHERE owner_id = $1 AND scope = 'local'`, userID)
}
