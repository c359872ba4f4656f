package authz

import (
	"sync"
	"sync/atomic"
)

// maxCachedPatterns bounds the pattern cache. Patterns come from a small
// vocabulary (system roles, custom roles, member grants), so a few thousand
// is plenty; past that, patterns are still expanded, just not remembered,
// so stored data can never grow the cache without limit.
const maxCachedPatterns = 4096

// patternCache remembers what each valid wildcard pattern grants: the
// catalog permissions it matches, closed under implications. Expanding a
// member's patterns then costs one lookup and a few word ORs per pattern
// instead of a match against every candidate name. Entries are never
// modified once stored, which keeps the catalog safe for concurrent use.
type patternCache struct {
	grants sync.Map // pattern string → bitset
	size   atomic.Int32
}

func (pc *patternCache) load(pattern string) (bitset, bool) {
	b, ok := pc.grants.Load(pattern)
	if !ok {
		return nil, false
	}
	return b.(bitset), true
}

// store remembers b for pattern while the cache has room.
func (pc *patternCache) store(pattern string, b bitset) {
	if pc.size.Load() >= maxCachedPatterns {
		return
	}
	if _, loaded := pc.grants.LoadOrStore(pattern, b); !loaded {
		pc.size.Add(1)
	}
}
