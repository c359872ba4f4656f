package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testFeed: which Changes each write kind records, one Commit per
// committed Update under the revision UpdateRev returned, none for
// TouchAPIKey (a commit with no Changes), and the commit is readable as
// soon as Update returns.
func testFeed(t *testing.T, b Backend) {
	s := b.Open(t)
	rec := newRecorder(s)
	w := ws("ws_a", "acme")
	for _, c := range []struct {
		name  string
		write func(tx store.Tx) error
		want  []string // exactly, in this order
	}{
		{"create a workspace", func(tx store.Tx) error { return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"rename a workspace", func(tx store.Tx) error { w.Name = "Acme Inc"; return tx.PutWorkspace(w) }, []string{"ws ws_a false"}},
		{"change the slug", func(tx store.Tx) error { w.Slug = "acme-inc"; return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"delete a workspace", func(tx store.Tx) error { w.DeletedAt = tp(t0); return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"restore a workspace", func(tx store.Tx) error { w.DeletedAt = nil; return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"put a role", func(tx store.Tx) error { return tx.PutRole(role("ws_a", "r", "x:read")) }, []string{"ws ws_a false"}},
		{"delete a role", func(tx store.Tx) error { return tx.DeleteRole("ws_a", "r") }, []string{"ws ws_a false"}},
		{"put a member", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "alice", "admin")) }, []string{"member ws_a alice"}},
		{"replace a member", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "alice", "viewer")) }, []string{"member ws_a alice"}},
		{"delete a member", func(tx store.Tx) error { return tx.DeleteMember("ws_a", "alice") }, []string{"member ws_a alice"}},
		{"put an API key", func(tx store.Tx) error { return tx.PutAPIKey(apiKey("k1", "ws_a")) }, []string{"apikey ws_a k1"}},
		{"revoke an API key", func(tx store.Tx) error {
			k := apiKey("k1", "ws_a")
			k.RevokedAt = tp(t0)
			return tx.PutAPIKey(k)
		}, []string{"apikey ws_a k1"}},
		{"touch an API key", func(tx store.Tx) error { return tx.TouchAPIKey("k1", t0.Add(time.Hour)) }, nil},
		{"a user only", func(tx store.Tx) error { return tx.PutUser(store.User{ID: "u9", FirstSeen: t0, LastSeen: t0}) }, nil},
		{"touch a new user", func(tx store.Tx) error { return tx.TouchUser("u10", "u10@example.com", t0) }, nil},
		{"touch a user", func(tx store.Tx) error { return tx.TouchUser("u9", "u9@example.com", t0.Add(time.Hour)) }, nil},
		{"several writes in one Update", func(tx store.Tx) error {
			for _, err := range []error{
				tx.PutMember(member("ws_a", "bob", "viewer")),
				tx.PutMember(member("ws_a", "carol", "viewer")),
				tx.PutMember(member("ws_a", "bob", "admin")), // dedup
				tx.PutRole(role("ws_a", "r2", "x:read")),
				tx.PutAPIKey(apiKey("k2", "ws_a")),
				tx.PutWorkspace(w), // dedup with the role, Slugs stays false
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"ws ws_a false", "member ws_a bob", "member ws_a carol", "apikey ws_a k2"}},
		{"Slugs is OR-ed over the commit", func(tx store.Tx) error {
			if err := tx.PutRole(role("ws_a", "r3", "x:read")); err != nil {
				return err
			}
			w.Slug = "acme"
			return tx.PutWorkspace(w)
		}, []string{"ws ws_a true"}},
	} {
		rev, err := s.UpdateRev(t.Context(), c.write)
		noErr(t, c.name, err)
		// Readable as soon as Update returns: what lets a consumer in
		// the same process apply it before acknowledging the write.
		cms := rec.read(t, c.name)
		if len(cms) != 1 || cms[0].Revision != rev {
			t.Errorf("%s: commits %+v after UpdateRev returned %d, want exactly that one", c.name, cms, rev)
			continue
		}
		if got := changeStrings(cms); !slices.Equal(got, c.want) {
			t.Errorf("%s: changes %q, want %q", c.name, got, c.want)
		}
	}
}

