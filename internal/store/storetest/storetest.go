// Package storetest is the backend-independent conformance suite of the
// store contract (internal/store/store.go), the way OpenFGA's
// pkg/storage/test and SpiceDB's pkg/datastore/test do it: every backend's
// own test file calls RunAll with a Backend, and the suite checks through
// the store.Store and store.Tx interfaces alone what the contract promises.
//
// It is an ordinary (non-test) package so that any backend's tests can
// import it. It exports Backend and RunAll, and two store wrappers for the
// tests of the store's callers: Retrying (retrying.go: every Update runs
// its fn twice, to prove closures retry-safe) and Counting (counting.go:
// counts Tx calls, to prove reads set-based). The checks are split into
// files by record kind (users.go, workspaces.go, members.go, roles.go,
// invites.go, apikeys.go, audit.go, purge.go, signingkeys.go, orgs.go and
// orgindexes.go: organizations, projects and workspace scopes) and by
// property (stats.go, pagination.go, errors.go: ErrInvalid and Tx misuse,
// rollback.go, revision.go, feed.go, context.go, snapshot.go, backup.go,
// concurrency.go, close.go, transactions.go: the failed-statement rule,
// touch writes and set-based reads), each one function RunAll calls as a
// subtest; seed.go writes a store with every kind of record. Every subtest opens
// its own store, so a failure names one property.
//
// # Two Store values on one database
//
// The concurrency checks run N writers from two Store values on the same
// database, the way two gateway processes would share one. Backend.Second
// opens that second value. A networked backend opens a second connection
// pool; bbolt cannot: its file lock forbids a second Open of the same file
// even within one process, so boltstore's conformance test hands back a
// second boltstore.Store value wrapping the same *bbolt.DB. That checks
// that nothing in the Store value itself (caches, sequences, per-value
// locks) is what keeps updates from being lost, but for bbolt the
// serialization still comes from the one shared bbolt writer lock: the
// cross-process case is bbolt's file lock, which no in-process test can
// exercise. A backend that leaves Second nil runs the same checks with all
// writers on one value, and the suite logs that it did.
//
// # What is checked loosely
//
// The change feed (feed.go) is read through Changes alone, from a cursor,
// the way a cache consumer reads it. Each write kind is checked for exactly
// the Change the contract promises, in the promised order; where several
// kinds mix (purge, concurrency) only that the promised changes are there
// (an extra invalidation is harmless). A rolled-back Update and a cancelled
// context add no commit; TouchAPIKey adds a commit with no Changes.
// Error identity is checked with errors.Is, never by text.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Backend is what the suite needs from a backend.
type Backend struct {
	// Open returns a fresh, empty store whose change log keeps
	// ChangeRetention commits, and closes it when t ends.
	Open func(t testing.TB) store.Store
	// ChangeRetention is the change-log retention of the stores Open
	// returns: small (130..1000), so that the suite can write past it,
	// and at least 130, so that the concurrency checks can read all of
	// their 2*8*8 commits back.
	ChangeRetention int
	// Second returns another Store value on the same database as s,
	// for the two-values concurrency and feed checks; the
	// backend closes it when t ends (or never, if closing s releases it).
	// Nil: the backend cannot, and those checks use s alone.
	Second func(t testing.TB, s store.Store) store.Store
	// OpenBackup opens the bytes Store.Backup produced as a store, closed
	// when t ends, so that the suite can check the copy holds the data.
	// Nil: the suite checks only Backup's size and error contract.
	OpenBackup func(t testing.TB, data []byte) store.Store
}

