package gateway

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// seenRecorder records users on their authenticated requests (spec §1:
// id, email, first/last seen) without putting a write on the request path:
// a request only does a cache lookup; a background goroutine writes batches.
// A user is queued again at most once per seenInterval, or at once when the
// token carries a new email.
type seenRecorder struct {
	store  store.Store
	logger *zap.Logger
	recent *ristretto.Cache[string, string] // subject → email last queued
	queue  chan authn.Principal
	stop   chan struct{}
	done   sync.WaitGroup
	once   sync.Once
}

const (
	seenQueueLen   = 4096
	seenBatchMax   = 256
	seenBatchDelay = 200 * time.Millisecond
	seenRecentMax  = 1 << 17
)

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
	r := &seenRecorder{
		store:  s,
		logger: logger,
		recent: recent,
		queue:  make(chan authn.Principal, seenQueueLen),
		stop:   make(chan struct{}),
	}
	// Like permcache: ristretto's Close may race with a request still in
	// flight during a reload, so the cache closes when r is unreachable.
	runtime.AddCleanup(r, func(c *ristretto.Cache[string, string]) { c.Close() }, recent)
	r.done.Add(1)
	go r.run()
	return r, nil
}

// saw notes that p made a request. It never blocks: when the queue is full
// the sighting is dropped and retried on a later request.
func (r *seenRecorder) saw(p authn.Principal) {
	if email, ok := r.recent.Get(p.Subject); ok && email == p.Email {
		return
	}
	select {
	case r.queue <- p:
		r.recent.SetWithTTL(p.Subject, p.Email, 1, seenInterval)
	default:
	}
	runtime.KeepAlive(r)
}

func (r *seenRecorder) close() {
	r.once.Do(func() {
		close(r.stop)
		r.done.Wait()
	})
}

func (r *seenRecorder) run() {
	defer r.done.Done()
	batch := make(map[string]authn.Principal, seenBatchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case p := <-r.queue:
			if len(batch) == 0 {
				timer.Reset(seenBatchDelay)
			}
			batch[p.Subject] = p
			if len(batch) < seenBatchMax {
				continue
			}
		case <-timer.C:
		case <-r.stop:
			r.drain(batch)
			r.write(batch)
			return
		}
		r.write(batch)
		clear(batch)
		timer.Stop()
	}
}

func (r *seenRecorder) drain(batch map[string]authn.Principal) {
	for {
		select {
		case p := <-r.queue:
			batch[p.Subject] = p
		default:
			return
		}
	}
}

// write records a batch in one transaction (one fsync).
func (r *seenRecorder) write(batch map[string]authn.Principal) {
	if len(batch) == 0 {
		return
	}
	now := time.Now().UTC()
	err := r.store.Update(context.Background(), func(tx store.Tx) error {
		for _, p := range batch {
			if err := recordUser(tx, p, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.logger.Warn("recording users seen", zap.Int("users", len(batch)), zap.Error(err))
	}
}

func recordUser(tx store.Tx, p authn.Principal, now time.Time) error {
	u, err := tx.User(p.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = store.User{ID: p.Subject, FirstSeen: now}
	case err != nil:
		return err
	}
	if p.Email != "" {
		u.Email = p.Email
	}
	u.LastSeen = now
	return tx.PutUser(u)
}
