package ident

import (
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	cases := map[string]string{
		"Acme":                   "acme",
		"Acme Corp.":             "acme-corp",
		"  Café  Crème  ":        "cafe-creme",
		"Ünïcödé GmbH & Co. KG":  "unicode-gmbh-co-kg",
		"日本":                     "",
		"a--b__c":                "a-b-c",
		"---":                    "",
		strings.Repeat("x", 100): strings.Repeat("x", MaxSlugLen-7),
	}
	for in, want := range cases {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateSlug(t *testing.T) {
	for _, ok := range []string{"acme", "a1", "acme-corp", "123", strings.Repeat("a", MaxSlugLen)} {
		if err := ValidateSlug(ok); err != nil {
			t.Errorf("ValidateSlug(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "Acme", "acme_corp", "-acme", "acme-", "ac--me", "ws_x", "admin", "new", "acmé", strings.Repeat("a", MaxSlugLen+1)} {
		if err := ValidateSlug(bad); err == nil {
			t.Errorf("ValidateSlug(%q) accepted", bad)
		}
	}
}

func TestWorkspaceIDs(t *testing.T) {
	a, b := NewWorkspaceID(), NewWorkspaceID()
	if a == b || !IsWorkspaceID(a) || len(a) != len(WorkspacePrefix)+26 {
		t.Fatalf("ids %q %q", a, b)
	}
	// No id is a valid slug and no slug is an id: references are unambiguous.
	if ValidateSlug(a) == nil {
		t.Errorf("id %q is also a valid slug", a)
	}
	if IsWorkspaceID("acme") {
		t.Error("slug read as id")
	}
}

func TestValidateRoleSlug(t *testing.T) {
	for _, ok := range []string{"owner", "support_agent", "tier-2"} {
		if err := ValidateRoleSlug(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Owner", "2nd", "a,b", "a b"} {
		if ValidateRoleSlug(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	cases := map[string]string{
		"Sam@Example.COM":      "sam@example.com",
		"sam@example.com":      "sam@example.com",
		"\u017fam@example.com": "\u017fam@example.com", // long s stays: it is not "s"
		"\u212aim@example.com": "\u212aim@example.com", // Kelvin sign stays: it is not "k"
		"ÄÖ@x.de":              "ÄÖ@x.de",
	}
	for in, want := range cases {
		if got := LowerASCII(in); got != want {
			t.Errorf("LowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
