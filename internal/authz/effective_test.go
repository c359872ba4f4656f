package authz

import (
	"slices"
	"sync"
	"testing"
)

// specCatalog is the catalog of the spec's example configuration.
func specCatalog(t testing.TB) *Catalog {
	return mustCatalog(t,
		decl(PermAdmin, "*"),
		decl(PermSettings), decl(PermMembers), decl(PermRoles),
		decl("contact.manage", "contact.read"),
		decl("contact.read"),
		decl("message.read"), decl("message.send"),
		decl("campaign.read"), decl("campaign.run", "campaign.read"),
	)
}

func TestExpand(t *testing.T) {
	c := specCatalog(t)
	tests := []struct {
		patterns []string
		want     []string
	}{
		{nil, []string{}},
		{[]string{"message.read"}, []string{"message.read"}},
		{[]string{"contact.manage"}, []string{"contact.manage", "contact.read"}},
		{[]string{"campaign.*"}, []string{"campaign.read", "campaign.run"}},
		{[]string{"*.read"}, []string{"campaign.read", "contact.read", "message.read"}},
		// The union of several roles' patterns.
		{[]string{"message.*", "contact.manage", "message.send"}, []string{"contact.manage", "contact.read", "message.read", "message.send"}},
		// Tolerant: invalid and unmatched patterns contribute nothing.
		{[]string{"mess*", "", "gone.permission", "gone.*", "message.send"}, []string{"message.send"}},
	}
	for _, tt := range tests {
		if got := c.Expand(tt.patterns).Names(c); !slices.Equal(got, tt.want) {
			t.Errorf("Expand(%q) = %v, want %v", tt.patterns, got, tt.want)
		}
	}
	if got := c.Expand([]string{"*"}).Len(); got != c.Len() {
		t.Errorf(`Expand("*").Len() = %d, want %d`, got, c.Len())
	}
}

func TestEffectiveDeniesAfterClosure(t *testing.T) {
	c := specCatalog(t)
	tests := []struct {
		grants, denies []string
		want           []string
	}{
		// Denying contact.manage keeps the contact.read it implies.
		{[]string{"contact.manage"}, []string{"contact.manage"}, []string{"contact.read"}},
		// ... and a deny does not remove what a role grants by another way.
		{[]string{"contact.manage", "contact.read"}, []string{"contact.manage"}, []string{"contact.read"}},
		// Denying the implied permission removes it even though the
		// granted one implies it.
		{[]string{"contact.manage"}, []string{"contact.read"}, []string{"contact.manage"}},
		{[]string{"contact.manage", "message.*"}, []string{"contact.*", "message.send"}, []string{"message.read"}},
		{[]string{"message.*"}, []string{"*"}, []string{}},
		// Invalid or unmatched denies remove nothing.
		{[]string{"message.read"}, []string{"mess*", "gone.*"}, []string{"message.read"}},
	}
	for _, tt := range tests {
		if got := c.Effective(tt.grants, tt.denies).Names(c); !slices.Equal(got, tt.want) {
			t.Errorf("Effective(%q, %q) = %v, want %v", tt.grants, tt.denies, got, tt.want)
		}
	}
}

func TestEffectiveAdminWithDeny(t *testing.T) {
	c := specCatalog(t)
	s := c.Effective([]string{PermAdmin}, []string{PermAdmin, "campaign.run"})
	if c.HasName(s, PermAdmin) || c.HasName(s, "campaign.run") {
		t.Errorf("denied permissions survived: %v", s.Names(c))
	}
	if s.Len() != c.Len()-2 {
		t.Errorf("Len = %d, want everything but the two denied (%d)", s.Len(), c.Len()-2)
	}
	if !c.HasName(s, "campaign.read") {
		t.Error("campaign.read, implied by the denied campaign.run but also by admin, is missing")
	}
}

func TestEffectiveDoesNotShareState(t *testing.T) {
	c := specCatalog(t)
	// Effective removes denies from a freshly expanded bitset; it must
	// not have removed them from the catalog's cached closures.
	_ = c.Effective([]string{"contact.manage"}, []string{"contact.read"})
	_ = c.Effective([]string{"*"}, []string{"*"})
	if got := c.Expand([]string{"contact.manage"}).Names(c); !slices.Equal(got, []string{"contact.manage", "contact.read"}) {
		t.Errorf("closure changed by Effective: %v", got)
	}
	if got := c.Expand([]string{"*"}).Len(); got != c.Len() {
		t.Errorf("all-set changed by Effective: %d", got)
	}
}

func TestCatalogConcurrentUse(t *testing.T) {
	c := specCatalog(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				s := c.Effective([]string{"contact.manage", "message.*"}, []string{"message.send"})
				if !c.HasName(s, "contact.read") || c.HasName(s, "message.send") {
					t.Error("wrong effective set under concurrency")
					return
				}
				_ = c.Implied(PermAdmin)
				_ = c.Declarations()
			}
		})
	}
	wg.Wait()
}
