package route

// Params holds the values a match captured. It is a fixed-size value so a
// request can keep one on its stack (or inside a larger per-request struct)
// and Match never allocates; reuse it across matches. Values are substrings
// of the matched path.
type Params struct {
	values [MaxParams]string
	n      int
	// names are the matched rule's parameter names, shared with the
	// table (never modified).
	names []string
}

// Get returns the value captured for the parameter name, as named by the
// matched rule.
func (p *Params) Get(name string) (string, bool) {
	for i := 0; i < p.n && i < len(p.names); i++ {
		if p.names[i] == name {
			return p.values[i], true
		}
	}
	return "", false
}

// Len returns the number of captured parameters.
func (p *Params) Len() int { return min(p.n, len(p.names)) }

// Reset empties p.
func (p *Params) Reset() {
	// Clearing the values drops references to the previous path.
	clear(p.values[:p.n])
	p.n = 0
	p.names = nil
}

// push records the value of the next parameter.
func (p *Params) push(value string) {
	p.values[p.n] = value
	p.n++
}
