package authz

import (
	"reflect"
	"testing"
)

func TestCycles(t *testing.T) {
	c, err := NewCatalog([]Declaration{
		{Name: "a.x", Implies: []string{"a.y"}},
		{Name: "a.y", Implies: []string{"a.z"}},
		{Name: "a.z", Implies: []string{"a.x"}},
		{Name: "b.write", Implies: []string{"b.read"}},
		{Name: "b.read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Cycles(), [][]string{{"a.x", "a.y", "a.z"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Cycles() = %v, want %v", got, want)
	}
	plain, err := NewCatalog([]Declaration{{Name: "b.write", Implies: []string{"b.read"}}, {Name: "b.read"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.Cycles(); got != nil {
		t.Errorf("a catalog without cycles (built-ins included) reports %v", got)
	}
}
