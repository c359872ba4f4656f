package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// keyCredential is what the gateway caches about one API key id: enough to
// authenticate a request without the store. Ids nobody issued are not
// cached here (anyone can make them up, so they would let a stranger fill
// the cache): they go to the engine's fixed-size set of unknown ids
// (permcache.Unknown) and all share Engine.noKey, whose hash is random, so
// an unknown key still costs what a known one costs: a lookup, one SHA-256
// and a constant-time compare.
type keyCredential struct {
	found         bool
	id            string
	subject       string // "apikey:<id>", built once
	workspaceID   string
	hash          [32]byte
	expiresAt     int64 // unix nanoseconds; 0 = never
	revoked       bool
	workspaceGone bool
	// planRefusal is set when the plan of the key's workspace lacks
	// api_keys: the key is refused with 403 plan_required until an
	// upgrade (nothing stored changes). Its stamp guards the workspace
	// (its own plan) and every organization change (ExpireAll).
	planRefusal *problem.Problem
	// lastQueued is when a use was last queued for recording (unix ns).
	lastQueued atomic.Int64
}

// keyUseInterval bounds how often a key's last_used_at is written.
const keyUseInterval = time.Minute

// Reasons an API key is refused (the 401's error_description). A reason
// other than badKey is only given to a caller who presented the right
// secret: it tells nothing about keys the caller does not hold.
const (
	reasonMalformedKey = "malformed API key: expected ghk_<id>_<secret>"
	reasonBadKey       = "unknown API key or wrong secret"
	reasonRevokedKey   = "the API key has been revoked"
	reasonExpiredKey   = "the API key has expired"
	reasonKeyWorkspace = "the API key's workspace has been deleted"
)

// authenticateKey checks an API key (README "The decision", step 4, and "API keys").
func (e *Engine) authenticateKey(ctx context.Context, token string) (authn.Principal, *problem.Problem, error) {
	id, secret, ok := apikey.Parse(token)
	if !ok {
		return authn.Principal{}, invalidToken(reasonMalformedKey, problem.ReasonInvalidToken), nil
	}
	if e.live.Stale() {
		return authn.Principal{}, unavailable(errStale.Error()), e.staleErr()
	}
	cred, err := e.keyCredential(ctx, id)
	if err != nil {
		return authn.Principal{}, unavailable("the API key cannot be checked right now: the store is unavailable"), err
	}
	sum := apikey.Sum(secret)
	// Compared even for unknown ids (against a random hash), and before
	// anything else is looked at: timing does not tell ids apart.
	match := subtle.ConstantTimeCompare(sum[:], cred.hash[:]) == 1
	if !match || !cred.found {
		return authn.Principal{}, invalidToken(reasonBadKey, problem.ReasonInvalidToken), nil
	}
	now := e.now()
	switch {
	case cred.revoked:
		return authn.Principal{}, invalidToken(reasonRevokedKey, problem.ReasonKeyRevoked), nil
	case cred.expiresAt != 0 && now.UnixNano() >= cred.expiresAt:
		return authn.Principal{}, invalidToken(reasonExpiredKey, problem.ReasonKeyExpired), nil
	case cred.workspaceGone:
		// Told only to the holder of the right secret, like the others.
		return authn.Principal{}, invalidToken(reasonKeyWorkspace, problem.ReasonWorkspaceDeleted), nil
	case cred.planRefusal != nil:
		// After the secret matched, like revocation: a stranger learns
		// nothing about a key's plan. A copy: the cached one is shared.
		refusal := *cred.planRefusal
		return authn.Principal{}, &refusal, nil
	}
	e.keyUses.used(cred, now)
	p := authn.Principal{Subject: cred.subject, KeyID: cred.id}
	if cred.expiresAt != 0 {
		p.ExpiresAt = time.Unix(0, cred.expiresAt)
	}
	return p, nil, nil
}

