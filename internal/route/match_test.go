package route

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func mustCompile(t testing.TB, rules []Rule) *Table {
	t.Helper()
	table, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return table
}

// rule builds a Rule from "GET,HEAD /path".
func rule(s string) Rule {
	methods, path, _ := strings.Cut(s, " ")
	return Rule{Methods: strings.Split(methods, ","), Path: path}
}

func rules(specs ...string) []Rule {
	out := make([]Rule, len(specs))
	for i, s := range specs {
		out[i] = rule(s)
	}
	return out
}

type matchCase struct {
	method, path string
	status       Status
	rule         int
	pattern      string
	allow        string
	params       map[string]string
}

func checkMatch(t *testing.T, table *Table, tt matchCase) {
	t.Helper()
	var p Params
	got := table.Match(tt.method, tt.path, &p)
	want := Result{Status: tt.status, Rule: -1, Pattern: tt.pattern, Allow: tt.allow}
	if tt.status == Matched {
		want.Rule = tt.rule
	}
	if got != want {
		t.Errorf("Match(%s %s) = %+v, want %+v", tt.method, tt.path, got, want)
		return
	}
	if p.Len() != len(tt.params) {
		t.Errorf("Match(%s %s): %d params, want %d", tt.method, tt.path, p.Len(), len(tt.params))
	}
	for name, value := range tt.params {
		if v, ok := p.Get(name); !ok || v != value {
			t.Errorf("Match(%s %s): param %s = %q, %v, want %q", tt.method, tt.path, name, v, ok, value)
		}
	}
}

func TestMatchSpecExample(t *testing.T) {
	table := mustCompile(t, rules(
		"GET /healthz", // 0
		"GET /me",
		"GET /w/{workspace}",
		"GET /w/{workspace}/messages",
		"POST /w/{workspace}/messages",
		"GET /w/{workspace}/instances/{instance}/chats", // 5
		"* /w/{workspace}/campaigns/{id}/run",
		"GET /billing-admin/*",
		"GET /w/special/messages",
		"GET /w/{workspace}/*",
		"* /w/{workspace}/messages", // 10
		"GET /w/{workspace}/files/*",
		"GET /",
		"DELETE /w/{x}/messages/{id}",
		"GET,HEAD /w/{ws}/messages/{id}",
	))
	ws := map[string]string{"workspace": "acme"}
	for _, tt := range []matchCase{
		{"GET", "/", Matched, 12, "/", "", nil},
		{"GET", "/healthz", Matched, 0, "/healthz", "", nil},
		{"GET", "/healthz/", Matched, 0, "/healthz", "", nil},
		{"POST", "/healthz", MethodNotAllowed, 0, "/healthz", "GET", nil},
		{"get", "/healthz", MethodNotAllowed, 0, "/healthz", "GET", nil},
		{"GET", "/HEALTHZ", NotFound, 0, "", "", nil},
		{"GET", "/nope", NotFound, 0, "", "", nil},
		{"GET", "/w/acme", Matched, 2, "/w/{workspace}", "", ws},
		{"GET", "/w/acme/", Matched, 2, "/w/{workspace}", "", ws},
		{"GET", "/w", NotFound, 0, "", "", nil},
		{"GET", "/w/", NotFound, 0, "", "", nil},
		{"GET", "/w/acme/messages", Matched, 3, "/w/{workspace}/messages", "", ws},
		{"GET", "/w/acme/messages/", Matched, 3, "/w/{workspace}/messages", "", ws},
		{"POST", "/w/acme/messages", Matched, 4, "/w/{workspace}/messages", "", ws},
		// The method rule beats "*"; other methods get the "*" rule.
		{"PUT", "/w/acme/messages", Matched, 10, "/w/{workspace}/messages", "", ws},
		// A literal beats a parameter, and a more specific pattern
		// without the method is a 405, never a fallback to the
		// parameter pattern's POST or "*" rules.
		{"GET", "/w/special/messages", Matched, 8, "/w/special/messages", "", nil},
		{"POST", "/w/special/messages", MethodNotAllowed, 0, "/w/special/messages", "GET", nil},
		// A wildcard takes one or more segments, after the literals
		// and parameters failed.
		{"GET", "/w/acme/other", Matched, 9, "/w/{workspace}/*", "", ws},
		{"GET", "/w/acme/other/deep/er", Matched, 9, "/w/{workspace}/*", "", ws},
		{"GET", "/w/acme/files/a/b.txt", Matched, 11, "/w/{workspace}/files/*", "", ws},
		{"GET", "/w/acme/files", Matched, 9, "/w/{workspace}/*", "", ws},
		// Backtracking: /w/{workspace}/instances/{instance} is only a
		// prefix of a pattern, so the wildcard one level up wins.
		{"GET", "/w/acme/instances/i1", Matched, 9, "/w/{workspace}/*", "", ws},
		{"GET", "/w/acme/instances/i1/chats", Matched, 5, "/w/{workspace}/instances/{instance}/chats", "",
			map[string]string{"workspace": "acme", "instance": "i1"}},
		{"POST", "/w/acme/instances/i1/chats", MethodNotAllowed, 0, "/w/{workspace}/instances/{instance}/chats", "GET", nil},
		{"DELETE", "/w/acme/campaigns/42/run", Matched, 6, "/w/{workspace}/campaigns/{id}/run", "",
			map[string]string{"workspace": "acme", "id": "42"}},
		{"GET", "/billing-admin", NotFound, 0, "", "", nil},
		{"GET", "/billing-admin/", NotFound, 0, "", "", nil},
		{"GET", "/billing-admin/x", Matched, 7, "/billing-admin/*", "", nil},
		{"GET", "/billing-admin/x/y", Matched, 7, "/billing-admin/*", "", nil},
		// Two rules share a pattern under different parameter names:
		// each match reports its own rule's names and spelling.
		{"GET", "/w/acme/messages/7", Matched, 14, "/w/{ws}/messages/{id}", "", map[string]string{"ws": "acme", "id": "7"}},
		{"HEAD", "/w/acme/messages/7", Matched, 14, "/w/{ws}/messages/{id}", "", map[string]string{"ws": "acme", "id": "7"}},
		{"DELETE", "/w/acme/messages/7", Matched, 13, "/w/{x}/messages/{id}", "", map[string]string{"x": "acme", "id": "7"}},
		{"POST", "/w/acme/messages/7", MethodNotAllowed, 0, "/w/{x}/messages/{id}", "DELETE, GET, HEAD", nil},
		// Paths canonpath would reject still get a safe answer: no
		// leading "/" matches nothing, and an empty segment matches
		// neither a literal nor a parameter.
		{"GET", "", NotFound, 0, "", "", nil},
		{"GET", "healthz", NotFound, 0, "", "", nil},
		{"GET", "/w//messages", NotFound, 0, "", "", nil},
	} {
		checkMatch(t, table, tt)
	}
}

