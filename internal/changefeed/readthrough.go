package changefeed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The read-through budget of one subject (README "Running several
// gateways"): a burst of readThroughBurst, refilled at readThroughRate per
// second. A consistency token is cheap to send; the database read it can
// force is not.
const (
	readThroughRate  = 5.0
	readThroughBurst = 5.0
	// limiterMaxSubjects bounds the limiter's memory. When full, it is
	// emptied: the subjects seen so far get a fresh burst, which costs at
	// most one burst each, and only authenticated subjects have their own.
	limiterMaxSubjects = 10000
)

// ErrReadThroughLimited: the subject used up its read-through budget; the
// caller answers 503 with Retry-After, never a decision on data older
// than the token.
var ErrReadThroughLimited = errors.New("too many requests needed a read through to the database: retry shortly")

// CatchUpTo reads the feed from the database now, until the caches have
// applied rev: the read-through of a request whose consistency token is
// ahead of the follower. Every commit up to rev is applied to the caches
// (their entries are invalidated) before it returns nil, so the decision
// that follows is made on data at least as fresh as rev, cached or read.
// It is rate-limited per subject (ErrReadThroughLimited). A rev beyond
// the end of the database's log gives an error wrapping
// store.ErrTokenFuture. The wait ends with ctx even if the database does
// not answer.
func (l *Live) CatchUpTo(ctx context.Context, subject string, rev uint64) error {
	if l.applied.Load() >= rev {
		return nil
	}
	if !l.limiter.allow(subject, time.Now()) {
		return ErrReadThroughLimited
	}
	l.readThroughs.Add(1)
	done := make(chan error, 1)
	go func() { done <- l.catchUp(ctx, rev) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("reading the change feed through to the database: %w", ctx.Err())
	}
}

// ReadThroughs counts the CatchUpTo calls that read the database (for
// the gatehouse_store_read_through_total metric).
func (l *Live) ReadThroughs() uint64 { return l.readThroughs.Load() }

// subjectLimiter is a token bucket per subject.
type subjectLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newSubjectLimiter(rate, burst float64) *subjectLimiter {
	return &subjectLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

// allow takes one token from subject's bucket, if it has one.
func (sl *subjectLimiter) allow(subject string, now time.Time) bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	b, ok := sl.buckets[subject]
	if !ok {
		if len(sl.buckets) >= limiterMaxSubjects {
			clear(sl.buckets)
		}
		b = &bucket{tokens: sl.burst, at: now}
		sl.buckets[subject] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(sl.burst, b.tokens+d.Seconds()*sl.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// errBeyondLog wraps store.ErrTokenFuture: the log ends before the
// requested revision.
func errBeyondLog(end, target uint64) error {
	return fmt.Errorf("changefeed: the log ends at %d before commit %d: %w", end, target, store.ErrTokenFuture)
}
