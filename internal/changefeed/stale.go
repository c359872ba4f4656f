package changefeed

import (
	"context"
	"time"
)

// CanBeStale reports whether the Live has a staleness bound
// (Options.MaxStaleness): a networked store whose other writers' commits
// reach the caches through the follower. False for bbolt, whose only
// writer is this process: callers then skip the clock read entirely.
func (l *Live) CanBeStale() bool { return l.maxStale > 0 }

// MaxStaleness is Options.MaxStaleness (0: never stale).
func (l *Live) MaxStaleness() time.Duration { return time.Duration(l.maxStale) }

// Stale reports whether the last confirmed catch-up is older than
// MaxStaleness. It reads the real (monotonic) clock, never a coarse one: a
// process resumed after a pause (SIGSTOP, a VM freeze) must see the whole
// pause at once, since its caches are as old as it. Always false, without
// reading the clock, when CanBeStale is false (bbolt).
func (l *Live) Stale() bool {
	// Small enough to inline: on bbolt a decision pays one load and a
	// compare here, not a call.
	return l.maxStale > 0 && l.behind()
}

// behind reads the clock for Stale. Not inlined, so that Stale stays
// small enough to be.
//
//go:noinline
func (l *Live) behind() bool { return monoNow()-l.caughtUp.Load() > l.maxStale }

// Await waits up to Options.ConsistencyWait for the caches to apply
// revision rev, and reports whether they have. It sleeps on the
// notification the cursor sends as it moves, and nudges the follower to
// read the feed now rather than at its next poll.
func (l *Live) Await(ctx context.Context, rev uint64) bool {
	if l.applied.Load() >= rev {
		return true
	}
	if l.wait <= 0 {
		return false
	}
	l.nudge()
	t := time.NewTimer(l.wait)
	defer t.Stop()
	for {
		ch := *l.appliedCh.Load()
		if l.applied.Load() >= rev {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return l.applied.Load() >= rev
		case <-ctx.Done():
			return false
		}
	}
}

// nudge wakes the follower without blocking (merged with a pending one).
func (l *Live) nudge() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// monoBase anchors the monotonic clock the staleness check reads.
var monoBase = time.Now()

// monoNow is the monotonic time since monoBase, in nanoseconds. Staleness
// is measured on the monotonic clock: a wall clock stepped back (NTP, an
// operator) cannot make a stale replica look current, and time.Since of a
// value carrying a monotonic reading reads only that clock, half the cost
// of time.Now on a VM whose clock source is slow (kvm-clock: ~30 ns
// instead of ~57 per decision). The clock runs on while the process is
// stopped (SIGSTOP), so the first request after SIGCONT sees the gap.
func monoNow() int64 { return int64(time.Since(monoBase)) }
