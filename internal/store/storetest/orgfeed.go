package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testOrgFeed: the Change each organization-level write records, exactly
// and in the contract's order (workspaces, members, API keys, then
// organizations, org members, projects, project members, whatever order
// the writes came in), deduplicated; a workspace's organization, project
// or scope change is a ChangeWorkspace.
func testOrgFeed(t *testing.T, b Backend) {
	s := b.Open(t)
	rec := newRecorder(s)
	o := org("org_a", "acme")
	w := orgWS("ws_a", "a", "org_a", "", "")
	for _, c := range []struct {
		name  string
		write func(tx store.Tx) error
		want  []string
	}{
		{"create an organization", putOrg(o), []string{"org org_a"}},
		{"change its plan", func(tx store.Tx) error { o.Plan = "pro"; return tx.PutOrganization(o) }, []string{"org org_a"}},
		{"delete it", func(tx store.Tx) error { o.DeletedAt = tp(t0); return tx.PutOrganization(o) }, []string{"org org_a"}},
		{"restore it", func(tx store.Tx) error { o.DeletedAt = nil; return tx.PutOrganization(o) }, []string{"org org_a"}},
		{"put an org member", func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "alice", "owner")) }, []string{"orgmember org_a alice"}},
		{"delete an org member", func(tx store.Tx) error { return tx.DeleteOrgMember("org_a", "alice") }, []string{"orgmember org_a alice"}},
		{"create a project", putProject(project("prj_1", "org_a", "web")), []string{"project org_a prj_1"}},
		{"put a project member", func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_a", "bob", "developer"))
		}, []string{"projmember org_a prj_1 bob"}},
		{"delete a project member", func(tx store.Tx) error { return tx.DeleteProjectMember("prj_1", "bob") }, []string{"projmember org_a prj_1 bob"}},
		{"a workspace in the organization", putWS(w), []string{"ws ws_a true"}},
		{"into a project", func(tx store.Tx) error {
			w.ProjectID, w.Scope = "prj_1", store.ScopeProject
			return tx.PutWorkspace(w)
		}, []string{"ws ws_a false"}},
		{"out of the organization", func(tx store.Tx) error {
			w.OrganizationID, w.ProjectID, w.Scope = "", "", ""
			return tx.PutWorkspace(w)
		}, []string{"ws ws_a false"}},
		{"a plan", func(tx store.Tx) error { w.Plan = "pro"; return tx.PutWorkspace(w) }, []string{"ws ws_a false"}},
		{"delete a project with a member", func(tx store.Tx) error {
			if err := tx.PutProjectMember(projectMember("prj_1", "org_a", "carol", "developer")); err != nil {
				return err
			}
			return tx.DeleteProject("prj_1")
		}, []string{"project org_a prj_1", "projmember org_a prj_1 carol"}},
		{"every kind in reverse order, with duplicates", func(tx store.Tx) error {
			for _, err := range []error{
				tx.PutProject(project("prj_2", "org_a", "api")),
				tx.PutProjectMember(projectMember("prj_2", "org_a", "dave", "developer")),
				tx.PutProjectMember(projectMember("prj_2", "org_a", "dave", "admin")),
				tx.PutOrgMember(orgMember("org_a", "erin", "member")),
				tx.PutOrganization(o),
				tx.PutAPIKey(apiKey("k1", "ws_a")),
				tx.PutMember(member("ws_a", "erin", "viewer")),
				tx.PutProject(project("prj_2", "org_a", "api2")),
				tx.PutOrganization(o),
				tx.PutWorkspace(w),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"ws ws_a false", "member ws_a erin", "apikey ws_a k1", "org org_a", "orgmember org_a erin",
			"project org_a prj_2", "projmember org_a prj_2 dave"}},
	} {
		rev, err := s.UpdateRev(t.Context(), c.write)
		noErr(t, c.name, err)
		cms := rec.read(t, c.name)
		if len(cms) != 1 || cms[0].Revision != rev {
			t.Errorf("%s: commits %+v after UpdateRev returned %d, want exactly that one", c.name, cms, rev)
			continue
		}
		if got := changeStrings(cms); !slices.Equal(got, c.want) {
			t.Errorf("%s: changes %q, want %q", c.name, got, c.want)
		}
	}
	// The new fields travel in the feed's JSON with their own names.
	cms, err := s.Changes(t.Context(), 0, 0)
	noErr(t, "Changes", err)
	raw, err := json.Marshal(cms[len(cms)-1])
	noErr(t, "encoding a commit", err)
	for _, field := range []string{`"organization_id":"org_a"`, `"project_id":"prj_2"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("the commit %s lacks %s", raw, field)
		}
	}
}

// testOrgDoom: a failed organization-level write other than ErrNotFound
// dooms the transaction (later calls return it, nothing commits), and
// ErrNotFound (a missing organization or project) does not.
func testOrgDoom(t *testing.T, b Backend) {
	s := b.Open(t)
	puts(t, s, putOrg(org("org_a", "acme")), putProject(project("prj_1", "org_a", "web")), putWS(localWS("ws_l", "l", "alice")))
	rev := s.Revision()
	for _, c := range []struct {
		name  string
		write func(tx store.Tx) error
		want  error
	}{
		{"PutOrganization with a taken slug", putOrg(org("org_b", "acme")), store.ErrSlugTaken},
		{"PutProject with a taken slug", putProject(project("prj_2", "org_a", "web")), store.ErrSlugTaken},
		{"a second local workspace", putWS(localWS("ws_l2", "l2", "alice")), store.ErrInvalid},
		{"PutProjectMember of another organization", func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_x", "bob", "developer"))
		}, store.ErrInvalid},
		{"PutOrgMember with an empty user", func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "")) }, store.ErrInvalid},
	} {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			noErr(t, c.name+": the write before", tx.PutOrgMember(orgMember("org_a", "early", "member")))
			wantErr(t, c.name, c.write(tx), c.want)
			wantErr(t, c.name+": a write after", tx.PutOrgMember(orgMember("org_a", "late", "member")), c.want)
			_, err := tx.Organization("org_a")
			wantErr(t, c.name+": a read after", err, c.want)
			return nil
		})
		wantErr(t, c.name+": Update", err, c.want)
	}
	equal(t, "Revision after doomed Updates", s.Revision(), rev)
	view(t, s, func(tx store.Tx) error {
		list, _, err := tx.OrgMembers("org_a", "", 0)
		noErr(t, "OrgMembers", err)
		equal(t, "org members written by doomed transactions", len(list), 0)
		return nil
	})
	// ErrNotFound leaves the transaction usable.
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "PutOrgMember of a missing organization", tx.PutOrgMember(orgMember("org_missing", "bob")), store.ErrNotFound)
		wantErr(t, "PutProject of a missing organization", tx.PutProject(project("prj_x", "org_missing", "x")), store.ErrNotFound)
		wantErr(t, "PutProjectMember of a missing project", tx.PutProjectMember(projectMember("prj_missing", "org_a", "bob")), store.ErrNotFound)
		wantErr(t, "PutWorkspace in a missing organization", tx.PutWorkspace(orgWS("ws_x", "x", "org_missing", "", "")), store.ErrNotFound)
		wantErr(t, "DeleteProject of a missing project", tx.DeleteProject("prj_missing"), store.ErrNotFound)
		wantErr(t, "DeleteOrgMember of a non-member", tx.DeleteOrgMember("org_a", "nobody"), store.ErrNotFound)
		wantErr(t, "DeleteProjectMember of a non-member", tx.DeleteProjectMember("prj_1", "nobody"), store.ErrNotFound)
		return tx.PutOrgMember(orgMember("org_a", "kept", "member"))
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.OrgMember("org_a", "kept")
		noErr(t, "the write after ErrNotFound committed", err)
		return nil
	})
}

// testOrgRetrying: through Retrying, the read-then-create of a local
// workspace and an organization with its owner runs twice, the second
// run sees the concurrent writer's organization, and exactly one
// local workspace and one organization result.
func testOrgRetrying(t *testing.T, b Backend) {
	s := b.Open(t)
	r := Retrying(s, func() {
		view(t, s, func(tx store.Tx) error {
			_, err := tx.LocalWorkspace("alice")
			wantErr(t, "the local workspace of the rolled-back first run", err, store.ErrNotFound)
			return nil
		})
		puts(t, s, putOrg(org("org_between", "between")))
	})
	var runs int
	err := r.Update(t.Context(), func(tx store.Tx) error {
		runs++
		_, err := tx.OrganizationBySlug("between")
		if runs == 1 {
			wantErr(t, "the concurrent organization in the first run", err, store.ErrNotFound)
		} else {
			noErr(t, "the concurrent organization in the second run", err)
		}
		if _, err := tx.LocalWorkspace("alice"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("LocalWorkspace before create: %v", err)
		}
		if err := tx.PutWorkspace(localWS("ws_l", "alice-home", "alice")); err != nil {
			return err
		}
		if err := tx.PutOrganization(org("org_a", "acme")); err != nil {
			return err
		}
		return tx.PutOrgMember(orgMember("org_a", "alice", "owner"))
	})
	noErr(t, "the retried Update", err)
	equal(t, "runs", runs, 2)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace", err)
		equal(t, "LocalWorkspace", got.ID, "ws_l")
		list, _, err := tx.Organizations("", 0)
		noErr(t, "Organizations", err)
		equal(t, "Organizations", ids(list, orgID), []string{"org_a", "org_between"})
		ms, _, err := tx.UserOrgMemberships("alice", "", 0)
		noErr(t, "UserOrgMemberships", err)
		equal(t, "UserOrgMemberships", ids(ms, orgMemberOrg), []string{"org_a"})
		return nil
	})
}

// testLocalWorkspaceConcurrent: writers on two Store values each create
// the same user's local workspace unless it exists (read, then create, in
// one Update): every Update succeeds (serializable: a later one sees the
// earlier one's workspace) and exactly one local workspace exists.
func testLocalWorkspaceConcurrent(t *testing.T, b Backend) {
	ss := pair(t, b)
	const writers = 4 // per Store value
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for v := range 2 {
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("ws_l%d%d", v, i)
				errs <- ss[v].Update(t.Context(), func(tx store.Tx) error {
					_, err := tx.LocalWorkspace("alice")
					if err == nil || !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return tx.PutWorkspace(localWS(id, id, "alice"))
				})
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "a concurrent read-then-create of the local workspace", err)
	}
	view(t, ss[1], func(tx store.Tx) error {
		all, _, err := tx.Workspaces("", 0)
		noErr(t, "Workspaces", err)
		var local []string
		for _, w := range all {
			if w.Scope == store.ScopeLocal && w.OwnerID == "alice" {
				local = append(local, w.ID)
			}
		}
		if len(local) != 1 {
			t.Fatalf("local workspaces of alice: %v, want exactly one", local)
		}
		got, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace", err)
		equal(t, "LocalWorkspace", got.ID, local[0])
		return nil
	})
}

// testOrgSnapshot: Export and Import carry organizations, their members,
// projects, project members and the workspace fields, with every index
// rebuilt; a snapshot written before them (no such sections) imports, and
// one naming an organization it lacks is refused.
func testOrgSnapshot(t *testing.T, b Backend) {
	src := b.Open(t)
	o := org("org_a", "acme")
	o.Plan, o.DeletedAt = "pro", tp(t0)
	p := project("prj_1", "org_a", "web")
	p.Description = "the site"
	scoped := orgWS("ws_p", "p", "org_a", "prj_1", store.ScopeProject)
	free := ws("ws_f", "f")
	free.Plan = "pro"
	puts(t, src, putOrg(o), putOrg(org("org_b", "beta")), putProject(p), putProject(project("prj_2", "org_b", "web")),
		func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_a", "alice", "owner")) },
		func(tx store.Tx) error { return tx.PutOrgMember(orgMember("org_b", "alice", "member")) },
		func(tx store.Tx) error {
			return tx.PutProjectMember(projectMember("prj_1", "org_a", "alice", "developer"))
		},
		func(tx store.Tx) error { return tx.PutProjectMember(projectMember("prj_2", "org_b", "bob", "admin")) },
		putWS(scoped), putWS(free), putWS(localWS("ws_l", "l", "alice")),
		putWS(orgWS("ws_o", "o", "org_b", "", store.ScopePrivate)),
		func(tx store.Tx) error { return tx.PutMember(member("ws_p", "alice", "admin")) },
	)
	st, err := src.Stats(t.Context())
	noErr(t, "Stats", err)
	equal(t, "Stats of the organization records", [4]int{st.Organizations, st.OrgMembers, st.Projects, st.ProjectMembers}, [4]int{2, 2, 2, 2})
	snap := export(t, src)
	equal(t, "exported organizations", ids(snap.Organizations, orgID), []string{"org_a", "org_b"})
	equal(t, "exported projects", ids(snap.Projects, projectID), []string{"prj_1", "prj_2"})
	equal(t, "exported org members", len(snap.OrgMembers), 2)
	equal(t, "exported project members", len(snap.ProjectMembers), 2)
	raw, err := json.Marshal(snap)
	noErr(t, "encoding the snapshot", err)
	var decoded store.Snapshot
	noErr(t, "decoding the snapshot", json.Unmarshal(raw, &decoded))
	dst := b.Open(t)
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, decoded) })
	equal(t, "Export after Import", export(t, dst), snap)
	view(t, dst, func(tx store.Tx) error {
		got, err := tx.OrganizationBySlug("acme")
		noErr(t, "OrganizationBySlug after import", err)
		equal(t, "OrganizationBySlug after import", got, o)
		gp, err := tx.ProjectBySlug("org_a", "web")
		noErr(t, "ProjectBySlug after import", err)
		equal(t, "ProjectBySlug after import", gp, p)
		ms, _, err := tx.UserOrgMemberships("alice", "", 0)
		noErr(t, "UserOrgMemberships after import", err)
		equal(t, "UserOrgMemberships after import", ids(ms, orgMemberOrg), []string{"org_a", "org_b"})
		pms, _, err := tx.UserProjectMemberships("bob", "", 0)
		noErr(t, "UserProjectMemberships after import", err)
		equal(t, "UserProjectMemberships after import", ids(pms, projMemberProj), []string{"prj_2"})
		equal(t, "OrgWorkspaces after import", orgWorkspaces(t, tx, "org_a", "prj_1"), []string{"ws_p"})
		equal(t, "OrgWorkspaces of org_b after import", orgWorkspaces(t, tx, "org_b", ""), []string{"ws_o"})
		lw, err := tx.LocalWorkspace("alice")
		noErr(t, "LocalWorkspace after import", err)
		equal(t, "LocalWorkspace after import", lw.ID, "ws_l")
		return nil
	})

	// A snapshot from before organizations: no such sections at all.
	old := []byte(`{"version":1,"users":[{"id":"alice","first_seen":"2025-01-02T03:04:05Z","last_seen":"2025-01-02T03:04:05Z"}],
		"workspaces":[{"id":"ws_a","slug":"acme","name":"A","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}],
		"memberships":[{"workspace_id":"ws_a","user_id":"alice","roles":["admin"],"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}],
		"roles":[],"invites":[],"audit":[],"signing_keys":[]}`)
	var oldSnap store.Snapshot
	noErr(t, "decoding an old snapshot", json.Unmarshal(old, &oldSnap))
	fresh := b.Open(t)
	update(t, fresh, func(tx store.Tx) error { return store.Import(tx, oldSnap) })
	view(t, fresh, func(tx store.Tx) error {
		w, err := tx.Workspace("ws_a")
		noErr(t, "Workspace of an old snapshot", err)
		equal(t, "the scope of an old snapshot's workspace", w.EffectiveScope(), store.ScopePrivate)
		equal(t, "the organization of an old snapshot's workspace", w.OrganizationID, "")
		list, _, err := tx.Organizations("", 0)
		noErr(t, "Organizations of an old snapshot", err)
		equal(t, "Organizations of an old snapshot", len(list), 0)
		return nil
	})
	again := export(t, fresh)
	equal(t, "Export of an old snapshot's store has empty organization lists", again.Organizations, []store.Organization{})

	// A workspace naming an organization the snapshot lacks is refused
	// by Check, before anything is written.
	bad := decoded
	bad.Organizations = bad.Organizations[1:]
	if err := bad.Check(); err == nil {
		t.Error("Check of a snapshot whose workspace names a missing organization passed")
	}
	bad = decoded
	bad.Projects = bad.Projects[:1]
	bad.ProjectMembers = bad.ProjectMembers[:1]
	bad.Workspaces = append(append([]store.Workspace{}, bad.Workspaces...), orgWS("ws_z", "z", "org_b", "prj_2", store.ScopeProject))
	if err := bad.Check(); err == nil {
		t.Error("Check of a snapshot whose workspace names a missing project passed")
	}
}
