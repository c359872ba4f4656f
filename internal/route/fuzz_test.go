package route

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The reference matcher below is written to be obviously correct rather
// than fast: it tries every rule's pattern against the split path, ranks
// the matching patterns by the precedence rule, and picks the best.

// refSegments splits a path into segments after dropping one trailing
// "/"; the root has none. ok is false when the path does not start with
// "/".
func refSegments(path string) (segs []string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	if path == "/" {
		return nil, true
	}
	return strings.Split(path[1:], "/"), true
}

// refKind ranks a pattern segment: 0 literal, 1 parameter, 2 wildcard.
func refKind(seg string) int {
	switch {
	case seg == "*":
		return 2
	case strings.HasPrefix(seg, "{"):
		return 1
	}
	return 0
}

// refMatch matches pattern segments against path segments, returning the
// parameter values in order.
func refMatch(pattern, path []string) (values []string, ok bool) {
	for i, p := range pattern {
		if refKind(p) == 2 {
			// A final "*": one or more further segments.
			return values, i < len(path) && path[i] != ""
		}
		if i >= len(path) || path[i] == "" {
			return nil, false
		}
		if refKind(p) == 1 {
			values = append(values, path[i])
		} else if p != path[i] {
			return nil, false
		}
	}
	return values, len(pattern) == len(path)
}

// refMoreSpecific reports whether pattern a beats pattern b: segment by
// segment, literal beats parameter beats wildcard; longer beats shorter.
func refMoreSpecific(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ka, kb := refKind(a[i]), refKind(b[i]); ka != kb {
			return ka < kb
		}
	}
	return len(a) > len(b)
}

// refKey identifies a pattern regardless of parameter names.
func refKey(pattern []string) string {
	key := make([]string, len(pattern))
	for i, p := range pattern {
		key[i] = p
		if refKind(p) == 1 {
			key[i] = "{}"
		}
	}
	return strings.Join(key, "/")
}

type refRule struct {
	methods []string
	written string   // normalized pattern
	segs    []string // pattern segments
	params  []string
}

func newRefRule(r Rule) refRule {
	written := r.Path
	if len(written) > 1 && strings.HasSuffix(written, "/") {
		written = written[:len(written)-1]
	}
	segs, _ := refSegments(written)
	var params []string
	for _, s := range segs {
		if refKind(s) == 1 {
			params = append(params, s[1:len(s)-1])
		}
	}
	return refRule{methods: r.Methods, written: written, segs: segs, params: params}
}

// refConflict reports whether two rules have the same pattern and an
// overlapping method.
func refConflict(rules []refRule) bool {
	for i := range rules {
		for j := range i {
			if refKey(rules[i].segs) != refKey(rules[j].segs) {
				continue
			}
			for _, m := range rules[i].methods {
				if slices.Contains(rules[j].methods, m) {
					return true
				}
			}
		}
	}
	return false
}

type refResult struct {
	Result
	params map[string]string
}

func refTableMatch(rules []refRule, method, path string) refResult {
	none := refResult{Result: Result{Status: NotFound, Rule: -1}}
	segs, ok := refSegments(path)
	if !ok {
		return none
	}
	best := -1
	for i, r := range rules {
		if _, ok := refMatch(r.segs, segs); ok && (best < 0 || refMoreSpecific(r.segs, rules[best].segs)) {
			best = i
		}
	}
	if best < 0 {
		return none
	}
	// The rules sharing the winning pattern, in index order.
	var same []int
	for i, r := range rules {
		if refKey(r.segs) == refKey(rules[best].segs) {
			same = append(same, i)
		}
	}
	chosen := -1
	for _, i := range same {
		if slices.Contains(rules[i].methods, method) {
			chosen = i
		}
	}
	if chosen < 0 {
		for _, i := range same {
			if slices.Contains(rules[i].methods, "*") {
				chosen = i
			}
		}
	}
	if chosen < 0 {
		var allow []string
		for _, i := range same {
			allow = append(allow, rules[i].methods...)
		}
		slices.Sort(allow)
		return refResult{Result: Result{Status: MethodNotAllowed, Rule: -1,
			Pattern: rules[same[0]].written, Allow: strings.Join(allow, ", ")}}
	}
	values, _ := refMatch(rules[chosen].segs, segs)
	params := map[string]string{}
	for i, name := range rules[chosen].params {
		params[name] = values[i]
	}
	return refResult{Result: Result{Status: Matched, Rule: chosen, Pattern: rules[chosen].written}, params: params}
}

