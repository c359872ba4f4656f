package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// storePool keeps each bbolt file open across config reloads. A reload
// provisions and starts the new config before the old one is cleaned up,
// and bbolt's file lock cannot be taken twice, so the new config must share
// the old config's open database instead of reopening it. The invalidation
// versions live with the database: a write through either config must
// invalidate the caches of both.
var storePool = caddy.NewUsagePool()

// storeLockTimeout bounds the wait for another process's file lock, so a
// second `caddy run` against a running server fails fast with a clear error.
const storeLockTimeout = time.Second

// errStoreNotCreated answers store calls made before the app started: the
// file of a new store is created by Start, never by Provision.
var errStoreNotCreated = errors.New("the store is not created yet: the gatehouse app has not started")

// sharedStore is the pooled value: one database and its versions. It is
// the store.Store every part of the app uses.
//
// An existing file is opened at once (Provision). A missing one is created
// only by open, which App.Start calls: `caddy validate` runs Provision but
// not Start, and validation must create nothing — no file, no directory —
// for a path that may well be mistyped. A file locked by another process
// is also left to Start, so validating next to a running server works.
type sharedStore struct {
	path     string // absolute
	versions *permcache.Versions
	db       atomic.Pointer[boltstore.Store]
	// ready is closed once db is set. Caddy starts apps in no fixed
	// order, so the HTTP server may take a request before App.Start has
	// created a new store: such a request waits for it (briefly).
	ready chan struct{}

	mu sync.Mutex // serializes open and the pending keys
	// pendingKeys are the gateway signing keys made for a store that does
	// not exist yet; open writes them into the new file, so assertions
	// signed and JWKS served by this config stay valid.
	pendingKeys []store.SigningKey
}

// View implements store.Store.
func (s *sharedStore) View(ctx context.Context, fn func(store.Tx) error) error {
	db, err := s.opened(ctx)
	if err != nil {
		return err
	}
	return db.View(ctx, fn)
}

// Update implements store.Store.
func (s *sharedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	db, err := s.opened(ctx)
	if err != nil {
		return err
	}
	return db.Update(ctx, fn)
}

// UpdateRev implements store.Store.
func (s *sharedStore) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	db, err := s.opened(ctx)
	if err != nil {
		return 0, err
	}
	return db.UpdateRev(ctx, fn)
}

// Revision implements store.Store: 0 while the store is not created yet
// (it has no commits either).
func (s *sharedStore) Revision() uint64 {
	if db := s.db.Load(); db != nil {
		return db.Revision()
	}
	return 0
}

// ID implements store.Store: "" while the store is not created yet, so
// no token matches it.
func (s *sharedStore) ID() string {
	if db := s.db.Load(); db != nil {
		return db.ID()
	}
	return ""
}

// Stats implements store.Store.
func (s *sharedStore) Stats(ctx context.Context) (store.Stats, error) {
	db, err := s.opened(ctx)
	if err != nil {
		return store.Stats{}, err
	}
	return db.Stats(ctx)
}

// Backup implements store.Store.
func (s *sharedStore) Backup(ctx context.Context, fn func(size int64, r io.Reader) error) error {
	db, err := s.opened(ctx)
	if err != nil {
		return err
	}
	return db.Backup(ctx, fn)
}

// storeReadyWait bounds how long a store call waits for App.Start to
// create a new store.
const storeReadyWait = 5 * time.Second

// opened returns the open database, waiting for App.Start if the store is
// being created.
func (s *sharedStore) opened(ctx context.Context) (*boltstore.Store, error) {
	if db := s.db.Load(); db != nil {
		return db, nil
	}
	t := time.NewTimer(storeReadyWait)
	defer t.Stop()
	select {
	case <-s.ready:
		return s.db.Load(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errStoreNotCreated
	}
}

// Close implements store.Store. It does nothing: the file is shared by
// every config that uses it, and the pool closes it (Destruct).
func (s *sharedStore) Close() error { return nil }

// Destruct implements caddy.Destructor; the pool calls it when the last
// config using the file is cleaned up.
func (s *sharedStore) Destruct() error {
	if db := s.db.Load(); db != nil {
		return db.Close()
	}
	return nil
}

// open creates the store file if it is still missing (App.Start). The
// creation is logged with the absolute path: a store appearing somewhere
// unexpected is the first thing an operator needs to see.
func (s *sharedStore) open(logger *zap.Logger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db.Load() != nil {
		return nil
	}
	_, statErr := os.Stat(s.path)
	creating := errors.Is(statErr, fs.ErrNotExist)
	db, err := boltstore.Open(s.path, boltstore.Options{Timeout: storeLockTimeout, Listener: s.versions})
	if err != nil {
		return err
	}
	if len(s.pendingKeys) > 0 {
		if err := db.Update(context.Background(), func(tx store.Tx) error {
			existing, err := tx.SigningKeys()
			if err != nil {
				return err
			}
			if len(existing) > 0 {
				// Another process created or released the file between
				// Provision and Start: its keys win, and this config's
				// signer is unusable.
				return fmt.Errorf("store %s changed hands while this config loaded (another process created or held it): load the config again", s.path)
			}
			for _, k := range s.pendingKeys {
				if err := tx.PutSigningKey(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			_ = db.Close()
			return err
		}
		s.pendingKeys = nil
	}
	s.db.Store(db)
	close(s.ready)
	if creating {
		logger.Info("created a new Gatehouse store", zap.String("path", s.path))
	}
	return nil
}

// signer returns the gateway's assertion signer, creating its key on first
// use. For a store not created yet the key is made in memory and kept for
// open to write into the real file, so validation touches no disk.
func (s *sharedStore) signer(now time.Time) (*assertion.Signer, error) {
	if s.db.Load() != nil {
		return assertion.LoadOrCreate(context.Background(), s, now)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if db := s.db.Load(); db != nil {
		return assertion.LoadOrCreate(context.Background(), db, now)
	}
	if len(s.pendingKeys) == 0 {
		key, err := assertion.NewStoredKey(now)
		if err != nil {
			return nil, err
		}
		s.pendingKeys = []store.SigningKey{key}
	}
	// A copy: NewSigner sorts its argument.
	return assertion.NewSigner(slices.Clone(s.pendingKeys))
}

// acquireStore returns the shared store for path, opening it on first use
// if the file exists. The caller must call releaseStore with the returned
// key exactly once.
func acquireStore(path string) (*sharedStore, string, error) {
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("store %s: %v", path, err)
	}
	v, _, err := storePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		s := &sharedStore{path: key, versions: permcache.NewVersions(), ready: make(chan struct{})}
		if _, err := os.Stat(key); errors.Is(err, fs.ErrNotExist) {
			return s, nil // created by Start (open)
		}
		db, err := boltstore.Open(key, boltstore.Options{Timeout: storeLockTimeout, Listener: s.versions})
		if errors.Is(err, boltstore.ErrLocked) {
			// Another process (a running server) holds the file. That is
			// no config error: `caddy validate` next to a running server
			// must succeed. A second `caddy run` fails at Start instead,
			// with the same lock error.
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		s.db.Store(db)
		close(s.ready)
		return s, nil
	})
	if err != nil {
		return nil, "", err
	}
	return v.(*sharedStore), key, nil
}

func releaseStore(key string) error {
	_, err := storePool.Delete(key)
	return err
}
