package permcache

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
)

// DefaultMaxEntries bounds the cache when the config says nothing.
const DefaultMaxEntries = 1_000_000

// Cache maps (user, workspace reference) to a value of type V, each guarded
// by a Stamp. The workspace reference is what the request named (id or
// slug), so a hit needs no slug lookup.
//
// In front of ristretto sits a small direct-mapped table of the entries
// last used: a hit there is one atomic load and two string compares, where
// a ristretto hit also pays its shard lock and its admission-policy
// bookkeeping. Ristretto stays the cache of record (bounded, with its
// admission policy); the front table only remembers pointers to entries,
// which are immutable, and every hit is checked against the stamp and the
// names exactly like a ristretto hit.
type Cache[V any] struct {
	versions *Versions
	seed     maphash.Seed
	rc       *ristretto.Cache[uint64, *entry[V]]
	front    []atomic.Pointer[entry[V]]
	mask     uint64
	// pending is written by every fill: allocated on its own, so that it
	// shares no cache line with the fields every hit reads.
	pending *setBatch[V]
}

// setBatchSize is how many fills are handed to ristretto at once.
//
// Ristretto applies a Set on its own goroutine, woken through a channel:
// on an otherwise idle machine every Set wakes a sleeping thread, which
// costs a miss more than its bbolt reads do (a futex round trip to
// another core). Handing fills over in batches wakes it once a batch. A
// fill is visible in the front table at once, so the delay only decides
// when ristretto, the cache of record, admits it.
const setBatchSize = 16

// setBatch is the fills not yet handed to ristretto.
type setBatch[V any] struct {
	mu      sync.Mutex
	n       int
	entries [setBatchSize]*entry[V]
}

// add queues e; full reports that the batch filled up, and batch is what
// it held, to hand over.
func (b *setBatch[V]) add(e *entry[V]) (batch [setBatchSize]*entry[V], full bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries[b.n] = e
	b.n++
	if b.n < setBatchSize {
		return batch, false
	}
	batch = b.entries
	b.entries, b.n = [setBatchSize]*entry[V]{}, 0
	return batch, true
}

// take empties the batch, returning what it held.
func (b *setBatch[V]) take() []*entry[V] {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]*entry[V](nil), b.entries[:b.n]...)
	b.entries, b.n = [setBatchSize]*entry[V]{}, 0
	return out
}

// maxFrontSlots bounds the front table (8 bytes a slot).
const maxFrontSlots = 1 << 16

type entry[V any] struct {
	// hash is the entry's key in ristretto and the front table.
	hash      uint64
	user, ref string
	stamp     Stamp
	value     V
}

// New returns a cache holding at most maxEntries values, guarded by versions.
func New[V any](versions *Versions, maxEntries int64) (*Cache[V], error) {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	rc, err := ristretto.NewCache(&ristretto.Config[uint64, *entry[V]]{
		NumCounters: maxEntries * 10,
		MaxCost:     maxEntries,
		BufferItems: 64,
		// Every entry costs 1: without this ristretto adds its own
		// internal cost and evicts most cost-1 items.
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating permission cache: %w", err)
	}
	slots := uint64(1)
	for slots < uint64(maxEntries) && slots < maxFrontSlots {
		slots <<= 1
	}
	c := &Cache[V]{versions: versions, seed: maphash.MakeSeed(), rc: rc,
		front: make([]atomic.Pointer[entry[V]], slots), mask: slots - 1, pending: new(setBatch[V])}
	closeWhenUnreachable(c, rc)
	return c, nil
}

// closeWhenUnreachable stops rc's goroutines once owner is garbage.
// ristretto's Close races with a concurrent Get or Set (it closes channels
// they send on), and during a config reload a request of the old config
// may still be running when the old config is cleaned up; once the owner
// is unreachable, no request can touch rc any more.
func closeWhenUnreachable[K ristretto.Key, V any, O any](owner *O, rc *ristretto.Cache[K, V]) {
	runtime.AddCleanup(owner, func(rc *ristretto.Cache[K, V]) { rc.Close() }, rc)
}

// Get returns the value cached for (user, ref) if its stamp is still valid.
// It does not allocate.
func (c *Cache[V]) Get(user, ref string) (V, bool) {
	h := c.key(user, ref)
	slot := &c.front[h&c.mask]
	// The key is a 64-bit hash: the stored names are compared so that a
	// collision can only cost a miss, never another user's access.
	if e := slot.Load(); e != nil && e.user == user && e.ref == ref && c.versions.Valid(e.stamp) {
		return e.value, true
	}
	e, ok := c.rc.Get(h)
	runtime.KeepAlive(c)
	if !ok || e.user != user || e.ref != ref || !c.versions.Valid(e.stamp) {
		var zero V
		return zero, false
	}
	slot.Store(e)
	return e.value, true
}

// Set stores value for (user, ref) under stamp. Ristretto may drop the set;
// callers never rely on a Set being visible.
// The entry is visible in the front table at once; ristretto gets it with
// the next batch of fills (see setBatchSize) and applies it asynchronously.
func (c *Cache[V]) Set(user, ref string, stamp Stamp, value V) {
	h := c.key(user, ref)
	e := &entry[V]{hash: h, user: user, ref: ref, stamp: stamp, value: value}
	if c.versions.Valid(stamp) {
		// A fill that is already stale stays out of the front table, so it
		// cannot push out a fresh entry that shares the slot.
		c.front[h&c.mask].Store(e)
	}
	if batch, full := c.pending.add(e); full {
		c.admit(batch[:])
	}
}

// admit hands entries to ristretto. One that went stale while it waited
// in the batch is dropped: ristretto would only ever answer it with a miss.
func (c *Cache[V]) admit(entries []*entry[V]) {
	for _, e := range entries {
		if c.versions.Valid(e.stamp) {
			c.rc.Set(e.hash, e, 1)
		}
	}
	runtime.KeepAlive(c)
}

// Wait hands every queued fill to ristretto and blocks until ristretto
// has applied them (for tests and benchmarks).
func (c *Cache[V]) Wait() {
	c.admit(c.pending.take())
	c.rc.Wait()
}

func (c *Cache[V]) key(user, ref string) uint64 {
	return maphash.String(c.seed, user)*0x9E3779B97F4A7C15 ^ maphash.String(c.seed, ref)
}
