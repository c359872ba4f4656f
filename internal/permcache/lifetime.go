package permcache

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Every entry also dies at an expiry of its own, EntryLifetime after its
// stamp was taken minus up to EntryJitter of that, so that entries filled
// together do not all die at once (a global flush makes every request of
// the next moment a store read). Correctness never depends on it: the
// change feed is gapless, so no change is missed, and the counters kill an
// entry at the change. It is defence in depth: a bound on how long any
// decision can be served, whatever bug there might be in the feed or its
// consumer.
const (
	// EntryLifetime is the longest an entry lives.
	EntryLifetime = 10 * time.Minute
	// EntryJitter is the fraction of EntryLifetime an entry's life is
	// shortened by at most, chosen at random per entry.
	EntryJitter = 0.2
)

// coarse is the clock entries expire on: whole seconds since the process
// started, stored by one ticker goroutine, so that checking an expiry on a
// cache hit is one atomic load and a compare, never a time.Now.
var (
	coarse      atomic.Uint32
	coarseStart sync.Once
)

// startCoarseClock starts the ticker goroutine, once per process: the
// clock is shared by every Versions and lives as long as the process.
func startCoarseClock() *atomic.Uint32 {
	coarseStart.Do(func() {
		t0 := time.Now()
		go func() {
			// A tick may be dropped when the goroutine is late; the value
			// is recomputed from the monotonic clock, so the clock never
			// drifts behind.
			for range time.Tick(time.Second) {
				coarse.Store(uint32(time.Since(t0) / time.Second))
			}
		}()
	})
	return &coarse
}

// expiry returns the coarse time at which an entry stamped now dies.
func (v *Versions) expiry() uint32 {
	life := uint32(EntryLifetime / time.Second)
	jitter := rand.Uint32N(uint32(float64(life)*EntryJitter) + 1)
	return v.clock.Load() + life - jitter
}
