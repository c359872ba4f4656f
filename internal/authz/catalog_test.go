package authz

import (
	"slices"
	"strings"
	"testing"
)

// builtinNames are the built-in permissions, sorted.
var builtinNames = []string{PermAdmin, PermAPIKeys, PermMembers, PermRoles, PermSettings}

func mustCatalog(t testing.TB, decls ...Declaration) *Catalog {
	t.Helper()
	c, err := NewCatalog(decls)
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

func decl(name string, implies ...string) Declaration {
	return Declaration{Name: name, Implies: implies}
}

func TestBuiltinsAlwaysPresent(t *testing.T) {
	for _, decls := range [][]Declaration{nil, {decl("contact.read")}} {
		c := mustCatalog(t, decls...)
		for _, name := range builtinNames {
			if _, ok := c.ID(name); !ok {
				t.Errorf("catalog from %v lacks built-in %s", decls, name)
			}
		}
		if c.Len() != len(builtinNames)+len(decls) {
			t.Errorf("Len() = %d, want %d", c.Len(), len(builtinNames)+len(decls))
		}
	}
}

func TestBuiltinsReturnsFreshSlice(t *testing.T) {
	b := Builtins()
	b[0].Name = "changed"
	b[0].Implies[0] = "changed"
	c := mustCatalog(t)
	if got := c.Implied(PermAdmin); !slices.Equal(got, builtinNames[1:]) {
		t.Errorf("after modifying Builtins(), Implied(admin) = %v", got)
	}
}

func TestAdminImpliesEverything(t *testing.T) {
	c := mustCatalog(t, decl("contact.manage", "contact.read"), decl("contact.read"), decl("read:users:email"))
	want := []string{"contact.manage", "contact.read", "read:users:email", PermAPIKeys, PermMembers, PermRoles, PermSettings}
	slices.Sort(want)
	if got := c.Implied(PermAdmin); !slices.Equal(got, want) {
		t.Errorf("Implied(admin) = %v, want %v", got, want)
	}
	if got := c.Expand([]string{PermAdmin}).Len(); got != c.Len() {
		t.Errorf("Expand(admin).Len() = %d, want the whole catalog (%d)", got, c.Len())
	}
}

func TestIDsFollowNameOrder(t *testing.T) {
	c := mustCatalog(t, decl("b.x"), decl("a.y"), decl("z"), decl("a:y"))
	for id := PermID(0); int(id) < c.Len(); id++ {
		name := c.Name(id)
		if got, ok := c.ID(name); !ok || got != id {
			t.Errorf("ID(Name(%d)=%q) = %d, %v", id, name, got, ok)
		}
		if id > 0 && c.Name(id-1) >= name {
			t.Errorf("Name(%d)=%q is not after Name(%d)=%q", id, name, id-1, c.Name(id-1))
		}
	}
	if got := c.Name(PermID(c.Len())); got != "" {
		t.Errorf("Name(out of range) = %q, want empty", got)
	}
	if got := c.Name(^PermID(0)); got != "" {
		t.Errorf("Name(max) = %q, want empty", got)
	}
	if _, ok := c.ID("nope"); ok {
		t.Error(`ID("nope") found an ID`)
	}
}

func TestIDDoesNotAllocate(t *testing.T) {
	c := mustCatalog(t, decl("message.send"))
	path := []byte("message.send!")
	allocs := testing.AllocsPerRun(100, func() {
		// A name cut from a larger buffer, as a request would give it.
		if _, ok := c.ID(string(path[:12])); !ok {
			t.Fatal("ID not found")
		}
	})
	if allocs != 0 {
		t.Errorf("ID allocates %v times per run, want 0", allocs)
	}
}

func TestImpliedClosure(t *testing.T) {
	c := mustCatalog(t,
		// A chain.
		decl("a", "b"), decl("b", "c"), decl("c", "d"), decl("d"),
		// A cycle, with an exit.
		decl("x", "y"), decl("y", "z"), decl("z", "x", "leaf"), decl("leaf"),
		// A self-cycle.
		decl("self", "self"),
		// Wildcards, then closure through what they matched.
		decl("contact.manage", "contact.*"), decl("contact.read"), decl("contact.write", "audit.read"),
		decl("audit.read"),
	)
	tests := []struct {
		name string
		want []string
	}{
		{"a", []string{"b", "c", "d"}},
		{"b", []string{"c", "d"}},
		{"d", []string{}},
		{"x", []string{"leaf", "y", "z"}},
		{"y", []string{"leaf", "x", "z"}},
		{"z", []string{"leaf", "x", "y"}},
		{"self", []string{}},
		{"contact.manage", []string{"audit.read", "contact.read", "contact.write"}},
	}
	for _, tt := range tests {
		got := c.Implied(tt.name)
		if got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("Implied(%q) = %#v, want %#v", tt.name, got, tt.want)
		}
	}
	if got := c.Implied("unknown"); got != nil {
		t.Errorf(`Implied("unknown") = %#v, want nil`, got)
	}
}

func TestForwardReferences(t *testing.T) {
	// An implication may name a permission declared later.
	c := mustCatalog(t, decl("contact.manage", "contact.read"), decl("contact.read"))
	if got := c.Implied("contact.manage"); !slices.Equal(got, []string{"contact.read"}) {
		t.Errorf("Implied(contact.manage) = %v", got)
	}
}

