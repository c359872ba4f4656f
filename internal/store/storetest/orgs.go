package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testOrgs: organizations, projects, their members and the workspace
// scopes (store.OrgTx), one subtest per property; orgindexes.go holds the
// workspace side (OrgWorkspaces, LocalWorkspace), orgfeed.go the feed,
// doom, retry, concurrency and snapshot checks.
func testOrgs(t *testing.T, b Backend) {
	t.Run("Organizations", func(t *testing.T) { testOrganizations(t, b) })
	t.Run("OrgMembers", func(t *testing.T) { testOrgMembers(t, b) })
	t.Run("Projects", func(t *testing.T) { testProjects(t, b) })
	t.Run("ProjectMembers", func(t *testing.T) { testProjectMembers(t, b) })
	t.Run("DeleteProject", func(t *testing.T) { testDeleteProject(t, b) })
	t.Run("OrgWorkspaces", func(t *testing.T) { testOrgWorkspaces(t, b) })
	t.Run("WorkspaceOrgRules", func(t *testing.T) { testWorkspaceOrgRules(t, b) })
	t.Run("LocalWorkspace", func(t *testing.T) { testLocalWorkspace(t, b) })
	t.Run("OrgPurge", func(t *testing.T) { testOrgPurge(t, b) })
	t.Run("OrgFeed", func(t *testing.T) { testOrgFeed(t, b) })
	t.Run("OrgDoom", func(t *testing.T) { testOrgDoom(t, b) })
	t.Run("OrgRetrying", func(t *testing.T) { testOrgRetrying(t, b) })
	t.Run("LocalWorkspaceConcurrent", func(t *testing.T) { testLocalWorkspaceConcurrent(t, b) })
	t.Run("OrgSnapshot", func(t *testing.T) { testOrgSnapshot(t, b) })
	t.Run("OrgInvalidKeys", func(t *testing.T) { testOrgInvalidKeys(t, b) })
	t.Run("OrgWritesInView", func(t *testing.T) { testOrgWritesInView(t, b) })
}

func org(id, slug string) store.Organization {
	return store.Organization{ID: id, Slug: slug, Name: "Org " + id, CreatedAt: t0, UpdatedAt: t0}
}

func orgMember(orgID, userID string, roles ...string) store.OrgMember {
	return store.OrgMember{OrganizationID: orgID, UserID: userID, Roles: roles, JoinedAt: t0, UpdatedAt: t0}
}

func project(id, orgID, slug string) store.Project {
	return store.Project{ID: id, OrganizationID: orgID, Slug: slug, Name: "Project " + id, CreatedAt: t0, UpdatedAt: t0}
}

func projectMember(projectID, orgID, userID string, roles ...string) store.ProjectMember {
	return store.ProjectMember{ProjectID: projectID, OrganizationID: orgID, UserID: userID, Roles: roles, JoinedAt: t0, UpdatedAt: t0}
}

// orgWS is a workspace of organization orgID (and project projectID, if
// not "") with the scope.
func orgWS(id, slug, orgID, projectID string, scope store.Scope) store.Workspace {
	w := ws(id, slug)
	w.OrganizationID, w.ProjectID, w.Scope = orgID, projectID, scope
	return w
}

func localWS(id, slug, owner string) store.Workspace {
	w := ws(id, slug)
	w.Scope, w.OwnerID = store.ScopeLocal, owner
	return w
}

// puts runs the writes in one Update.
func puts(t testing.TB, s store.Store, writes ...func(tx store.Tx) error) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

func putOrg(o store.Organization) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.PutOrganization(o) }
}

func putProject(p store.Project) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.PutProject(p) }
}

func putWS(w store.Workspace) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.PutWorkspace(w) }
}

func orgID(o store.Organization) string           { return o.ID }
func orgMemberUser(m store.OrgMember) string      { return m.UserID }
func orgMemberOrg(m store.OrgMember) string       { return m.OrganizationID }
func projectID(p store.Project) string            { return p.ID }
func projMemberUser(m store.ProjectMember) string { return m.UserID }
func projMemberProj(m store.ProjectMember) string { return m.ProjectID }
func wsID(w store.Workspace) string               { return w.ID }

