package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testStats: Stats counts every kind of record, deleted workspaces apart.
// SizeBytes is the backend's own measure and is not checked.
func testStats(t *testing.T, b Backend) {
	s := b.Open(t)
	st, err := s.Stats(t.Context())
	noErr(t, "Stats of an empty store", err)
	st.SizeBytes = 0
	equal(t, "Stats of an empty store", st, store.Stats{})
	seedFull(t, s)
	st, err = s.Stats(t.Context())
	noErr(t, "Stats", err)
	st.SizeBytes = 0
	equal(t, "Stats", st, store.Stats{Users: 2, Workspaces: 1, DeletedWorkspaces: 1, Memberships: 3, Roles: 1,
		Invites: 2, APIKeys: 2, AuditEvents: 3, SigningKeys: 1})
}
