package authz

// Match reports whether pattern matches the permission name, following the
// rules in the package documentation. It is false when either is invalid,
// and it does not allocate.
func Match(pattern, name string) bool {
	if r, _ := checkSyntax(pattern, true); r != syntaxOK {
		return false
	}
	if r, _ := checkSyntax(name, false); r != syntaxOK {
		return false
	}
	return matchValid(pattern, name)
}

// matchValid is Match for inputs already known to be valid.
func matchValid(pattern, name string) bool {
	pi, ni := 0, 0
	for {
		pseg, psep, pnext := cutSegment(pattern, pi)
		if pseg == wildcard && psep == 0 {
			// A trailing "*" (or "*" alone) takes the rest, which is
			// at least one segment: we only get here while the name
			// has a segment left, and the separator in front of it
			// was compared on the previous step.
			return true
		}
		nseg, nsep, nnext := cutSegment(name, ni)
		if pseg != wildcard && pseg != nseg {
			return false
		}
		if psep != nsep {
			// Different separators, or one of the two ends here.
			return false
		}
		if psep == 0 {
			return true
		}
		pi, ni = pnext, nnext
	}
}

// literalPrefix returns the part of a valid pattern before its first "*"
// segment. Every name the pattern matches starts with it, which lets a
// sorted catalog narrow the names to try to one contiguous run.
func literalPrefix(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '*' {
			return pattern[:i]
		}
	}
	return pattern
}
