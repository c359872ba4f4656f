package authz

import (
	"fmt"
	"slices"
	"testing"
)

// Union, Intersect and Minus over several words of bits, including the
// zero Set; Matching names without implications.
func TestSetOps(t *testing.T) {
	decls := make([]Declaration, 130)
	for i := range decls {
		decls[i] = decl(fmt.Sprintf("p.%03d", i))
	}
	decls[0].Implies = []string{"p.129"}
	c := mustCatalog(t, decls...)
	a := c.Expand([]string{"p.001", "p.064", "p.100"})
	b := c.Expand([]string{"p.064", "p.129"})
	names := func(s Set) []string { return s.Names(c) }
	if got := names(a.Union(b)); !slices.Equal(got, []string{"p.001", "p.064", "p.100", "p.129"}) {
		t.Errorf("union %v", got)
	}
	if got := names(a.Intersect(b)); !slices.Equal(got, []string{"p.064"}) {
		t.Errorf("intersect %v", got)
	}
	if got := names(a.Minus(b)); !slices.Equal(got, []string{"p.001", "p.100"}) {
		t.Errorf("minus %v", got)
	}
	var zero Set
	if a.Intersect(zero).Len() != 0 || !a.Union(zero).Equal(a) || !a.Minus(zero).Equal(a) || zero.Minus(a).Len() != 0 {
		t.Error("zero set")
	}
	if names(a.Union(b)); !slices.Equal(names(a), []string{"p.001", "p.064", "p.100"}) {
		t.Error("an operation changed its operand")
	}
	if got := names(c.Matching([]string{"p.000"})); !slices.Equal(got, []string{"p.000"}) {
		t.Errorf("Matching follows implications: %v", got)
	}
	if got := c.Expand([]string{"p.000"}).Len(); got != 2 {
		t.Errorf("Expand p.000: %d", got)
	}
	if c.Matching([]string{"not a pattern"}).Len() != 0 {
		t.Error("an invalid pattern matched")
	}
}

// A catalog of other built-ins holds them and not the workspace ones.
func TestNewCatalogOf(t *testing.T) {
	c, err := NewCatalogOf([]Declaration{{Name: "org.admin", Implies: []string{"org.*"}}, {Name: "org.billing"}},
		[]Declaration{{Name: "org.audit"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.ID(PermAdmin); ok {
		t.Error("workspace.admin in another catalog")
	}
	if got := c.Expand([]string{"org.admin"}).Names(c); !slices.Equal(got, []string{"org.admin", "org.audit", "org.billing"}) {
		t.Errorf("org.admin grants %v", got)
	}
}
