package authz

// Expand returns the catalog permissions matching any of patterns, closed
// under implications. It is tolerant: an invalid pattern, or one matching
// nothing, contributes nothing, because stored grants may predate a
// configuration change and must not make a member unloadable.
func (c *Catalog) Expand(patterns []string) Set {
	out := newBits(len(c.names))
	for _, p := range patterns {
		c.grantPattern(out, p)
	}
	return Set{out}
}

// Effective returns Expand(grants) minus every catalog permission matching
// a deny pattern. Denies are applied after the closure and are not closed
// themselves: denying contact.manage removes contact.manage only, not the
// contact.read it implies, which the member may well hold through a role.
func (c *Catalog) Effective(grants, denies []string) Set {
	s := c.Expand(grants)
	for _, p := range denies {
		c.denyPattern(s.bits, p)
	}
	return s
}

// grantPattern adds to b what pattern grants: each matching permission
// with its closure. The common cases (a catalog name, a cached wildcard
// pattern) are answered before any syntax check: both are known valid.
func (c *Catalog) grantPattern(b bitset, pattern string) {
	if id, ok := c.ids[pattern]; ok {
		b.or(c.grants[id].bits)
		return
	}
	if pattern == wildcard {
		// The closure of everything is everything.
		b.or(c.all.bits)
		return
	}
	if cached, ok := c.patterns.load(pattern); ok {
		b.or(cached)
		return
	}
	if r, _ := checkSyntax(pattern, true); r != syntaxOK || !containsStar(pattern) {
		return // invalid, or a name the catalog does not have
	}
	grants := newBits(len(c.names))
	for id := range c.matches(pattern).ids() {
		grants.or(c.grants[id].bits)
	}
	c.patterns.store(pattern, grants)
	b.or(grants)
}

// denyPattern removes from b the permissions pattern matches, without
// closure.
func (c *Catalog) denyPattern(b bitset, pattern string) {
	if id, ok := c.ids[pattern]; ok {
		b.clear(id)
		return
	}
	b.andNot(c.matches(pattern))
}

// matches returns the catalog permissions pattern matches, ignoring
// implications; nothing for an invalid pattern.
func (c *Catalog) matches(pattern string) bitset {
	b := newBits(len(c.names))
	if r, _ := checkSyntax(pattern, true); r != syntaxOK {
		return b
	}
	if pattern == wildcard {
		copy(b, c.all.bits)
		return b
	}
	lo, hi := c.candidates(pattern)
	for id := lo; id < hi; id++ {
		if matchValid(pattern, c.names[id]) {
			b.set(id)
		}
	}
	return b
}
