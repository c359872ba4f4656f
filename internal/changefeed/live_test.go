package changefeed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func openBolt(t testing.TB, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newLive(t testing.TB, s store.Store, opts Options) *Live {
	t.Helper()
	l, err := New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func mustUpdate(t testing.TB, s store.Store, fn func(store.Tx) error) uint64 {
	t.Helper()
	rev, err := s.UpdateRev(context.Background(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

func seed(t testing.TB, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, id := range []string{"ws_a", "ws_x"} {
			if err := tx.PutWorkspace(store.Workspace{ID: id, Slug: id[3:], Name: id, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
}

func putMember(ws, user string) func(store.Tx) error {
	return func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: ws, UserID: user, Roles: []string{"viewer"}, JoinedAt: t0, UpdatedAt: t0})
	}
}

// fill caches an entry for (user, ws) in c under a stamp taken now.
func fill(t testing.TB, l *Live, c *permcache.Cache[string], ws, user string) {
	t.Helper()
	v := l.Versions()
	c.Set(user, ws, v.Target(v.IDStamp(), ws, user), "cached")
	c.Wait()
	if _, ok := c.Get(user, ws); !ok {
		t.Fatalf("a fresh fill for %s/%s missed", ws, user)
	}
}

func newCache(t testing.TB, l *Live) *permcache.Cache[string] {
	c, err := permcache.New[string](l.Versions(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// eventually waits for cond with a deadline, never a fixed sleep.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quiet hides the store's wake-ups, so that only polling can find a
// commit (like a commit of another process on bbolt), and can make
// Changes fail.
type quiet struct {
	store.Store
	failChanges atomic.Bool
}

func (q *quiet) Subscribe() (<-chan struct{}, func()) { return make(chan struct{}), func() {} }

func (q *quiet) Changes(ctx context.Context, since uint64, limit int) ([]store.Commit, error) {
	if q.failChanges.Load() {
		return nil, errors.New("injected Changes failure")
	}
	return q.Store.Changes(ctx, since, limit)
}

// The request after a write through the Live misses: the commit is applied
// before Update returns, with no follower involved.
func TestWriteThroughLiveIsVisibleAtOnce(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	l := newLive(t, &quiet{Store: raw}, Options{PollInterval: time.Hour})
	seed(t, l)
	c := newCache(t, l)
	fill(t, l, c, "ws_a", "alice")
	fill(t, l, c, "ws_x", "bob")
	rev := mustUpdate(t, l, putMember("ws_a", "alice"))
	if _, ok := c.Get("alice", "ws_a"); ok {
		t.Error("the entry of the member just written was served after Update returned")
	}
	if _, ok := c.Get("bob", "ws_x"); !ok {
		t.Error("an unrelated entry died with the write")
	}
	if l.Applied() != rev || l.Revision() != rev {
		t.Errorf("Applied %d, Revision %d after the commit %d", l.Applied(), l.Revision(), rev)
	}
}

// A commit made on the raw store (not through the Live) is applied by the
// follower: on the store's wake-up, and by polling when no wake-up comes.
func TestFollowerAppliesOtherCommits(t *testing.T) {
	for _, c := range []struct {
		name  string
		wrap  func(*boltstore.Store) store.Store
		every time.Duration
	}{
		{"wake-up", func(s *boltstore.Store) store.Store { return s }, time.Hour},
		{"poll", func(s *boltstore.Store) store.Store { return &quiet{Store: s} }, 20 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := openBolt(t, boltstore.Options{})
			seed(t, raw)
			l := newLive(t, c.wrap(raw), Options{PollInterval: c.every})
			cache := newCache(t, l)
			fill(t, l, cache, "ws_a", "alice")
			before := l.CaughtUpAt()
			rev := mustUpdate(t, raw, putMember("ws_a", "alice"))
			eventually(t, "the follower applies the raw commit", func() bool { return l.Applied() >= rev })
			if _, ok := cache.Get("alice", "ws_a"); ok {
				t.Error("the entry survived the applied commit")
			}
			if !l.CaughtUpAt().After(before) {
				t.Error("CaughtUpAt did not move after the follower read to the end")
			}
		})
	}
}

// A fill stamped before a commit, landing after the follower applied it,
// is dead on arrival.
func TestStaleFillDeadAfterApply(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	seed(t, raw)
	l := newLive(t, raw, Options{})
	cache := newCache(t, l)
	v := l.Versions()
	stamp := v.Target(v.IDStamp(), "ws_a", "alice") // taken before the read...
	rev := mustUpdate(t, raw, putMember("ws_a", "alice"))
	eventually(t, "the follower applies the commit", func() bool { return l.Applied() >= rev })
	cache.Set("alice", "ws_a", stamp, "stale") // ...that saw the old data
	cache.Wait()
	if _, ok := cache.Get("alice", "ws_a"); ok {
		t.Error("a fill stamped before the commit was served")
	}
}

// Commits that fell out of the log before the Live read them flush every
// entry, and the cursor continues from the oldest retained commit.
func TestTruncationFlushes(t *testing.T) {
	raw := openBolt(t, boltstore.Options{ChangeRetention: 3})
	seed(t, raw)
	l := newLive(t, &quiet{Store: raw}, Options{PollInterval: time.Hour})
	cache := newCache(t, l)
	fill(t, l, cache, "ws_x", "bob")
	for i := range 6 { // never about ws_x/bob
		mustUpdate(t, raw, putMember("ws_a", fmt.Sprint("u", i)))
	}
	rev := mustUpdate(t, l, putMember("ws_a", "alice"))
	if _, ok := cache.Get("bob", "ws_x"); ok {
		t.Error("an entry survived a truncated feed: the skipped commits could have been about it")
	}
	if l.Applied() != rev {
		t.Errorf("Applied %d after catching up past a truncation, want %d", l.Applied(), rev)
	}
	fill(t, l, cache, "ws_x", "bob")
	mustUpdate(t, l, putMember("ws_a", "carol"))
	if _, ok := cache.Get("bob", "ws_x"); !ok {
		t.Error("after the truncation the feed is followed again, not flushed on every write")
	}
}

// When the catch-up after a write fails, the write still succeeds and
// every entry is expired, so the next request cannot be served stale.
func TestCatchUpFailureExpiresAll(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	q := &quiet{Store: raw}
	seed(t, raw)
	l := newLive(t, q, Options{PollInterval: time.Hour})
	cache := newCache(t, l)
	fill(t, l, cache, "ws_a", "alice")
	q.failChanges.Store(true)
	rev, err := l.UpdateRev(context.Background(), putMember("ws_a", "alice"))
	if err != nil || rev == 0 {
		t.Fatalf("UpdateRev with a failing catch-up: %d, %v; want the commit's success", rev, err)
	}
	if _, ok := cache.Get("alice", "ws_a"); ok {
		t.Error("an entry was served after a commit the caches could not apply")
	}
	q.failChanges.Store(false)
	mustUpdate(t, l, putMember("ws_x", "bob"))
	if l.Applied() != raw.Revision() {
		t.Errorf("Applied %d after the feed recovered, want %d", l.Applied(), raw.Revision())
	}
}

// A cancelled caller context after the commit does not stop the catch-up.
func TestCatchUpIgnoresCancellation(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	seed(t, raw)
	l := newLive(t, &quiet{Store: raw}, Options{PollInterval: time.Hour})
	cache := newCache(t, l)
	fill(t, l, cache, "ws_a", "alice")
	ctx, cancel := context.WithCancel(context.Background())
	rev, err := l.UpdateRev(ctx, func(tx store.Tx) error {
		defer cancel() // the client leaves while the write commits
		return putMember("ws_a", "alice")(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Applied() != rev {
		t.Errorf("Applied %d, want %d", l.Applied(), rev)
	}
	if _, ok := cache.Get("alice", "ws_a"); ok {
		t.Error("entry served after a write whose caller gave up")
	}
}

// Close stops the follower goroutine and closes the store.
func TestCloseStopsFollower(t *testing.T) {
	permcache.NewVersions() // the process-wide coarse clock starts once; not ours to count
	raw := openBolt(t, boltstore.Options{})
	before := runtime.NumGoroutine()
	l, err := New(raw, Options{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	default:
		t.Fatal("Close returned before the follower stopped")
	}
	eventually(t, "goroutines back to the count before New", func() bool { return runtime.NumGoroutine() <= before })
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := raw.View(context.Background(), func(store.Tx) error { return nil }); err == nil {
		t.Error("the store is still open after Live.Close")
	}
}

// The Live is a store.Store: the conformance suite passes through it.
func TestConformanceThroughLive(t *testing.T) {
	storetest.RunAll(t, storetest.Backend{
		Open: func(t testing.TB) store.Store {
			return newLive(t, openBolt(t, boltstore.Options{ChangeRetention: 150}), Options{})
		},
		ChangeRetention: 150,
	})
}