// pages reads a whole list one item per page, checking that every page
// but the last hands out a cursor, and returns the keys in order.
func pages[T any](t testing.TB, what string, list func(cursor string, limit int) ([]T, string, error), key func(T) string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 100 {
		items, next, err := list(cursor, 1)
		noErr(t, what, err)
		if len(items) > 1 {
			t.Fatalf("%s: a page of limit 1 has %d items", what, len(items))
		}
		out = append(out, ids(items, key)...)
		if next == "" {
			return out
		}
		if len(items) == 0 || next != key(items[0]) {
			t.Fatalf("%s: cursor %q after page %v, want the page's last key", what, next, ids(items, key))
		}
		cursor = next
	}
	t.Fatalf("%s: more than 100 pages", what)
	return nil
}

// testOrganizations: Organization, OrganizationBySlug, PutOrganization and
// its slug index (its own namespace: a workspace may share a slug; a
// changed slug frees the old one; a deleted organization keeps its slug),
// Organizations with cursors, OrganizationsByID, ErrInvalid keys.
func testOrganizations(t *testing.T, b Backend) {
	s := b.Open(t)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Organization("org_a")
		wantErr(t, "Organization of a missing id", err, store.ErrNotFound)
		_, err = tx.OrganizationBySlug("acme")
		wantErr(t, "OrganizationBySlug of a missing slug", err, store.ErrNotFound)
		_, err = tx.Organization("")
		wantErr(t, "Organization of an empty id", err, store.ErrNotFound)
		return nil
	})
	a := org("org_a", "acme")
	a.Plan = "pro"
	seedWorkspace(t, s, "ws_a", "acme") // a workspace slug is no organization slug
	puts(t, s, putOrg(a), putOrg(org("org_c", "gamma")), putOrg(org("org_b", "beta")))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Organization("org_a")
		noErr(t, "Organization", err)
		equal(t, "Organization", got, a)
		got, err = tx.OrganizationBySlug("acme")
		noErr(t, "OrganizationBySlug", err)
		equal(t, "OrganizationBySlug", got, a)
		w, err := tx.WorkspaceBySlug("acme")
		noErr(t, "WorkspaceBySlug of the slug an organization shares", err)
		equal(t, "the workspace of the shared slug", w.ID, "ws_a")
		equal(t, "Organizations one per page", pages(t, "Organizations", tx.Organizations, orgID), []string{"org_a", "org_b", "org_c"})
		list, next, err := tx.Organizations("org_a", 0)
		noErr(t, "Organizations after a cursor", err)
		equal(t, "Organizations after org_a", ids(list, orgID), []string{"org_b", "org_c"})
		equal(t, "Organizations next at the end", next, "")
		m, err := tx.OrganizationsByID([]string{"org_c", "org_missing", "org_a", "org_c", ""})
		noErr(t, "OrganizationsByID", err)
		equal(t, "OrganizationsByID size", len(m), 2)
		equal(t, "OrganizationsByID org_a", m["org_a"], a)
		return nil
	})

	// Another organization cannot take the slug (new or existing), and
	// the refused Update changes nothing.
	err := s.Update(t.Context(), putOrg(org("org_b", "acme")))
	wantErr(t, "PutOrganization with another organization's slug", err, store.ErrSlugTaken)
	err = s.Update(t.Context(), putOrg(org("org_d", "acme")))
	wantErr(t, "PutOrganization of a new organization with a taken slug", err, store.ErrSlugTaken)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OrganizationBySlug("beta")
		noErr(t, "OrganizationBySlug after a refused slug change", err)
		equal(t, "the refused organization's slug", got.ID, "org_b")
		_, err = tx.Organization("org_d")
		wantErr(t, "the organization refused for its slug", err, store.ErrNotFound)
		return nil
	})

	// A changed slug frees the old one; a deleted organization keeps its
	// slug and is still found.
	a.Slug = "acme-inc"
	puts(t, s, putOrg(a))
	puts(t, s, putOrg(org("org_d", "acme")))
	a.DeletedAt = tp(t0)
	puts(t, s, putOrg(a))
	err = s.Update(t.Context(), putOrg(org("org_e", "acme-inc")))
	wantErr(t, "PutOrganization with a deleted organization's slug", err, store.ErrSlugTaken)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OrganizationBySlug("acme")
		noErr(t, "OrganizationBySlug of the freed and retaken slug", err)
		equal(t, "the new owner of the freed slug", got.ID, "org_d")
		got, err = tx.OrganizationBySlug("acme-inc")
		noErr(t, "OrganizationBySlug of a deleted organization", err)
		if !got.Deleted() {
			t.Errorf("OrganizationBySlug lost DeletedAt: %+v", got)
		}
		return nil
	})

	for _, o := range []store.Organization{org("", "x"), org("org_x", ""), org("org\x00x", "x"), org("org_x", "x\x00")} {
		err := s.Update(t.Context(), putOrg(o))
		wantErr(t, "PutOrganization with the invalid key "+quoteKeys(o.ID, o.Slug), err, store.ErrInvalid)
	}
}

