// Package gateway makes the access decision for one HTTP request (README "The decision"):
// path check, rule match, authentication, workspace resolution, permission
// and restriction checks. It knows net/http but not Caddy; the Caddy
// handler in caddymodule is a thin adapter around Policy.Decide.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Authenticator verifies a bearer token. *authn.Verifier implements it.
type Authenticator interface {
	Verify(token string) (authn.Principal, error)
}

// Observer receives the engine's counters (Prometheus in caddymodule). Its
// methods are called on the request path and must be cheap.
type Observer interface {
	CacheLookup(hit bool)
}

// Options configure an Engine.
type Options struct {
	// Model is the authorization model: the catalog, the roles, the
	// global admins, and how a membership compiles to access. The engine
	// calls it on a cache miss.
	Model *model.Model
	// Live is the store wired to its caches (changefeed.New): the engine
	// reads through it and builds its caches on its Versions, so the
	// store and the counters that guard its cached decisions cannot be
	// mismatched.
	Live          *changefeed.Live
	Authenticator Authenticator
	// CacheMaxEntries bounds the access cache; 0 = permcache.DefaultMaxEntries.
	CacheMaxEntries int64
	// MaxUnknownKeys bounds how many API key ids nobody issued are
	// remembered (so that repeating one costs no store read); 0 =
	// permcache.DefaultMaxUnknown. Separate from the access cache: a
	// client without credentials can fill this set, and nothing else.
	MaxUnknownKeys int
	// StoreTimeout bounds every store read on the request path (a cache
	// miss: workspace, membership, API key); a read that takes longer
	// fails the request closed with 503. 0 = DefaultStoreTimeout.
	StoreTimeout time.Duration
	Observer     Observer
	Logger       *zap.Logger
	// Now is the clock API key expiry is checked against; nil = time.Now.
	Now func() time.Time
}

// Engine is the per-config decision core shared by every gatehouse handler
// of a Caddy config: it owns the access cache and the user recorder.
type Engine struct {
	model *model.Model
	// catalog is model's, held apart for the request path.
	catalog      *authz.Catalog
	store        store.Store
	versions     *permcache.Versions
	authn        Authenticator
	cache        *permcache.Cache[*Access]
	orgs         *permcache.Cache[*OrgAccess]
	keys         *permcache.Cache[*keyCredential]
	unknownKeys  *permcache.Unknown
	noKey        *keyCredential
	keyUses      *keyUseRecorder
	fills        *fills
	storeTimeout time.Duration
	observer     Observer
	logger       *zap.Logger
	now          func() time.Time
	seen         *seenRecorder
	// local makes users' LOCAL workspaces; nil when they are off.
	local     *localMaker
	closeOnce sync.Once
	// revision is the decimal store revision forwarded upstream.
	revision revisionText
	// live is the store with its feed (staleness, consistency waits).
	// Every decision that needs store data first asks live.Stale: one
	// clock read on a store with other writers (PostgreSQL), none on
	// bbolt.
	live *changefeed.Live
}

// maxRefLen bounds a workspace reference from a request before it reaches
// the store or the cache (ids are 29 bytes, slugs at most 63).
const maxRefLen = 128

// NewEngine validates opts and starts the engine's background work.
func NewEngine(opts Options) (*Engine, error) {
	if opts.Model == nil || opts.Live == nil || opts.Authenticator == nil {
		return nil, errors.New("gateway: Model, Live and Authenticator are required")
	}
	versions := opts.Live.Versions()
	cache, err := permcache.New[*Access](versions, opts.CacheMaxEntries)
	if err != nil {
		return nil, err
	}
	keys, err := permcache.New[*keyCredential](versions, opts.CacheMaxEntries)
	if err != nil {
		return nil, err
	}
	orgs, err := permcache.New[*OrgAccess](versions, opts.CacheMaxEntries)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	seen, err := newSeenRecorder(opts.Live, logger)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		model:        opts.Model,
		catalog:      opts.Model.Catalog(),
		store:        opts.Live,
		live:         opts.Live,
		versions:     versions,
		authn:        opts.Authenticator,
		cache:        cache,
		orgs:         orgs,
		keys:         keys,
		unknownKeys:  permcache.NewUnknown(versions, opts.MaxUnknownKeys),
		noKey:        newNoKey(),
		fills:        newFills(),
		keyUses:      newKeyUseRecorder(opts.Live, logger),
		observer:     opts.Observer,
		logger:       logger,
		now:          opts.Now,
		storeTimeout: opts.StoreTimeout,
		seen:         seen,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.storeTimeout <= 0 {
		e.storeTimeout = DefaultStoreTimeout
	}
	if e.local, err = newLocalMaker(e.model, opts.Live, logger, e.storeTimeout, e.now); err != nil {
		return nil, err
	}
	return e, nil
}