// testFeedReads: the limit, the end of the log, since at or past the
// latest revision, and commits of the Second value read through the
// first (Changes reads the database).
func testFeedReads(t *testing.T, b Backend) {
	ss := pair(t, b)
	base := ss[0].Revision()
	seedWorkspace(t, ss[0], "ws_a", "a")
	for i, u := range []string{"alice", "bob", "carol", "dave"} {
		update(t, ss[i%2], func(tx store.Tx) error { return tx.PutMember(member("ws_a", u, "viewer")) })
	}
	latest := base + 5
	if got := ss[1].Revision(); got != latest {
		t.Fatalf("the second value's revision %d, want %d", got, latest)
	}
	page, err := ss[0].Changes(t.Context(), base, 2)
	noErr(t, "Changes with limit 2", err)
	if len(page) != 2 || page[0].Revision != base+1 || page[1].Revision != base+2 {
		t.Errorf("Changes(%d, 2) = %+v, want revisions %d and %d", base, page, base+1, base+2)
	}
	all, err := ss[0].Changes(t.Context(), base, 0)
	noErr(t, "Changes with the default limit", err)
	if len(all) != 5 {
		t.Fatalf("Changes(%d, 0): %d commits, want 5", base, len(all))
	}
	for i, cm := range all {
		if cm.Revision != base+1+uint64(i) {
			t.Errorf("commit %d has revision %d, want %d (gapless)", i, cm.Revision, base+1+uint64(i))
		}
	}
	if got := changeStrings(all[1:]); !slices.Equal(got, []string{"member ws_a alice", "member ws_a bob", "member ws_a carol", "member ws_a dave"}) {
		t.Errorf("changes of both values, read through the first: %q", got)
	}
	for _, since := range []uint64{latest, latest + 7} {
		cms, err := ss[0].Changes(t.Context(), since, 0)
		noErr(t, fmt.Sprintf("Changes(%d)", since), err)
		if len(cms) != 0 {
			t.Errorf("Changes(%d) with latest %d: %+v, want none", since, latest, cms)
		}
	}
	ctx, cancel := contextCancelled(t)
	defer cancel()
	if _, err := ss[0].Changes(ctx, base, 0); err == nil {
		t.Error("Changes with a cancelled context succeeded")
	}
}

// testFeedTruncation: past the retention, a since below the retained log
// gives a *ChangesTruncatedError naming the oldest retained commit, from
// which the log reads gaplessly to the end.
func testFeedTruncation(t *testing.T, b Backend) {
	s := b.Open(t)
	n := b.ChangeRetention
	seedWorkspace(t, s, "ws_a", "a")
	for i := range n + 5 {
		update(t, s, func(tx store.Tx) error { return tx.PutMember(member("ws_a", fmt.Sprintf("u%03d", i), "viewer")) })
	}
	latest := s.Revision()
	_, err := s.Changes(t.Context(), 0, 0)
	var te *store.ChangesTruncatedError
	if !errors.Is(err, store.ErrChangesTruncated) || !errors.As(err, &te) {
		t.Fatalf("Changes(0) after %d commits with retention %d: %v, want a *ChangesTruncatedError", latest, n, err)
	}
	if te.Since != 0 || te.Oldest < 2 || te.Oldest > latest-uint64(n)+1 {
		t.Errorf("truncation %+v: want Since 0 and 1 < Oldest <= %d (the latest %d are kept)", *te, latest-uint64(n)+1, n)
	}
	cms, err := s.Changes(t.Context(), te.Oldest-1, int(latest))
	noErr(t, "Changes from Oldest-1", err)
	if uint64(len(cms)) != latest-te.Oldest+1 || cms[0].Revision != te.Oldest || cms[len(cms)-1].Revision != latest {
		t.Errorf("Changes(Oldest-1 = %d): %d commits, want %d..%d", te.Oldest-1, len(cms), te.Oldest, latest)
	}
	if te.Oldest >= 2 {
		_, err := s.Changes(t.Context(), te.Oldest-2, 0)
		wantErr(t, "Changes from just below the retained log", err, store.ErrChangesTruncated)
	}
}

