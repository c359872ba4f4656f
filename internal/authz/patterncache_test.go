package authz

import (
	"fmt"
	"slices"
	"testing"
)

func TestPatternCacheIsBoundedAndTransparent(t *testing.T) {
	const n = maxCachedPatterns + 50
	decls := make([]Declaration, n)
	for i := range decls {
		decls[i] = decl(fmt.Sprintf("r%d.read", i))
	}
	c := mustCatalog(t, decls...)
	for i := range n {
		// Each pattern is distinct, so each is a cache miss.
		pattern := fmt.Sprintf("r%d.*", i)
		want := []string{fmt.Sprintf("r%d.read", i)}
		if got := c.Expand([]string{pattern}).Names(c); !slices.Equal(got, want) {
			t.Fatalf("Expand(%q) = %v, want %v", pattern, got, want)
		}
	}
	if size := c.patterns.size.Load(); size != maxCachedPatterns {
		t.Errorf("cache holds %d patterns, want the bound %d", size, maxCachedPatterns)
	}
	// Patterns past the bound still expand correctly, every time.
	for range 2 {
		last := fmt.Sprintf("r%d.*", n-1)
		if got := c.Expand([]string{last}).Len(); got != 1 {
			t.Errorf("Expand(%q).Len() = %d past the bound, want 1", last, got)
		}
	}
}

func TestPatternCacheSkipsInvalidAndLiteral(t *testing.T) {
	c := specCatalog(t)
	c.Expand([]string{"mess*", "message.send", "*", "gone.*", "unknown.name", "message.*", "message.*"})
	// Only the valid wildcard patterns are cached; "gone.*" matches
	// nothing but is cached as such (stored data keeps asking for it).
	if size := c.patterns.size.Load(); size != 2 {
		t.Errorf("cache holds %d patterns, want 2 (gone.* and message.*)", size)
	}
	// A cached answer is a copy in the result, never shared with it.
	s := c.Expand([]string{"message.*"})
	s.bits.clear(0)
	s.bits.set(0)
	if got := c.Expand([]string{"message.*"}).Names(c); !slices.Equal(got, []string{"message.read", "message.send"}) {
		t.Errorf("cached pattern changed: %v", got)
	}
}
