package authz

import "slices"

// Cycles returns the groups of permissions that imply each other, each
// sorted, in catalog order of their first member: `a implies b` with
// `b implies a` makes holding either grant both. That is harmless for the
// closure, which is computed to a fixed point, but is rarely what was
// meant (one of the two was usually meant to imply the other only), so
// config reports it.
func (c *Catalog) Cycles() [][]string {
	var out [][]string
	inCycle := make([]bool, len(c.names))
	for id, name := range c.names {
		if inCycle[id] {
			continue
		}
		group := []string{name}
		for _, other := range c.Implied(name) {
			if slices.Contains(c.Implied(other), name) {
				group = append(group, other)
				if oid, ok := c.ids[other]; ok {
					inCycle[oid] = true
				}
			}
		}
		if len(group) > 1 {
			inCycle[id] = true
			slices.Sort(group)
			out = append(out, group)
		}
	}
	return out
}
