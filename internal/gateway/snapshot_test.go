package gateway_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// A miss by slug resolves the slug and reads the access in one store read.
func TestSlugMissIsOneRead(t *testing.T) {
	f := newFixture(t)
	var views atomic.Int32
	f.engine = f.engineOn(&viewStore{Live: f.store, view: func(ctx context.Context, fn func(store.Tx) error) error {
		views.Add(1)
		return f.store.View(ctx, fn)
	}}, time.Second)
	p := f.policy(gateway.DefaultWorkspaceSource)
	check(t, "olga by slug", decide(p, request("GET", "/w/acme/messages", f.token("olga"))), want{})
	check(t, "olga by slug, unknown slug", decide(p, request("GET", "/w/nope/messages", f.token("olga"))), want{404, "workspace_not_found", ""})
	if n := views.Load(); n != 2 {
		t.Errorf("%d store reads for two slug misses, want 2", n)
	}
}

// lateSnapshotStore answers its first read from before, a copy of the
// store taken before a change, and runs bump (the counter bump the
// change's commit makes) during before's read: the situation of a commit
// that lands after a read's snapshot began and is applied before the read
// looks at the counters. Every later read is live's. views counts them.
func lateSnapshotStore(live *changefeed.Live, before *boltstore.Store, bump func()) (s *viewStore, views *atomic.Int32) {
	views = new(atomic.Int32)
	var first atomic.Bool
	first.Store(true)
	return &viewStore{Live: live, view: func(ctx context.Context, fn func(store.Tx) error) error {
		views.Add(1)
		if first.CompareAndSwap(true, false) {
			return before.View(ctx, func(tx store.Tx) error {
				bump()
				return fn(tx)
			})
		}
		return live.View(ctx, fn)
	}}, views
}

// A slug miss reads the workspace id from its snapshot, and so the cache
// counters of the workspace and the membership only after the snapshot
// began. When a change is applied while it reads, those counters may
// already count a commit its snapshot does not hold: the entry must not be
// cached under them, or a revoked member would keep a cached allow until
// the next change. The miss reads again, counters first, and answers and
// caches what the newer read says.
func TestSlugMissUnderConcurrentRevokeCachesNoStaleAllow(t *testing.T) {
	f := newFixture(t)
	before := copyStore(t, f)
	// The revocation, committed in the real store.
	if err := f.store.Update(context.Background(), func(tx store.Tx) error { return tx.DeleteMember(f.acme.ID, "olga") }); err != nil {
		t.Fatal(err)
	}

	s, views := lateSnapshotStore(f.store, before, func() {
		gateway.ApplyChange(f.engine, store.Change{Kind: store.ChangeMember, WorkspaceID: f.acme.ID, UserID: "olga"})
	})
	f.engine = f.engineOn(s, time.Second)
	p := f.policy(gateway.DefaultWorkspaceSource)
	tok := f.token("olga")
	check(t, "olga, miss during the revocation", decide(p, request("GET", "/w/acme/messages", tok)), want{404, "workspace_not_found", ""})
	check(t, "olga, next request", decide(p, request("GET", "/w/acme/messages", tok)), want{404, "workspace_not_found", ""})
	if n := views.Load(); n < 2 {
		t.Errorf("%d store reads: the miss did not read again after the change", n)
	}
}

// copyStore returns a copy of f's store as it is now, open, closed with t.
func copyStore(t *testing.T, f *fixture) *boltstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "before.db")
	err := f.raw.Backup(context.Background(), func(_ int64, r io.Reader) error {
		out, err := os.Create(path)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The API key fill reads the key's workspace id from its snapshot too, and
// so the workspace's counter (which guards the plan's api_keys) only once
// the snapshot has begun. A downgrade applied while it reads must not
// leave the key's old credential cached: the key is refused at once and
// on the next request.
func TestKeyMissUnderConcurrentDowngradeCachesNoStaleCredential(t *testing.T) {
	f := newPlanFixture(t)
	f.setWorkspacePlan(&f.acme, "pro")
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	before := copyStore(t, f.fixture)
	f.setWorkspacePlan(&f.acme, "free") // the downgrade, committed

	s, _ := lateSnapshotStore(f.store, before, func() {
		gateway.ApplyChange(f.engine, store.Change{Kind: store.ChangeWorkspace, WorkspaceID: f.acme.ID})
	})
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		o.Model = newModel(t, planTestConfig())
		o.Live = f.liveOn(s)
	})
	p := f.policy(gateway.DefaultWorkspaceSource)
	planDenied(t, "key, miss during the downgrade", decide(p, request("GET", "/w/acme/messages", key)), "", model.FeatureAPIKeys, "free", "pro")
	planDenied(t, "key, next request", decide(p, request("GET", "/w/acme/messages", key)), "", model.FeatureAPIKeys, "free", "pro")
}
