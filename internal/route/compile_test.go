package route

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		rules []Rule
		index int
		want  string // the whole message
	}{
		{
			rules("GET /x", "GET /w/{b}", "POST /w/{a}", "GET /w/{a}"),
			3, "rule 3 (GET /w/{a}): same pattern and method as rule 1 (GET /w/{b})",
		},
		{
			rules("* /w/{a}", "GET /w/{b}", "* /w/{c}/"),
			2, "rule 2 (* /w/{c}/): same pattern and method as rule 0 (* /w/{a})",
		},
		{
			rules("GET,HEAD /x", "POST,HEAD /x/"),
			1, "rule 1 (POST,HEAD /x/): same pattern and method as rule 0 (GET,HEAD /x)",
		},
		{
			[]Rule{{Path: "/x"}},
			0, `rule 0 ( /x): no method: name one (GET, POST, ...) or use "*" for any method`,
		},
		{
			rules("get /x"),
			0, `rule 0 (get /x): method "get" must be upper-case, as in "GET": methods are case-sensitive`,
		},
		{
			rules("GET,* /x"),
			0, `rule 0 (GET,* /x): "*" already means any method: do not list other methods with it`,
		},
		{
			rules("GET,GET /x"),
			0, "rule 0 (GET,GET /x): method GET is listed twice",
		},
		{
			rules("GET, /x"),
			0, "rule 0 (GET, /x): empty method",
		},
		{
			[]Rule{{Methods: []string{"GE T"}, Path: "/x"}},
			0, `rule 0 (GE T /x): method "GE T" has the invalid character ' '`,
		},
		{
			rules("GET x"),
			0, `rule 0 (GET x): path "x" must start with "/"`,
		},
		{
			rules("GET "),
			0, `rule 0 (GET ): path "" must start with "/"`,
		},
		{
			rules("GET /a//b"),
			0, `rule 0 (GET /a//b): path /a//b: empty segment ("//")`,
		},
		{
			rules("GET //"),
			0, `rule 0 (GET //): path //: empty segment ("//")`,
		},
		{
			rules("GET /a/./b"),
			0, `rule 0 (GET /a/./b): path /a/./b: "." segment: request paths with dot segments are rejected before matching, so this rule could never apply`,
		},
		{
			rules("GET /a/.."),
			0, `path /a/..: ".." segment: request paths`,
		},
		{
			rules("GET /a/*/b"),
			0, `rule 0 (GET /a/*/b): path /a/*/b: "*" is only allowed as the last segment (it matches all the rest of the path)`,
		},
		{
			rules("GET /a/b*"),
			0, `rule 0 (GET /a/b*): path /a/b*: segment "b*" mixes text with "{", "}" or "*": a parameter or wildcard must be a whole segment, as in /{id} or /*`,
		},
		{
			rules("GET /a{b}"),
			0, `segment "a{b}" mixes text`,
		},
		{
			rules("GET /{a"),
			0, `segment "{a" mixes text`,
		},
		{
			rules("GET /{a}/{a}"),
			0, "rule 0 (GET /{a}/{a}): path /{a}/{a}: parameter {a} is used twice; give each parameter its own name",
		},
		{
			rules("GET /{1a}"),
			0, `rule 0 (GET /{1a}): path /{1a}: parameter name "1a" is invalid: use letters, digits and "_", not starting with a digit, as in {workspace}`,
		},
		{
			rules("GET /{}"),
			0, `parameter name "" is invalid`,
		},
		{
			rules("GET /{a-b}"),
			0, `parameter name "a-b" is invalid`,
		},
		{
			rules("GET /{{a}}"),
			0, `parameter name "{a}" is invalid`,
		},
	}
	for _, tt := range tests {
		table, err := Compile(tt.rules)
		if err == nil {
			t.Errorf("Compile(%v) = nil error, want %q", tt.rules, tt.want)
			continue
		}
		if table != nil {
			t.Errorf("Compile(%v) returned a table with its error", tt.rules)
		}
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%v) error %T is not a *CompileError", tt.rules, err)
			continue
		}
		if ce.Index != tt.index {
			t.Errorf("Compile(%v): Index = %d, want %d", tt.rules, ce.Index, tt.index)
		}
		if errors.Unwrap(err) != ce.Err {
			t.Errorf("Unwrap does not return Err")
		}
		if msg := err.Error(); msg != tt.want && !(strings.Contains(msg, tt.want) && !strings.HasPrefix(tt.want, "rule ")) {
			t.Errorf("Compile(%v) error\n got %q\nwant %q", tt.rules, msg, tt.want)
		}
	}
}

func TestConflictErrorNamesTheOtherRule(t *testing.T) {
	_, err := Compile(rules("GET /a", "GET /b/{x}", "GET /b/{y}"))
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("error %v is not a *ConflictError", err)
	}
	if conflict.Other != 1 {
		t.Errorf("Other = %d, want 1", conflict.Other)
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, rs := range [][]Rule{
		nil,
		rules("GET /x", "* /x"),               // method and "*" on one pattern
		rules("GET /w/{a}", "POST /w/{b}"),    // same pattern, other methods
		rules("GET /w/{a}", "GET /w/{a}/x"),   // a pattern and a longer one
		rules("GET /w/{a}", "GET /w/*"),       // parameter and wildcard
		rules("GET /a/b", "GET /a/b/*"),       // a pattern and its wildcard
		rules("GET /", "GET /*"),              // root and everything
		rules("GET /caf\u00e9", "GET /a b"),   // any literal text
		rules("PURGE /x", "M-SEARCH /x"),      // custom methods
		rules("GET /{_a1}", "POST /{B_}/c"),   // parameter names
		rules("GET /a%2Fb", "GET /~user/x;y"), // literal, matched against decoded paths
	} {
		if _, err := Compile(rs); err != nil {
			t.Errorf("Compile(%v): %v", rs, err)
		}
	}
}
