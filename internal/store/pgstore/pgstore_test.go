package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 6789, time.UTC)

func ws(id, slug string) store.Workspace {
	return store.Workspace{ID: id, Slug: slug, Name: "Workspace " + id, CreatedAt: t0, UpdatedAt: t0}
}

func member(wsID, userID string) store.Membership {
	return store.Membership{WorkspaceID: wsID, UserID: userID, Roles: []string{"viewer"}, JoinedAt: t0, UpdatedAt: t0}
}

func mustUpdate(t testing.TB, s *Store, fn func(store.Tx) error) uint64 {
	t.Helper()
	rev, err := s.UpdateRev(context.Background(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

// query runs one query on the database of u outside any store.
func query(t testing.TB, u, sql string, dst ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestConcurrentOpen: five replicas opening one empty database at once
// migrate it once and agree on one store id.
func TestConcurrentOpen(t *testing.T) {
	u := pgtest.NewDatabase(t)
	const n = 5
	var (
		wg     sync.WaitGroup
		stores [n]*Store
		errs   [n]error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(context.Background(), u, Options{})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	for i := 1; i < n; i++ {
		if stores[i].ID() != stores[0].ID() {
			t.Errorf("store ids differ: %q and %q", stores[0].ID(), stores[i].ID())
		}
	}
	var versions, metas int
	query(t, u, `SELECT (SELECT count(*) FROM gatehouse_schema), (SELECT count(*) FROM meta)`, &versions, &metas)
	if versions != SchemaVersion() || metas != 1 {
		t.Errorf("after %d concurrent Opens: %d schema versions recorded (want %d), %d meta rows (want 1)", n, versions, SchemaVersion(), metas)
	}
}

// TestSchemaTooNew: a database migrated by a newer build is refused.
func TestSchemaTooNew(t *testing.T) {
	s, u := openT(t, Options{})
	s.Close()
	var one int
	query(t, u, `INSERT INTO gatehouse_schema (version, name) VALUES (999, '0999_future.sql') RETURNING 1`, &one)
	if _, err := Open(context.Background(), u, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestOpenRedactsPassword: an Open that fails does not repeat the URL's
// password.
func TestOpenRedactsPassword(t *testing.T) {
	for _, u := range []string{
		"postgres://gh:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgres://gh@127.0.0.1:1/db?password=s3cr3t-pw&sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=1 user=gh password=s3cr3t-pw dbname=db sslmode=disable connect_timeout=2",
		"postgres://gh:s3cr3t-pw@127.0.0.1:1/db?sslmode=bogus",
	} {
		_, err := Open(context.Background(), u, Options{})
		if err == nil {
			t.Fatalf("Open(%s) succeeded", redact(u))
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("Open error holds the password: %v", err)
		}
	}
}

// barrierFn returns an Update fn that increments the counter in ws_a's
// description; on their first run, n concurrent callers all read before
// any writes, so all but one must fail to serialize. runs counts runs.
func barrierFn(n int, runs *atomic.Int32) func(store.Tx) error {
	var read sync.WaitGroup
	read.Add(n)
	return func(tx store.Tx) error {
		runs.Add(1)
		w, err := tx.Workspace("ws_a")
		if err != nil {
			return err
		}
		c, _ := strconv.Atoi(w.Description)
		if runs.Load() <= int32(n) { // a first run
			read.Done()
			read.Wait()
		}
		w.Description = strconv.Itoa(c + 1)
		return tx.PutWorkspace(w)
	}
}

// TestRetryOnSerializationFailure: two Store values read the same record
// and write it back incremented at the same time. SERIALIZABLE fails one
// of them; Update runs its fn again and both increments land.
func TestRetryOnSerializationFailure(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	mustUpdate(t, s1, func(tx store.Tx) error { w := ws("ws_a", "a"); w.Description = "0"; return tx.PutWorkspace(w) })
	var runs atomic.Int32
	fn := barrierFn(2, &runs)
	var wg sync.WaitGroup
	for _, s := range []*Store{s1, s2} {
		wg.Go(func() {
			if err := s.Update(context.Background(), fn); err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	if got := runs.Load(); got < 3 {
		t.Errorf("fn ran %d times for 2 conflicting Updates: no retry happened", got)
	}
	if r := s1.TxStats().Retries + s2.TxStats().Retries; r < 1 {
		t.Errorf("TxStats count %d retries, want at least 1", r)
	}
	if err := s2.View(context.Background(), func(tx store.Tx) error {
		w, err := tx.Workspace("ws_a")
		if err == nil && w.Description != "2" {
			t.Errorf("counter = %s after two concurrent increments, want 2", w.Description)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestContended: with one attempt allowed, the loser of a conflict gets
// ErrContended and commits nothing.
func TestContended(t *testing.T) {
	s1, u := openT(t, Options{MaxAttempts: 1})
	s2 := openURL(t, u, Options{MaxAttempts: 1})
	mustUpdate(t, s1, func(tx store.Tx) error { w := ws("ws_a", "a"); w.Description = "0"; return tx.PutWorkspace(w) })
	var runs atomic.Int32
	fn := barrierFn(2, &runs)
	var wg sync.WaitGroup
	var errs [2]error
	for i, s := range []*Store{s1, s2} {
		wg.Go(func() { errs[i] = s.Update(context.Background(), fn) })
	}
	wg.Wait()
	ok, contended := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrContended):
			contended++
		default:
			t.Errorf("Update: %v", err)
		}
	}
	if c := s1.TxStats().Contended + s2.TxStats().Contended; c != 1 {
		t.Errorf("TxStats count %d contended Updates, want 1", c)
	}
	if ok != 1 || contended != 1 {
		t.Errorf("%d succeeded and %d were contended, want 1 and 1 (errors %v)", ok, contended, errs)
	}
}

// TestDoomRule: a failed write dooms the transaction even when fn ignores
// the error; ErrNotFound does not.
func TestDoomRule(t *testing.T) {
	s, _ := openT(t, Options{})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_a", "taken")) })
	rev := s.Revision()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		_ = tx.PutUser(store.User{ID: "u1", FirstSeen: t0, LastSeen: t0})
		_ = tx.PutWorkspace(ws("ws_b", "taken")) // ErrSlugTaken, ignored
		if err := tx.PutUser(store.User{ID: "u2", FirstSeen: t0, LastSeen: t0}); !errors.Is(err, store.ErrSlugTaken) {
			t.Errorf("a write after a failed one: %v, want the first failure", err)
		}
		return nil
	})
	if !errors.Is(err, store.ErrSlugTaken) {
		t.Errorf("Update after an ignored ErrSlugTaken = %v, want ErrSlugTaken", err)
	}
	if s.Revision() != rev {
		t.Errorf("a doomed Update raised the revision")
	}
	// ErrNotFound keeps the transaction usable.
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.DeleteMember("ws_a", "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteMember of a missing member: %v", err)
		}
		if err := tx.PutMember(member("ws_missing", "u1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PutMember in a missing workspace: %v", err)
		}
		return tx.PutUser(store.User{ID: "u3", FirstSeen: t0, LastSeen: t0})
	})
	if err := s.View(context.Background(), func(tx store.Tx) error {
		got, err := tx.UsersByID([]string{"u1", "u2", "u3"})
		if err == nil && (len(got) != 1 || got["u3"].ID != "u3") {
			t.Errorf("users after a doomed and a usable Update: %v, want u3 only", got)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTouchAndByID: TouchUser creates, moves LastSeen forward only and
// sets a non-empty email; UsersByID and WorkspacesByID skip missing,
// duplicate and invalid ids.
func TestTouchAndByID(t *testing.T) {
	s, _ := openT(t, Options{})
	ctx := context.Background()
	later := t0.Add(time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "a@example.com", t0) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "", later) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "", t0) })
	mustUpdate(t, s, func(tx store.Tx) error {
		d := ws("ws_d", "d")
		d.DeletedAt = &later
		return errors.Join(tx.PutWorkspace(ws("ws_a", "a")), tx.PutWorkspace(d))
	})
	err := s.View(ctx, func(tx store.Tx) error {
		users, err := tx.UsersByID([]string{"alice", "alice", "bob", "", "a\x00b", "\xff"})
		if err != nil {
			return err
		}
		u := users["alice"]
		if len(users) != 1 || !u.FirstSeen.Equal(t0) || !u.LastSeen.Equal(later) || u.Email != "a@example.com" {
			t.Errorf("UsersByID after touches = %+v", users)
		}
		wss, err := tx.WorkspacesByID([]string{"ws_a", "ws_d", "ws_x", "ws_a"})
		if err != nil {
			return err
		}
		if len(wss) != 2 || !wss["ws_d"].Deleted() || wss["ws_a"].Slug != "a" {
			t.Errorf("WorkspacesByID = %+v", wss)
		}
		empty, err := tx.UsersByID(nil)
		if err != nil || empty == nil || len(empty) != 0 {
			t.Errorf("UsersByID(nil) = %v, %v; want an empty map", empty, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A touch records no store.Change.
	rev := mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchUser("alice", "", later.Add(time.Hour)) })
	cs, err := s.Changes(ctx, rev-1, 0)
	if err != nil || len(cs) != 1 || cs[0].Changes != nil {
		t.Errorf("Changes of a touch = %+v, %v; want one empty commit", cs, err)
	}
}

// TestChangesContent: a commit's Changes are deduplicated, Slugs OR-ed,
// workspaces, then members, then API keys, each in first-change order.
func TestChangesContent(t *testing.T) {
	s, _ := openT(t, Options{})
	ctx := context.Background()
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_b", "b")) })
	rev := mustUpdate(t, s, func(tx store.Tx) error {
		return errors.Join(
			tx.PutMember(member("ws_b", "zed")),
			tx.PutAPIKey(store.APIKey{ID: "k1", WorkspaceID: "ws_b", SecretHash: "h", CreatedAt: t0}),
			tx.PutRole(store.Role{WorkspaceID: "ws_b", Slug: "r", CreatedAt: t0}),
			tx.PutWorkspace(ws("ws_a", "a")),
			tx.PutMember(member("ws_b", "amy")),
			tx.PutMember(member("ws_b", "zed")),
			tx.PutUser(store.User{ID: "zed"}),
		)
	})
	cs, err := s.Changes(ctx, rev-1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Commit{{Revision: rev, Changes: []store.Change{
		{Kind: store.ChangeWorkspace, WorkspaceID: "ws_b"},
		{Kind: store.ChangeWorkspace, WorkspaceID: "ws_a", Slugs: true},
		{Kind: store.ChangeMember, WorkspaceID: "ws_b", UserID: "zed"},
		{Kind: store.ChangeMember, WorkspaceID: "ws_b", UserID: "amy"},
		{Kind: store.ChangeAPIKey, WorkspaceID: "ws_b", KeyID: "k1"},
	}}}
	if fmt.Sprint(cs) != fmt.Sprint(want) {
		t.Errorf("Changes = %+v\nwant %+v", cs, want)
	}
	// Purge: every member and key, and the workspace with Slugs.
	rev = mustUpdate(t, s, func(tx store.Tx) error { _, err := tx.PurgeWorkspace("ws_b"); return err })
	cs, err = s.Changes(ctx, rev-1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want = []store.Commit{{Revision: rev, Changes: []store.Change{
		{Kind: store.ChangeWorkspace, WorkspaceID: "ws_b", Slugs: true},
		{Kind: store.ChangeMember, WorkspaceID: "ws_b", UserID: "amy"},
		{Kind: store.ChangeMember, WorkspaceID: "ws_b", UserID: "zed"},
		{Kind: store.ChangeAPIKey, WorkspaceID: "ws_b", KeyID: "k1"},
	}}}
	if fmt.Sprint(cs) != fmt.Sprint(want) {
		t.Errorf("Changes of a purge = %+v\nwant %+v", cs, want)
	}
	if cs, err := s.Changes(ctx, rev, 10); err != nil || len(cs) != 0 {
		t.Errorf("Changes from the latest revision = %v, %v; want none", cs, err)
	}
	if cs, err := s.Changes(ctx, rev+5, 10); err != nil || len(cs) != 0 {
		t.Errorf("Changes from beyond the latest revision = %v, %v; want none", cs, err)
	}
}

// TestChangesGapless: 200 commits from 8 goroutines on two Store values;
// the log read from either value, in pages, is the gapless run of
// revisions, each commit holding the change its writer made, and each
// writer's commits in the order it made them.
func TestChangesGapless(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	mustUpdate(t, s1, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_a", "a")) })
	base := s1.Revision()
	const writers, each = 8, 25
	revOf := make(map[uint64]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range writers {
		s := []*Store{s1, s2}[g%2]
		wg.Go(func() {
			last := uint64(0)
			for i := range each {
				user := fmt.Sprintf("u%d-%02d", g, i)
				rev, err := s.UpdateRev(context.Background(), func(tx store.Tx) error { return tx.PutMember(member("ws_a", user)) })
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				if rev <= last {
					t.Errorf("writer %d: revision %d after %d", g, rev, last)
				}
				last = rev
				mu.Lock()
				revOf[rev] = user
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, s := range []*Store{s2, s1} {
		var got []store.Commit
		for since := base; ; {
			page, err := s.Changes(context.Background(), since, 37)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			since = page[len(page)-1].Revision
		}
		if len(got) != writers*each {
			t.Fatalf("Changes holds %d commits, want %d", len(got), writers*each)
		}
		for i, c := range got {
			if c.Revision != base+1+uint64(i) {
				t.Fatalf("commit %d has revision %d, want %d (gapless)", i, c.Revision, base+1+uint64(i))
			}
			if len(c.Changes) != 1 || c.Changes[0].UserID != revOf[c.Revision] {
				t.Fatalf("commit %d holds %+v, want the member %s its writer got this revision for", c.Revision, c.Changes, revOf[c.Revision])
			}
		}
		if s.Revision() != base+writers*each {
			t.Errorf("Revision() after reading the log = %d, want %d", s.Revision(), base+writers*each)
		}
	}
}

// TestChangesTruncated: with a retention of 5, old commits are pruned and
// a since before the retained log is a *store.ChangesTruncatedError naming the
// oldest commit, from which reading continues.
func TestChangesTruncated(t *testing.T) {
	const retention = 5
	s, _ := openT(t, Options{ChangeRetention: retention})
	ctx := context.Background()
	if cs, err := s.Changes(ctx, 0, 0); err != nil || len(cs) != 0 {
		t.Fatalf("Changes of a new store = %v, %v", cs, err)
	}
	k := pruneEvery(retention)
	n := 2*k*retention + 2
	for range n {
		mustUpdate(t, s, func(tx store.Tx) error { return nil })
	}
	_, err := s.Changes(ctx, 0, 0)
	var te *store.ChangesTruncatedError
	if !errors.As(err, &te) || !errors.Is(err, store.ErrChangesTruncated) {
		t.Fatalf("Changes(0) after pruning = %v, want a *store.ChangesTruncatedError", err)
	}
	lastPrune := n / k * k
	wantOldest := uint64(lastPrune - retention + 1)
	if te.Since != 0 || te.Oldest != wantOldest {
		t.Errorf("truncation = %+v, want Since 0, Oldest %d", te, wantOldest)
	}
	cs, err := s.Changes(ctx, te.Oldest-1, 0)
	if err != nil || len(cs) != int(uint64(n)-wantOldest+1) || cs[0].Revision != wantOldest {
		t.Errorf("Changes(Oldest-1) = %d commits from %v, %v; want %d from %d", len(cs), cs, err, uint64(n)-wantOldest+1, wantOldest)
	}
	if _, err := s.Changes(ctx, te.Oldest-2, 0); !errors.Is(err, store.ErrChangesTruncated) {
		t.Errorf("Changes(Oldest-2) = %v, want truncated", err)
	}
}

// wakeDeadline bounds the wait for a wake-up. A notification takes about
// a millisecond and a reconnect tens of milliseconds; the margin is for a
// loaded machine (CI runs several test binaries at once).
const wakeDeadline = 3 * time.Second

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain empties a wake channel.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// wantWake fails unless ch receives within d.
func wantWake(t testing.TB, what string, ch <-chan struct{}, d time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: no wake-up within %v", what, d)
	}
}

// TestNotifyWakesOtherValue: a commit through one Store value wakes a
// subscriber of another (another pool and listener, as another process),
// which then reads the commit from Changes; its own commits wake it too.
func TestNotifyWakesOtherValue(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	wake, cancel := s2.Subscribe()
	defer cancel()
	waitFor(t, "the listener", 5*time.Second, func() bool { return s2.ListenerStats().Up })
	drain(wake)
	since := s2.Revision()
	rev := mustUpdate(t, s1, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_a", "a")) })
	wantWake(t, "a commit of the other value", wake, wakeDeadline)
	cs, err := s2.Changes(context.Background(), since, 0)
	if err != nil || len(cs) != 1 || cs[0].Revision != rev {
		t.Errorf("Changes after the wake-up = %v, %v; want revision %d", cs, err, rev)
	}
	// Its own commit wakes it before UpdateRev returns.
	drain(wake)
	mustUpdate(t, s2, func(tx store.Tx) error { return nil })
	select {
	case <-wake:
	default:
		t.Error("a commit of the value itself did not wake its subscriber by the time UpdateRev returned")
	}
	// cancel releases the channel: no more sends.
	cancel()
	drain(wake)
	mustUpdate(t, s2, func(tx store.Tx) error { return nil })
	select {
	case <-wake:
		t.Error("a cancelled subscription was woken")
	default:
	}
}

// TestListenerReconnects: the listener's connection killed with
// pg_terminate_backend comes back within a second, its subscriber is woken
// by the reconnect (notifications in between are lost), and later commits
// wake it again. Close stops the listener.
func TestListenerReconnects(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	wake, cancel := s2.Subscribe()
	defer cancel()
	waitFor(t, "the listeners", 5*time.Second, func() bool { return s1.ListenerStats().Up && s2.ListenerStats().Up })
	drain(wake)
	if n := pgtest.TerminateListeners(t, u); n != 2 {
		t.Fatalf("terminated %d listener connections, want 2 (one per Store)", n)
	}
	wantWake(t, "the reconnect", wake, wakeDeadline)
	waitFor(t, "the listener to reconnect", wakeDeadline, func() bool {
		st := s2.ListenerStats()
		return st.Up && st.Reconnects >= 1
	})
	drain(wake)
	mustUpdate(t, s1, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_a", "a")) })
	wantWake(t, "a commit after the reconnect", wake, wakeDeadline)

	// A server restart: the listener comes back too.
	pgtest.Restart(t)
	waitFor(t, "the listener after a server restart", 10*time.Second, func() bool { return s2.ListenerStats().Up })
	drain(wake)
	if err := s1.Update(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
		// The pool's old connections died with the server; pgxpool
		// drops them, the next attempt gets a new one.
		mustUpdate(t, s1, func(tx store.Tx) error { return nil })
	}
	wantWake(t, "a commit after a server restart", wake, wakeDeadline)

	s2.Close()
	if st := s2.ListenerStats(); st.Up {
		t.Error("the listener is up after Close")
	}
}

// TestSigningKeyLoadOrCreate: replicas that each find no signing key and
// create one at the same time ("list, none, put", what
// assertion.LoadOrCreate does) leave exactly one key.
func TestSigningKeyLoadOrCreate(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	const n = 6
	var wg sync.WaitGroup
	var read sync.WaitGroup
	read.Add(n)
	for i := range n {
		s := []*Store{s1, s2}[i%2]
		wg.Go(func() {
			first := true
			err := s.Update(context.Background(), func(tx store.Tx) error {
				keys, err := tx.SigningKeys()
				if err != nil {
					return err
				}
				if first {
					// Everyone has listed before anyone puts.
					first = false
					read.Done()
					read.Wait()
				}
				if len(keys) > 0 {
					return nil
				}
				return tx.PutSigningKey(store.SigningKey{ID: fmt.Sprintf("kid-%d", i), JWK: []byte(`{}`), CreatedAt: t0})
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	var keys []store.SigningKey
	if err := s1.View(context.Background(), func(tx store.Tx) (err error) { keys, err = tx.SigningKeys(); return err }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Errorf("%d signing keys after %d concurrent list-none-put, want 1: %v", len(keys), n, keys)
	}
}

// TestRevisionAtOpen: a Store opened on a used database starts at its
// revision, and sees other values' commits through Changes.
func TestRevisionAtOpen(t *testing.T) {
	s1, u := openT(t, Options{})
	for range 3 {
		mustUpdate(t, s1, func(tx store.Tx) error { return nil })
	}
	s2 := openURL(t, u, Options{})
	if s2.Revision() != 3 {
		t.Errorf("Revision() at Open = %d, want 3", s2.Revision())
	}
	mustUpdate(t, s1, func(tx store.Tx) error { return nil })
	if _, err := s2.Changes(context.Background(), 3, 0); err != nil {
		t.Fatal(err)
	}
	if s2.Revision() != 4 {
		t.Errorf("Revision() after reading the log = %d, want 4", s2.Revision())
	}
	if !slices.Contains([]uint64{4}, s1.Revision()) {
		t.Errorf("s1.Revision() = %d", s1.Revision())
	}
}

// TestConcurrentSlug: two replicas creating workspaces with the same slug
// at once: one commits, the other gets ErrSlugTaken (its retry sees the
// winner), never a raw unique-violation error.
func TestConcurrentSlug(t *testing.T) {
	s1, u := openT(t, Options{})
	s2 := openURL(t, u, Options{})
	var read sync.WaitGroup
	read.Add(2)
	var wg sync.WaitGroup
	var errs [2]error
	for i, s := range []*Store{s1, s2} {
		wg.Go(func() {
			first := true
			errs[i] = s.Update(context.Background(), func(tx store.Tx) error {
				_, err := tx.WorkspaceBySlug("acme")
				if first {
					first = false
					read.Done()
					read.Wait()
				}
				if err == nil {
					return store.ErrSlugTaken
				}
				return tx.PutWorkspace(ws(fmt.Sprintf("ws_%d", i), "acme"))
			})
		})
	}
	wg.Wait()
	ok, taken := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrSlugTaken):
			taken++
		default:
			t.Errorf("Update: %v", err)
		}
	}
	if ok != 1 || taken != 1 {
		t.Errorf("%d created and %d refused the slug, want 1 and 1: %v", ok, taken, errs)
	}
}

// TestPanicReleasesConnection: fn panicking ends its transaction, so the
// pool's only connection is free for the next Update.
func TestPanicReleasesConnection(t *testing.T) {
	s, _ := openT(t, Options{MaxConns: 1})
	for _, write := range []bool{true, false} {
		func() {
			defer func() { _ = recover() }()
			fn := func(tx store.Tx) error {
				if write {
					_ = tx.PutUser(store.User{ID: "ghost", FirstSeen: t0, LastSeen: t0})
				}
				panic("fn fails hard")
			}
			if write {
				_ = s.Update(context.Background(), fn)
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				_ = s.View(ctx, fn)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.User("ghost")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the panicking Update's write: %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View after panics: %v (a connection leaked?)", err)
	}
}
