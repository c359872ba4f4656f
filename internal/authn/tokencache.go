package authn

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// tokenCache remembers successful verifications, so that a repeated token
// costs a lookup instead of a signature check. A nil *tokenCache is a
// disabled cache.
//
// Entries are checked on every hit: the stored token must equal the one
// presented (ristretto keys by a hash, and a collision must never hand out
// another token's principal), the key-set generation must be the current
// one (a removed key stops verifying at once), and the token's exp plus
// leeway must still be ahead (ristretto's TTL is only a memory bound).
type tokenCache struct {
	rc *ristretto.Cache[string, *cacheEntry]
}

type cacheEntry struct {
	token     string
	gen       uint64
	deadline  int64 // unix nanoseconds of exp + leeway
	principal Principal
}

// newTokenCache returns a cache of at most size entries, or nil when size
// is negative.
func newTokenCache(size int) (*tokenCache, error) {
	if size < 0 {
		return nil, nil
	}
	rc, err := ristretto.NewCache(&ristretto.Config[string, *cacheEntry]{
		NumCounters: 10 * int64(size),
		MaxCost:     int64(size),
		BufferItems: 64,
		// Every entry costs 1: without this ristretto adds its own
		// internal cost and evicts most cost-1 items.
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the verified-token cache: %w", err)
	}
	c := &tokenCache{rc: rc}
	// ristretto's Close races with a concurrent Get or Set (it closes
	// channels they send on), so it cannot be called while a Verify might
	// still run. Once c is unreachable nothing can run, so that is when
	// it is closed; get and add keep c alive until they are done.
	runtime.AddCleanup(c, func(rc *ristretto.Cache[string, *cacheEntry]) { rc.Close() }, rc)
	return c, nil
}

// get returns the principal cached for token if the entry is still valid.
// It does not allocate.
func (c *tokenCache) get(token string, gen uint64, now time.Time) (Principal, bool) {
	if c == nil {
		return Principal{}, false
	}
	e, ok := c.rc.Get(token)
	runtime.KeepAlive(c)
	if !ok || e.token != token || e.gen != gen || now.UnixNano() >= e.deadline {
		return Principal{}, false
	}
	p := e.principal
	p.Cached = true
	return p, true
}

// add caches p for token until deadline. ristretto may drop the entry:
// the cache only ever saves work.
func (c *tokenCache) add(token string, gen uint64, p Principal, deadline, now time.Time) {
	ttl := deadline.Sub(now)
	if c == nil || ttl <= 0 {
		return
	}
	// Clone: the caller's string may share memory with a larger buffer.
	e := &cacheEntry{token: strings.Clone(token), gen: gen, deadline: deadline.UnixNano(), principal: p}
	c.rc.SetWithTTL(e.token, e, 1, ttl)
	runtime.KeepAlive(c)
}

// wait blocks until buffered adds are applied (for tests and benchmarks).
func (c *tokenCache) wait() {
	if c != nil {
		c.rc.Wait()
		runtime.KeepAlive(c)
	}
}
