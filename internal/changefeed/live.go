// Package changefeed wires a store to its decision caches: it is the one
// constructor (New) that returns the store together with the
// permcache.Versions that consume its change feed, so that nobody can pass
// a store and caches that do not belong together.
//
// Freshness rule (README "Store and cache"): a write made through the Live
// is applied to its caches before Update returns, so the request after a
// 2xx sees the change; a write made by anything else on the same database
// (another Store value, another process) is applied by the background
// follower within its lag: at once on a wake-up from the store, at most
// Options.PollInterval later otherwise.
package changefeed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/permcache"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// DefaultPollInterval is Options.PollInterval when zero.
const DefaultPollInterval = time.Second

// followTimeout bounds one catch-up of the follower.
const followTimeout = 10 * time.Second

// pageSize is how many commits one Changes call reads.
const pageSize = 1000

// Options configure New.
type Options struct {
	// PollInterval is how often the follower reads the feed when the
	// store sent no wake-up: the lag bound for commits the store cannot
	// announce (bbolt hears only its own). Default DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives the follower's read errors (never a record's
	// content). Nil: none.
	Logger *zap.Logger
	// MaxStaleness: when positive, the Live is Stale once its last
	// confirmed catch-up (CaughtUpAt) is older than this, and the
	// follower polls at least every MaxStaleness/4 so that a healthy
	// follower confirms well within it even when nothing changes. 0: the
	// store cannot be stale (bbolt: this process is its only writer, and
	// every write is applied before Update returns).
	MaxStaleness time.Duration
	// ConsistencyWait: how long Await waits for the follower to apply a
	// revision before the caller reads through (CatchUpTo). 0: no wait.
	ConsistencyWait time.Duration
}

// Live is a store.Store wired to its caches. Reads pass through to the
// wrapped store; Update and UpdateRev apply the feed up to their commit
// before returning; a follower goroutine applies everything else. Safe for
// concurrent use.
type Live struct {
	store.Store
	versions *permcache.Versions
	poll     time.Duration
	logger   *zap.Logger
	// maxStale is Options.MaxStaleness in nanoseconds (0: never stale);
	// wait is Options.ConsistencyWait.
	maxStale int64
	wait     time.Duration
	// appliedCh is closed (and replaced) each time the cursor moves, so
	// that Await sleeps on a notification, not a poll loop.
	appliedCh atomic.Pointer[chan struct{}]
	// limiter bounds the read-throughs (CatchUpTo) per subject.
	limiter      *subjectLimiter
	readThroughs atomic.Uint64
	// kick wakes the follower for a read now (Await).
	kick chan struct{}

	// mu serializes applying the feed (the follower and writers' catch-up),
	// so the cursor moves in order and each commit is applied once. Readers
	// of versions never take it.
	mu       sync.Mutex
	applied  atomic.Uint64 // the revision the caches are current to
	caughtUp atomic.Int64  // monoNow() of the last read to the end of the log

	cancel    context.CancelFunc // stops the follower's reads
	done      chan struct{}      // closed when the follower has returned
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Live)(nil)

// New returns s wired to fresh caches and starts the follower. The caches
// start empty, so the cursor starts at s.Revision(): nothing before it can
// be cached. The Live owns s: Close closes it.
func New(s store.Store, opts Options) (*Live, error) {
	if s == nil {
		return nil, errors.New("changefeed: nil store")
	}
	l := &Live{
		Store:    s,
		versions: permcache.NewVersions(),
		poll:     opts.PollInterval,
		logger:   opts.Logger,
		done:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
		maxStale: int64(opts.MaxStaleness),
		wait:     opts.ConsistencyWait,
		limiter:  newSubjectLimiter(readThroughRate, readThroughBurst),
	}
	if l.poll <= 0 {
		l.poll = DefaultPollInterval
	}
	if l.maxStale < 0 {
		l.maxStale = 0
	}
	// The safety poll: a healthy follower confirms at least four times
	// per MaxStaleness, so a lost wake-up or an idle database never
	// trips the staleness check.
	if safety := time.Duration(l.maxStale / 4); l.maxStale > 0 && (safety < l.poll) {
		l.poll = max(safety, time.Millisecond)
	}
	ch := make(chan struct{})
	l.appliedCh.Store(&ch)
	if l.logger == nil {
		l.logger = zap.NewNop()
	}
	l.applied.Store(s.Revision())
	l.caughtUp.Store(monoNow())
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	wake, unsubscribe := s.Subscribe()
	go l.follow(ctx, wake, unsubscribe)
	return l, nil
}

// Versions returns the counters the caches built on this store must use.
func (l *Live) Versions() *permcache.Versions { return l.versions }

// Applied is the revision the caches are current to: every commit up to
// it has been applied.
func (l *Live) Applied() uint64 { return l.applied.Load() }

