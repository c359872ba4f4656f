package permcache

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestApplyExpiresOnOrganizationKinds: the organization-level change
// kinds (issue 14) have no stripes yet, so Apply's default flushes every
// entry for each of them: an entry of an unrelated workspace and user,
// stamped before the change, is no longer valid after it, whatever
// fields the change carries. (The gateway step replaces the flush with
// stripes; until then a plan, role or membership change at organization
// or project level can never leave a cached decision standing.)
func TestApplyExpiresOnOrganizationKinds(t *testing.T) {
	for _, c := range []store.Change{
		{Kind: store.ChangeOrganization, OrganizationID: "org_a"},
		{Kind: store.ChangeOrgMember, OrganizationID: "org_a", UserID: "bob"},
		{Kind: store.ChangeProject, OrganizationID: "org_a", ProjectID: "prj_1"},
		{Kind: store.ChangeProjectMember, OrganizationID: "org_a", ProjectID: "prj_1", UserID: "bob"},
	} {
		v := NewVersions()
		for _, stamp := range []func() Stamp{
			func() Stamp { return v.Target(v.IDStamp(), "ws_1", "alice") },
			func() Stamp { return v.Target(v.SlugStamp(), "ws_1", "alice") },
			func() Stamp { return v.KeyStamp("k1") },
			v.IDStamp,
		} {
			s := stamp()
			if !v.Valid(s) {
				t.Fatalf("kind %d: a fresh stamp is not valid", c.Kind)
			}
			v.Apply(c)
			if v.Valid(s) {
				t.Errorf("kind %d: a stamp taken before the change is still valid after it", c.Kind)
			}
		}
	}
}

// Every applied Change, of any kind, moves the sequence a Mark records.
func TestMarkSeesEveryAppliedChange(t *testing.T) {
	v := NewVersions()
	for _, c := range []store.Change{
		{Kind: store.ChangeMember, WorkspaceID: "ws_1", UserID: "alice"},
		{Kind: store.ChangeWorkspace, WorkspaceID: "ws_2"},
		{Kind: store.ChangeAPIKey, KeyID: "k1"},
		{Kind: store.ChangeOrganization},
		{Kind: store.ChangeKind(99)}, // a kind this build does not know
	} {
		m := v.Mark()
		if !v.Unchanged(m) {
			t.Fatal("a fresh mark is already changed")
		}
		v.Apply(c)
		if v.Unchanged(m) {
			t.Errorf("applying %+v left the mark unchanged", c)
		}
	}
}
