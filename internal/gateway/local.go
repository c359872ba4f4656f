package gateway

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// localMaker creates each user's LOCAL workspace (spec §11, `local_workspaces
// on`) on the first verified token of the user, gateway or API alike
// (both authenticate through Engine.Authenticate), synchronously, so that
// the very request that made it can reach it.
//
// The policy when the store fails (README "Local workspaces"): the
// request goes on exactly as it would without the hook — not failed
// closed (it may need nothing of the store) and not opened (the
// workspace simply is not there yet: a request for it is a 404, or a 503
// if the store is down for that read too). The user is then retried at
// most once per localRetryInterval on their later requests, cached token
// or not, until it works.
//
// Cost: nothing on a cached token while no attempt has failed (one
// atomic load); on a new token a lookup in known, and for a user not
// known yet one store read (and one write the first time ever).
type localMaker struct {
	model   *model.Model
	store   store.Store
	logger  *zap.Logger
	timeout time.Duration
	now     func() time.Time
	// known holds users seen to have their local workspace, for
	// localKnownTTL: a purged one is recreated on a token after that.
	known *ristretto.Cache[string, struct{}]
	group singleflight.Group
	// failed maps a subject whose last attempt failed to when; pending
	// counts its entries, so that while it is 0 a cached token costs one
	// atomic load.
	failed  sync.Map
	pending atomic.Int64
}

const (
	localKnownMax      = 1 << 17
	localKnownTTL      = 10 * time.Minute
	localRetryInterval = time.Second
	// localFailedMax bounds the retry set during a long store outage:
	// users past it are retried on their next new token only.
	localFailedMax = 1 << 14
)

// newLocalMaker returns nil when local workspaces are off: every method
// is then a no-op.
func newLocalMaker(m *model.Model, s store.Store, logger *zap.Logger, timeout time.Duration, now func() time.Time) (*localMaker, error) {
	if !m.LocalWorkspaces() {
		return nil, nil
	}
	known, err := ristretto.NewCache(&ristretto.Config[string, struct{}]{
		NumCounters:        localKnownMax * 10,
		MaxCost:            localKnownMax,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	l := &localMaker{model: m, store: s, logger: logger, timeout: timeout, now: now, known: known}
	// As for seenRecorder: ristretto's Close may race with a request
	// still in flight during a reload.
	runtime.AddCleanup(l, func(c *ristretto.Cache[string, struct{}]) { c.Close() }, known)
	return l, nil
}

// saw is called once per verified token (not cached): it makes sure
// p's local workspace exists before the request goes on.
func (l *localMaker) saw(ctx context.Context, p authn.Principal) {
	if l == nil || p.KeyID != "" {
		return
	}
	if _, ok := l.known.Get(p.Subject); ok {
		return
	}
	l.ensure(ctx, p)
}

// sawCached is called for a cached token: it retries a user whose last
// attempt failed, at most once per localRetryInterval.
func (l *localMaker) sawCached(ctx context.Context, p authn.Principal) {
	if l == nil || l.pending.Load() == 0 {
		return
	}
	v, ok := l.failed.Load(p.Subject)
	if !ok || l.now().Sub(v.(time.Time)) < localRetryInterval {
		return
	}
	l.ensure(ctx, p)
}

// ensure runs one attempt per user at a time (concurrent first requests
// of a user share it) and waits for it as long as ctx lasts; the attempt
// itself is bounded by the store timeout, whoever waits.
func (l *localMaker) ensure(ctx context.Context, p authn.Principal) {
	ch := l.group.DoChan(p.Subject, func() (any, error) {
		return nil, l.attempt(p)
	})
	select {
	case <-ch:
	case <-ctx.Done():
	}
	runtime.KeepAlive(l)
}

// attempt reads, and if need be creates, p's local workspace.
func (l *localMaker) attempt(p authn.Principal) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	found := false
	err := l.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.LocalWorkspace(p.Subject)
		found = err == nil
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err == nil && !found {
		// The check is repeated inside the write transaction: that one is
		// what makes it exactly once (EnsureLocalWorkspace).
		err = l.store.Update(ctx, func(tx store.Tx) error {
			_, _, err := l.model.EnsureLocalWorkspace(tx, p.Subject, p.Email, l.now().UTC())
			return err
		})
	}
	if err != nil {
		l.fail(p.Subject)
		l.logger.Warn("creating the local workspace failed; retried on a later request",
			zap.String("user", p.Subject), zap.Error(err))
		return err
	}
	l.known.SetWithTTL(p.Subject, struct{}{}, 1, localKnownTTL)
	if _, was := l.failed.LoadAndDelete(p.Subject); was {
		l.pending.Add(-1)
	}
	return nil
}

func (l *localMaker) fail(subject string) {
	if l.pending.Load() >= localFailedMax {
		return
	}
	if _, was := l.failed.Swap(subject, l.now()); !was {
		l.pending.Add(1)
	}
}