// Revision implements store.Store: the revision the caches have applied,
// so a consistency token is only ever satisfied by caches that hold it.
func (l *Live) Revision() uint64 { return l.Applied() }

// CaughtUpAt is the last time a read of the feed reached the end of the
// log (New counts as one): how stale the caches can be with respect to
// other processes' writes.
func (l *Live) CaughtUpAt() time.Time { return monoBase.Add(time.Duration(l.caughtUp.Load())) }

// Update implements store.Store (see UpdateRev).
func (l *Live) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := l.UpdateRev(ctx, fn)
	return err
}

// UpdateRev implements store.Store: after the commit, the feed up to its
// revision is applied to the caches before returning, so the request
// after an acknowledged write cannot be served from a cache filled before
// it. The catch-up ignores ctx's cancellation (the commit is made; the
// caller leaving must not leave the caches behind it). If the catch-up
// fails every entry is expired instead, and the commit's success is still
// returned: the write happened.
func (l *Live) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	rev, err := l.Store.UpdateRev(ctx, fn)
	if err != nil {
		// Nothing committed (a commit bbolt may have exposed before
		// failing is announced by a wake-up to the follower).
		return rev, err
	}
	if cerr := l.catchUp(context.WithoutCancel(ctx), rev); cerr != nil {
		l.versions.ExpireAll()
		l.logger.Warn("change feed: applying a commit failed; every cached decision was expired",
			zap.Uint64("revision", rev), zap.Error(cerr))
	}
	return rev, nil
}

// Sync applies everything the feed holds now, without waiting for the
// follower: for a store that became readable later than New (a file
// created or unlocked at start-up).
func (l *Live) Sync(ctx context.Context) error { return l.catchUp(ctx, 0) }

// Close stops the follower, waits for it, and closes the wrapped store. It
// is safe to call more than once.
func (l *Live) Close() error {
	l.closeOnce.Do(func() {
		l.cancel()
		<-l.done
		l.closeErr = l.Store.Close()
	})
	return l.closeErr
}

// follow applies the feed whenever the store wakes it or the poll
// interval passes, until Close.
func (l *Live) follow(ctx context.Context, wake <-chan struct{}, unsubscribe func()) {
	defer close(l.done)
	defer unsubscribe()
	t := time.NewTicker(l.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-l.kick:
		case <-t.C:
		}
		// Bounded, so that a database that stops answering cannot hold
		// the cursor's lock (and every writer's catch-up) indefinitely.
		rctx, cancel := context.WithTimeout(ctx, followTimeout)
		err := l.catchUp(rctx, 0)
		cancel()
		if err != nil && ctx.Err() == nil {
			l.logger.Warn("change feed: reading the store's changes failed; retrying", zap.Error(err))
		}
	}
}

// catchUp applies the feed from the cursor until the cursor reaches
// target, or, for target 0, the end of the log. A truncated log (the
// commits after the cursor are gone) expires every entry and continues
// from the oldest retained commit.
func (l *Live) catchUp(ctx context.Context, target uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for target == 0 || l.applied.Load() < target {
		since := l.applied.Load()
		// The read shows the log as of no earlier than now: a catch-up
		// confirmed by it dates from before the call, so that a pause
		// after the read (SIGSTOP) counts against the staleness bound.
		readAt := monoNow()
		cms, err := l.Changes(ctx, since, pageSize)
		var te *store.ChangesTruncatedError
		if errors.As(err, &te) {
			// Flush first, then move the cursor: an entry stamped from
			// now on is filled after the commits we skip.
			l.versions.ExpireAll()
			l.logger.Warn("change feed: the store's change log no longer holds the commits after the cursor; every cached decision was expired",
				zap.Uint64("cursor", since), zap.Uint64("oldest", te.Oldest))
			if te.Oldest == 0 || te.Oldest-1 <= since {
				return fmt.Errorf("changefeed: truncation at %d does not move the cursor %d", te.Oldest, since)
			}
			l.setApplied(te.Oldest - 1)
			continue
		}
		if err != nil {
			return err
		}
		for _, cm := range cms {
			if cm.Revision != l.applied.Load()+1 {
				return fmt.Errorf("changefeed: commit %d after %d: the feed has a gap", cm.Revision, l.applied.Load())
			}
			for _, c := range cm.Changes {
				l.versions.Apply(c)
			}
			l.setApplied(cm.Revision)
		}
		if len(cms) < pageSize {
			l.caughtUp.Store(readAt)
			if target != 0 && l.applied.Load() < target {
				return errBeyondLog(l.applied.Load(), target)
			}
			return nil
		}
	}
	return nil
}

// setApplied moves the cursor to rev and wakes the Await calls. Called
// with l.mu held.
func (l *Live) setApplied(rev uint64) {
	l.applied.Store(rev)
	ch := make(chan struct{})
	old := l.appliedCh.Swap(&ch)
	close(*old)
}
