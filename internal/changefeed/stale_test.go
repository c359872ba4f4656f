package changefeed

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// Without MaxStaleness (bbolt) the Live is never stale, whatever happens
// to the feed.
func TestNoStalenessBoundNeverStale(t *testing.T) {
	q := &quiet{Store: openBolt(t, boltstore.Options{})}
	l := newLive(t, q, Options{PollInterval: 5 * time.Millisecond})
	q.failChanges.Store(true)
	time.Sleep(50 * time.Millisecond)
	if l.CanBeStale() || l.Stale() {
		t.Fatal("a Live without MaxStaleness reports staleness")
	}
}

// A follower that cannot read the feed becomes Stale once MaxStaleness has
// passed since its last confirmed catch-up, and recovers by itself.
func TestStaleWhenFeedFailsAndRecovers(t *testing.T) {
	q := &quiet{Store: openBolt(t, boltstore.Options{})}
	l := newLive(t, q, Options{PollInterval: time.Hour, MaxStaleness: 100 * time.Millisecond})
	if !l.CanBeStale() || l.Stale() {
		t.Fatal("a fresh Live with a staleness bound must be able to go stale and not be stale yet")
	}
	q.failChanges.Store(true)
	start := time.Now()
	eventually(t, "Stale after the feed fails", l.Stale)
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("Stale after %s, before max_staleness could pass", d)
	}
	q.failChanges.Store(false)
	eventually(t, "recovery once the feed reads again", func() bool { return !l.Stale() })
}

// With nothing changing, the safety poll (at most MaxStaleness/4, even
// with a long PollInterval) confirms often enough that a healthy follower
// never reads as stale.
func TestSafetyPollKeepsHealthyFollowerFresh(t *testing.T) {
	q := &quiet{Store: openBolt(t, boltstore.Options{})}
	l := newLive(t, q, Options{PollInterval: time.Hour, MaxStaleness: 80 * time.Millisecond})
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if l.Stale() {
			t.Fatalf("a healthy idle follower read as stale (caught up at %s, now %s)", l.CaughtUpAt(), time.Now())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Stale reads the real clock: the staleness shows at the first check
// after a pause, with no ticker having run in between.
func TestStaleReadsRealClock(t *testing.T) {
	q := &quiet{Store: openBolt(t, boltstore.Options{})}
	l := newLive(t, q, Options{PollInterval: time.Hour, MaxStaleness: time.Hour})
	// As if the process had been paused for two hours since its last
	// catch-up: only the caught-up time moves, no goroutine runs.
	l.caughtUp.Store(monoNow() - int64(2*time.Hour))
	if !l.Stale() {
		t.Fatal("Stale did not see a catch-up two hours old")
	}
}

// Await returns as soon as the follower applies the revision (a
// notification, well before the wait ends), and false after the wait when
// it does not.
func TestAwaitWakesOnApply(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	seed(t, raw)
	// Wake-ups hidden and a long poll: only Await's nudge makes the
	// follower read.
	l := newLive(t, &quiet{Store: raw}, Options{PollInterval: time.Hour, ConsistencyWait: 5 * time.Second})
	rev := mustUpdate(t, raw, putMember("ws_a", "alice"))
	start := time.Now()
	if !l.Await(context.Background(), rev) {
		t.Fatal("Await gave up although the follower could apply the revision")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Await took %s: it did not wake on the apply", d)
	}
	if l.Await(context.Background(), rev+10) {
		t.Fatal("Await reported a revision the store never reached")
	}
}

// CatchUpTo applies the feed now; a revision beyond the log is
// store.ErrTokenFuture; a subject gets a small burst, then
// ErrReadThroughLimited, while another subject still gets its own.
func TestCatchUpToAndLimit(t *testing.T) {
	raw := openBolt(t, boltstore.Options{})
	seed(t, raw)
	q := &quiet{Store: raw}
	l := newLive(t, q, Options{PollInterval: time.Hour})
	c := newCache(t, l)
	fill(t, l, c, "ws_a", "alice")
	rev := mustUpdate(t, raw, putMember("ws_a", "alice"))
	if err := l.CatchUpTo(context.Background(), "alice", rev); err != nil {
		t.Fatal(err)
	}
	if l.Applied() < rev {
		t.Fatalf("applied %d after CatchUpTo(%d)", l.Applied(), rev)
	}
	if _, ok := c.Get("alice", "ws_a"); ok {
		t.Error("the entry survived the read-through of its change")
	}
	if err := l.CatchUpTo(context.Background(), "alice", rev+100); !errors.Is(err, store.ErrTokenFuture) {
		t.Fatalf("a revision beyond the log: %v, want ErrTokenFuture", err)
	}
	limited := false
	for i := 0; i < 20; i++ {
		if err := l.CatchUpTo(context.Background(), "mallory", rev+100); errors.Is(err, ErrReadThroughLimited) {
			limited = true
			if i < 2 {
				t.Errorf("limited after only %d read-throughs", i)
			}
			break
		}
	}
	if !limited {
		t.Fatal("20 read-throughs in a row were never limited")
	}
	if err := l.CatchUpTo(context.Background(), "bob", rev+100); errors.Is(err, ErrReadThroughLimited) {
		t.Fatal("one subject's budget limited another")
	}
	if n := l.ReadThroughs(); n < 3 {
		t.Errorf("ReadThroughs = %d", n)
	}
}