// keyCredential returns the cached credential of key id, reading the store
// on a miss. Like Access, it never returns a value older than the last
// committed write: revoking a key fails its very next request. A miss
// reads the store under ctx, for at most the store timeout.
func (e *Engine) keyCredential(ctx context.Context, id string) (*keyCredential, error) {
	if c, ok := e.keys.Get(id, ""); ok {
		e.observeCache(true)
		return c, nil
	}
	if e.unknownKeys.Contains(id) {
		e.observeCache(true)
		return e.noKey, nil
	}
	e.observeCache(false)
	return e.keyCredentialMiss(ctx, id)
}

// keyCredentialMiss is keyCredential's store read, apart so that what its
// closure captures never costs the cached path an allocation.
func (e *Engine) keyCredentialMiss(ctx context.Context, id string) (*keyCredential, error) {
	v, err := e.fill(ctx, "key\x00"+id, func(ctx context.Context) (any, error) {
		return e.loadKeyCredential(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return v.(*keyCredential), nil
}

func (e *Engine) loadKeyCredential(ctx context.Context, id string) (*keyCredential, error) {
	stamp := e.versions.KeyStamp(id)
	if e.model.DefaultPlan() == nil {
		cred, err := e.readKey(ctx, id)
		if err != nil {
			return nil, err
		}
		return e.cacheKey(id, stamp, cred), nil
	}
	// The credential depends on the plan of the key's workspace
	// (api_keys), which a change of the workspace record alone may
	// change: its counter guards the entry too. The workspace id is the
	// key's, read in the same snapshot as the rest, so the counter can
	// only be read once that snapshot has begun: the entry is cached
	// under it only if no change was applied meanwhile (permcache.Mark).
	// Otherwise it is read again, the counter first; a key never moves,
	// so the id read still names its workspace.
	mark := e.versions.Mark()
	cred, err := e.readKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		// No such key when the stamp was already taken: remembered as
		// unknown until a key change (its creation) bumps it.
		return e.cacheKey(id, stamp, nil), nil
	}
	stamp = e.versions.Target(stamp, cred.workspaceID, cred.subject)
	if !e.versions.Unchanged(mark) {
		if cred, err = e.readKey(ctx, id); err != nil {
			return nil, err
		}
	}
	return e.cacheKey(id, stamp, cred), nil
}

// readKey reads the credential of key id in one transaction; nil when no
// record with that id can authenticate.
func (e *Engine) readKey(ctx context.Context, id string) (*keyCredential, error) {
	var cred *keyCredential
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		cred, err = readKeyCredential(tx, e.model, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading API key: %w", err)
	}
	return cred, nil
}

// cacheKey caches cred (nil: no such key) under stamp and returns what
// the caller answers with.
func (e *Engine) cacheKey(id string, stamp permcache.Stamp, cred *keyCredential) *keyCredential {
	if cred == nil {
		e.unknownKeys.Add(id, stamp)
		return e.noKey
	}
	if q := e.keyUses.lastQueued(id); q > cred.lastQueued.Load() {
		cred.lastQueued.Store(q)
	}
	e.keys.Set(id, "", stamp, cred)
	return cred
}

// readKeyCredential reads key id and its workspace in one transaction. It
// returns nil when no record with that id can authenticate. A key of a
// workspace whose organization is deleted is refused as a key of a
// deleted workspace is.
func readKeyCredential(tx store.Tx, m *model.Model, id string) (*keyCredential, error) {
	key, err := tx.APIKey(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	hash, err := hex.DecodeString(key.SecretHash)
	if err != nil || len(hash) != 32 {
		// A record we cannot check can never authenticate.
		return nil, nil
	}
	ws, err := tx.Workspace(key.WorkspaceID)
	var planRefusal *problem.Problem
	switch {
	case errors.Is(err, store.ErrNotFound):
		ws.DeletedAt = &key.CreatedAt // no workspace: as good as deleted
	case err != nil:
		return nil, err
	default:
		orgGone, err := m.OrganizationDeleted(tx, ws)
		if err != nil {
			return nil, err
		}
		if orgGone && !ws.Deleted() {
			ws.DeletedAt = &key.CreatedAt
		}
		if planRefusal, err = keyPlanRefusal(tx, m, ws); err != nil {
			return nil, err
		}
	}
	c := &keyCredential{
		found:         true,
		id:            id,
		subject:       apikey.Subject(id),
		workspaceID:   key.WorkspaceID,
		revoked:       key.RevokedAt != nil,
		workspaceGone: ws.Deleted(),
		planRefusal:   planRefusal,
	}
	copy(c.hash[:], hash)
	if key.ExpiresAt != nil {
		c.expiresAt = key.ExpiresAt.UnixNano()
	}
	if key.LastUsedAt != nil {
		c.lastQueued.Store(key.LastUsedAt.UnixNano())
	}
	return c, nil
}

// keyPlanRefusal is the 403 plan_required of a key whose workspace's plan
// lacks api_keys (a downgrade after the key was created), nil when the
// plan has it or no plan is configured.
func keyPlanRefusal(tx store.Tx, m *model.Model, ws store.Workspace) (*problem.Problem, error) {
	plan, err := m.WorkspacePlan(tx, ws)
	if err != nil {
		return nil, err
	}
	var pre *model.PlanRequiredError
	if errors.As(m.RequireFeature(plan, model.FeatureAPIKeys), &pre) {
		return planFeatureDenial(pre), nil
	}
	return nil, nil
}

// newNoKey returns the credential every unknown id shares: found false,
// and a random hash no secret is known to match, compared all the same.
func newNoKey() *keyCredential {
	c := new(keyCredential)
	// crypto/rand.Read never returns an error (Go 1.24+).
	_, _ = rand.Read(c.hash[:])
	return c
}

// keyUseRecorder records API keys' last_used_at, at most once per
// keyUseInterval per key, off the request path.
type keyUseRecorder struct {
	store  store.Store
	logger *zap.Logger
	// queued maps a key id to when its use was last queued (unix ns), so
	// that a credential reloaded before the write lands (a cache miss)
	// does not queue the same minute again. Written at most once a minute
	// per key.
	queued sync.Map
	*batcher[keyUse]
}

type keyUse struct {
	id string
	at time.Time
}

func newKeyUseRecorder(s store.Store, logger *zap.Logger) *keyUseRecorder {
	r := &keyUseRecorder{store: s, logger: logger}
	r.batcher = newBatcher(func(u keyUse) string { return u.id }, r.write)
	return r
}

// used notes a request by the key of cred at now.
func (r *keyUseRecorder) used(cred *keyCredential, now time.Time) {
	last := cred.lastQueued.Load()
	if now.UnixNano()-last < int64(keyUseInterval) {
		return
	}
	// One request per interval wins the right to queue the write.
	if !cred.lastQueued.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if r.offer(keyUse{id: cred.id, at: now}) {
		r.queued.Store(cred.id, now.UnixNano())
	} else {
		cred.lastQueued.Store(last) // queue full: let a later request retry
	}
	runtime.KeepAlive(r)
}

// lastQueued returns when a use of key id was last queued (unix ns, 0 if
// never in this engine's life).
func (r *keyUseRecorder) lastQueued(id string) int64 {
	if v, ok := r.queued.Load(id); ok {
		return v.(int64)
	}
	return 0
}

// write records a batch in one transaction. TouchAPIKey notifies no cache:
// recording use never costs a cache miss.
func (r *keyUseRecorder) write(batch map[string]keyUse) {
	err := r.store.Update(context.Background(), func(tx store.Tx) error {
		for _, u := range batch {
			err := tx.TouchAPIKey(u.id, u.at.UTC())
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.logger.Warn("recording API key use", zap.Int("keys", len(batch)), zap.Error(err))
	}
}

// readKeyAccess compiles what API key keyID may do in workspace ws: its own
// patterns and restrictions, no roles. A key used in any workspace other
// than its own is not a member there (404, like a stranger).
func (e *Engine) readKeyAccess(tx store.Tx, ws store.Workspace, keyID string) (*Access, error) {
	key, err := tx.APIKey(keyID)
	if errors.Is(err, store.ErrNotFound) {
		return notMember, nil
	}
	if err != nil {
		return nil, err
	}
	if key.WorkspaceID != ws.ID || key.RevokedAt != nil {
		return notMember, nil
	}
	ma, err := e.model.KeyStanding(tx, ws, key)
	if err != nil {
		return nil, err
	}
	return newAccess(ma), nil
}