// RunAll runs the whole suite against b. Every subtest opens its own
// store.
func RunAll(t *testing.T, b Backend) {
	if b.Open == nil {
		t.Fatal("storetest: Backend.Open is nil")
	}
	if b.ChangeRetention < 130 || b.ChangeRetention > 1000 {
		t.Fatalf("storetest: Backend.ChangeRetention %d, want 130..1000", b.ChangeRetention)
	}
	t.Run("Users", func(t *testing.T) { testUsers(t, b) })
	t.Run("Workspaces", func(t *testing.T) { testWorkspaces(t, b) })
	t.Run("Members", func(t *testing.T) { testMembers(t, b) })
	t.Run("Roles", func(t *testing.T) { testRoles(t, b) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, b) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, b) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, b) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, b) })
	t.Run("SigningKeys", func(t *testing.T) { testSigningKeys(t, b) })
	t.Run("Stats", func(t *testing.T) { testStats(t, b) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, b) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, b) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, b) })
	t.Run("TxMisuse", func(t *testing.T) { testTxMisuse(t, b) })
	t.Run("Feed", func(t *testing.T) { testFeed(t, b) })
	t.Run("FeedReads", func(t *testing.T) { testFeedReads(t, b) })
	t.Run("FeedTruncation", func(t *testing.T) { testFeedTruncation(t, b) })
	t.Run("FeedSubscribe", func(t *testing.T) { testFeedSubscribe(t, b) })
	t.Run("Context", func(t *testing.T) { testContext(t, b) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, b) })
	t.Run("Backup", func(t *testing.T) { testBackup(t, b) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, b) })
	t.Run("Close", func(t *testing.T) { testClose(t, b) })
	t.Run("Revision", func(t *testing.T) { testRevision(t, b) })
	t.Run("RevisionConcurrent", func(t *testing.T) { testRevisionConcurrent(t, b) })
	t.Run("Doom", func(t *testing.T) { testDoom(t, b) })
	t.Run("NotFoundKeepsTx", func(t *testing.T) { testNotFoundKeepsTx(t, b) })
	t.Run("TouchUser", func(t *testing.T) { testTouchUser(t, b) })
	t.Run("TouchAPIKeyAfterRevoke", func(t *testing.T) { testTouchAPIKeyAfterRevoke(t, b) })
	t.Run("ByID", func(t *testing.T) { testByID(t, b) })
	t.Run("Retrying", func(t *testing.T) { testRetrying(t, b) })
	t.Run("Orgs", func(t *testing.T) { testOrgs(t, b) })
}

// ---- helpers shared by the files of the suite

// t0 has sub-second precision, so a backend that truncates times fails
// the equality checks.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)

func tp(t time.Time) *time.Time { return &t }

func update(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func ws(id, slug string) store.Workspace {
	return store.Workspace{ID: id, Slug: slug, Name: "Workspace " + id, CreatedAt: t0, UpdatedAt: t0}
}

func member(wsID, userID string, roles ...string) store.Membership {
	return store.Membership{WorkspaceID: wsID, UserID: userID, Roles: roles, JoinedAt: t0, UpdatedAt: t0}
}

func role(wsID, slug string, perms ...string) store.Role {
	return store.Role{WorkspaceID: wsID, Slug: slug, Name: "Role " + slug, Permissions: perms, CreatedAt: t0, UpdatedAt: t0}
}

func invite(id, wsID, email, hash string) store.Invite {
	return store.Invite{ID: id, WorkspaceID: wsID, Email: email, Roles: []string{"viewer"}, TokenHash: hash,
		Status: store.InvitePending, CreatedBy: "alice", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

func apiKey(id, wsID string) store.APIKey {
	return store.APIKey{ID: id, WorkspaceID: wsID, Name: "key " + id, Permissions: []string{"instance:read"},
		SecretHash: "hash-" + id, CreatedBy: "alice", CreatedAt: t0}
}

func event(wsID, action string, at time.Time) store.AuditEvent {
	return store.AuditEvent{WorkspaceID: wsID, Actor: "alice", Action: action, Target: "user:bob", Time: at}
}

// seedWorkspace creates the workspace and returns it.
func seedWorkspace(t testing.TB, s store.Store, id, slug string) store.Workspace {
	t.Helper()
	w := ws(id, slug)
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	return w
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails on a non-nil err.
func noErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equal fails unless got and want are deeply equal; times are compared
// with Equal (a backend may hand back another *time.Location for UTC).
func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !deepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// ids maps a list to its keys.
func ids[T any](items []T, key func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, key(it))
	}
	return out
}

// deepEqual compares the JSON encodings: the records' own wire form, so
// that a backend is free in what the contract leaves open (the
// *time.Location of a UTC time, say) and bound by what a client sees.
func deepEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