func quoteKeys(keys ...string) string {
	out := ""
	for _, k := range keys {
		out += store.QuoteID(k) + " "
	}
	return out
}

// testOrgMembers: OrgMember, PutOrgMember (the organization must exist,
// ErrNotFound leaving the transaction usable), DeleteOrgMember, OrgMembers
// and UserOrgMemberships with cursors.
func testOrgMembers(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putOrg(org("org_b", "b")))
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "PutOrgMember in a missing organization", tx.PutOrgMember(orgMember("org_missing", "alice", "owner")), store.ErrNotFound)
		// ErrNotFound leaves the transaction usable.
		return tx.PutOrgMember(orgMember("org_a", "alice", "owner", "billing"))
	})
	full := orgMember("org_a", "alice", "owner", "billing")
	puts(t, s,
		func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "carol", "member")) },
		func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "bob", "member")) },
		func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_b", "alice", "member")) },
	)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OrgMember("org_a", "alice")
		noErr(t, "OrgMember", err)
		equal(t, "OrgMember", got, full)
		_, err = tx.OrgMember("org_a", "dave")
		wantErr(t, "OrgMember of a non-member", err, store.ErrNotFound)
		_, err = tx.OrgMember("org_missing", "alice")
		wantErr(t, "OrgMember of a missing organization", err, store.ErrNotFound)
		equal(t, "OrgMembers one per page", pages(t, "OrgMembers", func(c string, l int) ([]store.OrgMember, string, error) {
			return tx.OrgMembers("org_a", c, l)
		}, orgMemberUser), []string{"alice", "bob", "carol"})
		equal(t, "UserOrgMemberships one per page", pages(t, "UserOrgMemberships", func(c string, l int) ([]store.OrgMember, string, error) {
			return tx.UserOrgMemberships("alice", c, l)
		}, orgMemberOrg), []string{"org_a", "org_b"})
		list, _, err := tx.UserOrgMemberships("alice", "", 0)
		noErr(t, "UserOrgMemberships", err)
		equal(t, "UserOrgMemberships' record", list[0], full)
		list, _, err = tx.UserOrgMemberships("nobody", "", 0)
		noErr(t, "UserOrgMemberships of nobody", err)
		equal(t, "UserOrgMemberships of nobody", len(list), 0)
		return nil
	})

	full.Roles = []string{"member"}
	puts(t, s, func(tx store.Tx) error { return tx.PutOrgMember(full) })
	puts(t, s, func(tx store.Tx) error { return tx.DeleteOrgMember("org_b", "alice") })
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteOrgMember("org_b", "alice") })
	wantErr(t, "DeleteOrgMember twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OrgMember("org_a", "alice")
		noErr(t, "OrgMember after replace", err)
		equal(t, "OrgMember after replace", got, full)
		_, err = tx.OrgMember("org_b", "alice")
		wantErr(t, "OrgMember after delete", err, store.ErrNotFound)
		list, _, err := tx.UserOrgMemberships("alice", "", 0)
		noErr(t, "UserOrgMemberships after delete", err)
		equal(t, "UserOrgMemberships after delete", ids(list, orgMemberOrg), []string{"org_a"})
		equal(t, "UserOrgMemberships sees the replaced record", list[0], full)
		return nil
	})
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "")) })
	wantErr(t, "PutOrgMember with an empty user id", err, store.ErrInvalid)
}

