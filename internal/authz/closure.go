package authz

// closeImplications computes, for every permission, the set it grants:
// itself plus everything reachable through implications. Cycles are fine:
// a permission already reached is not visited again.
func (c *Catalog) closeImplications() {
	direct := make([]bitset, len(c.names))
	for id := range c.names {
		direct[id] = newBits(len(c.names))
		for _, p := range c.implies[id] {
			direct[id].or(c.matches(p))
		}
	}
	c.grants = make([]Set, len(c.names))
	stack := make([]PermID, 0, len(c.names))
	for id := range c.names {
		reached := newBits(len(c.names))
		reached.set(PermID(id))
		stack = append(stack[:0], PermID(id))
		for len(stack) > 0 {
			from := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for to := range direct[from].ids() {
				if !reached.has(to) {
					reached.set(to)
					stack = append(stack, to)
				}
			}
		}
		c.grants[id] = Set{reached}
	}
}
