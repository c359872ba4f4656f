package permcache

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// DefaultMaxUnknown bounds an Unknown set when the config says nothing.
const DefaultMaxUnknown = 4096

// Unknown remembers ids the store said do not exist (API key ids nobody
// issued), in a fixed number of slots: whatever ids a client sends, it
// never holds more than that many, one small entry each. It is separate
// from the access cache on purpose: anyone can make up ids without
// credentials, and they must neither grow the gateway's memory nor push
// real members out of their cache.
//
// Each slot keeps the latest id that hashed to it; a newer id replaces an
// older one, which only costs a store read the next time the older id is
// sent. Entries are guarded by a Stamp like every other entry, so writing
// a record with a remembered id (creating that key) forgets it at once.
type Unknown struct {
	versions *Versions
	seed     maphash.Seed
	slots    []atomic.Pointer[unknownEntry]
}

type unknownEntry struct {
	id    string
	stamp Stamp
}

// NewUnknown returns a set of at most size ids (DefaultMaxUnknown when
// size <= 0), guarded by versions.
func NewUnknown(versions *Versions, size int) *Unknown {
	if size <= 0 {
		size = DefaultMaxUnknown
	}
	return &Unknown{versions: versions, seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[unknownEntry], size)}
}

// Contains reports whether id was added under a stamp that is still valid.
// It does not allocate.
func (u *Unknown) Contains(id string) bool {
	e := u.slot(id).Load()
	return e != nil && e.id == id && u.versions.Valid(e.stamp)
}

// Add remembers id, read from the store as absent under stamp (taken
// before the read). A stamp that is already stale is not stored.
func (u *Unknown) Add(id string, stamp Stamp) {
	if u.versions.Valid(stamp) {
		// A copy: id may point into a larger request buffer.
		u.slot(id).Store(&unknownEntry{id: strings.Clone(id), stamp: stamp})
	}
}

// Len returns the number of ids currently remembered (valid entries). It
// walks every slot: for tests and occasional metrics, not the request path.
func (u *Unknown) Len() int {
	n := 0
	for i := range u.slots {
		if e := u.slots[i].Load(); e != nil && u.versions.Valid(e.stamp) {
			n++
		}
	}
	return n
}

// Cap returns the number of slots, the most ids the set ever holds.
func (u *Unknown) Cap() int { return len(u.slots) }

func (u *Unknown) slot(id string) *atomic.Pointer[unknownEntry] {
	return &u.slots[maphash.String(u.seed, id)%uint64(len(u.slots))]
}