// Close stops background work and flushes pending user records. The
// engine still answers afterwards (a request of a config being replaced
// may be in flight); its caches are released with it.
func (e *Engine) Close() {
	e.closeOnce.Do(func() {
		e.seen.close()
		e.keyUses.close()
	})
}

// Catalog returns the permission catalog.
func (e *Engine) Catalog() *authz.Catalog { return e.catalog }

// Model returns the authorization model the engine decides with.
func (e *Engine) Model() *model.Model { return e.model }

// IsGlobalAdmin reports whether subject is listed in global_admins. An API
// key ("apikey:<id>") never is, whatever the list says.
func (e *Engine) IsGlobalAdmin(subject string) bool {
	if _, isKey := apikey.IDFromSubject(subject); isKey {
		return false
	}
	return e.model.IsGlobalAdmin(subject)
}

// Access returns what principal p may do in the workspace named by ref (id
// or slug). It answers from the cache when it can and never returns a value
// older than the last committed write. A miss reads the store under ctx,
// for at most the store timeout. An error means the store failed, was too
// slow, or ctx ended: the caller must fail closed.
func (e *Engine) Access(ctx context.Context, p authn.Principal, ref string) (*Access, error) {
	if !plausibleRef(ref) {
		return notMember, nil
	}
	// An API key's staleness was checked when it was authenticated, in
	// the same request: one clock read per decision.
	if p.KeyID == "" && e.live.Stale() {
		return nil, e.staleErr()
	}
	if a, ok := e.cache.Get(p.Subject, ref); ok {
		e.observeCache(true)
		return a, nil
	}
	e.observeCache(false)
	return e.accessMiss(ctx, p, ref)
}

// accessMiss is Access's store read, apart so that what its closure
// captures never costs the cached path an allocation.
func (e *Engine) accessMiss(ctx context.Context, p authn.Principal, ref string) (*Access, error) {
	// Concurrent misses for the same key share one store read (see fill).
	v, err := e.fill(ctx, p.Subject+"\x00"+ref, func(ctx context.Context) (any, error) {
		return e.loadAccess(ctx, p.Subject, p.KeyID, ref)
	})
	if err != nil {
		return nil, err
	}
	return v.(*Access), nil
}

// loadAccess reads the store and fills the cache. keyID is set when user
// is an API key's subject. Every counter of the entry's stamp is read
// before the snapshot the entry is read from (see permcache), or checked
// with a Mark when it can only be read inside it.
func (e *Engine) loadAccess(ctx context.Context, user, keyID, ref string) (*Access, error) {
	byID := ident.IsWorkspaceID(ref)
	stamp := e.versions.IDStamp()
	if !byID {
		stamp = e.versions.SlugStamp()
	}
	if keyID != "" {
		stamp = e.versions.WithKey(stamp, keyID)
	}
	if byID {
		return e.loadAccessByID(ctx, stamp, ref, user, keyID, ref)
	}
	access, workspaceID, cached, err := e.loadAccessBySlug(ctx, stamp, user, keyID, ref)
	if err != nil || cached {
		return access, err
	}
	// A change was applied while the snapshot was read, so the counters
	// read inside it may be newer than its data: read again, the way an
	// id is read (counters first). The slug is checked again there.
	return e.loadAccessByID(ctx, stamp, workspaceID, user, keyID, ref)
}

