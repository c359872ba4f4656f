package permcache

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// fakeClock points v at a coarse clock the test moves.
func fakeClock(v *Versions) *atomic.Uint32 {
	c := new(atomic.Uint32)
	c.Store(1000)
	v.clock = c
	return c
}

// An entry dies at its own expiry: never before EntryLifetime minus the
// jitter, always by EntryLifetime, with no counter moving.
func TestEntryLifetime(t *testing.T) {
	v := NewVersions()
	clock := fakeClock(v)
	life := uint32(EntryLifetime / time.Second)
	minLife := life - uint32(float64(life)*EntryJitter)
	for range 200 {
		s := v.Target(v.IDStamp(), "ws_1", "alice")
		k := v.KeyStamp("k1")
		clock.Store(1000 + minLife - 1)
		if !v.Valid(s) || !v.Valid(k) {
			t.Fatalf("entry dead before %d s (EntryLifetime less the whole jitter)", minLife-1)
		}
		clock.Store(1000 + life)
		if v.Valid(s) || v.Valid(k) {
			t.Fatalf("entry alive at EntryLifetime (%d s)", life)
		}
		clock.Store(1000)
	}
}

// Entries stamped at the same moment do not all die at the same second.
func TestEntryLifetimeJitter(t *testing.T) {
	v := NewVersions()
	fakeClock(v)
	seen := map[uint32]bool{}
	for range 200 {
		seen[v.IDStamp().expires] = true
	}
	if len(seen) < 20 {
		t.Errorf("200 stamps taken together expire at only %d distinct seconds", len(seen))
	}
}

// The process clock ticks: an entry of a real Versions outlives a few
// seconds of it (the clock is started and moves forward).
func TestCoarseClockTicks(t *testing.T) {
	v := NewVersions()
	start := v.clock.Load()
	deadline := time.Now().Add(5 * time.Second)
	for v.clock.Load() == start {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock did not move in 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A change kind this build does not know flushes every entry.
func TestApplyUnknownKindFlushes(t *testing.T) {
	v := NewVersions()
	s := v.Target(v.SlugStamp(), "ws_1", "alice")
	v.Apply(store.Change{Kind: 99, WorkspaceID: "ws_2"})
	if v.Valid(s) {
		t.Error("an entry survived a change of unknown kind")
	}
}