// testFeedSubscribe: a subscriber is woken after a commit of its own
// value, and of the Second value only where the backend can hear of it
// (logged, not required); cancel releases the channel.
func testFeedSubscribe(t *testing.T, b Backend) {
	ss := pair(t, b)
	wake, cancel := ss[0].Subscribe()
	defer cancel()
	seedWorkspace(t, ss[0], "ws_a", "a")
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up within 5s of a commit on the subscribed value")
	}
	if ss[1] != ss[0] {
		update(t, ss[1], func(tx store.Tx) error { return tx.PutMember(member("ws_a", "bob", "viewer")) })
		select {
		case <-wake:
			t.Log("the backend wakes subscribers for commits of another value")
		case <-time.After(200 * time.Millisecond):
			t.Log("no wake-up for a commit of another value: consumers rely on polling")
		}
	}
	// Wake-ups are sent without blocking: many commits with nobody
	// reading leave at most one pending, and the writer never waits.
	for i := range 3 {
		update(t, ss[0], func(tx store.Tx) error { return tx.PutMember(member("ws_a", fmt.Sprint("c", i), "viewer")) })
	}
	if len(wake) > 1 || cap(wake) != 1 {
		t.Errorf("wake channel holds %d of capacity %d, want at most 1 of 1", len(wake), cap(wake))
	}
	cancel()
	cancel() // idempotent
	for len(wake) > 0 {
		<-wake
	}
	update(t, ss[0], func(tx store.Tx) error { return tx.PutMember(member("ws_a", "late", "viewer")) })
	select {
	case <-wake:
		t.Error("a cancelled subscription was woken")
	case <-time.After(50 * time.Millisecond):
	}
}

// recorder reads the change feed of a store from its own cursor, the way
// a cache consumer does.
type recorder struct {
	s     store.Store
	since uint64
}

func newRecorder(s store.Store) *recorder { return &recorder{s: s, since: s.Revision()} }

// read returns every commit after the cursor, checks they are gapless,
// and advances the cursor.
func (r *recorder) read(t testing.TB, what string) []store.Commit {
	t.Helper()
	var out []store.Commit
	for {
		cms, err := r.s.Changes(t.Context(), r.since, 0)
		if err != nil {
			t.Fatalf("%s: Changes(%d): %v", what, r.since, err)
		}
		if len(cms) == 0 {
			return out
		}
		for _, cm := range cms {
			if cm.Revision != r.since+1 {
				t.Fatalf("%s: commit of revision %d after %d: the feed has a gap", what, cm.Revision, r.since)
			}
			r.since = cm.Revision
		}
		out = append(out, cms...)
	}
}

// take returns the changes of every commit after the cursor as strings
// ("ws <id> <slugs>", "member <ws> <user>", "apikey <ws> <key>", "org
// <org>", "orgmember <org> <user>", "project <org> <project>", "projmember
// <org> <project> <user>").
func (r *recorder) take(t testing.TB) []string { return changeStrings(r.read(t, "take")) }

// wantCalls fails unless every change of want was recorded since the last
// read. An empty want means no change at all (commits with no Changes,
// e.g. touch writes, are allowed).
func (r *recorder) wantCalls(t testing.TB, what string, want ...string) {
	t.Helper()
	got := changeStrings(r.read(t, what))
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("%s: changes %q, want none", what, got)
		}
		return
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: changes %q lack %q", what, got, w)
		}
	}
}

// wantNoCommit fails if a commit was added since the last read (a
// rolled-back Update, a cancelled context).
func (r *recorder) wantNoCommit(t testing.TB, what string) {
	t.Helper()
	if cms := r.read(t, what); len(cms) != 0 {
		t.Errorf("%s: commits %+v, want none", what, cms)
	}
}

func changeStrings(cms []store.Commit) []string {
	var out []string
	for _, cm := range cms {
		for _, c := range cm.Changes {
			switch c.Kind {
			case store.ChangeWorkspace:
				out = append(out, fmt.Sprintf("ws %s %v", c.WorkspaceID, c.Slugs))
			case store.ChangeMember:
				out = append(out, fmt.Sprintf("member %s %s", c.WorkspaceID, c.UserID))
			case store.ChangeAPIKey:
				out = append(out, fmt.Sprintf("apikey %s %s", c.WorkspaceID, c.KeyID))
			case store.ChangeOrganization:
				out = append(out, fmt.Sprintf("org %s", c.OrganizationID))
			case store.ChangeOrgMember:
				out = append(out, fmt.Sprintf("orgmember %s %s", c.OrganizationID, c.UserID))
			case store.ChangeProject:
				out = append(out, fmt.Sprintf("project %s %s", c.OrganizationID, c.ProjectID))
			case store.ChangeProjectMember:
				out = append(out, fmt.Sprintf("projmember %s %s %s", c.OrganizationID, c.ProjectID, c.UserID))
			default:
				out = append(out, fmt.Sprintf("kind %d %+v", c.Kind, c))
			}
		}
	}
	return out
}
