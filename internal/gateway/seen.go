package gateway

import (
	"context"
	"runtime"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// seenRecorder records users on their authenticated requests (README "Store and cache":
// id, email, first/last seen) without putting a write on the request path:
// a request only does a cache lookup; a background goroutine writes batches.
// A user is queued again at most once per seenInterval, or at once when the
// token carries a new email.
type seenRecorder struct {
	store  store.Store
	logger *zap.Logger
	recent *ristretto.Cache[string, string] // subject → email last queued
	*batcher[authn.Principal]
}

const seenRecentMax = 1 << 17

func newSeenRecorder(s store.Store, logger *zap.Logger) (*seenRecorder, error) {
	recent, err := ristretto.NewCache(&ristretto.Config[string, string]{
		NumCounters:        seenRecentMax * 10,
		MaxCost:            seenRecentMax,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	r := &seenRecorder{store: s, logger: logger, recent: recent}
	r.batcher = newBatcher(func(p authn.Principal) string { return p.Subject }, r.write)
	// Like permcache: ristretto's Close may race with a request still in
	// flight during a reload, so the cache closes when r is unreachable.
	runtime.AddCleanup(r, func(c *ristretto.Cache[string, string]) { c.Close() }, recent)
	return r, nil
}

// saw notes that p made a request. It never blocks: when the queue is full
// the sighting is dropped and retried on a later request.
func (r *seenRecorder) saw(p authn.Principal) {
	if email, ok := r.recent.Get(p.Subject); ok && email == p.Email {
		return
	}
	if r.offer(p) {
		r.recent.SetWithTTL(p.Subject, p.Email, 1, seenInterval)
	}
	runtime.KeepAlive(r)
}

// write records a batch in one transaction (one commit). Each sighting is
// a touch write (TouchUser): it moves LastSeen forward and sets a given
// email, nothing else, so a sighting racing an edit of the user (or a
// retried run, store "Transactions") never writes back a stale record.
func (r *seenRecorder) write(batch map[string]authn.Principal) {
	now := time.Now().UTC()
	err := r.store.Update(context.Background(), func(tx store.Tx) error {
		for _, p := range batch {
			if err := tx.TouchUser(p.Subject, p.Email, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.logger.Warn("recording users seen", zap.Int("users", len(batch)), zap.Error(err))
	}
}