func TestMatchPrecedenceAtEachDepth(t *testing.T) {
	table := mustCompile(t, rules(
		"GET /a/b/c",   // 0
		"GET /a/b/{x}", // 1
		"GET /a/b/*",   // 2
		"GET /a/{x}/c", // 3
		"GET /a/{x}/{y}",
		"GET /a/{x}/*", // 5
		"GET /a/*",
		"GET /{x}/b/c", // 7
		"GET /*",
	))
	for _, tt := range []matchCase{
		{"GET", "/a/b/c", Matched, 0, "/a/b/c", "", nil},
		{"GET", "/a/b/z", Matched, 1, "/a/b/{x}", "", map[string]string{"x": "z"}},
		{"GET", "/a/b/z/q", Matched, 2, "/a/b/*", "", nil},
		{"GET", "/a/q/c", Matched, 3, "/a/{x}/c", "", map[string]string{"x": "q"}},
		{"GET", "/a/q/z", Matched, 4, "/a/{x}/{y}", "", map[string]string{"x": "q", "y": "z"}},
		// Longer beats shorter: /a/{x}/* over /a/*.
		{"GET", "/a/q/z/w", Matched, 5, "/a/{x}/*", "", map[string]string{"x": "q"}},
		{"GET", "/a/q", Matched, 6, "/a/*", "", nil},
		{"GET", "/a/b", Matched, 6, "/a/*", "", nil},
		// A literal first segment beats a parameter even when the
		// parameter pattern is all literals afterwards.
		{"GET", "/z/b/c", Matched, 7, "/{x}/b/c", "", map[string]string{"x": "z"}},
		{"GET", "/a", Matched, 8, "/*", "", nil},
		{"GET", "/z/b/d", Matched, 8, "/*", "", nil},
		{"GET", "/", NotFound, 0, "", "", nil},
	} {
		checkMatch(t, table, tt)
	}
}

func TestMatchRoot(t *testing.T) {
	table := mustCompile(t, rules("GET /", "GET /{x}"))
	checkMatch(t, table, matchCase{"GET", "/", Matched, 0, "/", "", nil})
	checkMatch(t, table, matchCase{"GET", "/a", Matched, 1, "/{x}", "", map[string]string{"x": "a"}})
	checkMatch(t, table, matchCase{"GET", "/a/b", NotFound, 0, "", "", nil})

	// "/" only matches the root, and "/*" does not match the root.
	table = mustCompile(t, rules("GET /*"))
	checkMatch(t, table, matchCase{"GET", "/", NotFound, 0, "", "", nil})
	checkMatch(t, table, matchCase{"GET", "/x/y", Matched, 0, "/*", "", nil})
}

