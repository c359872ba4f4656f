package authz

import (
	"fmt"
	"slices"
	"testing"
)

func TestSetHas(t *testing.T) {
	decls := make([]Declaration, 130) // several words of bits
	for i := range decls {
		decls[i] = decl(fmt.Sprintf("p.%03d", i))
	}
	c := mustCatalog(t, decls...)
	s := c.Expand([]string{"p.000", "p.063", "p.064", "p.129"})
	for id := PermID(0); int(id) < c.Len(); id++ {
		name := c.Name(id)
		want := name == "p.000" || name == "p.063" || name == "p.064" || name == "p.129"
		if s.Has(id) != want {
			t.Errorf("Has(%s) = %v, want %v", name, !want, want)
		}
	}
	for _, id := range []PermID{PermID(c.Len()), PermID(c.Len() + 64), 1 << 20, ^PermID(0)} {
		if s.Has(id) {
			t.Errorf("Has(%d) = true for an ID out of range", id)
		}
	}
	var zero Set
	if zero.Has(0) || zero.Len() != 0 || len(zero.Names(c)) != 0 {
		t.Error("the zero Set is not empty")
	}
}

func TestSetHasDoesNotAllocate(t *testing.T) {
	c := specCatalog(t)
	s := c.Expand([]string{"message.*"})
	id, _ := c.ID("message.send")
	allocs := testing.AllocsPerRun(100, func() {
		if !s.Has(id) {
			t.Fatal("Has = false")
		}
	})
	if allocs != 0 {
		t.Errorf("Has allocates %v times per run", allocs)
	}
}

func TestSetContains(t *testing.T) {
	decls := make([]Declaration, 100)
	for i := range decls {
		decls[i] = decl(fmt.Sprintf("p.%03d", i))
	}
	c := mustCatalog(t, decls...)
	set := func(patterns ...string) Set { return c.Expand(patterns) }
	tests := []struct {
		s, o Set
		want bool
	}{
		{set("p.*"), set("p.001", "p.099"), true},
		{set("p.001", "p.099"), set("p.*"), false},
		{set("p.001", "p.099"), set("p.001", "p.099"), true},
		{set("p.001"), set("p.099"), false},
		{set("p.099"), set("p.001"), false},
		{set("p.001"), set(), true},
		{set(), set(), true},
		{set(), set("p.001"), false},
		{Set{}, set(), true},
		{set("p.001"), Set{}, true},
		{Set{}, set("p.098"), false},
		// A shorter bitset on the left must treat missing words as empty.
		{Set{bitset{1}}, set(c.Name(0)), true},
		{Set{bitset{1}}, set("p.099"), false},
	}
	for i, tt := range tests {
		if got := tt.s.Contains(tt.o); got != tt.want {
			t.Errorf("case %d: %v.Contains(%v) = %v, want %v", i, tt.s.Names(c), tt.o.Names(c), got, tt.want)
		}
	}
}

func TestSetNamesAndLen(t *testing.T) {
	c := specCatalog(t)
	s := c.Expand([]string{"message.send", "contact.manage", "campaign.read"})
	want := []string{"campaign.read", "contact.manage", "contact.read", "message.send"}
	if got := s.Names(c); !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if s.Len() != len(want) {
		t.Errorf("Len = %d, want %d", s.Len(), len(want))
	}
	if got := c.Expand(nil).Names(c); got == nil {
		t.Error("Names of an empty set is nil, want empty")
	}
}

func TestHasName(t *testing.T) {
	c := specCatalog(t)
	s := c.Expand([]string{"message.*"})
	if !c.HasName(s, "message.send") {
		t.Error("HasName(message.send) = false")
	}
	if c.HasName(s, "contact.read") {
		t.Error("HasName(contact.read) = true")
	}
	if c.HasName(c.Expand([]string{"*"}), "unknown.perm") {
		t.Error("HasName of a name outside the catalog = true")
	}
}