// testProjects: Project, ProjectBySlug, PutProject (the organization must
// exist; slugs unique within an organization only; a changed slug frees
// the old one; a project never moves to another organization), Projects
// with cursors.
func testProjects(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putOrg(org("org_b", "b")))
	err := s.Update(t.Context(), putProject(project("prj_x", "org_missing", "web")))
	wantErr(t, "PutProject in a missing organization", err, store.ErrNotFound)
	web := project("prj_2", "org_a", "web")
	web.Description = "the site"
	puts(t, s, putProject(web), putProject(project("prj_1", "org_a", "api")), putProject(project("prj_3", "org_b", "web")))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Project("prj_2")
		noErr(t, "Project", err)
		equal(t, "Project", got, web)
		_, err = tx.Project("prj_missing")
		wantErr(t, "Project of a missing id", err, store.ErrNotFound)
		got, err = tx.ProjectBySlug("org_a", "web")
		noErr(t, "ProjectBySlug", err)
		equal(t, "ProjectBySlug org_a web", got, web)
		got, err = tx.ProjectBySlug("org_b", "web")
		noErr(t, "ProjectBySlug of the same slug in another organization", err)
		equal(t, "ProjectBySlug org_b web", got.ID, "prj_3")
		_, err = tx.ProjectBySlug("org_missing", "web")
		wantErr(t, "ProjectBySlug in a missing organization", err, store.ErrNotFound)
		_, err = tx.ProjectBySlug("org_a", "nope")
		wantErr(t, "ProjectBySlug of a missing slug", err, store.ErrNotFound)
		equal(t, "Projects one per page", pages(t, "Projects", func(c string, l int) ([]store.Project, string, error) {
			return tx.Projects("org_a", c, l)
		}, projectID), []string{"prj_1", "prj_2"})
		list, _, err := tx.Projects("org_missing", "", 0)
		noErr(t, "Projects of a missing organization", err)
		equal(t, "Projects of a missing organization", len(list), 0)
		return nil
	})

	err = s.Update(t.Context(), putProject(project("prj_4", "org_a", "web")))
	wantErr(t, "PutProject with a slug taken in its organization", err, store.ErrSlugTaken)
	err = s.Update(t.Context(), putProject(project("prj_1", "org_a", "web")))
	wantErr(t, "PutProject renaming to a taken slug", err, store.ErrSlugTaken)
	err = s.Update(t.Context(), putProject(project("prj_1", "org_b", "api")))
	wantErr(t, "PutProject moving a project to another organization", err, store.ErrInvalid)

	web.Slug = "site"
	puts(t, s, putProject(web))
	puts(t, s, putProject(project("prj_4", "org_a", "web")))
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ProjectBySlug("org_a", "site")
		noErr(t, "ProjectBySlug of the new slug", err)
		equal(t, "ProjectBySlug of the new slug", got, web)
		got, err = tx.ProjectBySlug("org_a", "web")
		noErr(t, "ProjectBySlug of the freed and retaken slug", err)
		equal(t, "the new owner of the freed slug", got.ID, "prj_4")
		got, err = tx.Project("prj_1")
		noErr(t, "Project after a refused move", err)
		equal(t, "the refused move's organization", got.OrganizationID, "org_a")
		return nil
	})
	err = s.Update(t.Context(), putProject(project("prj_5", "org_a", "")))
	wantErr(t, "PutProject with an empty slug", err, store.ErrInvalid)
}

