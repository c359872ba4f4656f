package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// storePool keeps each store open across config reloads, keyed by its
// backend's PoolKey. A reload provisions and starts the new config before
// the old one is cleaned up, and bbolt's file lock cannot be taken twice,
// so the new config must share the old config's open database instead of
// reopening it. The invalidation versions live with the database: a write
// through either config must invalidate the caches of both.
var storePool = caddy.NewUsagePool()

// errStoreNotCreated answers store calls made before the app started: a
// store not opened at Provision (a new bbolt file, PostgreSQL) is opened
// by Start.
var errStoreNotCreated = errors.New("the store is not created yet: the gatehouse app has not started")

// sharedStore is the pooled value: one database and the changefeed.Live
// that wires it to its caches (one Versions per database). The Live, which
// wraps the sharedStore, is the store.Store every part of the app uses.
//
// The backend opens the store at Provision when that is free of side
// effects (StoreBackend.OpenEarly: bbolt, an existing file no other
// process holds), else only open does, which App.Start calls: `caddy
// validate` runs Provision but not Start, and validation must create
// nothing and work next to a running server.
type sharedStore struct {
	backend StoreBackend // the backend of the config that made the value
	desc    string       // backend.Describe(): what logs and errors name
	live    *changefeed.Live
	db      atomic.Pointer[openStore]
	// ready is closed once db is set. Caddy starts apps in no fixed
	// order, so the HTTP server may take a request before App.Start has
	// created a new store: such a request waits for it (briefly).
	ready chan struct{}

	mu sync.Mutex // serializes open and the pending signer
	// pendingKeys are the gateway signing keys made for a store not open
	// yet, and pendingSigner the signer every config gets meanwhile: open
	// writes the keys into a store that has none, or gives the signer the
	// store's own keys (another process or replica made them first).
	pendingKeys   []store.SigningKey
	pendingSigner *gatewaySigner
	// gsigner is the one signer of this store (under mu), kept current
	// with the store's keys by refreshSigner.
	gsigner *gatewaySigner
	// stopRefresh ends refreshSigner; refreshDone is closed when it has.
	stopRefresh chan struct{}
	refreshDone chan struct{}
}

// openStore holds the opened store (atomic.Pointer needs a concrete type).
type openStore struct{ store.Store }

// load returns the opened store, nil before.
func (s *sharedStore) load() store.Store {
	if o := s.db.Load(); o != nil {
		return o.Store
	}
	return nil
}

// set publishes the opened store and wakes the calls waiting for it.
func (s *sharedStore) set(db store.Store) {
	s.db.Store(&openStore{db})
	close(s.ready)
}

func (s *sharedStore) env(logger *zap.Logger) StoreEnv {
	return StoreEnv{Logger: logger}
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
	if db := s.load(); db != nil {
		return db.Revision()
	}
	return 0
}

