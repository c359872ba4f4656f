package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

func init() {
	caddy.RegisterModule(BoltStore{})
}

// BoltStore is the embedded bbolt backend, `gatehouse.stores.bolt`: one
// file, one process. In a Caddyfile: `store <path>` or `store bolt <path>`.
type BoltStore struct {
	// Path of the bbolt database file. A missing file (and its
	// directories) is created when the app starts, never by `caddy
	// validate`, and the creation is logged with the absolute path.
	// Default: gatehouse/gatehouse.db under Caddy's data directory
	// ($XDG_DATA_HOME/caddy, else ~/.local/share/caddy on Linux).
	Path string `json:"path,omitempty"`

	abs string
}

// CaddyModule returns the Caddy module information.
func (BoltStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  storeNamespace + ".bolt",
		New: func() caddy.Module { return new(BoltStore) },
	}
}

// Provision resolves the path: the pool key is the absolute path, so two
// spellings of one file share one open database (bbolt's lock cannot be
// taken twice, even in one process).
//
// Placeholders such as {env.GATEHOUSE_STORE} are resolved; a path that
// turns out to be a URL is refused rather than created as a file named
// "postgres:".
func (b *BoltStore) Provision(caddy.Context) error {
	if b.Path == "" {
		b.Path = filepath.Join(caddy.AppDataDir(), "gatehouse", "gatehouse.db")
	}
	path := caddy.NewReplacer().ReplaceKnown(b.Path, "")
	if path == "" {
		return fmt.Errorf("store bolt %s: the path is empty once its placeholders are resolved (is the environment variable set?)", b.Path)
	}
	if kind, err := storeopen.Classify(path); err != nil || kind != storeopen.Bolt {
		return fmt.Errorf("store bolt %s: a URL, not a file path: for PostgreSQL write `store postgres <url>`", storeopen.Describe(path))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store %s: %v", path, err)
	}
	b.abs = abs
	return nil
}

// PoolKey implements StoreBackend: the absolute path.
func (b *BoltStore) PoolKey() string { return b.abs }

// Describe implements StoreBackend.
func (b *BoltStore) Describe() string { return b.abs }

// OpenEarly implements StoreBackend: an existing file is opened at once. A
// missing one is left to Open (validation creates nothing, no file, no
// directory, for a path that may well be mistyped), and so is a file
// another process locks: that is no config error, `caddy validate` next
// to a running server must succeed; a second `caddy run` fails at Start
// instead, with the lock error.
func (b *BoltStore) OpenEarly(_ context.Context, env StoreEnv) (store.Store, error) {
	if _, err := os.Stat(b.abs); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	db, err := openBolt(b.abs)
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// Open implements StoreBackend: it creates the file if it is still
// missing, and logs the creation with the absolute path: a store
// appearing somewhere unexpected is the first thing an operator needs to
// see.
func (b *BoltStore) Open(_ context.Context, env StoreEnv) (store.Store, error) {
	_, statErr := os.Stat(b.abs)
	creating := errors.Is(statErr, fs.ErrNotExist)
	db, err := openBolt(b.abs)
	if err != nil {
		return nil, err
	}
	if creating {
		env.Logger.Info("created a new Gatehouse store", zap.String("path", b.abs))
	}
	return db, nil
}

// storeLockTimeout bounds the wait for another process's file lock, so a
// second `caddy run` against a running server fails fast with a clear error.
const storeLockTimeout = time.Second

// openBolt is the one place the app opens a bbolt file.
func openBolt(path string) (*boltstore.Store, error) {
	return boltstore.Open(path, boltstore.Options{Timeout: storeLockTimeout})
}

// Interface guards
var (
	_ StoreBackend      = (*BoltStore)(nil)
	_ caddy.Provisioner = (*BoltStore)(nil)
)
