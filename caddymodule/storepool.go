package caddymodule

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// storePool keeps each bbolt file open across config reloads. A reload
// provisions and starts the new config before the old one is cleaned up,
// and bbolt's file lock cannot be taken twice, so the new config must share
// the old config's open database instead of reopening it. The invalidation
// versions live with the database: a write through either config must
// invalidate the caches of both.
var storePool = caddy.NewUsagePool()

// storeLockTimeout bounds the wait for another process's file lock, so
// `caddy validate` against a running server fails fast with a clear error.
const storeLockTimeout = time.Second

// sharedStore is the pooled value: one open database and its versions.
type sharedStore struct {
	db       *boltstore.Store
	versions *permcache.Versions
}

// Destruct implements caddy.Destructor; the pool calls it when the last
// config using the file is cleaned up.
func (s *sharedStore) Destruct() error { return s.db.Close() }

// acquireStore returns the shared store for path, opening it on first use.
// The caller must call releaseStore with the returned key exactly once.
func acquireStore(path string) (*sharedStore, string, error) {
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("store %s: %v", path, err)
	}
	v, _, err := storePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		versions := permcache.NewVersions()
		db, err := boltstore.Open(key, boltstore.Options{Timeout: storeLockTimeout, Listener: versions})
		if err != nil {
			return nil, err
		}
		return &sharedStore{db: db, versions: versions}, nil
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