func TestPatternTrailingSlashIsNormalized(t *testing.T) {
	table := mustCompile(t, rules("GET /x/", "POST /y/{id}/"))
	checkMatch(t, table, matchCase{"GET", "/x", Matched, 0, "/x", "", nil})
	checkMatch(t, table, matchCase{"GET", "/x/", Matched, 0, "/x", "", nil})
	checkMatch(t, table, matchCase{"POST", "/y/1", Matched, 1, "/y/{id}", "", map[string]string{"id": "1"}})
}

func TestMethodsAreCaseSensitiveTokens(t *testing.T) {
	table := mustCompile(t, rules("PURGE /cache/*", "GET,HEAD /x"))
	checkMatch(t, table, matchCase{"PURGE", "/cache/a", Matched, 0, "/cache/*", "", nil})
	checkMatch(t, table, matchCase{"Purge", "/cache/a", MethodNotAllowed, 0, "/cache/*", "PURGE", nil})
	checkMatch(t, table, matchCase{"HEAD", "/x", Matched, 1, "/x", "", nil})
	checkMatch(t, table, matchCase{"OPTIONS", "/x", MethodNotAllowed, 0, "/x", "GET, HEAD", nil})
}

func TestParams(t *testing.T) {
	table := mustCompile(t, rules("GET /w/{workspace}/c/{id}", "GET /v/{other}"))
	path := "/w/acme/c/42"
	var p Params
	if res := table.Match("GET", path, &p); res.Status != Matched {
		t.Fatalf("no match: %+v", res)
	}
	v, _ := p.Get("workspace")
	// Values are substrings of the path, not copies.
	start := uintptr(unsafe.Pointer(unsafe.StringData(path)))
	if at := uintptr(unsafe.Pointer(unsafe.StringData(v))); at != start+3 {
		t.Errorf("workspace value is not the path's substring (offset %d)", int(at-start))
	}
	if _, ok := p.Get("missing"); ok {
		t.Error("Get(missing) = ok")
	}

	// Reusing p: the previous names and values are gone.
	if res := table.Match("GET", "/v/x", &p); res.Status != Matched {
		t.Fatalf("no match: %+v", res)
	}
	if p.Len() != 1 {
		t.Errorf("Len = %d after reuse, want 1", p.Len())
	}
	if _, ok := p.Get("workspace"); ok {
		t.Error("a parameter of the previous match survived")
	}

	// A failed match leaves p empty.
	table.Match("GET", "/w/acme/c/42", &p)
	if table.Match("POST", "/w/acme/c/42", &p); p.Len() != 0 {
		t.Errorf("Len = %d after a 405, want 0", p.Len())
	}
	if table.Match("GET", "/nope", &p); p.Len() != 0 {
		t.Errorf("Len = %d after NotFound, want 0", p.Len())
	}
	p.Reset()
	if _, ok := p.Get("workspace"); ok || p.Len() != 0 {
		t.Error("Reset left parameters")
	}
}

func TestParamCaptureUnwindsOnBacktrack(t *testing.T) {
	// /{a}/{b}/x is tried first for /p/q/y and fails at the last
	// segment; /{a}/* then matches, and only {a} must remain captured.
	table := mustCompile(t, rules("GET /{a}/{b}/x", "GET /{a}/*"))
	checkMatch(t, table, matchCase{"GET", "/p/q/y", Matched, 1, "/{a}/*", "", map[string]string{"a": "p"}})
}

func TestMaxParams(t *testing.T) {
	var pat, path strings.Builder
	want := map[string]string{}
	for i := range MaxParams {
		name := string(rune('a' + i))
		pat.WriteString("/{" + name + "}")
		path.WriteString("/v" + name)
		want[name] = "v" + name
	}
	table := mustCompile(t, []Rule{{Methods: []string{"GET"}, Path: pat.String()}})
	checkMatch(t, table, matchCase{"GET", path.String(), Matched, 0, pat.String(), "", want})

	_, err := Compile([]Rule{{Methods: []string{"GET"}, Path: pat.String() + "/{q}"}})
	if err == nil || !strings.Contains(err.Error(), "17 parameters, at most 16 are allowed") {
		t.Errorf("17 parameters: err = %v", err)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	table, paths := benchTable(t)
	var p Params
	for _, bp := range paths {
		allocs := testing.AllocsPerRun(50, func() {
			table.Match(bp.method, bp.path, &p)
		})
		if allocs != 0 {
			t.Errorf("Match(%s %s) allocates %v times", bp.method, bp.path, allocs)
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	table, paths := benchTable(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var p Params
			for i := range 2000 {
				bp := paths[(i+g)%len(paths)]
				if res := table.Match(bp.method, bp.path, &p); res.Status != bp.want {
					t.Errorf("%s %s: %v, want %v", bp.method, bp.path, res.Status, bp.want)
					return
				}
			}
		})
	}
	wg.Wait()
}
