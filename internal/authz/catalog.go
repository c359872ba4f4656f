package authz

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// PermID identifies a permission within one Catalog. IDs are dense, start
// at 0 and follow the sorted order of the names, so a Set iterates in name
// order. An ID means nothing outside the catalog that issued it.
type PermID uint32

// Declaration declares one catalog permission and the patterns it implies.
type Declaration struct {
	// Name is the permission name.
	Name string
	// Implies are patterns; holding Name grants every catalog permission
	// they match.
	Implies []string
}

// Catalog is the set of valid permission names with their implications,
// closed once at construction. It is immutable and safe for concurrent use.
type Catalog struct {
	names []string // by PermID, sorted
	ids   map[string]PermID
	// implies holds each permission's implications as declared (merged
	// with the built-in's), by PermID.
	implies [][]string
	// grants is what holding each permission grants: itself and the
	// transitive closure of its implications, by PermID.
	grants []Set
	all    Set
	// patterns caches what wildcard patterns grant; see patternCache.
	patterns *patternCache
}

// NewCatalog merges decls with Builtins() and closes the implications.
// A name declared twice in decls is an error; a declaration naming a
// built-in adds its implications to the built-in's. Other errors: an
// invalid name, an invalid implied pattern, or an implied pattern that
// matches no catalog permission. Errors name the offending declaration.
func NewCatalog(decls []Declaration) (*Catalog, error) {
	return NewCatalogOf(Builtins(), decls)
}

// NewCatalogOf is NewCatalog with other built-ins: a catalog of another
// namespace (the organization permissions) that must not hold the
// workspace built-ins. builtins must be valid.
func NewCatalogOf(builtins, decls []Declaration) (*Catalog, error) {
	merged, order, err := mergeDeclarations(builtins, decls)
	if err != nil {
		return nil, err
	}
	c := newCatalogNames(merged)
	// Check implications in declaration order so that the error blames
	// the first bad declaration of the config, not the first in sort order.
	for _, name := range order {
		for _, p := range merged[name] {
			if err := c.CheckPattern(p); err != nil {
				return nil, fmt.Errorf("permission %s: %w", name, err)
			}
		}
	}
	c.closeImplications()
	return c, nil
}

// mergeDeclarations validates decls and merges them with the built-ins,
// returning each name's implications (deduplicated, in declared order) and
// the names in the order they were declared.
func mergeDeclarations(builtins, decls []Declaration) (map[string][]string, []string, error) {
	merged := make(map[string][]string, len(decls)+len(builtins))
	order := make([]string, 0, len(decls)+len(builtins))
	for _, b := range builtins {
		merged[b.Name] = b.Implies
		order = append(order, b.Name)
	}
	declared := make(map[string]bool, len(decls))
	for _, d := range decls {
		if err := ValidateName(d.Name); err != nil {
			return nil, nil, err
		}
		if declared[d.Name] {
			return nil, nil, fmt.Errorf("permission %s is declared twice", d.Name)
		}
		declared[d.Name] = true
		existing, isBuiltin := merged[d.Name]
		if !isBuiltin {
			order = append(order, d.Name)
		}
		merged[d.Name] = appendNew(existing, d.Implies)
	}
	return merged, order, nil
}

// appendNew appends the patterns of add not already in list, keeping
// order; it never modifies list's backing array (which may be shared).
func appendNew(list, add []string) []string {
	out := slices.Clip(list)
	for _, p := range add {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// newCatalogNames assigns IDs in name order; implications are not closed.
func newCatalogNames(merged map[string][]string) *Catalog {
	names := make([]string, 0, len(merged))
	for name := range merged {
		names = append(names, name)
	}
	sort.Strings(names)
	c := &Catalog{
		names:    names,
		ids:      make(map[string]PermID, len(names)),
		implies:  make([][]string, len(names)),
		patterns: new(patternCache),
	}
	for i, name := range names {
		c.ids[name] = PermID(i)
		c.implies[i] = merged[name]
	}
	all := newBits(len(names))
	for i := range names {
		all.set(PermID(i))
	}
	c.all = Set{all}
	return c
}

// ID returns the ID of a catalog permission. It does not allocate.
func (c *Catalog) ID(name string) (PermID, bool) {
	id, ok := c.ids[name]
	return id, ok
}

// Name returns the name of id, or "" if id is not in the catalog.
func (c *Catalog) Name(id PermID) string {
	if int64(id) >= int64(len(c.names)) {
		return ""
	}
	return c.names[id]
}

// Len returns the number of permissions in the catalog.
func (c *Catalog) Len() int { return len(c.names) }

// Declarations returns every permission, built-ins included, sorted by
// name, with its implications as declared (a built-in's merged with what
// config added). Implies is nil for a permission that implies nothing.
// The result is a copy.
func (c *Catalog) Declarations() []Declaration {
	out := make([]Declaration, len(c.names))
	for i, name := range c.names {
		out[i] = Declaration{Name: name, Implies: slices.Clone(c.implies[i])}
	}
	return out
}

// Implied returns what holding name grants besides name itself: the
// transitive closure of its implications, sorted. It is nil if name is not
// in the catalog and empty (not nil) if name implies nothing.
func (c *Catalog) Implied(name string) []string {
	id, ok := c.ids[name]
	if !ok {
		return nil
	}
	out := c.grants[id].Names(c)
	return slices.DeleteFunc(out, func(n string) bool { return n == name })
}

// HasName reports whether name is a catalog permission held in s.
func (c *Catalog) HasName(s Set, name string) bool {
	id, ok := c.ids[name]
	return ok && s.Has(id)
}

// CheckPattern reports whether pattern is valid and matches at least one
// catalog permission; the error tells the user what to do about it.
func (c *Catalog) CheckPattern(pattern string) error {
	if err := ValidatePattern(pattern); err != nil {
		return err
	}
	if c.matchesAny(pattern) {
		return nil
	}
	if !strings.Contains(pattern, wildcard) {
		return fmt.Errorf(`unknown permission %q: declare it with "permission %s" in the gatehouse global option`, pattern, pattern)
	}
	return fmt.Errorf(`pattern %q matches no permission in the catalog: declare a permission it covers with "permission NAME" in the gatehouse global option, or fix the pattern`, pattern)
}

// matchesAny reports whether a valid pattern matches a catalog permission.
func (c *Catalog) matchesAny(pattern string) bool {
	lo, hi := c.candidates(pattern)
	for id := lo; id < hi; id++ {
		if matchValid(pattern, c.names[id]) {
			return true
		}
	}
	return false
}

// candidates returns the ID range holding every catalog permission a
// valid pattern can match: the names sharing its literal prefix, which
// are contiguous because IDs follow name order.
func (c *Catalog) candidates(pattern string) (lo, hi PermID) {
	prefix := literalPrefix(pattern)
	start := sort.SearchStrings(c.names, prefix)
	end := start
	for end < len(c.names) && strings.HasPrefix(c.names[end], prefix) {
		end++
	}
	return PermID(start), PermID(end)
}
