package authz

// Set algebra, for applying a plan's ceiling to a compiled set. Each
// returns a new Set; the operands are unchanged (Sets are immutable).

// Union returns s ∪ o.
func (s Set) Union(o Set) Set {
	out := make(bitset, max(len(s.bits), len(o.bits)))
	copy(out, s.bits)
	out.or(o.bits)
	return Set{out}
}

// Intersect returns s ∩ o.
func (s Set) Intersect(o Set) Set {
	out := make(bitset, min(len(s.bits), len(o.bits)))
	for i := range out {
		out[i] = s.bits[i] & o.bits[i]
	}
	return Set{out}
}

// Minus returns s \ o.
func (s Set) Minus(o Set) Set {
	out := make(bitset, len(s.bits))
	copy(out, s.bits)
	out.andNot(o.bits)
	return Set{out}
}

// Equal reports whether s and o hold the same permissions.
func (s Set) Equal(o Set) bool { return s.Contains(o) && o.Contains(s) }

// Matching returns the catalog permissions any of patterns matches,
// without implications: what a list of patterns names, as opposed to
// what holding it grants (Expand). Invalid patterns match nothing.
func (c *Catalog) Matching(patterns []string) Set {
	out := newBits(len(c.names))
	for _, p := range patterns {
		out.or(c.matches(p))
	}
	return Set{out}
}