// testProjectMembers: ProjectMember, PutProjectMember (the project must
// exist; its organization must be the project's), DeleteProjectMember,
// ProjectMembers and UserProjectMemberships with cursors.
func testProjectMembers(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putOrg(org("org_b", "b")),
		putProject(project("prj_1", "org_a", "web")), putProject(project("prj_2", "org_a", "api")), putProject(project("prj_3", "org_b", "web")))
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "PutProjectMember in a missing project", tx.PutProjectMember(projectMember("prj_missing", "org_a", "alice", "developer")), store.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutProjectMember(projectMember("prj_1", "org_b", "alice", "developer"))
	})
	wantErr(t, "PutProjectMember naming another organization", err, store.ErrInvalid)

	full := projectMember("prj_1", "org_a", "alice", "developer", "admin")
	puts(t, s,
		func(tx store.Tx) error { return tx.PutProjectMember(full) },
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_a", "bob", "developer"))
		},
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_3", "org_b", "alice", "developer"))
		},
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_2", "org_a", "alice", "developer"))
		},
	)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ProjectMember("prj_1", "alice")
		noErr(t, "ProjectMember", err)
		equal(t, "ProjectMember", got, full)
		_, err = tx.ProjectMember("prj_1", "carol")
		wantErr(t, "ProjectMember of a non-member", err, store.ErrNotFound)
		_, err = tx.ProjectMember("prj_missing", "alice")
		wantErr(t, "ProjectMember of a missing project", err, store.ErrNotFound)
		equal(t, "ProjectMembers one per page", pages(t, "ProjectMembers", func(c string, l int) ([]store.ProjectMember, string, error) {
			return tx.ProjectMembers("prj_1", c, l)
		}, projMemberUser), []string{"alice", "bob"})
		equal(t, "UserProjectMemberships one per page", pages(t, "UserProjectMemberships", func(c string, l int) ([]store.ProjectMember, string, error) {
			return tx.UserProjectMemberships("alice", c, l)
		}, projMemberProj), []string{"prj_1", "prj_2", "prj_3"})
		list, _, err := tx.UserProjectMemberships("alice", "", 0)
		noErr(t, "UserProjectMemberships", err)
		equal(t, "UserProjectMemberships' record", list[0], full)
		return nil
	})

	full.Roles = []string{"developer"}
	puts(t, s, func(tx store.Tx) error { return tx.PutProjectMember(full) })
	puts(t, s, func(tx store.Tx) error { return tx.DeleteProjectMember("prj_2", "alice") })
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteProjectMember("prj_2", "alice") })
	wantErr(t, "DeleteProjectMember twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ProjectMember("prj_1", "alice")
		noErr(t, "ProjectMember after replace", err)
		equal(t, "ProjectMember after replace", got, full)
		_, err = tx.ProjectMember("prj_2", "alice")
		wantErr(t, "ProjectMember after delete", err, store.ErrNotFound)
		list, _, err := tx.UserProjectMemberships("alice", "", 0)
		noErr(t, "UserProjectMemberships after delete", err)
		equal(t, "UserProjectMemberships after delete", ids(list, projMemberProj), []string{"prj_1", "prj_3"})
		equal(t, "UserProjectMemberships sees the replaced record", list[0], full)
		return nil
	})
}

// testDeleteProject: DeleteProject removes the project, its slug (free
// again), its members and their user index entries; ErrNotFound for a
// missing project; ErrInvalid while a workspace still names the project.
func testDeleteProject(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putProject(project("prj_1", "org_a", "web")), putProject(project("prj_2", "org_a", "api")),
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_a", "alice", "developer"))
		},
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_a", "bob", "developer"))
		},
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_2", "org_a", "alice", "developer"))
		},
		putWS(orgWS("ws_p", "p", "org_a", "prj_2", store.ScopeProject)),
	)
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteProject("prj_missing") })
	wantErr(t, "DeleteProject of a missing project", err, store.ErrNotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteProject("prj_2") })
	wantErr(t, "DeleteProject of a project with a workspace", err, store.ErrInvalid)

	puts(t, s, func(tx store.Tx) error { return tx.DeleteProject("prj_1") })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Project("prj_1")
		wantErr(t, "Project after delete", err, store.ErrNotFound)
		_, err = tx.ProjectBySlug("org_a", "web")
		wantErr(t, "ProjectBySlug after delete", err, store.ErrNotFound)
		_, err = tx.ProjectMember("prj_1", "alice")
		wantErr(t, "ProjectMember of a deleted project", err, store.ErrNotFound)
		list, _, err := tx.ProjectMembers("prj_1", "", 0)
		noErr(t, "ProjectMembers of a deleted project", err)
		equal(t, "ProjectMembers of a deleted project", len(list), 0)
		ms, _, err := tx.UserProjectMemberships("alice", "", 0)
		noErr(t, "UserProjectMemberships after delete", err)
		equal(t, "UserProjectMemberships after delete", ids(ms, projMemberProj), []string{"prj_2"})
		ms, _, err = tx.UserProjectMemberships("bob", "", 0)
		noErr(t, "UserProjectMemberships of bob after delete", err)
		equal(t, "UserProjectMemberships of bob after delete", len(ms), 0)
		ps, _, err := tx.Projects("org_a", "", 0)
		noErr(t, "Projects after delete", err)
		equal(t, "Projects after delete", ids(ps, projectID), []string{"prj_2"})
		_, err = tx.Project("prj_2")
		noErr(t, "the refused DeleteProject kept the project", err)
		return nil
	})
	puts(t, s, putProject(project("prj_9", "org_a", "web"))) // the slug is free
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteProject("prj_1") })
	wantErr(t, "DeleteProject twice", err, store.ErrNotFound)
}