// ID implements store.Store: "" while the store is not created yet, so
// no token matches it.
func (s *sharedStore) ID() string {
	if db := s.load(); db != nil {
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
func (s *sharedStore) opened(ctx context.Context) (store.Store, error) {
	if db := s.load(); db != nil {
		return db, nil
	}
	t := time.NewTimer(storeReadyWait)
	defer t.Stop()
	select {
	case <-s.ready:
		return s.load(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errStoreNotCreated
	}
}

// Changes implements store.Store. A store not created yet has no commits:
// the list is empty (no wait, so the feed's follower never stalls on it).
func (s *sharedStore) Changes(ctx context.Context, since uint64, limit int) ([]store.Commit, error) {
	if db := s.load(); db != nil {
		return db.Changes(ctx, since, limit)
	}
	return nil, nil
}

// Subscribe implements store.Store. Subscribed before the database is
// open (a store created or opened by Start: every PostgreSQL store), the
// channel forwards the database's wake-ups from the moment it opens,
// starting with one: without that the Live's follower, wired at
// Provision, would never hear a NOTIFY and would learn of other
// replicas' commits only from its poll.
func (s *sharedStore) Subscribe() (<-chan struct{}, func()) {
	if db := s.load(); db != nil {
		return db.Subscribe()
	}
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	go s.forwardWakeUps(out, done)
	var once sync.Once
	return out, func() { once.Do(func() { close(done) }) }
}

// forwardWakeUps waits for the database to open, then forwards its
// wake-ups to out until done is closed.
func (s *sharedStore) forwardWakeUps(out chan<- struct{}, done <-chan struct{}) {
	select {
	case <-s.ready:
	case <-done:
		return
	}
	wake, cancel := s.load().Subscribe()
	defer cancel()
	for {
		select {
		case out <- struct{}{}:
		default: // a wake-up is pending already
		}
		select {
		case <-wake:
		case <-done:
			return
		}
	}
}

// Close implements store.Store. It does nothing: the store is shared by
// every config that uses it, and the pool closes it (Destruct).
func (s *sharedStore) Close() error { return nil }

// Destruct implements caddy.Destructor; the pool calls it when the last
// config using the store is cleaned up. The Live's follower stops first.
func (s *sharedStore) Destruct() error {
	storeMetrics.remove(s)
	close(s.stopRefresh)
	<-s.refreshDone
	_ = s.live.Close() // closes only the follower: sharedStore.Close is a no-op
	if db := s.load(); db != nil {
		return db.Close()
	}
	return nil
}

// open opens the store if Provision did not (App.Start), creating what
// is missing; the backend logs a creation.
func (s *sharedStore) open(logger *zap.Logger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return nil
	}
	db, err := s.backend.Open(context.Background(), s.env(logger))
	if err != nil {
		return err
	}
	if s.pendingSigner != nil {
		if err := s.settleKeys(db, logger); err != nil {
			_ = db.Close()
			return err
		}
	}
	// The signer is final before ready is closed: requests that waited
	// for the store sign with the keys it publishes.
	s.set(db)
	// A store that was not open at Provision may hold commits the Live's
	// cursor (0) has not seen; its caches are empty, so this only moves
	// the cursor (and Revision) to the store's.
	if err := s.live.Sync(context.Background()); err != nil {
		logger.Warn("reading the store's change feed at start failed; the follower retries", zap.Error(err))
	}
	return nil
}

// settleKeys gives the pending signer its final keys: the store's, when
// it has some, else the pending ones, written now. The transaction
// function only assigns keys, which it recomputes on every run.
func (s *sharedStore) settleKeys(db store.Store, logger *zap.Logger) error {
	var keys []store.SigningKey
	adopted := false
	err := db.Update(context.Background(), func(tx store.Tx) error {
		existing, err := tx.SigningKeys()
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			keys, adopted = existing, true
			return nil
		}
		keys, adopted = s.pendingKeys, false
		for _, k := range s.pendingKeys {
			if err := tx.PutSigningKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s: loading the gateway signing key: %w", s.desc, err)
	}
	if adopted {
		signer, err := assertion.NewSigner(slices.Clone(keys))
		if err != nil {
			return fmt.Errorf("store %s: %w", s.desc, err)
		}
		s.pendingSigner.cur.Store(signer)
		logger.Info("the store already had gateway signing keys: using them", zap.String("store", s.desc), zap.Int("keys", len(keys)))
	}
	s.pendingKeys = nil
	return nil
}

// signer returns the gateway's assertion signer, creating its key on first
// use. For a store not open yet the key is made in memory and kept for
// open to settle (settleKeys), so validation writes nothing.
func (s *sharedStore) signer(now time.Time) (*gatewaySigner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// One signer per store, shared by every config on it, so that the
	// refresher (refreshSigner) updates what they all sign and publish.
	if s.gsigner != nil {
		return s.gsigner, nil
	}
	if db := s.load(); db != nil {
		signer, err := assertion.LoadOrCreate(context.Background(), db, now)
		if err != nil {
			return nil, err
		}
		s.gsigner = settledSigner(signer)
		return s.gsigner, nil
	}
	key, err := assertion.NewStoredKey(now)
	if err != nil {
		return nil, err
	}
	signer, err := assertion.NewSigner([]store.SigningKey{key})
	if err != nil {
		return nil, err
	}
	s.pendingKeys = []store.SigningKey{key}
	s.pendingSigner = &gatewaySigner{ready: s.ready}
	s.pendingSigner.cur.Store(signer)
	s.gsigner = s.pendingSigner
	return s.pendingSigner, nil
}

// acquireStore returns the shared store of backend's database, opening it
// on first use if the backend can at Provision. The caller must call
// releaseStore with the returned key exactly once.
func acquireStore(backend StoreBackend, logger *zap.Logger) (*sharedStore, string, error) {
	key := backend.PoolKey()
	v, loaded, err := storePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		s := &sharedStore{backend: backend, desc: backend.Describe(), ready: make(chan struct{})}
		db, err := backend.OpenEarly(context.Background(), s.env(logger))
		if err != nil {
			return nil, err
		}
		if db != nil {
			s.set(db)
		}
		return s.wire()
	})
	if err != nil {
		return nil, "", err
	}
	shared := v.(*sharedStore)
	if loaded {
		warnOptionsKept(logger, shared, backend)
	}
	return shared, key, nil
}

// feedBackend is a backend whose store other processes write too, so
// that its caches can fall behind: it sets the change-feed consumer's
// staleness bound and consistency wait (changefeed.Options). A backend
// without it (bbolt) is never stale.
type feedBackend interface {
	feedOptions() (maxStaleness, consistencyWait time.Duration)
}

// tunedBackend is a backend whose options are not part of its PoolKey.
type tunedBackend interface {
	// options describes them, to compare two configs of one database.
	options() string
}

// warnOptionsKept says so when a reload changes options of a store it
// shares with the config it replaces: the open store keeps the options it
// was opened with until the process restarts.
func warnOptionsKept(logger *zap.Logger, shared *sharedStore, backend StoreBackend) {
	old, ok1 := shared.backend.(tunedBackend)
	now, ok2 := backend.(tunedBackend)
	if ok1 && ok2 && old.options() != now.options() {
		logger.Warn("the store's options changed, but the store stays open across the reload: the new options take effect when the process restarts",
			zap.String("store", shared.desc), zap.String("options_in_effect", old.options()), zap.String("options_configured", now.options()))
	}
}

// wire builds the Live of s (its caches and feed follower). It starts
// from the database's revision when the file is open, else from 0.
func (s *sharedStore) wire() (caddy.Destructor, error) {
	opts := changefeed.Options{Logger: caddy.Log().Named("gatehouse.changefeed")}
	if fb, ok := s.backend.(feedBackend); ok {
		opts.MaxStaleness, opts.ConsistencyWait = fb.feedOptions()
	}
	live, err := changefeed.New(s, opts)
	if err != nil {
		if db := s.load(); db != nil {
			_ = db.Close()
		}
		return nil, err
	}
	s.live = live
	storeMetrics.add(s)
	s.stopRefresh, s.refreshDone = make(chan struct{}), make(chan struct{})
	go s.refreshSigner(signingKeyRefresh, caddy.Log().Named("gatehouse.signer"))
	return s, nil
}

func releaseStore(key string) error {
	_, err := storePool.Delete(key)
	return err
}
