package assertion

import (
	"hash/maphash"
	"maps"
	"slices"
	"sync/atomic"
)

// reuseSlots is the size of the table of signed assertions. Only allowed,
// authenticated requests put facts there, so it holds real identities; a
// slot costs ~1 kB when used (the token and its facts), so the table is at
// most a few MB. Identities that share a slot take turns, at the price of
// a signature each, what every request cost before the table existed.
const reuseSlots = 8192

// reuseTable is a direct-mapped table of the assertions last signed,
// indexed by a hash of their facts. Entries are immutable; a hit compares
// every fact, so a hash collision only costs a signature, never another
// identity's token.
type reuseTable struct {
	seed  maphash.Seed
	slots []atomic.Pointer[reuseEntry]
}

type reuseEntry struct {
	hash       uint64
	facts      Facts
	token      string
	issuedAt   int64 // unix ns, whole seconds (the token's iat)
	reuseUntil int64 // unix ns
}

func newReuseTable() reuseTable {
	return reuseTable{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[reuseEntry], reuseSlots)}
}

// slot returns the slot of f and f's hash. It does not allocate.
func (t *reuseTable) slot(f *Facts) (*atomic.Pointer[reuseEntry], uint64) {
	h := t.str(0, f.Subject)
	h = t.str(h, f.Email)
	h = t.str(h, f.WorkspaceID)
	h = t.str(h, f.WorkspaceSlug)
	h = t.str(h, f.Permission)
	h = mix(h, uint64(len(f.Roles)))
	for _, r := range f.Roles {
		h = t.str(h, r)
	}
	// Map order is random: the restrictions add up, each type with its values.
	var rs uint64
	for typ, ids := range f.Restrictions {
		x := t.str(0, typ)
		for _, id := range ids {
			x = t.str(x, id)
		}
		rs += mix(x, uint64(len(ids)))
	}
	h = mix(h, rs)
	return &t.slots[h%reuseSlots], h
}

func (t *reuseTable) str(h uint64, s string) uint64 {
	return mix(h, maphash.String(t.seed, s))
}

func mix(h, v uint64) uint64 {
	h ^= v + 0x9E3779B97F4A7C15 + h<<6 + h>>2
	return h
}

// equal reports whether f states exactly what g states. It does not
// allocate.
func (f *Facts) equal(g *Facts) bool {
	if f.Subject != g.Subject || f.Email != g.Email || f.WorkspaceID != g.WorkspaceID ||
		f.WorkspaceSlug != g.WorkspaceSlug || f.Permission != g.Permission ||
		!slices.Equal(f.Roles, g.Roles) || len(f.Restrictions) != len(g.Restrictions) {
		return false
	}
	for typ, ids := range f.Restrictions {
		other, ok := g.Restrictions[typ]
		// nil and empty lists marshal differently (null, []).
		if !ok || (ids == nil) != (other == nil) || !slices.Equal(ids, other) {
			return false
		}
	}
	return true
}

// clone returns f with its own copies of the slices and map, so a caller
// changing its Facts later cannot change what a cached token is said to
// state.
func (f Facts) clone() Facts {
	f.Roles = slices.Clone(f.Roles)
	if f.Restrictions != nil {
		r := maps.Clone(f.Restrictions)
		for typ, ids := range r {
			r[typ] = slices.Clone(ids)
		}
		f.Restrictions = r
	}
	return f
}
