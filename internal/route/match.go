package route

// Match finds the rule for method and path, capturing parameters into p
// (which it resets first). path is the decoded request path, already
// checked canonical. Match does not allocate.
func (t *Table) Match(method, path string, p *Params) Result {
	p.Reset()
	rest, ok := matchablePath(path)
	if !ok {
		return Result{Status: NotFound, Rule: -1}
	}
	e := t.root.lookup(rest, p)
	if e == nil {
		p.Reset()
		return Result{Status: NotFound, Rule: -1}
	}
	r := e.ruleFor(method)
	if r == nil {
		p.Reset()
		return Result{Status: MethodNotAllowed, Rule: -1, Pattern: e.pattern, Allow: e.allow}
	}
	p.names = r.params
	return Result{Status: Matched, Rule: r.index, Pattern: r.pattern}
}

// matchablePath drops one trailing "/" and turns the root into "", the
// form node.lookup walks. ok is false for a path not starting with "/".
func matchablePath(path string) (rest string, ok bool) {
	if path == "" || path[0] != '/' {
		return "", false
	}
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if path == "/" {
		return "", true
	}
	return path, true
}
