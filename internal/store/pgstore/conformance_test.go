package pgstore

import (
	"context"
	"encoding/json"
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
// listener) on the same database, as another replica; OpenBackup imports
// the snapshot Backup made into a fresh database.
func TestConformance(t *testing.T) {
	const retention = 150
	storetest.RunAll(t, storetest.Backend{
		Open: func(t testing.TB) store.Store {
			s, _ := openT(t, Options{ChangeRetention: retention})
			return s
		},
		ChangeRetention: retention,
		Second: func(t testing.TB, s store.Store) store.Store {
			u, ok := urls.Load(s)
			if !ok {
				t.Fatal("Second: not a store of openT")
			}
			return openURL(t, u.(string), Options{ChangeRetention: retention})
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
