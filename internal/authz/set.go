package authz

// Set is a set of permissions of one Catalog, as a bitset over PermIDs.
// It is immutable once built, so it can be cached and shared between
// goroutines. The zero Set is empty.
type Set struct {
	bits bitset
}

// Has reports whether id is in s. It is O(1), does not allocate, and is
// false for IDs beyond the catalog.
func (s Set) Has(id PermID) bool { return s.bits.has(id) }

// Contains reports whether every permission of o is in s (o ⊆ s).
func (s Set) Contains(o Set) bool {
	for i, w := range o.bits {
		var mine uint64
		if i < len(s.bits) {
			mine = s.bits[i]
		}
		if w&^mine != 0 {
			return false
		}
	}
	return true
}

// Len returns the number of permissions in s.
func (s Set) Len() int { return s.bits.count() }

// Names returns the names of the permissions in s, sorted. c must be the
// catalog s was built from. The result is never nil.
func (s Set) Names(c *Catalog) []string {
	out := make([]string, 0, s.Len())
	for id := range s.bits.ids() {
		if name := c.Name(id); name != "" {
			out = append(out, name)
		}
	}
	return out
}