// byteSource turns fuzz bytes into choices; it yields 0 once exhausted.
type byteSource []byte

func (s *byteSource) choose(n int) int {
	if len(*s) == 0 {
		return 0
	}
	v := int((*s)[0]) % n
	*s = (*s)[1:]
	return v
}

var (
	fuzzLiterals = []string{"a", "b", "c"}
	fuzzValues   = []string{"a", "b", "c", "v"}
	fuzzMethods  = [][]string{{"*"}, {"GET"}, {"POST"}, {"GET", "HEAD"}, {"HEAD"}, {"DELETE", "GET"}}
)

// genRules builds a small rule set: short patterns over a tiny alphabet,
// so that overlaps, shared patterns and conflicts are frequent.
func genRules(src *byteSource) []Rule {
	rules := make([]Rule, 1+src.choose(10))
	for i := range rules {
		n := src.choose(5)
		var path strings.Builder
		for j := range n {
			path.WriteByte('/')
			switch kind := src.choose(5); {
			case kind == 4 && j == n-1:
				path.WriteString("*")
			case kind >= 2:
				// Names differ between rules but never within one.
				path.WriteString("{" + string("pq"[src.choose(2)]) + strconv.Itoa(j) + "}")
			default:
				path.WriteString(fuzzLiterals[src.choose(len(fuzzLiterals))])
			}
		}
		if n == 0 || src.choose(4) == 0 {
			path.WriteByte('/')
		}
		rules[i] = Rule{Methods: fuzzMethods[src.choose(len(fuzzMethods))], Path: path.String()}
	}
	return rules
}

// instantiate builds a path the pattern matches, with values from src.
func instantiate(r refRule, src *byteSource) string {
	var path strings.Builder
	for _, s := range r.segs {
		path.WriteByte('/')
		switch refKind(s) {
		case 0:
			path.WriteString(s)
		case 1:
			path.WriteString(fuzzValues[src.choose(len(fuzzValues))])
		case 2:
			path.WriteString(fuzzValues[src.choose(len(fuzzValues))])
			if src.choose(2) == 0 {
				path.WriteString("/" + fuzzValues[src.choose(len(fuzzValues))])
			}
		}
	}
	if path.Len() == 0 || src.choose(3) == 0 {
		path.WriteByte('/')
	}
	return path.String()
}

func FuzzMatch(f *testing.F) {
	f.Add([]byte{3, 2, 0, 0, 1, 1, 2, 2, 1, 4, 3}, "/a/b", "GET")
	f.Add([]byte{5, 3, 2, 0, 1, 0, 0, 4, 9, 9, 2, 1, 3, 4, 4, 0, 2, 1, 8}, "/a/v/c/", "POST")
	f.Add([]byte{9, 1, 4, 4, 1, 2, 2, 2, 2, 7, 0, 3, 1, 2, 3, 0, 4, 1, 1}, "/c", "HEAD")
	f.Add([]byte("some longer seed to get many rules"), "//a//", "DELETE")
	f.Add([]byte{}, "", "")
	f.Fuzz(func(t *testing.T, spec []byte, path, method string) {
		src := byteSource(spec)
		rules := genRules(&src)
		ref := make([]refRule, len(rules))
		for i, r := range rules {
			ref[i] = newRefRule(r)
		}
		table, err := Compile(rules)
		if conflict := refConflict(ref); conflict != (err != nil) {
			t.Fatalf("rules %v: Compile error %v, reference conflict=%v", rules, err, conflict)
		}
		if err != nil {
			return
		}
		check := func(method, path string) {
			var p Params
			got := table.Match(method, path, &p)
			want := refTableMatch(ref, method, path)
			if got != want.Result {
				t.Fatalf("rules %v\n%s %q: got %+v, reference %+v", rules, method, path, got, want.Result)
			}
			if p.Len() != len(want.params) {
				t.Fatalf("rules %v\n%s %q: %d params, reference %v", rules, method, path, p.Len(), want.params)
			}
			for name, value := range want.params {
				if v, ok := p.Get(name); !ok || v != value {
					t.Fatalf("rules %v\n%s %q: param %s = %q, reference %q", rules, method, path, name, v, value)
				}
			}
		}
		check(method, path)
		// Paths built from the rules themselves hit the interesting
		// overlaps far more often than arbitrary strings.
		for _, r := range ref {
			p := instantiate(r, &src)
			for _, m := range []string{"GET", "POST", "HEAD", "PUT", method} {
				check(m, p)
			}
		}
	})
}