func TestDeclarationsMergesBuiltins(t *testing.T) {
	c := mustCatalog(t,
		decl(PermAdmin, "*"), // as the spec's example config writes it
		decl(PermMembers, "contact.read"),
		decl("contact.read"),
		decl("contact.manage", "contact.read", "contact.read"),
	)
	want := []Declaration{
		decl("contact.manage", "contact.read"),
		decl("contact.read"),
		decl(PermAdmin, "*"),
		decl(PermAPIKeys),
		decl(PermMembers, "contact.read"),
		decl(PermRoles),
		decl(PermSettings),
	}
	got := c.Declarations()
	if !slices.EqualFunc(got, want, func(a, b Declaration) bool {
		return a.Name == b.Name && slices.Equal(a.Implies, b.Implies)
	}) {
		t.Errorf("Declarations() =\n%v\nwant\n%v", got, want)
	}
	if got := c.Implied(PermMembers); !slices.Equal(got, []string{"contact.read"}) {
		t.Errorf("Implied(members) = %v, want the added implication", got)
	}

	// The result is a copy.
	got[0].Implies[0] = "changed"
	got[2].Name = "changed"
	if again := c.Declarations(); again[0].Implies[0] != "contact.read" || again[2].Name != PermAdmin {
		t.Error("modifying Declarations() changed the catalog")
	}
}

func TestNewCatalogErrors(t *testing.T) {
	tests := []struct {
		decls   []Declaration
		wantErr string
	}{
		{
			[]Declaration{decl("a..b")},
			`permission "a..b": empty segment`,
		},
		{
			[]Declaration{decl("contact.read"), decl("contact.read")},
			"permission contact.read is declared twice",
		},
		{
			[]Declaration{decl(PermAdmin), decl(PermAdmin)},
			"permission workspace.admin is declared twice",
		},
		{
			[]Declaration{decl("contact.read"), decl("contact.manage", "contact.reed")},
			`permission contact.manage: unknown permission "contact.reed": declare it with "permission contact.reed" in the gatehouse global option`,
		},
		{
			[]Declaration{decl("contact.manage", "contact.*"), decl("other", "mess*")},
			`permission other: pattern "mess*": "*" must be a whole segment`,
		},
		{
			[]Declaration{decl("contact.manage", "contact:*")},
			`permission contact.manage: pattern "contact:*" matches no permission in the catalog`,
		},
		{
			[]Declaration{decl(PermRoles, "nothing.*")},
			`permission workspace.roles: pattern "nothing.*" matches no permission`,
		},
	}
	for _, tt := range tests {
		c, err := NewCatalog(tt.decls)
		if c != nil {
			t.Errorf("NewCatalog(%v) returned a catalog with error %v", tt.decls, err)
		}
		checkErr(t, "NewCatalog", err, tt.wantErr)
	}
}

func TestCheckPattern(t *testing.T) {
	c := mustCatalog(t, decl("message.send"), decl("message.read"), decl("read:users:email"))
	tests := []struct {
		pattern string
		wantErr string
	}{
		{"message.send", ""},
		{"message.*", ""},
		{"*.send", ""},
		{"read:*", ""},
		{"*", ""},
		{"workspace.*", ""},
		{"foo.bar", `unknown permission "foo.bar": declare it with "permission foo.bar" in the gatehouse global option`},
		{"message:send", `unknown permission "message:send"`},
		{"message.send.*", `pattern "message.send.*" matches no permission in the catalog`},
		{"message:*", `pattern "message:*" matches no permission`},
		{"mess*", `pattern "mess*": "*" must be a whole segment`},
		{"", `pattern "": empty pattern`},
	}
	for _, tt := range tests {
		checkErr(t, "CheckPattern("+quote(tt.pattern)+")", c.CheckPattern(tt.pattern), tt.wantErr)
	}
}

func TestCandidatesCoverEveryMatch(t *testing.T) {
	// The prefix narrowing must never hide a match: compare with a full
	// scan for every pattern shape.
	c := mustCatalog(t, decl("a"), decl("a.b"), decl("a.b.c"), decl("a:b"), decl("a-b.c"),
		decl("ab.c"), decl("b.a"), decl("a.bc"), decl("a.b:c"))
	patterns := []string{"a.*", "a.b.*", "a:*", "*.b", "a.*.c", "*", "a.b", "ab.*", "a.*:c"}
	for _, p := range patterns {
		var full []string
		for id := PermID(0); int(id) < c.Len(); id++ {
			if Match(p, c.Name(id)) {
				full = append(full, c.Name(id))
			}
		}
		var narrowed []string
		lo, hi := c.candidates(p)
		for id := lo; id < hi; id++ {
			if Match(p, c.Name(id)) {
				narrowed = append(narrowed, c.Name(id))
			}
		}
		if !slices.Equal(full, narrowed) {
			t.Errorf("pattern %q: candidates give %v, a full scan %v", p, narrowed, full)
		}
		if got := strings.Join(c.Expand([]string{p}).Names(c), " "); len(full) > 0 && !strings.Contains(got, full[0]) {
			t.Errorf("Expand(%q) = %s, misses %s", p, got, full[0])
		}
	}
}