// testOrgInvalidKeys: reads of keys no backend can store find nothing
// (ErrNotFound or an empty list), never an error of another kind.
func testOrgInvalidKeys(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putProject(project("prj_1", "org_a", "web")))
	view(t, s, func(tx store.Tx) error {
		for _, id := range []string{"", "a\x00b"} {
			for name, err := range map[string]error{
				"Organization":       second(tx.Organization(id)),
				"OrganizationBySlug": second(tx.OrganizationBySlug(id)),
				"OrgMember":          second(tx.OrgMember("org_a", id)),
				"OrgMember of org":   second(tx.OrgMember(id, "alice")),
				"Project":            second(tx.Project(id)),
				"ProjectBySlug":      second(tx.ProjectBySlug("org_a", id)),
				"ProjectMember":      second(tx.ProjectMember("prj_1", id)),
				"LocalWorkspace":     second(tx.LocalWorkspace(id)),
			} {
				wantErr(t, name+" of "+quoteID(id), err, store.ErrNotFound)
			}
			for name, list := range map[string]func() (int, error){
				"OrgMembers":             func() (int, error) { l, _, err := tx.OrgMembers(id, "", 0); return len(l), err },
				"UserOrgMemberships":     func() (int, error) { l, _, err := tx.UserOrgMemberships(id, "", 0); return len(l), err },
				"Projects":               func() (int, error) { l, _, err := tx.Projects(id, "", 0); return len(l), err },
				"ProjectMembers":         func() (int, error) { l, _, err := tx.ProjectMembers(id, "", 0); return len(l), err },
				"UserProjectMemberships": func() (int, error) { l, _, err := tx.UserProjectMemberships(id, "", 0); return len(l), err },
				"OrgWorkspaces":          func() (int, error) { l, _, err := tx.OrgWorkspaces(id, "", "", 0); return len(l), err },
				"OrgWorkspaces project":  func() (int, error) { l, _, err := tx.OrgWorkspaces("org_a", id+"x\x00", "", 0); return len(l), err },
			} {
				if n, err := list(); err != nil || n != 0 {
					t.Errorf("%s of %s: %d, %v; want none, nil", name, quoteID(id), n, err)
				}
			}
		}
		m, err := tx.OrganizationsByID([]string{"", "a\x00b", "org_a"})
		noErr(t, "OrganizationsByID with invalid ids", err)
		equal(t, "OrganizationsByID with invalid ids", len(m), 1)
		return nil
	})
}

// testOrgWritesInView: every organization-level write fails inside View
// and writes nothing.
func testOrgWritesInView(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "a")), putProject(project("prj_1", "org_a", "web")))
	before := export(t, s)
	view(t, s, func(tx store.Tx) error {
		for name, err := range map[string]error{
			"PutOrganization":     tx.PutOrganization(org("org_b", "b")),
			"PutOrgMember":        tx.PutOrgMember(orgMember("org_a", "alice")),
			"DeleteOrgMember":     tx.DeleteOrgMember("org_a", "alice"),
			"PutProject":          tx.PutProject(project("prj_2", "org_a", "api")),
			"DeleteProject":       tx.DeleteProject("prj_1"),
			"PutProjectMember":    tx.PutProjectMember(projectMember("prj_1", "org_a", "alice")),
			"DeleteProjectMember": tx.DeleteProjectMember("prj_1", "alice"),
		} {
			if err == nil {
				t.Errorf("%s inside View succeeded", name)
			}
		}
		return nil
	})
	equal(t, "the store after writes in a View", export(t, s), before)
}
