package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// urls maps each store the tests open to its database URL, for Second.
var urls sync.Map // *Store → string

// openT opens a store on a fresh database, closed when t ends.
func openT(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	u := pgtest.NewDatabase(t)
	return openURL(t, u, opts), u
}

// openURL opens another store on the database of u, closed when t ends.
func openURL(t testing.TB, u string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	urls.Store(s, u)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the backend-independent store suite against a
// fresh database per subtest. Second is another Store (another pool and
// listener) on the same database; OpenBackup imports the snapshot Backup
// made into a fresh database.
//
// Until the change feed replaces store.ChangeListener, the suite's
// listener checks expect in-process callbacks, which pgstore does not make
// (its consumers read Changes). A store opened with a listener is wrapped
// in feedListener, which after each commit replays the change log up to
// the commit's revision into the listener, the way the change-feed
// consumer does: the suite's listener checks then check the content of
// the log. (Without the wrapper exactly the listener checks fail: Purge,
// Listener, ListenerSeesCommit, Concurrency/NoLostUpdate.)
func TestConformance(t *testing.T) {
	storetest.RunAll(t, storetest.Backend{
		Open: func(t testing.TB, l store.ChangeListener) store.Store {
			s, _ := openT(t, Options{})
			return withListener(s, l)
		},
		Second: func(t testing.TB, s store.Store) store.Store {
			var l store.ChangeListener
			if f, ok := s.(*feedListener); ok {
				s, l = f.Store, f.l
			}
			u, ok := urls.Load(s)
			if !ok {
				t.Fatal("Second: not a store of openT")
			}
			return withListener(openURL(t, u.(string), Options{}), l)
		},
		OpenBackup: func(t testing.TB, data []byte) store.Store {
			var snap store.Snapshot
			if err := json.Unmarshal(data, &snap); err != nil {
				t.Fatalf("the backup is not a snapshot: %v", err)
			}
			s, _ := openT(t, Options{})
			if err := s.Update(context.Background(), func(tx store.Tx) error { return store.Import(tx, snap) }); err != nil {
				t.Fatalf("importing the backup: %v", err)
			}
			return s
		},
	})
}

// feedListener is a Store whose committed Updates are replayed from the
// change log into a store.ChangeListener before UpdateRev returns.
type feedListener struct {
	*Store
	l       store.ChangeListener
	mu      sync.Mutex
	applied uint64
}

func withListener(s *Store, l store.ChangeListener) store.Store {
	if l == nil {
		return s
	}
	return &feedListener{Store: s, l: l, applied: s.Revision()}
}

func (f *feedListener) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := f.UpdateRev(ctx, fn)
	return err
}

func (f *feedListener) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	rev, err := f.Store.UpdateRev(ctx, fn)
	if err != nil {
		return rev, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.applied < rev {
		commits, err := f.Changes(context.WithoutCancel(ctx), f.applied, 0)
		if err != nil {
			return rev, err
		}
		if len(commits) == 0 {
			return rev, fmt.Errorf("the change log ends before revision %d", rev)
		}
		for _, c := range commits {
			for _, ch := range c.Changes {
				switch ch.Kind {
				case ChangeWorkspace:
					f.l.WorkspaceChanged(ch.WorkspaceID, ch.Slugs)
				case ChangeMember:
					f.l.MemberChanged(ch.WorkspaceID, ch.UserID)
				case ChangeAPIKey:
					f.l.APIKeyChanged(ch.WorkspaceID, ch.KeyID)
				}
			}
			f.applied = c.Revision
		}
	}
	return rev, nil
}