// loadAccessBySlug resolves slug ref and reads the access in one snapshot.
// cached is false when the result could not be cached (see
// permcache.Mark): the caller reads workspaceID again.
func (e *Engine) loadAccessBySlug(ctx context.Context, stamp permcache.Stamp, user, keyID, ref string) (access *Access, workspaceID string, cached bool, err error) {
	mark := e.versions.Mark()
	err = e.store.View(ctx, func(tx store.Tx) error {
		access, workspaceID = nil, "" // a backend may run fn again: only the last run counts
		ws, err := tx.WorkspaceBySlug(ref)
		if errors.Is(err, store.ErrNotFound) {
			access = notMember
			return nil
		}
		if err != nil {
			return err
		}
		workspaceID = ws.ID
		access, err = e.accessIn(tx, ws, user, keyID)
		return err
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("reading membership: %w", err)
	}
	if workspaceID == "" {
		// No such slug: guarded by the slug counter, read before.
		e.cache.Set(user, ref, stamp, notMember)
		return notMember, "", true, nil
	}
	target := e.versions.Target(stamp, workspaceID, user)
	if !e.versions.Unchanged(mark) {
		return nil, workspaceID, false, nil
	}
	e.cache.Set(user, ref, target, access)
	return access, workspaceID, true, nil
}

// loadAccessByID reads the access of workspace workspaceID, which ref
// names (its id, or a slug that resolved to it), with the workspace's and
// the membership's counters read before the snapshot.
func (e *Engine) loadAccessByID(ctx context.Context, stamp permcache.Stamp, workspaceID, user, keyID, ref string) (*Access, error) {
	stamp = e.versions.Target(stamp, workspaceID, user)
	var access *Access
	err := e.store.View(ctx, func(tx store.Tx) error {
		ws, err := tx.Workspace(workspaceID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			access = notMember
			return nil
		case err != nil:
			return err
		case !ident.IsWorkspaceID(ref) && ws.Slug != ref:
			// The slug was renamed since it resolved: it no longer
			// names this workspace.
			access = notMember
			return nil
		}
		access, err = e.accessIn(tx, ws, user, keyID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading membership: %w", err)
	}
	e.cache.Set(user, ref, stamp, access)
	return access, nil
}

// accessIn reads, in tx, what user (or API key keyID) may do in workspace
// ws: its organization, the memberships (workspace and project) and the
// custom roles come from the same transaction, so they are mutually
// consistent.
func (e *Engine) accessIn(tx store.Tx, ws store.Workspace, user, keyID string) (*Access, error) {
	if ws.Deleted() {
		return e.deletedAccess(tx, ws.ID, user, keyID)
	}
	// A workspace of a deleted organization answers as a deleted
	// workspace does, to its members and to everyone else.
	place, err := e.model.PlaceOf(tx, ws)
	if err != nil {
		return nil, err
	}
	if place.OrgDeleted {
		return e.deletedAccess(tx, ws.ID, user, keyID)
	}
	if keyID != "" {
		// The principal is an API key (authenticateKey set KeyID): no
		// membership, the key's own grants.
		a, err := e.readKeyAccess(tx, ws, keyID)
		return withOrganization(a, ws), err
	}
	// Explicit membership and, in a PROJECT workspace, project roles,
	// under the plan.
	ma, found, err := e.model.StandingAt(tx, ws, user, place.Plan)
	if err != nil {
		return nil, err
	}
	if !found {
		return notMember, nil
	}
	return withOrganization(newAccess(ma), ws), nil
}

// deletedAccess answers for deleted workspace workspaceID: its members
// learn that it was deleted, nobody else (an API key's workspace being
// deleted is refused at authentication already).
func (e *Engine) deletedAccess(tx store.Tx, workspaceID, user, keyID string) (*Access, error) {
	if keyID != "" {
		return notMember, nil
	}
	_, err := tx.Member(workspaceID, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notMember, nil
	case err != nil:
		return nil, err
	}
	return deletedForMember, nil
}

func (e *Engine) observeCache(hit bool) {
	if e.observer != nil {
		e.observer.CacheLookup(hit)
	}
}

// plausibleRef rejects references no workspace can have (ids and slugs
// are lower-case letters, digits, '-' and '_') before they cost a store
// read or a cache slot.
func plausibleRef(ref string) bool {
	if ref == "" || len(ref) > maxRefLen {
		return false
	}
	for i := 0; i < len(ref); i++ {
		if !refByte[ref[i]] {
			return false
		}
	}
	return true
}

// refByte marks the bytes of workspace ids and slugs.
var refByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	return t
}()

// seenInterval is how often a user's last_seen is refreshed at most.
const seenInterval = time.Minute
