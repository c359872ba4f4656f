package boltstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// TestConformance runs the backend-independent store suite against a real
// bbolt file per subtest.
func TestConformance(t *testing.T) {
	storetest.RunAll(t, storetest.Backend{
		Open: func(t testing.TB) store.Store {
			s, _ := openT(t, Options{ChangeRetention: 150})
			return s
		},
		ChangeRetention: 150,
		// bbolt's file lock forbids a second Open of the file, even in
		// this process: the second value is another Store wrapping the
		// same *bbolt.DB. It is never closed on its own;
		// closing the first closes the database under both.
		Second: func(t testing.TB, s store.Store) store.Store {
			first := s.(*Store)
			second := &Store{db: first.db, path: first.path, retention: first.retention, id: first.id}
			second.rev.Store(first.Revision())
			return second
		},
		OpenBackup: func(t testing.TB, data []byte) store.Store {
			path := filepath.Join(t.TempDir(), "backup.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("opening the backup: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	})
}
