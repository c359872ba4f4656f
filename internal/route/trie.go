package route

// node is a trie node: one per distinct pattern prefix (with parameter
// names ignored).
type node struct {
	literals map[string]*node
	// few holds the literal children too when there are at most
	// maxFewLiterals of them: comparing a handful of strings is faster than
	// hashing the segment for a map lookup.
	few   []literalChild
	param *node
	// wildcard ends a pattern whose last segment is "*" here.
	wildcard *endpoint
	// end ends a pattern here.
	end *endpoint
}

type literalChild struct {
	text  string
	child *node
}

const maxFewLiterals = 8

// literal returns the literal child named seg, or nil.
func (n *node) literal(seg string) *node {
	if len(n.literals) > maxFewLiterals {
		return n.literals[seg]
	}
	for i := range n.few {
		if n.few[i].text == seg {
			return n.few[i].child
		}
	}
	return nil
}

// insert adds the path of segs below n, ending at e.
func (n *node) insert(segs []segment, e *endpoint) {
	for _, seg := range segs {
		switch seg.kind {
		case literalSegment:
			if n.literals == nil {
				n.literals = make(map[string]*node)
			}
			child := n.literals[seg.text]
			if child == nil {
				child = new(node)
				n.literals[seg.text] = child
				n.few = nil
				if len(n.literals) <= maxFewLiterals {
					for text, c := range n.literals {
						n.few = append(n.few, literalChild{text, c})
					}
				}
			}
			n = child
		case paramSegment:
			if n.param == nil {
				n.param = new(node)
			}
			n = n.param
		case wildcardSegment:
			// Always the last segment (parsePattern checked).
			n.wildcard = e
			return
		}
	}
	n.end = e
}

// lookup finds the most specific pattern matching rest, the path left to
// match below n: "" at the end, else "/" and one or more segments. It
// tries the literal child, then the parameter child, then the wildcard,
// and returns the first complete match: trying more specific kinds first
// at every depth makes the first match the most specific one. Values of
// parameters on the way are pushed to p, and popped on backtracking.
func (n *node) lookup(rest string, p *Params) *endpoint {
	if rest == "" {
		return n.end
	}
	seg, tail := rest[1:], ""
	// A loop, not strings.IndexByte: segments are short, and the call
	// costs more than it saves on a handful of bytes.
	for i := 0; i < len(seg); i++ {
		if seg[i] == '/' {
			seg, tail = seg[:i], seg[i:]
			break
		}
	}
	if seg == "" {
		// An empty segment (from "//") matches nothing: neither a
		// literal nor a parameter, and a wildcard needs a segment.
		return nil
	}
	if child := n.literal(seg); child != nil {
		if e := child.lookup(tail, p); e != nil {
			return e
		}
	}
	if n.param != nil {
		mark := p.n
		p.push(seg)
		if e := n.param.lookup(tail, p); e != nil {
			return e
		}
		p.n = mark
	}
	return n.wildcard
}
